"""Render the servers' cloud-config exactly as the ec2-server module does, and validate it.

Shared by tests/test_cloud_config.py and ``make lint`` (``python -m
tests.cloudconfig``): the embedded Terraform evaluates the provider-free
terraform/modules/ec2-server/cloud-config module, which is the one
ec2-server calls, so the template file, its variables' validation and the
values computed around it are all the real ones.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from runners.terraform.evaluate import module_outputs

ROOT = Path(__file__).resolve().parent.parent
MODULE = ROOT / "terraform/modules/ec2-server/cloud-config"
SAMPLES = ROOT / "tests/fixtures/cloud-config"
INSTALL_HINT = "apt-get install cloud-init (Debian's package provides 'cloud-init schema')"


def samples() -> list[Path]:
    """Each ``NAME.inputs.json``; its golden rendering is ``NAME.yaml`` beside it."""
    return sorted(SAMPLES.glob("*.inputs.json"))


def golden_path(inputs: Path) -> Path:
    return inputs.with_name(inputs.name.removesuffix(".inputs.json") + ".yaml")


def render(inputs: dict[str, object], workdir: Path) -> str:
    return str(module_outputs(MODULE, inputs, workdir)["rendered"])


def schema_errors(rendered: str, workdir: Path) -> str | None:
    """None when ``cloud-init schema`` accepts the document, else its complaint."""
    path = workdir / "user-data.yaml"
    path.write_text(rendered)
    result = subprocess.run(
        ["cloud-init", "schema", "--config-file", str(path)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    if result.returncode == 0:
        return None
    return (result.stderr or result.stdout).strip()


def main() -> int:
    """Render every sample and validate it with cloud-init; exit 1 on any error."""
    if shutil.which("cloud-init") is None:
        sys.stderr.write(f"cloud-init is not installed: {INSTALL_HINT}\n")
        return 1
    failed = 0
    for inputs in samples():
        with tempfile.TemporaryDirectory(prefix="cloud-config-") as scratch:
            rendered = render(json.loads(inputs.read_text()), Path(scratch))
            problem = schema_errors(rendered, Path(scratch))
        name = inputs.name.removesuffix(".inputs.json")
        if problem:
            failed += 1
            sys.stderr.write(f"{inputs}: cloud-init schema rejects the rendering: {problem}\n")
        elif rendered != golden_path(inputs).read_text():
            failed += 1
            sys.stderr.write(
                f"{golden_path(inputs)}: out of date with the template; "
                "run RUNNERS_UPDATE_GOLDEN=1 pytest tests/test_cloud_config.py\n"
            )
        else:
            print(f"cloud-config {name}: valid, matches its golden file")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
