"""Render the servers' cloud-config exactly as the ec2-server module does, and validate it.

Shared by tests/test_cloud_config.py and ``make lint`` (``python -m
tests.cloudconfig``). Validated by the cloud-init of each Debian release the
servers boot (22.4 in 12, 25.1 in 13; 13's schema is the stricter): both
packages are unpacked side by side and run on Debian's python3, which is
all ``cloud-init schema`` and the apt module need, so no whole Debian 13
root is built: the embedded Terraform evaluates the provider-free
terraform/modules/ec2-server/cloud-config module, which is the one
ec2-server calls, so the template file, its variables' validation and the
values computed around it are all the real ones.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

from runners.terraform.evaluate import module_outputs

ROOT = Path(__file__).resolve().parent.parent
MODULE = ROOT / "terraform/modules/ec2-server/cloud-config"
SAMPLES = ROOT / "tests/fixtures/cloud-config"
RELEASES = {12: "bookworm", 13: "trixie"}  # Debian release -> codename; 22.4 and 25.1
RELEASE_CACHE = ROOT / ".tools/cloud-init"  # lint/fetch-cloud-init.sh unpacks each release here
SYSTEM_PYTHON = "/usr/bin/python3"  # Debian's, with the libraries its cloud-init package pulled in
INSTALL_HINT = (
    "apt-get install cloud-init (for its Python libraries), then "
    "lint/fetch-cloud-init.sh .tools/cloud-init (make does it) for Debian 12's and 13's packages"
)


def release_path(release: int) -> Path:
    return RELEASE_CACHE / str(release) / "usr/lib/python3/dist-packages"


def missing_releases() -> list[int]:
    """Releases whose cloud-init cannot run here (package not unpacked, or no Debian python3)."""
    if not Path(SYSTEM_PYTHON).exists():
        return list(RELEASES)
    return [r for r in RELEASES if not (release_path(r) / "cloudinit").is_dir()]


def run_release(release: int, argv: list[str]) -> subprocess.CompletedProcess[str]:
    """``python3 ARGV`` with this release's cloudinit package first on the path."""
    return subprocess.run(
        [SYSTEM_PYTHON, *argv],
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(release_path(release)), "LANG": "C.UTF-8"},
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def samples() -> list[Path]:
    """Each ``NAME.inputs.json``; its golden rendering is ``NAME.yaml`` beside it."""
    return sorted(SAMPLES.glob("*.inputs.json"))


def golden_path(inputs: Path) -> Path:
    return inputs.with_name(inputs.name.removesuffix(".inputs.json") + ".yaml")


def render(inputs: dict[str, object], workdir: Path) -> str:
    return str(module_outputs(MODULE, inputs, workdir)["rendered"])


def schema_errors(rendered: str, workdir: Path, release: int) -> str | None:
    """None when this release's ``cloud-init schema`` accepts the document, else its complaint."""
    path = workdir / f"user-data-{release}.yaml"
    path.write_text(rendered)
    code = (
        "import sys; from cloudinit.cmd.main import main; "
        f"sys.argv = ['cloud-init', 'schema', '--config-file', {str(path)!r}]; sys.exit(main())"
    )
    result = run_release(release, ["-c", code])
    if result.returncode == 0:
        return None
    return (result.stderr or result.stdout).strip()


def release_version(release: int) -> str:
    result = run_release(
        release, ["-c", "import cloudinit.version as v; print(v.version_string())"]
    )
    return result.stdout.strip()


def apt_files(apt: dict[str, object], image: dict[str, object], release: int) -> dict[str, str]:
    """The files this release's apt module writes for the user data's ``apt`` section."""
    request = json.dumps({"apt": apt, "image": image, "codename": RELEASES[release]})
    result = run_release(
        release, [str(Path(__file__).with_name("cloudinit_apt_probe.py")), request]
    )
    if result.returncode != 0:
        raise RuntimeError(f"cloud-init {release}'s apt module failed: {result.stderr.strip()}")
    files: dict[str, str] = json.loads(result.stdout)["files"]
    return files


def main() -> int:
    """Render every sample and validate it with cloud-init; exit 1 on any error."""
    missing = missing_releases()
    if missing:
        sys.stderr.write(f"cloud-init for Debian {missing} cannot run here: {INSTALL_HINT}\n")
        return 1
    failed = 0
    for inputs in samples():
        with tempfile.TemporaryDirectory(prefix="cloud-config-") as scratch:
            rendered = render(json.loads(inputs.read_text()), Path(scratch))
            problems = {r: schema_errors(rendered, Path(scratch), r) for r in RELEASES}
        name = inputs.name.removesuffix(".inputs.json")
        rejected = {r: p for r, p in problems.items() if p}
        if rejected:
            failed += 1
            for release, problem in rejected.items():
                sys.stderr.write(
                    f"{inputs}: Debian {release}'s cloud-init schema rejects the rendering: "
                    f"{problem}\n"
                )
        elif rendered != golden_path(inputs).read_text():
            failed += 1
            sys.stderr.write(
                f"{golden_path(inputs)}: out of date with the template; "
                "run RUNNERS_UPDATE_GOLDEN=1 pytest tests/test_cloud_config.py\n"
            )
        else:
            print(f"cloud-config {name}: valid for Debian 12 and 13, matches its golden file")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
