"""The Jenkinsfiles and the CLI stay in step: every ``runners`` call in an ``sh`` step parses.

Each invocation is checked against ``runners.cli.build_parser()``: an unknown
subcommand, an unknown flag, a missing required flag or a bad value fails.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from runners.cli import build_parser
from tests.groovy_scan import Source, runners_invocations, sh_steps

ROOT = Path(__file__).parent.parent
JENKINSFILES = [ROOT / "Jenkinsfile", *sorted((ROOT / "pipelines").glob("*.Jenkinsfile"))]


@dataclass(frozen=True)
class Invocation:
    file: str
    line: int
    argv: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: runners {' '.join(self.argv)}"


class UnknownSubcommand(AssertionError):
    pass


def invocations(path: Path) -> list[Invocation]:
    source = Source(path.read_text(encoding="utf-8"))
    rel = path.relative_to(ROOT).as_posix()
    return [
        Invocation(rel, step.line, tuple(argv))
        for step in sh_steps(source)
        for argv in runners_invocations(step.script)
    ]


def subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def parse_error(parser: argparse.ArgumentParser, argv: list[str]) -> str | None:
    """argparse's complaint about ``argv``, or None when it parses."""
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            parser.parse_args(argv)
        except SystemExit as exc:
            if exc.code:
                return err.getvalue().strip().splitlines()[-1]
    return None


def check(inv: Invocation) -> None:
    """Raise AssertionError (UnknownSubcommand for a missing command) when it does not parse."""
    parser = build_parser()
    merged = subcommands(parser)
    if not inv.argv or inv.argv[0] not in merged:
        raise UnknownSubcommand(f"{inv}: no such subcommand in runners.cli")
    error = parse_error(parser, list(inv.argv))
    assert error is None, f"{inv}: {error}"
    known = option_strings(parser, inv.argv)
    for token in inv.argv:
        flag = token.split("=", 1)[0]
        # argparse accepts a unique prefix (--dry for --dry-run); a Jenkinsfile must not.
        assert not flag.startswith("--") or flag in known, (
            f"{inv}: {flag} is not a flag's full name"
        )


def option_strings(parser: argparse.ArgumentParser, argv: tuple[str, ...]) -> set[str]:
    """Every option string of the parsers the words of ``argv`` walk through."""
    known: set[str] = set()
    current: argparse.ArgumentParser | None = parser
    words = [w for w in argv if not w.startswith("-")]
    while current is not None:
        known.update(s for action in current._actions for s in action.option_strings)
        subs = subcommands(current)
        current = subs.get(words.pop(0)) if subs and words else None
    return known


ALL = [inv for path in JENKINSFILES for inv in invocations(path)]


@pytest.mark.parametrize("inv", ALL, ids=[f"{i.file}:{i.line}:{'-'.join(i.argv[:2])}" for i in ALL])
def test_every_runners_call_in_a_jenkinsfile_parses(inv: Invocation) -> None:
    check(inv)


def test_every_jenkinsfile_calls_runners() -> None:
    """The extractor found something in each file (an empty parametrisation would pass silently)."""
    for path in JENKINSFILES:
        assert invocations(path), f"{path}: no runners call found"
    assert len(JENKINSFILES) == 9


# -- the extractor itself ------------------------------------------------------

SAMPLE = r"""
pipeline {
    stages {
        stage('x') {
            steps {
                // sh 'runners commented --out'
                sh 'runners plan --stack app --env production --out plans'
                sh "runners plan --stack ${stack} --env ${env.RUNNERS_ENV} --out plans/$name"
                sh '''
                    set -e
                    runners plan --affected --base "origin/$CHANGE_TARGET" \\
                        --out plans  # comment
                    echo done && runners summarize plans/app/plan.json --format md > out.md
                '''
                rc = sh(returnStatus: true,
                    script: 'runners apply --stack "$STACK" ${CONFIRM:+--confirm-destroy "$CONFIRM"}')
                sh(script: 'runners ' + 'affected --base main', label: 'affected')
                echo 'runners not-a-step'
            }
        }
    }
}
"""


def test_extractor_reads_every_form_of_sh_step(tmp_path: Path) -> None:
    path = tmp_path / "Jenkinsfile"
    path.write_text(SAMPLE)
    steps = sh_steps(Source(SAMPLE))
    argvs = [argv for step in steps for argv in runners_invocations(step.script)]
    assert argvs == [
        ["plan", "--stack", "app", "--env", "production", "--out", "plans"],
        ["plan", "--stack", "1", "--env", "1", "--out", "plans/1"],
        ["plan", "--affected", "--base", "origin/1", "--out", "plans"],
        ["summarize", "plans/app/plan.json", "--format", "md"],
        ["apply", "--stack", "1", "--confirm-destroy", "1"],
        ["affected", "--base", "main"],
    ]
    assert [s.line for s in steps] == [7, 8, 9, 15, 17]


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (("plan", "--stak", "app"), "unrecognized arguments: --stak"),
        (("affected",), "the following arguments are required: --base"),
        (("summarize", "p.json", "--format", "html"), "invalid choice: 'html'"),
        (("jobs", "sync", "--dry"), "--dry is not a flag's full name"),
    ],
)
def test_a_wrong_call_fails_the_check(argv: tuple[str, ...], expected: str) -> None:
    with pytest.raises(AssertionError, match=re.escape(expected)):
        check(Invocation("Jenkinsfile", 1, argv))


def test_a_full_flag_with_an_inline_value_passes() -> None:
    check(Invocation("Jenkinsfile", 1, ("trigger", "backup-daily", "--param=POLICY=x", "--follow")))


def test_an_unknown_subcommand_fails_the_check() -> None:
    with pytest.raises(UnknownSubcommand):
        check(Invocation("Jenkinsfile", 1, ("deploy", "--stack", "app")))
