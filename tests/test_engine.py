"""The Terraform engine: flags from tables, binary choice, streaming, timeouts, the embedded shim."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import pytest

from runners.errors import TerraformError, TerraformNotFound
from runners.terraform import binary
from runners.terraform.engine import Terraform, base_environment, build_args


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"input": "false"}, ["-input=false"]),
        ({"reconfigure": True}, ["-reconfigure"]),
        ({"reconfigure": False, "lockfile": None}, []),
        ({"detailed_exitcode": True}, ["-detailed-exitcode"]),
        ({"var_file": ["a.tfvars", "b.tfvars"]}, ["-var-file=a.tfvars", "-var-file=b.tfvars"]),
        (
            {"backend_config": {"bucket": "b", "use_lockfile": True, "max_retries": 3}},
            [
                "-backend-config=bucket=b",
                "-backend-config=use_lockfile=true",
                "-backend-config=max_retries=3",
            ],
        ),
        ({"out": "/tmp/x/tfplan"}, ["-out=/tmp/x/tfplan"]),
    ],
)
def test_build_args_table(options: dict[str, object], expected: list[str]) -> None:
    assert build_args(["plan"], options) == ["plan", *expected]  # type: ignore[arg-type]


def test_build_args_positional_last() -> None:
    assert build_args(["show"], {"json": True}, ["tfplan"]) == ["show", "-json", "tfplan"]


def _fake_binary(folder: Path, name: str, script: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(f"#!/bin/sh\n{script}\n")
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return path


def test_resolution_order(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    tf = _fake_binary(bin_dir, "terraform", "exit 0")
    tofu = _fake_binary(tmp_path / "bin2", "tofu", "exit 0")
    custom = _fake_binary(tmp_path / "bin3", "tf-1.15", "exit 0")
    path = f"{bin_dir}:{tofu.parent}"
    # The env var beats the config, the config beats PATH, PATH beats embedded.
    chosen = binary.resolve(str(custom), {"PATH": path, "RUNNERS_TERRAFORM": "embedded"})
    assert chosen.embedded
    assert binary.resolve(str(custom), {"PATH": path}).argv == (str(custom),)
    assert binary.resolve(None, {"PATH": path}).argv == (str(tf),)
    assert binary.resolve(None, {"PATH": str(tofu.parent)}).argv == (str(tofu),)
    assert binary.resolve(None, {"PATH": str(tmp_path / "empty")}).embedded


def test_named_binary_missing_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(
        TerraformNotFound,
        match=r"terraform binary '/no/such/terraform' \(from RUNNERS_TERRAFORM\) not found",
    ):
        binary.resolve(None, {"PATH": "", "RUNNERS_TERRAFORM": "/no/such/terraform"})


def test_embedded_shim_is_terraform_1_15(tmp_path: Path) -> None:
    engine = Terraform(
        binary.resolve(None, {"RUNNERS_TERRAFORM": "embedded", "PATH": ""}),
        base_environment(tmp_path),
    )
    result = engine.run(["version"], tmp_path, stream=False)
    assert result.stdout.startswith("Terraform v1.15"), result.stdout


def test_streams_and_captures_both_streams(tmp_path: Path) -> None:
    noisy = _fake_binary(tmp_path, "tf", "echo out-line; echo err-line >&2; exit 0")
    out_path, err_path = tmp_path / "console.out", tmp_path / "console.err"
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        engine = Terraform(
            binary.TerraformBinary((str(noisy),), "test"),
            dict(os.environ),
            console_out=out,
            console_err=err,
        )
        result = engine.run(["plan"], tmp_path)
    assert result.stdout == "out-line\n" and result.stderr == "err-line\n"
    assert out_path.read_text() == "out-line\n" and err_path.read_text() == "err-line\n"


def test_large_stderr_does_not_deadlock(tmp_path: Path) -> None:
    # 2 MB on stderr before anything on stdout: a reader that drains stdout first would hang.
    script = f"{sys.executable} -c \"import sys; sys.stderr.write('e'*2_000_000); print('done')\""
    noisy = _fake_binary(tmp_path, "tf", script)
    engine = Terraform(binary.TerraformBinary((str(noisy),), "test"), dict(os.environ), timeout=60)
    result = engine.run(["plan"], tmp_path, stream=False)
    assert result.stdout == "done\n" and len(result.stderr) == 2_000_000


def test_failure_names_command_and_error_line(tmp_path: Path) -> None:
    failing = _fake_binary(
        tmp_path, "tf", "echo 'Error: Backend initialization required' >&2; exit 1"
    )
    engine = Terraform(binary.TerraformBinary((str(failing),), "test"), dict(os.environ))
    with pytest.raises(
        TerraformError,
        match=r"terraform init failed .* \(exit 1\): Error: Backend initialization required",
    ):
        engine.run(["init", "-backend-config=secret_key=hunter2"], tmp_path, stream=False)


def test_secret_flags_never_reach_the_error(tmp_path: Path) -> None:
    failing = _fake_binary(tmp_path, "tf", "exit 1")
    engine = Terraform(binary.TerraformBinary((str(failing),), "test"), dict(os.environ))
    with pytest.raises(TerraformError) as err:
        engine.run(["init", "-backend-config=secret_key=hunter2"], tmp_path, stream=False)
    assert "hunter2" not in str(err.value)


def test_timeout_stops_the_command(tmp_path: Path) -> None:
    slow = _fake_binary(tmp_path, "tf", "sleep 30")
    engine = Terraform(binary.TerraformBinary((str(slow),), "test"), dict(os.environ), timeout=0.5)
    with pytest.raises(TerraformError, match="timed out"):
        engine.run(["apply"], tmp_path, stream=False)


def test_base_environment_sets_automation_cache_and_its_own_cli_config(tmp_path: Path) -> None:
    present = tmp_path / "present.rc"
    present.write_text("")
    env = base_environment(
        tmp_path / "cache",
        {"TF_CLI_CONFIG_FILE": str(present), "HOME": str(tmp_path)},
    )
    assert env["TF_IN_AUTOMATION"] == "1" and env["TF_INPUT"] == "0"
    assert env["TF_PLUGIN_CACHE_DIR"] == str(tmp_path / "cache") and (tmp_path / "cache").is_dir()
    # The caller's file, present or not, is replaced by the one runners wrote.
    ours = Path(env["TF_CLI_CONFIG_FILE"])
    assert ours != present and ours.is_relative_to(tmp_path / ".cache" / "runners")
    assert "provider_installation" in ours.read_text()
