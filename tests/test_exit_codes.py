"""Exit 2 is never ambiguous where a pipeline reads it as "changes".

With ``--detailed-exitcode`` or ``--drift``, 2 means there are changes (or
drift) and nothing else; every error, a bad config or a mistyped flag
included, is 1, as with Terraform's own ``-detailed-exitcode``. Before this, a
broken runners.toml exited 2: the drift job called it drift, and the
production pipeline took it for changes and went on to ask for approval.
"""

from __future__ import annotations

import string

from hypothesis import given
from hypothesis import strategies as st

from runners.cli import CHANGES_FLAGS, reports_changes
from tests.conftest import GitRepoHelper, run_cli

PLAN = ("plan", "--stack", "app", "--env", "production", "--no-color")


def broken(repo: GitRepoHelper) -> None:
    path = repo.root / "runners.toml"
    path.write_text(path.read_text().replace('region = "eu-west-1"', 'region = "Europe"', 1))


def test_a_config_error_is_2_in_general(client_repo: GitRepoHelper) -> None:
    broken(client_repo)
    done = run_cli(*PLAN, "--out", "plans", cwd=client_repo.root)
    assert done.returncode == 2
    assert "expected an AWS region" in done.stderr


def test_a_config_error_is_1_where_2_would_mean_changes(client_repo: GitRepoHelper) -> None:
    broken(client_repo)
    for extra in (
        ("--detailed-exitcode", "--out", "plans"),
        ("--drift",),
        ("--drift", "--out", "d"),
    ):
        done = run_cli(*PLAN, *extra, cwd=client_repo.root)
        assert done.returncode == 1, (extra, done.stderr)
        [line] = done.stderr.strip().splitlines()
        assert line.startswith("error: ") and "expected an AWS region" in line


def test_a_usage_error_is_1_there_too(client_repo: GitRepoHelper) -> None:
    for argv in (
        (*PLAN, "--detailed-exitcode", "--out", "plans", "--stak", "x"),  # argparse's own error
        (*PLAN, "--drift", "--timeout", "soon"),
        (*PLAN, "--detailed", "--out", "../outside"),  # an abbreviation argparse takes
        ("plan", "--drift", "--env", "production", "--no-color"),  # no --stack
    ):
        done = run_cli(*argv, cwd=client_repo.root)
        assert done.returncode == 1, (argv, done.stderr)
        assert len(done.stderr.strip().splitlines()) == 1, done.stderr


def test_help_and_version_still_exit_0() -> None:
    assert run_cli("plan", "--drift", "--help").returncode == 0
    assert run_cli("--version").returncode == 0


_words = st.text(alphabet=string.ascii_lowercase + "-=", max_size=12).filter(
    lambda w: not any(f.startswith(w.split("=", 1)[0]) for f in CHANGES_FLAGS if len(w) > 2)
)


@given(st.lists(_words, max_size=6), st.sampled_from(CHANGES_FLAGS), st.data())
def test_reports_changes_finds_the_flag_in_any_spelling_argparse_takes(
    words: list[str], flag: str, data: st.DataObject
) -> None:
    assert not reports_changes(words)
    cut = data.draw(st.integers(min_value=4, max_value=len(flag)))  # --de, --dr at least
    spelled = flag[:cut] + data.draw(st.sampled_from(["", "=x"]))
    at = data.draw(st.integers(min_value=0, max_value=len(words)))
    assert reports_changes([*words[:at], spelled, *words[at:]])
    # after "--" it is an argument, not a flag
    assert not reports_changes([*words, "--", spelled])
