"""The Terraform engine: flags from tables, binary choice, streaming, timeouts, the embedded shim."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import pytest

from runners.errors import TerraformError, TerraformNotFound
from runners.terraform import binary
from runners.terraform.engine import (
    STATE_LOCKING,
    Result,
    Terraform,
    base_environment,
    build_args,
    with_lock_timeout,
)


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


# -- -lock-timeout: every command that takes Terraform's state lock waits for it ----------------
@pytest.mark.parametrize("command", sorted(STATE_LOCKING))
def test_every_locking_command_gets_the_lock_timeout(command: tuple[str, ...]) -> None:
    args = [*command, "-input=false", "tfplan"]
    assert with_lock_timeout(args, "5m") == [*command, "-lock-timeout=5m", "-input=false", "tfplan"]


@pytest.mark.parametrize(
    "args",
    [["show", "-json", "tfplan"], ["state", "pull"], ["state", "list"], ["version"], ["get"]],
)
def test_commands_that_do_not_lock_are_left_alone(args: list[str]) -> None:
    assert with_lock_timeout(args, "5m") == args


def test_an_explicit_lock_timeout_wins_and_none_adds_nothing() -> None:
    assert with_lock_timeout(["plan", "-lock-timeout=1s"], "5m") == ["plan", "-lock-timeout=1s"]
    assert with_lock_timeout(["plan"], None) == ["plan"]


def test_every_locking_command_of_terraform_is_in_the_table(tmp_path: Path) -> None:
    """Against the embedded Terraform's own help: the commands that take -lock-timeout."""
    tf = Terraform(binary.embedded_binary(), base_environment(tmp_path / "cache"))
    candidates = [
        ("init",), ("plan",), ("apply",), ("refresh",), ("import",), ("taint",), ("untaint",),
        ("console",), ("output",), ("show",), ("graph",), ("validate",), ("get",),
        ("state", "mv"), ("state", "rm"), ("state", "push"), ("state", "pull"),
        ("state", "list"), ("state", "replace-provider"), ("workspace", "new"),
        ("workspace", "delete"), ("force-unlock",),
    ]  # fmt: skip
    taking = set()
    for words in candidates:
        done = tf.run([*words, "-help"], tmp_path, stream=False, ok_codes=(0, 1, 127))
        if "-lock-timeout" in done.stdout + done.stderr:
            taking.add(words)
    assert taking == STATE_LOCKING - {("destroy",)}  # destroy: "takes apply's options"


def test_the_engine_passes_the_lock_timeout(tmp_path: Path) -> None:
    echo = _fake_binary(tmp_path, "tf", 'printf "%s\\n" "$@"')
    engine = Terraform(
        binary.TerraformBinary((str(echo),), "test"), dict(os.environ), lock_timeout="90s"
    )
    done = engine.run(["apply", "-input=false", "tfplan"], tmp_path, stream=False)
    assert done.stdout.split() == ["apply", "-lock-timeout=90s", "-input=false", "tfplan"]


# -- a failed step's reason: Terraform's error summary, without colour -------------------------
COLOURED = (
    "\x1b[31m╷\x1b[0m\x1b[0m\n"
    "\x1b[31m│\x1b[0m \x1b[0m\x1b[1m\x1b[31mError: \x1b[0m\x1b[0m\x1b[1mReference to undeclared "
    "input variable\x1b[0m\n"
    "\x1b[31m│\x1b[0m \x1b[0m\n"
    '\x1b[31m│\x1b[0m \x1b[0m\x1b[0m  on main.tf line 2, in output "oops":\n'
    "\x1b[31m│\x1b[0m \x1b[0m   2:   value = \x1b[4mvar.no_such_variable\x1b[0m\x1b[0m\n"
    "\x1b[31m│\x1b[0m \x1b[0m\n"
    '\x1b[31m│\x1b[0m \x1b[0mAn input variable with the name "no_such_variable" has not been '
    "declared.\n"
    "\x1b[31m╵\x1b[0m\x1b[0m\n"
)


def test_a_coloured_failure_gives_terraforms_error_in_plain_text(tmp_path: Path) -> None:
    """What Terraform 1.15 prints with colour on (Jenkins' ansiColor), byte for byte."""
    (tmp_path / "stderr.txt").write_text(COLOURED)
    failing = _fake_binary(tmp_path, "tf", f"cat {tmp_path / 'stderr.txt'} >&2; exit 1")
    engine = Terraform(binary.TerraformBinary((str(failing),), "test"), dict(os.environ))
    with pytest.raises(TerraformError) as err:
        engine.run(["plan"], tmp_path, stream=False)
    assert str(err.value).endswith(
        "(exit 1): Error: Reference to undeclared input variable (on main.tf line 2)"
    )
    assert "\x1b" not in err.value.stderr and "no_such_variable" in err.value.stderr


def test_the_last_error_counts_the_others() -> None:
    two = "Error: Backend initialization required\n\nError: Failed to get existing workspaces\n"
    assert Result(["x"], 1, stderr=two).last_error() == (
        "Error: Failed to get existing workspaces (and 1 more error(s) above)"
    )
