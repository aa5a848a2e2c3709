"""Path flags: absolute against the working directory as they are parsed, wherever they go.

Terraform runs in the stack's folder, so a relative ``--out`` handed on as it
was given named another place there: the pipelines' plan stages wrote nothing
(issue 19). Every path a command takes is now made absolute when it is parsed;
a relative path a command *writes* to must stay inside the repository it runs
in (one line, exit 2). Read-only paths may lie anywhere: what is read is
checked for what it is, not for where it lies.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import pytest

from runners.aws.embedded import EmbeddedAWS
from runners.cli import build_parser
from runners.commands.common import input_path, new_folder_path, output_path
from tests.backup_world import write_config as write_backup_config
from tests.conftest import PERSON, SIGNED, GitRepoHelper, run_cli

# (subcommand words, flag): what each path flag is. --config is neither: find_config
# resolves it (and $RUNNERS_CONFIG) itself, before anything else reads it.
WRITTEN = {
    ("plan", "--out"),
    ("dr prepare", "--out"),
    ("dr plan", "--out"),
    ("dr drill", "--out"),
    ("dr drill", "--junit"),
    ("report", "--markdown"),
    ("report", "--junit"),
    ("verify-restore", "--markdown"),
    ("verify-restore", "--junit"),
}
READ = {
    ("apply", "--plan-dir"),
    ("comment", "--file"),
    ("summarize", "plan_json"),
    ("plan", "--combine"),
}
CREATED = {("init", "dir")}  # a new repository, anywhere
PATH_METAVARS = {"DIR", "FILE", "PLAN_JSON", "REPORT.md"}


def path_arguments() -> dict[tuple[str, str], object]:
    """Every argument of every (nested) subcommand that names a file or folder, and its type."""
    found: dict[tuple[str, str], object] = {}

    def walk(parser: argparse.ArgumentParser, words: str) -> None:
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    walk(sub, f"{words} {name}".strip())
                continue
            name = action.option_strings[-1] if action.option_strings else action.dest
            if name == "--config":
                continue
            if action.type in (Path, input_path, output_path) or action.metavar in PATH_METAVARS:
                found[(words, name)] = action.type

    walk(build_parser(), "")
    return found


def test_every_path_flag_is_made_absolute_as_it_is_parsed() -> None:
    found = path_arguments()
    assert set(found) == WRITTEN | READ | CREATED, "a new path flag: give it a path type"
    for key, kind in found.items():
        expected = output_path if key in WRITTEN else input_path if key in READ else new_folder_path
        assert kind is expected, key


def test_input_paths_are_absolute_wherever_they_are(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert input_path("plans/app") == tmp_path / "plans/app"
    assert input_path("../elsewhere") == tmp_path.parent / "elsewhere"
    assert input_path("/abs/plan") == Path("/abs/plan")


def test_output_paths_stay_in_the_repository(
    git_repo: GitRepoHelper, monkeypatch: pytest.MonkeyPatch
) -> None:
    sub = git_repo.root / "terraform" / "stacks"
    sub.mkdir(parents=True)
    monkeypatch.chdir(sub)
    assert output_path("plans") == sub / "plans"
    assert output_path("../../plans") == git_repo.root / "plans"  # from the working directory
    assert output_path("/tmp/anywhere") == Path("/tmp/anywhere")  # absolute: the caller's choice
    with pytest.raises(argparse.ArgumentTypeError, match="is outside the repository"):
        output_path("../../../plans")
    # Through a link, too: the check follows it.
    (git_repo.root / "out").symlink_to(git_repo.root.parent)
    monkeypatch.chdir(git_repo.root)
    with pytest.raises(argparse.ArgumentTypeError, match="is outside the repository"):
        output_path("out/plans")


def test_outside_a_repository_the_working_directory_is_the_bound(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    work = tmp_path / "reports-here"
    work.mkdir()
    monkeypatch.chdir(work)
    assert output_path("r/backup.md") == work / "r" / "backup.md"
    with pytest.raises(argparse.ArgumentTypeError, match="is outside the repository"):
        output_path("../backup.md")


@pytest.mark.parametrize(
    "argv",
    [
        ("plan", "--stack", "app", "--env", "production", "--out", "../outside"),
        ("plan", "--affected", "--base", "production", "--out", "../outside"),
        ("dr", "prepare", "--to-region", "eu-central-1", "--out", "../outside"),
        ("dr", "plan", "--stack", "app", "--env", "production", "--to-region", "x", "--out", ".."),
        ("report", "--policy", "daily", "--markdown", "../outside.md"),
        ("report", "--policy", "daily", "--junit", "../outside.xml"),
        ("verify-restore", "--policy", "daily", "--markdown", "../outside.md"),
        ("verify-restore", "--policy", "daily", "--junit", "../outside.xml"),
    ],
    ids=lambda argv: "-".join(a for a in argv if a.startswith("--") or a in ("prepare", "plan")),
)
def test_a_relative_output_outside_the_repository_is_one_line_exit_2(
    client_repo: GitRepoHelper, argv: tuple[str, ...]
) -> None:
    done = run_cli(*argv, cwd=client_repo.root)
    assert done.returncode == 2, done.stderr
    [line] = done.stderr.strip().splitlines()
    assert "is outside the repository" in line and "Traceback" not in done.stderr
    assert not (client_repo.root.parent / "outside").exists()


@pytest.mark.slow
def test_relative_out_and_plan_dir_from_anywhere_in_the_repository(
    client_repo: GitRepoHelper,
) -> None:
    """As a Jenkins agent runs them: plan into a relative folder, apply from it."""
    cwd = client_repo.root / "terraform"
    planned = run_cli(
        *("plan", "--stack", "app", "--env", "production", "--out", "../plans/app", "--no-color"),
        cwd=cwd,
        env=SIGNED,
    )
    assert planned.returncode == 0, planned.stderr
    out = client_repo.root / "plans" / "app"
    assert {p.name for p in out.iterdir()} == {
        "tfplan",
        "plan.json",
        "plan.txt",
        "report.md",
        "manifest.json",
    }
    assert f"report: {out / 'report.md'}" in planned.stdout
    applied = run_cli(
        *("apply", "--stack", "app", "--env", "production", "--plan-dir", "../plans/app"),
        *("--approved-by", "alice", "--triggered-by", "olivia", *PERSON, "--no-color"),
        cwd=cwd,
        env=SIGNED,
    )
    assert applied.returncode == 0, applied.stderr
    state = json.loads((client_repo.root.parent / "state" / "app-production.tfstate").read_text())
    assert state["resources"], "the relative plan was applied"


@pytest.mark.slow
def test_relative_out_for_affected_and_drift(client_repo: GitRepoHelper) -> None:
    git = client_repo.git
    git("checkout", "-q", "-b", "feature")
    main_tf = client_repo.root / "terraform/stacks/app/main.tf"
    main_tf.write_text(main_tf.read_text() + "\n# a change\n")
    client_repo.commit("touch app")
    affected = run_cli(
        *("plan", "--affected", "--base", "production", "--out", "mr", "--no-color"),
        *("--env", "production"),
        cwd=client_repo.root,
    )
    assert affected.returncode == 0, affected.stderr
    summary = json.loads((client_repo.root / "mr" / "affected.json").read_text())
    assert [s["stack"] for s in summary["stacks"] if s["result"] == "planned"] == ["app"]
    assert (client_repo.root / "mr" / "app" / "tfplan").is_file()
    drift = run_cli(
        *("plan", "--drift", "--stack", "app", "--env", "production", "--out", "drift"),
        "--no-color",
        cwd=client_repo.root / "terraform",
    )
    assert drift.returncode == 2, drift.stderr  # nothing applied yet: production lacks it all
    assert {p.name for p in (client_repo.root / "terraform" / "drift").iterdir()} == {
        "report.md",
        "plan.txt",
    }


@pytest.mark.slow
def test_relative_report_files(aws: EmbeddedAWS, git_repo: GitRepoHelper) -> None:
    write_backup_config(git_repo.root)
    git_repo.commit("a backup policy")
    done = run_cli(
        *("report", "--policy", "daily", "--markdown", "reports/backup.md"),
        *("--junit", "reports/backup.xml"),
        cwd=git_repo.root,
        env={"AWS_ENDPOINT_URL": os.environ["AWS_ENDPOINT_URL"]},
    )
    assert done.returncode in (0, 1), done.stderr  # nothing is backed up: the RPO may be breached
    markdown = (git_repo.root / "reports" / "backup.md").read_text()
    assert markdown and markdown in done.stdout  # the report it printed, written where asked
    assert (git_repo.root / "reports" / "backup.xml").read_text().startswith("<?xml")
