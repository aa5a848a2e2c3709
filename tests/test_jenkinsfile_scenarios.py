"""The repository's own Jenkinsfiles, rehearsed as Jenkins runs them, against a real client.

The client is the demo's: the demo stack in a git repository the "Git
platform" holds, its production state in S3 on the embedded AWS, production
applied once. Each scenario runs a pipeline through the harness
(tests/pipeline_harness) with the runners CLI, the embedded Terraform and the
moto server doing the real work, then checks the build and the state in AWS.

Each zone is a Jenkins of its own here, with that zone's agents and
credentials only (docs/jenkins.md, "The two zones"): the merge-request zone
runs the repository's ``Jenkinsfile``; the production zone runs
``pipelines/*.Jenkinsfile`` as ``runners jobs sync`` puts them into a job,
with the client's values in ``client()``.

The scenarios that fail today are marked xfail(strict=True) with what breaks
(issue 19, part 2): when it is fixed they pass, and strict makes the mark go.
"""

from __future__ import annotations

import json
import shutil
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import jinja2
import pytest

from runners.aws.embedded import EmbeddedAWS
from runners.jenkins import library
from tests.conftest import SIGNED, GitRepoHelper, run_cli
from tests.pipeline_harness import BuildResult, Cause, Change, Input, Jenkins, Scm

ROOT = Path(__file__).parent.parent
JENKINSFILE = ROOT / "Jenkinsfile"
BUCKET = "demo-client-tfstate"
STATE_KEY = "demo/production/terraform.tfstate"
FEATURE = "feature/bigger-web"

COLOUR = (
    "Jenkins turns colour on (ansiColor) and a failed plan's reason in affected.json, the report "
    "and the audit record is Terraform's last stderr line with its escape codes "
    "('\\x1b[31m\u2575\\x1b[0m') instead of Terraform's error (fix in runners: take the "
    "error's summary and strip colour from every reason that leaves the process)"
)
GIT_CREDENTIALS = "client-git"
PRODUCTION_JOB = "client/production/terraform"


def merge_request_zone(jenkins: Jenkins) -> Jenkins:
    """The merge-request folder: plan-only keys (no comment token: the comment is skipped)."""
    jenkins.agents = ["runners-plan"]
    jenkins.add_credentials(**{"runners-aws-plan": "aws"})
    return jenkins


def production_zone(jenkins: Jenkins) -> Jenkins:
    """The production folder: its own agents and the credentials that live only there."""
    jenkins.agents = ["runners-apply"]
    jenkins.add_credentials(
        **{
            "runners-aws-plan": "aws",
            "runners-aws-write": "aws",
            "runners-aws-backup": "aws",
            "runners-plan-signing-key": "string",
            GIT_CREDENTIALS: "usernamePassword",
        }
    )
    return jenkins


def as_synced(name: str, repository: Path, branch: str, into: Path) -> Path:
    """``pipelines/<name>`` as ``runners jobs sync`` carries it in a production job."""
    values = library.ClientValues(str(repository), branch, GIT_CREDENTIALS, "production")
    path = into / name
    path.write_text(library.pipeline_script(name, values))
    return path


@dataclass
class Platform:
    """The client's repository on the Git platform, and its production state in the embedded AWS."""

    repo: GitRepoHelper
    aws: EmbeddedAWS

    def scm_for_branch(self, branch: str) -> Scm:
        """What a branch build checks out: that branch's head, fetched as origin/<branch>."""
        return Scm.at(
            self.repo.root,
            branch,
            branch=f"origin/{branch}",
            refspecs=(f"+refs/heads/{branch}:refs/remotes/origin/{branch}",),
        )

    def scm_for_merge_request(self, number: str, source: str, target: str) -> Scm:
        """What a GitLab merge-request build checks out: the merge of source into target."""
        git = self.repo.git
        git("checkout", "-q", "--detach", target)
        git("merge", "-q", "--no-ff", "-m", f"Merge {source} into {target}", source)
        git("update-ref", f"refs/merge-requests/{number}/merge", "HEAD")
        git("checkout", "-q", target)
        return Scm.at(
            self.repo.root,
            f"refs/merge-requests/{number}/merge",
            refspecs=(
                f"+refs/heads/{target}:refs/remotes/origin/{target}",
                f"+refs/merge-requests/{number}/merge:refs/remotes/origin/MR-{number}",
            ),
        )

    def change(self, branch: str, author: str, servers: dict[str, str], db_version: str) -> str:
        git = self.repo.git
        git("checkout", "-q", "-b", branch, "production")
        lines = "\n".join(f'  {name} = "{size}"' for name, size in servers.items())
        tfvars = self.repo.root / "terraform/stacks/demo/production.tfvars"
        tfvars.write_text(
            tfvars.read_text()
            + f'\nservers = {{\n{lines}\n}}\ndb_engine_version = "{db_version}"\n'
        )
        commit = self.repo.commit(f"{branch}: grow the web tier", author=author)
        git("checkout", "-q", "production")
        return commit

    def merge(self, branch: str) -> str:
        self.repo.git("merge", "-q", "--no-ff", "-m", f"Merge {branch}", branch)
        return self.repo.git("rev-parse", "HEAD")

    def s3(self) -> Any:
        return boto3.client("s3", region_name=self.aws.region)

    def state(self) -> dict[str, Any]:
        body = self.s3().get_object(Bucket=BUCKET, Key=STATE_KEY)["Body"].read()
        return json.loads(body)

    def servers(self) -> list[str]:
        """The web servers production's state holds (module.server["web-1"], ...)."""
        modules = {
            r["module"]
            for r in self.state()["resources"]
            if r.get("module", "").startswith("module.server[")
        }
        return sorted(m.split('"')[1] for m in modules)

    def audit(self) -> list[dict[str, Any]]:
        s3 = self.s3()
        keys = [
            o["Key"]
            for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET)
            for o in page.get("Contents", [])
            if "/audit/" in o["Key"] or "/plan-records/" in o["Key"]
        ]
        return [json.loads(s3.get_object(Bucket=BUCKET, Key=k)["Body"].read()) for k in keys]

    def lock_objects(self) -> list[str]:
        return [
            o["Key"]
            for page in self.s3().get_paginator("list_objects_v2").paginate(Bucket=BUCKET)
            for o in page.get("Contents", [])
            if o["Key"].endswith(".tflock")
        ]


@pytest.fixture
def platform(aws: EmbeddedAWS, tmp_path: Path) -> Platform:
    """The demo client, made as `make demo` makes it, with production applied after review."""
    boto3.client("s3", region_name=aws.region).create_bucket(
        Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": aws.region}
    )
    repo = GitRepoHelper(tmp_path / "platform")
    for rel in ("terraform/stacks/demo", "terraform/modules/demo-service"):
        shutil.copytree(ROOT / rel, repo.root / rel, ignore=shutil.ignore_patterns(".terraform*"))
    template = jinja2.Environment(
        loader=jinja2.FileSystemLoader(ROOT / "runners" / "templates"),
        keep_trailing_newline=True,
        autoescape=False,  # noqa: S701  # renders TOML, not HTML
    ).get_template("demo/runners.toml.j2")
    repo.write(
        "runners.toml",
        template.render(
            endpoint=aws.endpoint, region=aws.region, backup_region="eu-central-1", bucket=BUCKET
        ),
    )
    repo.write(".gitignore", ".runners/\n.terraform/\n")
    repo.commit("Initial layout: two web servers and a database", author="Olivia Ops <o@x.org>")
    out = tmp_path / "bootstrap-plan"
    for argv in (
        ("plan", "--stack", "demo", "--env", "production", "--out", str(out), "--no-color"),
        (
            "apply",
            "--stack",
            "demo",
            "--env",
            "production",
            "--plan-dir",
            str(out),
            "--approved-by",
            "alice",
            "--triggered-by",
            "olivia",
            "--build-cause",
            "UserIdCause",
            "--no-color",
        ),
    ):
        done = run_cli(*argv, cwd=repo.root, env=SIGNED)  # as the production zone does
        assert done.returncode == 0, done.stderr
    return Platform(repo, aws)


def show(result: BuildResult) -> None:
    print(result.stage_view())
    print(textwrap.indent(result.log[-6000:], "    "))


BIGGER = {"web-1": "small", "web-2": "large", "web-3": "large"}
DANA = "Dana Developer <dana@example.com>"


@pytest.mark.slow
def test_a_merge_request_build_plans_the_affected_stack(
    jenkins: Jenkins, platform: Platform
) -> None:
    jenkins = merge_request_zone(jenkins)
    platform.change(FEATURE, DANA, BIGGER, "17")
    state_before = platform.state()

    result = jenkins.run(
        JENKINSFILE,
        job="client/merge-requests/terraform/MR-1",
        change=Change(id="1", target="production", branch=FEATURE, author="dana"),
        scm=platform.scm_for_merge_request("1", FEATURE, "production"),
        causes=[Cause.branch_event("Merge request !1 opened")],
    )
    show(result)

    assert result.result == "SUCCESS"
    assert result.stages_run == ["Plan merge request"]
    assert result.credentials["Plan merge request"] == {"runners-aws-plan"}
    assert set(result.artifacts) == {
        "plans/report.md",
        "plans/affected.json",
        "plans/demo/report.md",
        "plans/demo/plan.txt",
        "plans/demo/manifest.json",
    }
    affected = json.loads(result.artifacts["plans/affected.json"].read_text())
    [demo] = affected["stacks"]
    summary = demo["summary"]
    assert demo["result"] == "planned"
    assert result.description == (
        f"demo: {summary['add']} to add, {summary['change']} to change, "
        f"{summary['destroy']} to destroy"
    )
    [stash] = result.of_type("stash")
    assert stash["files"] == ["plans/demo/plan.json", "plans/demo/tfplan"]
    # A plan changes nothing in AWS and leaves no lock behind.
    assert platform.state() == state_before
    assert platform.lock_objects() == []
    assert result.find(*jenkins.secrets()) == []


@pytest.mark.slow
def test_a_production_build_started_by_a_person_applies_after_approval(
    jenkins: Jenkins, platform: Platform, tmp_path: Path
) -> None:
    jenkins = production_zone(jenkins)
    platform.change(FEATURE, DANA, BIGGER, "17")
    merged = platform.merge(FEATURE)

    result = jenkins.run(
        as_synced("production.Jenkinsfile", platform.repo.root, "production", tmp_path),
        job=PRODUCTION_JOB,
        causes=[Cause.user("olivia", "Olivia Ops")],
        inputs=[Input.approve("alice", match="Apply demo to production", CONFIRM_DESTROY="1")],
    )
    show(result)

    assert result.result == "SUCCESS"
    assert result.stages_run == ["Production", "demo"]
    assert result.credentials["demo"] == {
        "runners-aws-plan",
        "runners-aws-write",
        "runners-plan-signing-key",
    }
    for call in result.sh:
        if "runners-aws-write" in call.credentials:
            assert call.command.startswith("runners apply"), call.command
    assert result.description == f"production at {merged}\ndemo: applied, approved by alice"
    assert {"plans/demo/report.md", "plans/demo/plan.txt", "plans/demo/manifest.json"} <= set(
        result.artifacts
    )
    # The plan was made and applied from the commit the build checked out, on clean agents.
    assert {e["commit"] for e in result.of_type("checkout")} == {merged}
    assert platform.servers() == ["web-1", "web-2", "web-3"]
    # (the apply's "started" record, written before Terraform ran, is beside its outcome)
    [applied] = [
        r
        for r in platform.audit()
        if r["kind"] == "apply" and r["build_url"] is not None and r["result"] != "started"
    ]
    assert applied["result"] == "applied"
    assert applied["approved_by"] == "alice"
    assert applied["triggered_by"] == "olivia"
    assert applied["commit"] == merged
    assert "accepted the difference" not in json.dumps(applied)  # ACCEPT_DIFFERENCE not ticked
    assert applied["build_url"] == (
        "https://jenkins.example.invalid/job/client/job/production/job/terraform/1/"
    )
    assert platform.lock_objects() == []
    assert result.find(*jenkins.secrets()) == []


@pytest.mark.slow
def test_an_approver_who_ticks_accept_difference_is_recorded_as_accepting_it(
    jenkins: Jenkins, platform: Platform, tmp_path: Path
) -> None:
    """Merged without a merge-request build: no reviewed plan, and the approver says so."""
    jenkins = production_zone(jenkins)
    platform.change(FEATURE, DANA, BIGGER, "17")
    platform.merge(FEATURE)

    result = jenkins.run(
        as_synced("production.Jenkinsfile", platform.repo.root, "production", tmp_path),
        job=PRODUCTION_JOB,
        causes=[Cause.user("olivia", "Olivia Ops")],
        inputs=[Input.approve("alice", CONFIRM_DESTROY="1", ACCEPT_DIFFERENCE=True)],
    )
    show(result)

    assert result.result == "SUCCESS"
    # The ticked box reached `runners apply` as --accept-difference: only that flag writes this.
    [applied] = [
        r
        for r in platform.audit()
        if r["kind"] == "apply" and r["build_url"] is not None and r["result"] != "started"
    ]
    assert applied["result"] == "applied"
    assert "accepted the difference" in json.dumps(applied)


@pytest.mark.slow
def test_a_plan_made_stale_while_waiting_for_approval_is_refused_and_says_start_again(
    jenkins: Jenkins, platform: Platform, tmp_path: Path
) -> None:
    """The lock is released during the approval; a merge in between makes the plan stale."""
    jenkins = production_zone(jenkins)
    platform.change(FEATURE, DANA, BIGGER, "16")
    platform.merge(FEATURE)
    release = tmp_path / "approve"

    build = jenkins.start(
        as_synced("production.Jenkinsfile", platform.repo.root, "production", tmp_path),
        job=PRODUCTION_JOB,
        causes=[Cause.user("olivia")],
        inputs=[Input.approve("alice", after=release)],
    )
    build.wait_for("input_waiting")
    platform.change("feature/smaller", DANA, {"web-1": "small"}, "16")
    platform.merge("feature/smaller")
    release.touch()
    result = build.wait()
    show(result)

    assert result.result == "FAILURE"
    applies = [c for c in result.runners_calls() if c.command.startswith("runners apply")]
    assert [c.status for c in applies] == [3]  # refused by the plan contract
    assert "the plan is stale: start this build again to plan afresh" in result.log
    assert platform.servers() == ["web-1", "web-2"]
    assert platform.lock_objects() == []


@pytest.mark.slow
@pytest.mark.xfail(strict=True, reason=COLOUR)
def test_a_merge_request_whose_plan_fails_says_why_in_plain_text(
    jenkins: Jenkins, platform: Platform
) -> None:
    jenkins = merge_request_zone(jenkins)
    git = platform.repo.git
    git("checkout", "-q", "-b", FEATURE, "production")
    main_tf = platform.repo.root / "terraform/stacks/demo/main.tf"
    main_tf.write_text(
        main_tf.read_text() + '\noutput "oops" {\n  value = var.no_such_variable\n}\n'
    )
    platform.repo.commit("refer to a variable that does not exist", author=DANA)
    git("checkout", "-q", "production")

    result = jenkins.run(
        JENKINSFILE,
        job="client/merge-requests/terraform/MR-2",
        change=Change(id="2", target="production", branch=FEATURE, author="dana"),
        scm=platform.scm_for_merge_request("2", FEATURE, "production"),
        causes=[Cause.branch_event()],
    )
    show(result)

    assert result.result == "FAILURE"
    assert result.description == "demo: plan failed"
    [demo] = json.loads(result.artifacts["plans/affected.json"].read_text())["stacks"]
    report = result.artifacts["plans/report.md"].read_text()
    [failed] = [r for r in platform.audit() if r["kind"] == "plan" and r["result"] == "failed"]
    for reason in (demo["error"], report, failed["reason"]):
        assert "\x1b" not in reason
        assert "Reference to undeclared input variable" in reason


SMOKE = [
    (
        "Jenkinsfile",
        {"change": Change(id="3", target="production", branch="f")},
        ["Plan merge request"],
    ),
    ("production.Jenkinsfile", {}, ["Production"]),
    ("backup.Jenkinsfile", {"params": {"POLICY": "daily"}}, ["Check", "Backup", "Ship", "Report"]),
    (
        "on-demand-backup.Jenkinsfile",
        {"params": {"POLICY": "daily", "REASON": "r"}},
        ["Check", "Backup"],
    ),
    ("drift.Jenkinsfile", {"params": {"STACK": "app", "ENV": "production"}}, ["Drift"]),
    (
        "dr.Jenkinsfile",
        {"params": {"STACK": "app", "ENV": "production", "TO_REGION": "eu-central-1"}},
        ["Recover"],
    ),
    ("verify-restore.Jenkinsfile", {"params": {"POLICY": "daily"}}, ["Verify restore"]),
    (
        "dr-prepare.Jenkinsfile",
        {"params": {"ENV": "production", "TO_REGION": "eu-central-1"}},
        ["Prepare"],
    ),
    ("ship-s3.Jenkinsfile", {"params": {"POLICY": "daily"}}, ["Ship S3"]),
]


def test_the_smoke_runs_cover_every_jenkinsfile() -> None:
    names = {p.name for p in (ROOT / "pipelines").glob("*.Jenkinsfile")} | {"Jenkinsfile"}
    assert {path for path, _, _ in SMOKE} == names


@pytest.mark.parametrize(
    ("path", "build", "stages"), SMOKE, ids=[f"{p}-{s[0]}" for p, _, s in SMOKE]
)
def test_every_jenkinsfile_runs_through_the_harness(
    jenkins: Jenkins,
    git_repo: GitRepoHelper,
    tmp_path: Path,
    path: str,
    build: dict[str, Any],
    stages: list[str],
) -> None:
    """Only steps the harness knows, on the paths a client without runners.toml takes.

    Every ``runners`` call fails here (exit 2, no configuration); what is checked
    is that Groovy 2.4 runs the file and each step it reaches is emulated, with
    only its zone's agents and credentials.
    """
    git_repo.write("README", "no runners.toml\n")
    git_repo.commit("empty client")

    if path == "Jenkinsfile":
        jenkins = merge_request_zone(jenkins)
        result = jenkins.run(
            JENKINSFILE, scm=Scm.at(git_repo.root, "HEAD"), causes=[Cause.user("olivia")], **build
        )
    else:
        jenkins = production_zone(jenkins)
        result = jenkins.run(
            as_synced(path, git_repo.root, "production", tmp_path),
            causes=[Cause.user("olivia")],
            **build,
        )

    assert result.stages_run == stages
    assert result.sh, "no sh step ran"
    assert {c.status for c in result.runners_calls()} <= {0, 2}
