"""``runners plan --affected --jobs N``: several stacks at once, and ``--combine`` after Jenkins' branches.

A client repository of several stacks sharing one local module; a merge
request changes the module, so every stack is affected. Each stack still
gets its own folder, manifest, audit record and log; the console shows whole
lines, each with its stack's name; one stack failing stops no other.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import GitRepoHelper, run_cli

STACKS = ("alpha", "bravo", "charlie", "delta")
MODULE = """\
variable "name" {
  type = string
}

resource "terraform_data" "service" {
  input = { name = var.name, size = "%s" }
}
"""
STACK = """\
terraform {
  backend "local" {}
}

module "shared" {
  source = "../../modules/shared"
  name   = "%s"
}
"""


def config(state_dir: Path, stacks: tuple[str, ...]) -> str:
    text = (
        '[runners]\nterraform = "embedded"\n\n'
        '[environments.production]\nbranch = "production"\nregion = "eu-west-1"\n'
        "require_approval = false\n\n"
        f'[environments.production.backend]\npath = "{state_dir}/{{stack}}.tfstate"\n'
    )
    for name in stacks:
        text += f'\n[stacks.{name}]\ndir = "terraform/stacks/{name}"\n'
    return text


@pytest.fixture
def shared_module_repo(git_repo: GitRepoHelper, tmp_path: Path) -> GitRepoHelper:
    """Four stacks sharing one module, and a merge request (branch ``bigger``) changing it."""
    state = tmp_path / "state"
    state.mkdir()
    git_repo.write("runners.toml", config(state, STACKS))
    git_repo.write(".gitignore", ".runners/\n.terraform/\n")
    git_repo.write("terraform/modules/shared/main.tf", MODULE % "small")
    for name in STACKS:
        git_repo.write(f"terraform/stacks/{name}/main.tf", STACK % name)
    git_repo.commit("four stacks, one module")
    git_repo.git("checkout", "-q", "-b", "bigger")
    git_repo.write("terraform/modules/shared/main.tf", MODULE % "large")
    git_repo.commit("every service grows")
    return git_repo


def plan_affected(
    repo: GitRepoHelper, out: Path, *extra: str, **kw: object
) -> subprocess.CompletedProcess[str]:
    return run_cli(
        "plan",
        "--affected",
        "--base",
        "production",
        "--out",
        str(out),
        "--mr",
        "5",
        "--target",
        "production",
        "--no-color",
        *extra,
        cwd=repo.root,
        **kw,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize("bad", ["0", "-1", "two", "1.5", "65"])
def test_a_bad_number_of_jobs_is_exit_2_on_one_line(
    shared_module_repo: GitRepoHelper, tmp_path: Path, bad: str
) -> None:
    r = plan_affected(shared_module_repo, tmp_path / "o", f"--jobs={bad}")
    assert r.returncode == 2
    assert r.stderr.count("\n") == 1 and "--jobs" in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "o").exists()


def test_jobs_go_with_affected(shared_module_repo: GitRepoHelper, tmp_path: Path) -> None:
    r = run_cli(
        "plan",
        "--stack",
        "alpha",
        "--env",
        "production",
        "--out",
        str(tmp_path / "o"),
        "--jobs",
        "2",
        cwd=shared_module_repo.root,
    )
    assert r.returncode == 2 and "--jobs goes with --affected" in r.stderr


def _lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line]


def test_stacks_are_planned_at_once_each_in_its_own_folder_with_whole_prefixed_lines(
    shared_module_repo: GitRepoHelper, tmp_path: Path
) -> None:
    out = tmp_path / "plans"
    r = plan_affected(shared_module_repo, out, "--jobs", "3")
    assert r.returncode == 0, r.stderr

    listing = json.loads((out / "affected.json").read_text())
    assert [s["stack"] for s in listing["stacks"]] == list(STACKS)
    assert all(s["result"] == "planned" and s["has_changes"] for s in listing["stacks"])
    report = (out / "report.md").read_text()
    for name in STACKS:
        folder = out / name
        assert {"manifest.json", "report.md", "plan.txt", "tfplan", "plan.log", "outcome.json"} <= {
            p.name for p in folder.iterdir()
        }
        manifest = json.loads((folder / "manifest.json").read_text())
        assert (manifest["stack"], manifest["merge_request"]["id"]) == (name, "5")
        assert f"`{name}` in `production`" in report
        assert '+     size = "large"' in (folder / "report.md").read_text()

    # Every line the stacks wrote is whole, prefixed with its stack, and in that stack's log.
    prefixes = {name: f"[{name.ljust(7)}] " for name in STACKS}
    console = _lines(r.stdout) + _lines(r.stderr)
    for name, prefix in prefixes.items():
        mine = sorted(
            line[len(prefix) :] for line in console if line.startswith(prefix) and line != prefix
        )
        logged = sorted(_lines((out / name / "plan.log").read_text()))
        assert mine == logged and mine, name
        assert any("will be created" in line for line in mine)  # the plan text, prefixed
        assert f"{name} (production): Plan: 1 to add, 0 to change, 0 to destroy." in mine
    unprefixed = [line for line in console if not line.startswith(tuple(prefixes.values()))]
    assert all(
        line.startswith(
            ("==> ", "report for the merge request", *(f"{n}: planned" for n in STACKS))
        )
        for line in unprefixed
    ), unprefixed

    # One audit record per stack, and the plans ran side by side.
    records = [
        json.loads(line)
        for line in (shared_module_repo.root / ".runners/audit.jsonl").read_text().splitlines()
    ]
    assert sorted(rec["stack"] for rec in records) == sorted(STACKS)
    spans = sorted((rec["started_at"], rec["finished_at"]) for rec in records)
    assert spans[1][0] < spans[0][1], "the first plans did not overlap"


def test_one_stack_failing_stops_no_other_and_is_named(
    shared_module_repo: GitRepoHelper, tmp_path: Path
) -> None:
    shared_module_repo.write(
        "terraform/stacks/bravo/broken.tf", 'output "oops" {\n  value = var.no_such\n}\n'
    )
    shared_module_repo.commit("bravo refers to a variable it does not have")
    out = tmp_path / "plans"
    r = plan_affected(shared_module_repo, out, "--jobs", "4")
    assert r.returncode == 1
    assert "1 of 4 stack plans failed:" in r.stderr
    assert "  bravo: " in r.stderr
    assert "Reference to undeclared input variable" in r.stderr.split("  bravo: ", 1)[1]
    listing = {s["stack"]: s for s in json.loads((out / "affected.json").read_text())["stacks"]}
    assert listing["bravo"]["result"] == "failed"
    assert [listing[s]["result"] for s in ("alpha", "charlie", "delta")] == ["planned"] * 3
    assert "**Planning failed:**" in (out / "report.md").read_text()
    assert json.loads((out / "bravo" / "outcome.json").read_text())["result"] == "failed"
    assert not (out / "bravo" / "manifest.json").exists()


def test_branches_plan_one_stack_each_and_are_combined(
    shared_module_repo: GitRepoHelper, tmp_path: Path
) -> None:
    """What the merge-request Jenkinsfile does: a parallel branch per stack, then --combine."""
    listed = run_cli(
        "affected", "--base", "production", "--target", "production", cwd=shared_module_repo.root
    )
    assert listed.returncode == 0 and listed.stdout.split() == list(STACKS)
    agents = []
    for name in ("alpha", "bravo"):
        agent = tmp_path / f"agent-{name}"
        r = plan_affected(shared_module_repo, agent, "--only", name)
        assert r.returncode == 0, r.stderr
        assert sorted(p.name for p in agent.iterdir() if p.is_dir()) == [name]
        agents.append(agent / name)
    combined = tmp_path / "combined"
    for folder in agents:
        shutil.copytree(folder, combined / folder.name)
    r = run_cli(
        "plan",
        "--combine",
        str(combined / "alpha"),
        str(combined / "bravo"),
        str(combined / "charlie"),
        "--out",
        str(combined),
        cwd=shared_module_repo.root,
    )
    assert r.returncode == 2 and "charlie: no such folder" in r.stderr  # not one of its stacks
    (combined / "charlie").mkdir()  # a branch whose plan never finished
    r = run_cli(
        "plan",
        "--combine",
        str(combined / "alpha"),
        str(combined / "bravo"),
        str(combined / "charlie"),
        "--out",
        str(combined),
        cwd=shared_module_repo.root,
    )
    assert r.returncode == 1
    assert "charlie: charlie: no outcome.json" in r.stderr
    listing = json.loads((combined / "affected.json").read_text())
    assert listing["environment"] == "production" and listing["base"] == "production"
    assert [(s["stack"], s["result"]) for s in listing["stacks"]] == [
        ("alpha", "planned"),
        ("bravo", "planned"),
        ("charlie", "failed"),
    ]
    assert listing["stacks"][0]["dir"] == "alpha"
    report = (combined / "report.md").read_text()
    assert "`alpha` in `production`" in report and "`bravo` in `production`" in report

    r = plan_affected(shared_module_repo, tmp_path / "x", "--only", "echo")
    assert r.returncode == 2 and "does not touch stack 'echo'" in r.stderr


def _hanging_terraform(tmp_path: Path) -> Path:
    """The embedded Terraform, except that ``plan`` waits until a signal comes, and notes it."""
    marks = tmp_path / "marks"
    marks.mkdir()
    script = tmp_path / "terraform-hangs"
    script.write_text(
        "#!/bin/sh\n"
        'if [ "$1" = plan ]; then\n'
        f'  mark="{marks}/$(basename "$PWD")"\n'
        # A background job of a script ignores SIGINT: the trap ends it, and it holds no pipe.
        "  trap 'echo INT >> \"$mark\"; kill $sleeper; exit 1' INT\n"
        '  echo started >> "$mark"\n'
        "  sleep 120 >/dev/null 2>&1 &\n"
        "  sleeper=$!\n"
        "  wait $sleeper\n"
        "  exit 1\n"
        "fi\n"
        f'exec {sys.executable} -m runners.terraform.embedded "$@"\n'
    )
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return script


def test_a_signal_stops_every_plan_and_starts_no_other(
    shared_module_repo: GitRepoHelper, tmp_path: Path
) -> None:
    hanging = _hanging_terraform(tmp_path)
    out = tmp_path / "plans"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "runners",
            "plan",
            "--affected",
            "--base",
            "production",
            "--out",
            str(out),
            "--target",
            "production",
            "--no-color",
            "--jobs",
            "3",
        ],
        cwd=shared_module_repo.root,
        env={**os.environ, "RUNNERS_TERRAFORM": str(hanging)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    marks = tmp_path / "marks"
    deadline = time.monotonic() + 120
    while len(list(marks.iterdir())) < 3 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert len(list(marks.iterdir())) == 3, "three plans never started"
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, (stdout, stderr)
    for name in ("alpha", "bravo", "charlie"):  # each Terraform got one SIGINT
        assert (marks / name).read_text().split() == ["started", "INT"]
    assert not (marks / "delta").exists()  # never started after the signal
    outcomes = {name: json.loads((out / name / "outcome.json").read_text()) for name in STACKS}
    assert all(o["result"] == "failed" for o in outcomes.values())
    assert "interrupted" in outcomes["delta"]["error"]
    assert "interrupted" in stderr.strip().splitlines()[-1]
