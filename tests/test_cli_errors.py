"""The command line's edge: flags out of range, flags that do not go together, and the
error line itself (one line, short, control characters escaped)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from runners import cli
from runners.errors import MAX_LINE, UsageError, one_line
from tests.conftest import GitRepoHelper


def run(capsys: Any, *argv: str) -> tuple[int, str, str]:
    try:
        code = cli.main(list(argv))
    except SystemExit as exc:  # argparse's own exit, as the console script would end
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("value", ["inf", "-inf", "nan", "NaN", "-1", "-5", "0", "1e9", "soon"])
@pytest.mark.parametrize("command", ["plan", "apply", "dr plan"])
def test_a_timeout_is_finite_positive_and_bounded(
    capsys: Any, tmp_path: Path, command: str, value: str
) -> None:
    out = str(tmp_path)
    argv = {
        "plan": ["plan", "--stack", "app", "--env", "production", "--out", out],
        "apply": ["apply", "--stack", "app", "--env", "production", "--plan-dir", out],
        "dr plan": [
            "dr",
            "plan",
            "--to-region",
            "eu-central-1",
            "--stack",
            "a",
            "--env",
            "p",
            "--out",
            out,
        ],
    }[command]
    code, _, err = run(capsys, *argv, f"--timeout={value}")
    assert code == 2
    assert err.count("\n") == 1
    assert "argument --timeout: expected minutes, more than 0 and at most 10080" in err
    assert repr(value) in err


@pytest.mark.parametrize(
    ("flag", "value"),
    [("--confirm-destroy", "-1"), ("--confirm-destroy", "1.5"), ("--confirm-destroy", "x")],
)
def test_a_count_is_a_whole_number_not_below_zero(
    capsys: Any, tmp_path: Path, flag: str, value: str
) -> None:
    argv = ["apply", "--stack", "app", "--env", "production", "--plan-dir", str(tmp_path)]
    code, _, err = run(capsys, *argv, f"{flag}={value}")
    assert (code, err.count("\n")) == (2, 1)
    assert f"argument {flag}: expected a whole number, 0 or more, got {value!r}" in err


def test_max_deletions_below_zero(capsys: Any) -> None:
    code, _, err = run(capsys, "prune", "--policy", "daily", "--max-deletions=-1")
    assert (code, err.count("\n")) == (2, 1)
    assert "argument --max-deletions: expected a whole number, 0 or more, got '-1'" in err


def test_plan_affected_refuses_a_stack(capsys: Any, client_repo: GitRepoHelper) -> None:
    code, _, err = run(
        capsys,
        "plan",
        "--config",
        str(client_repo.root / "runners.toml"),
        "--affected",
        "--base",
        "production",
        "--stack",
        "app",
        "--env",
        "production",
        "--out",
        str(client_repo.root / "plans"),
    )
    assert (code, err.count("\n")) == (2, 1)
    assert "--affected plans every stack the change touches and takes no --stack" in err
    assert not (client_repo.root / "plans").exists()


def test_base_without_affected_is_refused(capsys: Any, client_repo: GitRepoHelper) -> None:
    config = str(client_repo.root / "runners.toml")
    argv = ["plan", "--config", config, "--stack", "app", "--env", "production"]
    code, _, err = run(capsys, *argv, "--out", "o", "--base", "production")
    assert (code, err) == (2, "error: --base goes with --affected (the stacks a change touches)\n")


def test_an_error_line_cuts_long_values_and_escapes_control_characters() -> None:
    line = one_line(f"unknown stack {'x' * 99_990 + 'stack.tf'!r} in\nfile \x1b[31mred\x00 \ud800")
    assert "\n" not in line
    assert line.startswith("unknown stack 'xxxx")
    assert "x" * 81 not in line and "x…x" in line and "xstack.tf' in" in line  # the end kept
    assert line.endswith(r" in file \x1b[31mred\x00 \ud800")
    assert line.encode("ascii", "backslashreplace")  # nothing a terminal cannot print


def test_apostrophes_in_words_are_not_quotes() -> None:
    text = "the stack's folder and the policy's " + "y" * 200 + " name"
    assert one_line(text) == text


def test_a_line_is_never_longer_than_the_cap() -> None:
    assert len(one_line("word " * 100_000)) == MAX_LINE


def test_the_cli_cuts_what_it_prints(capsys: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from runners.commands.summarize import SummarizeCommand

    def refuse(self: object, args: object) -> int:
        raise UsageError(f"bad value {'v' * 100_000!r}\nsecond line \x00")

    monkeypatch.setattr(SummarizeCommand, "run", refuse)
    code, _, err = run(capsys, "summarize", "plan.json")
    assert code == 2
    assert err.count("\n") == 1 and len(err) < 200
    assert err.startswith("error: bad value 'vvvv") and err.endswith("second line \\x00\n")


def test_argparse_errors_are_cut_too(capsys: Any) -> None:
    code, _, err = run(capsys, "summarize", "plan.json", "--format", "x" * 100_000)
    assert code == 2
    assert err.count("\n") == 1 and len(err) < MAX_LINE + 1
    assert "invalid choice: 'xxx" in err
