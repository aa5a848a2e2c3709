"""The Jenkinsfiles and the CLI stay in step: every ``runners`` call in an ``sh`` step parses.

Each invocation is checked against ``runners.cli.build_parser()``: an unknown
subcommand, an unknown flag, a missing required flag or a bad value fails.

Commands other issues are building in parallel are not in this branch yet.
Their invocations are checked against the synopsis the project documents for
them (PENDING below) and then marked xfail, so the run lists them. Once such a
command is merged, its entry here makes the test fail until it is removed, and
from then on the real parser checks it.
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

# Documented synopses (see the planned CLI surface) of commands not merged yet.
PENDING: dict[str, tuple[str, str]] = {
    "backup": (
        "issue 4",
        "--policy NAME [--dry-run] [--on-demand --reason TEXT] [--requested-by USER]",
    ),
    "ship": ("issue 4", "--policy NAME [--dry-run]"),
    "prune": ("issue 4", "--policy NAME [--dry-run] [--max-deletions N]"),
    "report": ("issue 4", "--policy NAME [--markdown FILE] [--junit FILE]"),
    "dr prepare": (
        "issue 7",
        "--to-region REGION [--stack S] [--env E] [--out DIR] [--allow-missing]",
    ),
    "dr plan": ("issue 7", "--stack S --env E --to-region REGION --out DIR"),
    "verify-restore": ("issue 7", "--policy NAME"),
    "ship-s3": ("issue 7", "--policy NAME [--dry-run]"),
}


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


def synopsis_parser(name: str, synopsis: str) -> argparse.ArgumentParser:
    """A parser for a documented synopsis: ``--flag VALUE``, ``[--flag VALUE]``, ``[--flag]``."""
    parser = argparse.ArgumentParser(prog=f"runners {name}", allow_abbrev=False)
    parser.add_argument("--config")
    tokens = synopsis.replace("[", " [ ").replace("]", " ] ").split()
    depth = 0
    for index, token in enumerate(tokens):
        if token in "[]":
            depth += 1 if token == "[" else -1
        elif token.startswith("-"):
            valued = index + 1 < len(tokens) and re.fullmatch(r"[A-Z][A-Z_=]*", tokens[index + 1])
            if valued:
                parser.add_argument(token, required=depth == 0)
            else:
                parser.add_argument(token, action="store_true")
    return parser


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


def pending_key(argv: tuple[str, ...]) -> str | None:
    for words in (2, 1):
        key = " ".join(argv[:words])
        if key in PENDING:
            return key
    return None


ALL = [inv for path in JENKINSFILES for inv in invocations(path)]


@pytest.mark.parametrize("inv", ALL, ids=[f"{i.file}:{i.line}:{'-'.join(i.argv[:2])}" for i in ALL])
def test_every_runners_call_in_a_jenkinsfile_parses(inv: Invocation) -> None:
    key = pending_key(inv.argv)
    try:
        check(inv)
    except UnknownSubcommand:
        if key is None:
            raise
        issue, synopsis = PENDING[key]
        words = len(key.split())
        error = parse_error(synopsis_parser(key, synopsis), list(inv.argv[words:]))
        assert error is None, f"{inv}: against the documented synopsis of runners {key}: {error}"
        pytest.xfail(
            f"runners {key} is not merged yet ({issue}); checked against its documented synopsis"
        )
    assert key is None, f"runners {key} is merged now: remove it from PENDING in {__file__}"


def test_every_jenkinsfile_calls_runners() -> None:
    """The extractor found something in each file (an empty parametrisation would pass silently)."""
    for path in JENKINSFILES:
        assert invocations(path), f"{path}: no runners call found"
    assert len(JENKINSFILES) == 5


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


def test_an_unknown_subcommand_is_not_excused_unless_pending() -> None:
    with pytest.raises(UnknownSubcommand):
        check(Invocation("Jenkinsfile", 1, ("deploy", "--stack", "app")))
    assert pending_key(("deploy",)) is None
    assert pending_key(("dr", "prepare", "--to-region", "x")) == "dr prepare"


def test_synopsis_parser_is_strict() -> None:
    parser = synopsis_parser("dr plan", PENDING["dr plan"][1])
    argv = ["--stack", "a", "--env", "e", "--to-region", "eu-central-1", "--out", "d"]
    assert parse_error(parser, argv) is None
    assert "required" in (parse_error(parser, argv[:-2]) or "")
    assert "unrecognized" in (parse_error(parser, [*argv, "--region", "x"]) or "")
    assert "unrecognized arguments: --ou" in (parse_error(parser, [*argv, "--ou", "d"]) or "")
