"""The repository's own Jenkinsfiles, rehearsed as Jenkins runs them, against a real client.

The client is the demo's: the demo stack in a git repository the "Git
platform" holds, its production state in S3 on the embedded AWS, production
applied once. Each scenario runs a pipeline through the harness
(tests/pipeline_harness) with the runners CLI, the embedded Terraform and the
moto server doing the real work, then checks what Jenkins would show (the
result, the stages, the description, the archived artifacts) and the state in
the embedded AWS.

Each zone is a Jenkins of its own here, with that zone's agents and
credentials only (docs/jenkins.md, "The two zones"): the merge-request zone
runs the repository's ``Jenkinsfile``; the production zone runs
``pipelines/*.Jenkinsfile`` as ``runners jobs sync`` puts them into a job,
with the client's values in ``client()``.

The client is made and bootstrapped once per module (``client_template``);
each scenario gets a copy of its repository and its S3 objects put back into
an emptied embedded AWS. The disaster-recovery job has a world of its own
(tests/dr_world.py). The last test checks that every ``runners`` call in
every Jenkinsfile ran in some scenario of this module.
"""

from __future__ import annotations

import json
import re
import shutil
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import jinja2
import pytest

from runners import config as config_mod
from runners import demo_pipelines
from runners.aws.behaviour import Behaviour
from runners.aws.embedded import EmbeddedAWS
from runners.backup import demo as backup_demo
from runners.backup import policy as policy_mod
from runners.backup import tags as T
from runners.jenkins import library
from runners.jenkins.comment import marker, split_body
from tests.backup_world import ebs_snapshots, tags_of
from tests.conftest import SIGNED, GitRepoHelper, run_cli
from tests.dr_world import SOURCE, TARGET, DrWorld
from tests.dr_world import build as build_dr_world
from tests.groovy_scan import Source, runners_invocations, sh_steps
from tests.pipeline_harness import BuildResult, Cause, Change, Input, Jenkins, Scm
from tests.platform_double import Platform as GitPlatform

ROOT = Path(__file__).parent.parent
JENKINSFILE = ROOT / "Jenkinsfile"
JENKINSFILES = [JENKINSFILE, *sorted((ROOT / "pipelines").glob("*.Jenkinsfile"))]
BUCKET = "demo-client-tfstate"
STATE_KEY = "demo/production/terraform.tfstate"
FEATURE = "feature/bigger-web"
GIT_CREDENTIALS = "client-git"
PRODUCTION_JOB = "client/production/terraform"
BUILD_URL = "https://jenkins.example.invalid/job/client/job/production/job/terraform/{}/"
BIGGER = {"web-1": "small", "web-2": "large", "web-3": "large"}
DANA = "Dana Developer <dana@example.com>"

# Which runners calls each Jenkinsfile's rehearsals ran (argv as the contract test reads
# them), and which tests of this module ran: the last test holds the scenarios to the
# Jenkinsfiles.
EXECUTED: dict[str, set[tuple[str, ...]]] = {}
RAN: set[str] = set()


# -- the zones ---------------------------------------------------------------------------------
def merge_request_zone(jenkins: Jenkins, comment_token: bool = False) -> Jenkins:
    """The merge-request folder: plan-only keys, and the comment token when it has one."""
    jenkins.agents = ["runners-plan"]
    jenkins.add_credentials(**{"runners-aws-plan": "aws"})
    if comment_token:
        jenkins.add_credentials(**{"runners-mr-token": "string"})
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
            "runners-jenkins-token": "string",
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


def replayed(name: str, repository: Path, into: Path, old: str, new: str) -> Path:
    """A production pipeline as someone with Replay would run it: one edit to the synced script."""
    synced = library.pipeline_script(
        name, library.ClientValues(str(repository), "production", GIT_CREDENTIALS, "production")
    )
    assert synced.count(old) >= 1, old
    path = into / f"replayed-{name}"
    path.write_text(synced.replace(old, new))
    return path


def rehearse(jenkins: Jenkins, jenkinsfile: Path, **build: Any) -> BuildResult:
    return record(jenkinsfile, jenkins.run(jenkinsfile, **build))


def rehearse_merge_request(
    jenkins: Jenkins,
    platform: Platform,
    number: str,
    *,
    url: str | None = None,
    cause: dict[str, Any] | None = None,
) -> BuildResult:
    """The multibranch job's build of merge request !NUMBER (FEATURE into production), by dana."""
    extra = {"url": url} if url else {}
    return rehearse(
        jenkins,
        JENKINSFILE,
        job=f"client/merge-requests/terraform/MR-{number}",
        change=Change(id=number, target="production", branch=FEATURE, author="dana", **extra),
        scm=platform.scm_for_merge_request(number, FEATURE, "production"),
        causes=[cause or Cause.branch_event()],
    )


def record(jenkinsfile: Path, result: BuildResult) -> BuildResult:
    """Note which runners calls ran, then print what Jenkins would show (seen on failure)."""
    for call in result.runners_calls():
        for argv in runners_invocations(call.script):
            EXECUTED.setdefault(jenkinsfile.name, set()).add(tuple(argv))
    print(result.stage_view())
    print(textwrap.indent(result.log[-6000:], "    "))
    return result


@pytest.fixture(autouse=True)
def _ran(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    RAN.add(request.node.name)


# -- the client --------------------------------------------------------------------------------
@dataclass
class Template:
    repo: Path
    objects: dict[str, bytes]


def make_client_repo(root: Path, aws: EmbeddedAWS) -> GitRepoHelper:
    repo = GitRepoHelper(root)
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
    return repo


def bucket_objects(s3: Any) -> dict[str, bytes]:
    keys = [
        o["Key"]
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET)
        for o in page.get("Contents", [])
    ]
    return {k: s3.get_object(Bucket=BUCKET, Key=k)["Body"].read() for k in keys}


@pytest.fixture(scope="module")
def client_template(moto_server: EmbeddedAWS, tmp_path_factory: pytest.TempPathFactory) -> Template:
    """The demo client, made as `make demo` makes it, production planned and applied after review."""
    work = tmp_path_factory.mktemp("client-template")
    with pytest.MonkeyPatch.context() as mp:
        moto_server.reset()
        for key, value in moto_server.environ().items():
            mp.setenv(key, value)
        s3 = boto3.client("s3", region_name=moto_server.region)
        s3.create_bucket(
            Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": moto_server.region}
        )
        repo = make_client_repo(work / "platform", moto_server)
        out = work / "bootstrap-plan"
        production = ("--stack", "demo", "--env", "production", "--no-color")
        approved = (
            "--approved-by",
            "alice",
            "--triggered-by",
            "olivia",
            "--build-cause",
            "UserIdCause",
        )
        for argv in (
            ("plan", *production, "--out", str(out)),
            ("apply", *production, "--plan-dir", str(out), *approved),
        ):
            done = run_cli(*argv, cwd=repo.root, env=SIGNED)  # as the production zone does
            assert done.returncode == 0, done.stderr
        return Template(repo.root, bucket_objects(s3))


@dataclass
class Platform:
    """The client's repository on the Git platform, and its production state in the embedded AWS."""

    repo: GitRepoHelper
    aws: EmbeddedAWS

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

    def head(self) -> str:
        return self.repo.git("rev-parse", "production")

    def s3(self) -> Any:
        return boto3.client("s3", region_name=self.aws.region)

    def state(self) -> dict[str, Any]:
        body = self.s3().get_object(Bucket=BUCKET, Key=STATE_KEY)["Body"].read()
        return json.loads(body)

    def put_state(self, state: dict[str, Any]) -> None:
        self.s3().put_object(Bucket=BUCKET, Key=STATE_KEY, Body=json.dumps(state).encode())

    def servers(self) -> list[str]:
        """The web servers production's state holds (module.server["web-1"], ...)."""
        modules = {
            r["module"]
            for r in self.state()["resources"]
            if r.get("module", "").startswith("module.server[")
        }
        return sorted(m.split('"')[1] for m in modules)

    def audit(self, job: str | None = None) -> list[dict[str, Any]]:
        """The audit and plan records in the state bucket; with ``job``, those of its builds."""
        s3 = self.s3()
        keys = [
            o["Key"]
            for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET)
            for o in page.get("Contents", [])
            if "/audit/" in o["Key"] or "/plan-records/" in o["Key"]
        ]
        records = [json.loads(s3.get_object(Bucket=BUCKET, Key=k)["Body"].read()) for k in keys]
        if job is None:
            return records
        prefix = "https://jenkins.example.invalid/job/" + "/job/".join(job.split("/")) + "/"
        return [r for r in records if (r.get("build_url") or "").startswith(prefix)]

    def lock_objects(self) -> list[str]:
        return [
            o["Key"]
            for page in self.s3().get_paginator("list_objects_v2").paginate(Bucket=BUCKET)
            for o in page.get("Contents", [])
            if o["Key"].endswith(".tflock") or "/locks/" in o["Key"]
        ]

    def policy(self) -> policy_mod.Policy:
        cfg = config_mod.load(self.repo.root / "runners.toml")
        return policy_mod.find(cfg.policies, "daily", cfg.path)


@pytest.fixture
def platform(aws: EmbeddedAWS, client_template: Template, tmp_path: Path) -> Platform:
    """A copy of the bootstrapped client: its repository, and its S3 objects in the emptied AWS."""
    s3 = boto3.client("s3", region_name=aws.region)
    s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": aws.region})
    for key, body in client_template.objects.items():
        s3.put_object(Bucket=BUCKET, Key=key, Body=body)
    shutil.copytree(client_template.repo, tmp_path / "platform", symlinks=True)
    return Platform(GitRepoHelper(tmp_path / "platform"), aws)


def synced(platform: Platform, name: str, tmp_path: Path) -> Path:
    return as_synced(name, platform.repo.root, "production", tmp_path)


def assert_no_secret(jenkins: Jenkins, result: BuildResult) -> None:
    assert result.find(*jenkins.secrets()) == []


# -- the merge-request zone --------------------------------------------------------------------
@pytest.mark.slow
def test_a_merge_request_build_plans_the_affected_stack_and_comments(
    jenkins: Jenkins, platform: Platform
) -> None:
    jenkins = merge_request_zone(jenkins, comment_token=True)
    platform.change(FEATURE, DANA, BIGGER, "17")
    state_before = platform.state()
    gitlab = GitPlatform()
    try:
        result = rehearse_merge_request(
            jenkins,
            platform,
            "1",
            url=f"{gitlab.url}/acme/infra/-/merge_requests/1",
            cause=Cause.branch_event("Merge request !1 opened"),
        )
    finally:
        gitlab.stop()

    assert result.result == "SUCCESS"
    # One parallel branch per affected stack, planning on an agent of its own.
    assert result.stages_run == ["Plan merge request", "demo"]
    assert [p["branches"] for p in result.of_type("parallel")] == [["demo"]]
    planned_on = assert_planned_in_branches(result, ["demo"])
    assert result.credentials["Plan merge request"] == {"runners-aws-plan", "runners-mr-token"}
    assert result.credentials["demo"] == {"runners-aws-plan"}
    [combine_call] = [c for c in result.runners_calls() if "--combine" in c.script]
    assert combine_call.node not in planned_on.values()
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
    # The binary plan travels in stashes, never in the archive.
    stashes = {st["name"]: st["files"] for st in result.of_type("stash")}
    assert set(stashes) == {"plan-demo", "merge-request-plans"}
    assert {"plans/demo/tfplan", "plans/demo/outcome.json"} <= set(stashes["plan-demo"])
    assert stashes["merge-request-plans"] == ["plans/demo/plan.json", "plans/demo/tfplan"]
    # The report went onto the merge request, as the reviewers read it.
    [comment] = gitlab.posts
    assert comment["path"] == "/api/v4/projects/acme%2Finfra/merge_requests/1/notes"
    # Under runners' marker, so the next push edits this comment in place.
    body = comment["json"]["body"]
    assert body.startswith(marker("plans") + "\n")
    assert split_body(body)[0] == result.artifacts["plans/report.md"].read_text().strip("\n")
    # A plan changes nothing in AWS, leaves no lock behind, and leaves its record.
    assert platform.state() == state_before
    assert platform.lock_objects() == []
    [planned] = platform.audit("client/merge-requests/terraform/MR-1")
    assert (planned["kind"], planned["result"]) == ("plan", "planned")
    assert planned["merge_request"]["id"] == "1"
    assert_no_secret(jenkins, result)


@pytest.mark.slow
def test_a_merge_request_whose_plan_fails_says_why_in_plain_text(
    jenkins: Jenkins, platform: Platform
) -> None:
    """Jenkins turns colour on; the reason is Terraform's error, without escape codes."""
    jenkins = merge_request_zone(jenkins)
    git = platform.repo.git
    git("checkout", "-q", "-b", FEATURE, "production")
    main_tf = platform.repo.root / "terraform/stacks/demo/main.tf"
    main_tf.write_text(
        main_tf.read_text() + '\noutput "oops" {\n  value = var.no_such_variable\n}\n'
    )
    platform.repo.commit("refer to a variable that does not exist", author=DANA)
    git("checkout", "-q", "production")

    result = rehearse_merge_request(jenkins, platform, "2")

    assert result.result == "FAILURE"
    assert result.description == "demo: plan failed"
    assert result.stage("demo").status == "FAILURE"
    [combine_call] = [c for c in result.runners_calls() if "--combine" in c.script]
    assert combine_call.status == 1  # the combined exit names the failure too
    [demo] = json.loads(result.artifacts["plans/affected.json"].read_text())["stacks"]
    report = result.artifacts["plans/report.md"].read_text()
    [failed] = platform.audit("client/merge-requests/terraform/MR-2")
    assert failed["result"] == "failed"
    [logged] = [
        ln for ln in result.log.splitlines() if ln.startswith("[demo] [demo] error: terraform")
    ]  # branch, stack
    for reason in (demo["error"], report, failed["reason"], logged):
        assert "\x1b" not in reason and "\\x1b" not in reason
        assert "Error: Reference to undeclared input variable (on main.tf line" in reason
    assert "\x1b[31m" in result.log, "Terraform's own output was in colour, as Jenkins shows it"


@pytest.mark.slow
def test_a_merge_request_that_touches_no_stack_says_so_and_plans_nothing(
    jenkins: Jenkins, platform: Platform
) -> None:
    jenkins = merge_request_zone(jenkins)
    repo = platform.repo
    repo.git("checkout", "-q", "-b", FEATURE, "production")
    repo.write("docs/notes.md", "Nothing Terraform reads.\n")
    repo.commit("notes", author=DANA)
    repo.git("checkout", "-q", "production")

    result = rehearse_merge_request(jenkins, platform, "4")

    assert result.result == "SUCCESS"
    assert result.stages_run == ["Plan merge request"]
    assert result.of_type("parallel") == []
    assert [c.command.split()[:2] for c in result.runners_calls()] == [["runners", "affected"]]
    assert result.description == "no stack the merge request targets is affected"
    assert result.description in result.log
    assert platform.audit("client/merge-requests/terraform/MR-4") == []


def assert_planned_in_branches(result: BuildResult, stacks: list[str]) -> dict[str, str]:
    """Each stack planned once, in its own parallel branch, on its own agent; their nodes."""
    calls = [c for c in result.runners_calls() if "plan --affected --only" in c.command]
    assert sorted(c.stage or "" for c in calls) == sorted(stacks)
    nodes = {c.stage or "": c.node for c in calls}
    assert len(set(nodes.values())) == len(stacks)
    assert all(c.credentials == ("runners-aws-plan",) for c in calls)
    return nodes


@pytest.mark.slow
def test_a_merge_request_touching_two_stacks_plans_both_and_names_the_one_that_failed(
    jenkins: Jenkins, platform: Platform
) -> None:
    jenkins = merge_request_zone(jenkins)
    # A second stack, already on production (never applied: a plan of it starts from nothing).
    repo = platform.repo
    repo.write("terraform/stacks/cache/main.tf", CACHE_STACK)
    config = repo.root / "runners.toml"
    config.write_text(config.read_text() + '\n[stacks.cache]\ndir = "terraform/stacks/cache"\n')
    repo.commit("A cache stack", author="Olivia Ops <o@x.org>")
    # The merge request grows demo's web tier and breaks the cache stack.
    platform.change(FEATURE, DANA, BIGGER, "17")
    repo.git("checkout", "-q", FEATURE)
    repo.write(
        "terraform/stacks/cache/main.tf",
        CACHE_STACK + 'output "oops" {\n  value = var.no_such_variable\n}\n',
    )
    repo.commit("cache: refer to a variable that does not exist", author=DANA)
    repo.git("checkout", "-q", "production")

    result = rehearse_merge_request(jenkins, platform, "3")

    assert result.result == "FAILURE"
    [par] = result.of_type("parallel")
    assert sorted(par["branches"]) == ["cache", "demo"]
    assert_planned_in_branches(result, ["cache", "demo"])
    # cache's failure did not stop demo's plan.
    assert result.stage("demo").status == "SUCCESS"
    assert result.stage("cache").status == "FAILURE"
    affected = json.loads(result.artifacts["plans/affected.json"].read_text())
    results = {s["stack"]: s for s in affected["stacks"]}
    assert (results["demo"]["result"], results["cache"]["result"]) == ("planned", "failed")
    assert "Reference to undeclared input variable" in results["cache"]["error"]
    report = result.artifacts["plans/report.md"].read_text()
    assert "### Terraform plan: `cache`\n\n**Planning failed:**" in report
    assert "plans/demo/plan.txt" in result.artifacts
    assert "plans/cache/plan.txt" not in result.artifacts
    summary = results["demo"]["summary"]
    demo_line = (
        f"demo: {summary['add']} to add, {summary['change']} to change, "
        f"{summary['destroy']} to destroy"
    )
    assert sorted((result.description or "").splitlines()) == ["cache: plan failed", demo_line]
    [combine_call] = [c for c in result.runners_calls() if "--combine" in c.command]
    assert combine_call.status == 1
    assert "cache" in result.log.split("+ runners plan --combine", 1)[1]
    assert_no_secret(jenkins, result)


CACHE_STACK = """terraform {
  backend "s3" {}
}

variable "environment" {
  type    = string
  default = "production"
}

resource "terraform_data" "cache" {
  input = var.environment
}
"""


# -- the production zone: plan, approval, apply ------------------------------------------------
@pytest.mark.slow
def test_a_production_build_started_by_a_person_applies_after_approval(
    jenkins: Jenkins, platform: Platform, tmp_path: Path
) -> None:
    jenkins = production_zone(jenkins)
    platform.change(FEATURE, DANA, BIGGER, "17")
    merged = platform.merge(FEATURE)

    result = rehearse(
        jenkins,
        synced(platform, "production.Jenkinsfile", tmp_path),
        job=PRODUCTION_JOB,
        causes=[Cause.user("olivia", "Olivia Ops")],
        inputs=[Input.approve("alice", match="Apply demo to production", CONFIRM_DESTROY="1")],
    )

    assert result.result == "SUCCESS"
    assert result.stages_run == ["Production", "demo"]
    assert result.credentials["demo"] == {
        "runners-aws-plan",
        "runners-aws-write",
        "runners-plan-signing-key",
        "runners-jenkins-token",
        GIT_CREDENTIALS,
    }
    [apply] = [c for c in result.runners_calls() if c.command.startswith("runners apply")]
    assert set(apply.credentials) == {
        "runners-aws-write",
        "runners-plan-signing-key",
        "runners-jenkins-token",  # the apply reads this build from Jenkins with it
        GIT_CREDENTIALS,  # and fetches the branch with this
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
    applied = [r for r in platform.audit(PRODUCTION_JOB) if r["kind"] == "apply"]
    assert sorted(r["result"] for r in applied) == ["applied", "started"]
    [outcome] = [r for r in applied if r["result"] == "applied"]
    assert outcome["approved_by"] == "alice"
    assert outcome["triggered_by"] == "olivia"
    assert outcome["commit"] == merged
    assert "accepted the difference" not in json.dumps(outcome)  # ACCEPT_DIFFERENCE not ticked
    assert outcome["build_url"] == BUILD_URL.format(1)
    assert platform.lock_objects() == []
    assert_no_secret(jenkins, result)


@pytest.mark.slow
def test_a_production_build_aborted_at_the_approval_applies_nothing(
    jenkins: Jenkins, platform: Platform, tmp_path: Path
) -> None:
    jenkins = production_zone(jenkins)
    platform.change(FEATURE, DANA, BIGGER, "17")
    merged = platform.merge(FEATURE)
    state_before = platform.state()

    result = rehearse(
        jenkins,
        synced(platform, "production.Jenkinsfile", tmp_path),
        job=PRODUCTION_JOB,
        causes=[Cause.user("olivia")],
        inputs=[Input.abort("bob", match="Apply demo to production")],
    )

    assert result.result == "ABORTED"
    assert result.stages_run == ["Production", "demo"]
    assert result.stage("demo").status == "ABORTED"
    assert result.error == "Aborted: Rejected by bob"
    assert result.description == f"production at {merged}"
    assert {"plans/demo/report.md", "plans/demo/plan.txt", "plans/demo/manifest.json"} == set(
        result.artifacts
    )
    assert not [c for c in result.runners_calls() if c.command.startswith("runners apply")]
    assert "runners-aws-write" not in result.credentials["demo"]
    assert platform.state() == state_before
    assert sorted(r["kind"] for r in platform.audit(PRODUCTION_JOB)) == ["plan"]
    assert platform.lock_objects() == []


@pytest.mark.slow
def test_a_production_build_started_by_a_merge_only_plans(
    jenkins: Jenkins, platform: Platform, tmp_path: Path
) -> None:
    jenkins = production_zone(jenkins)
    platform.change(FEATURE, DANA, BIGGER, "17")
    merged = platform.merge(FEATURE)
    state_before = platform.state()

    result = rehearse(
        jenkins,
        synced(platform, "production.Jenkinsfile", tmp_path),
        job=PRODUCTION_JOB,
        causes=[Cause.scm_change()],
    )

    assert result.result == "SUCCESS"
    assert result.stages_run == ["Production", "demo"]
    assert result.description == (
        f"production at {merged}\ndemo: changes planned; start this build by hand to apply them"
    )
    assert result.of_type("input_waiting") == []
    assert not [c for c in result.runners_calls() if "jobs approvers" in c.command]
    assert "runners-aws-write" not in result.credentials["demo"]
    assert "plans/demo/report.md" in result.artifacts
    assert platform.state() == state_before
    [planned] = platform.audit(PRODUCTION_JOB)
    assert (planned["kind"], planned["result"], planned["build_cause"]) == (
        "plan",
        "planned",
        "SCMTriggerCause",
    )
    assert planned["triggered_by"] is None


@pytest.mark.slow
def test_an_approver_who_ticks_accept_difference_is_recorded_as_accepting_it(
    jenkins: Jenkins, platform: Platform, tmp_path: Path
) -> None:
    """Merged without a merge-request build: no reviewed plan, and the approver says so."""
    jenkins = production_zone(jenkins)
    platform.change(FEATURE, DANA, BIGGER, "17")
    platform.merge(FEATURE)

    result = rehearse(
        jenkins,
        synced(platform, "production.Jenkinsfile", tmp_path),
        job=PRODUCTION_JOB,
        causes=[Cause.user("olivia", "Olivia Ops")],
        inputs=[Input.approve("alice", CONFIRM_DESTROY="1", ACCEPT_DIFFERENCE=True)],
    )

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
    """The lock is released during the approval, so recovery can take the stack meanwhile; a
    merge in between makes the plan stale."""
    jenkins = production_zone(jenkins)
    platform.change(FEATURE, DANA, BIGGER, "16")
    platform.merge(FEATURE)
    release = tmp_path / "approve"
    script = synced(platform, "production.Jenkinsfile", tmp_path)

    build = jenkins.start(
        script,
        job=PRODUCTION_JOB,
        causes=[Cause.user("olivia")],
        inputs=[Input.approve("alice", after=release)],
    )
    build.wait_for("input_waiting")
    try:
        held = [
            (e["type"], e["resource"])
            for e in build.events
            if e["type"] in ("lock_acquired", "lock_released")
        ]
        assert held == [("lock_acquired", "terraform-demo"), ("lock_released", "terraform-demo")]
        # What the DR job does first during an incident: take the stack's lock. It must not wait
        # behind an approval (a held lock would leave this build running until the timeout).
        recovery = tmp_path / "recovery.Jenkinsfile"
        recovery.write_text(
            "node('runners-apply') {\n    lock('terraform-demo') {\n        sh 'true'\n    }\n}\n"
        )
        taken = jenkins.run(recovery, job="client/production/dr", timeout=60)
        assert taken.result == "SUCCESS" and not taken.of_type("lock_waiting")
        platform.change("feature/smaller", DANA, {"web-1": "small"}, "16")
        platform.merge("feature/smaller")
    finally:  # a failed check above must not leave the build waiting at its input
        release.touch()
        finished = build.wait()
    result = record(script, finished)

    assert result.result == "FAILURE"
    applies = [c for c in result.runners_calls() if c.command.startswith("runners apply")]
    assert [c.status for c in applies] == [3]  # refused by the plan contract
    assert "the plan is stale: start this build again to plan afresh" in result.log
    assert platform.servers() == ["web-1", "web-2"]
    [refused] = [r for r in platform.audit(PRODUCTION_JOB) if r["kind"] == "apply"]
    assert refused["result"] == "refused"
    assert platform.lock_objects() == []


@pytest.mark.slow
def test_a_rebuild_of_an_old_build_cannot_apply_its_old_code(
    jenkins: Jenkins, platform: Platform, tmp_path: Path
) -> None:
    """A build that checks out an older commit than the branch's head (a rebuild or a replay
    of an old build) plans that code and may be approved, but the apply reads the head from
    the remote, not from what was checked out or from ``BRANCH_NAME``, and refuses it."""
    jenkins = production_zone(jenkins)
    platform.change(FEATURE, DANA, BIGGER, "16")
    old = platform.merge(FEATURE)
    platform.change("feature/smaller", DANA, {"web-1": "small"}, "16")
    head = platform.merge("feature/smaller")
    state_before = platform.state()
    script = replayed(
        "production.Jenkinsfile",
        platform.repo.root,
        tmp_path,
        "commit = checkoutClient('')",
        f"commit = checkoutClient('{old}')",
    )

    result = rehearse(
        jenkins,
        script,
        job=PRODUCTION_JOB,
        branch="production",  # BRANCH_NAME, as a multibranch job would set it: not believed
        env={"GIT_BRANCH": "origin/production", "GIT_COMMIT": old},
        causes=[Cause.user("olivia")],
        inputs=[Input.approve("alice")],
    )

    assert result.result == "FAILURE"
    assert {e["commit"] for e in result.of_type("checkout")} == {old}
    assert result.description.startswith(f"production at {old}")
    [apply] = [c for c in result.runners_calls() if c.command.startswith("runners apply")]
    assert apply.status == 3
    assert (
        "refused: var file terraform/stacks/demo/production.tfvars differs from production's head"
        in result.log
    )
    assert platform.state() == state_before
    [refused] = [r for r in platform.audit(PRODUCTION_JOB) if r["kind"] == "apply"]
    # The head the apply read, and records: the remote's, not the build's checkout.
    assert (refused["result"], refused["commit"]) == ("refused", head)
    assert platform.lock_objects() == []


@pytest.mark.slow
def test_the_production_pipeline_works_with_relative_paths(
    jenkins: Jenkins, platform: Platform, tmp_path: Path
) -> None:
    """The same build with ``--out plans/$STACK`` and ``--plan-dir plans/$STACK``, relative to
    the workspace as the docs write them: runners resolves them before Terraform sees them."""
    jenkins = production_zone(jenkins)
    platform.change(FEATURE, DANA, BIGGER, "17")
    platform.merge(FEATURE)
    script = replayed(
        "production.Jenkinsfile", platform.repo.root, tmp_path, '"$WORKSPACE/plans', '"plans'
    )

    result = rehearse(
        jenkins,
        script,
        job=PRODUCTION_JOB,
        causes=[Cause.user("olivia")],
        inputs=[Input.approve("alice", CONFIRM_DESTROY="1")],
    )

    assert result.result == "SUCCESS"
    calls = [c.command for c in result.runners_calls()]
    assert any('--out "plans/$STACK"' in c for c in calls)
    assert any('--plan-dir "plans/$STACK"' in c for c in calls)
    assert "plans/demo/manifest.json" in result.artifacts
    assert platform.servers() == ["web-1", "web-2", "web-3"]


def break_the_stack_folder(platform: Platform) -> None:
    """A runners.toml whose stack folder is misspelt: every command loads it, plan refuses it."""
    path = platform.repo.root / "runners.toml"
    path.write_text(
        path.read_text().replace('dir = "terraform/stacks/demo"', 'dir = "terraform/stacks/dmeo"')
    )
    platform.repo.commit("move the demo stack (a typo)", author=DANA)


@pytest.mark.slow
def test_a_config_error_in_production_fails_the_build_and_never_asks_for_approval(
    jenkins: Jenkins, platform: Platform, tmp_path: Path
) -> None:
    """Exit 2 once meant both "changes" and "bad config": the build went on to the approval."""
    jenkins = production_zone(jenkins)
    break_the_stack_folder(platform)
    state_before = platform.state()

    result = rehearse(
        jenkins,
        synced(platform, "production.Jenkinsfile", tmp_path),
        job=PRODUCTION_JOB,
        causes=[Cause.user("olivia")],
        inputs=[Input.approve("alice")],
    )

    assert result.result == "FAILURE"
    [plan] = [c for c in result.runners_calls() if c.command.startswith("runners plan")]
    assert plan.status == 1
    assert result.error == "ERROR: demo: plan failed (runners plan exit 1)"
    assert result.of_type("input_waiting") == []
    assert "stacks.demo.dir: terraform/stacks/dmeo does not exist" in result.log
    assert platform.state() == state_before


# -- drift -------------------------------------------------------------------------------------
def drift(jenkins: Jenkins, platform: Platform, tmp_path: Path) -> BuildResult:
    return rehearse(
        production_zone(jenkins),
        synced(platform, "drift.Jenkinsfile", tmp_path),
        job="client/production/drift-demo",
        params={"STACK": "demo", "ENV": "production"},
        causes=[Cause.timer()],
    )


@pytest.mark.slow
def test_the_drift_job_when_production_matches_the_code(
    jenkins: Jenkins, platform: Platform, tmp_path: Path
) -> None:
    state_before = platform.state()
    result = drift(jenkins, platform, tmp_path)

    assert result.result == "SUCCESS"
    assert result.description == "demo (production): no drift"
    assert set(result.artifacts) == {"drift/report.md", "drift/plan.txt"}
    assert result.credentials["Drift"] == {"runners-aws-plan"}
    assert platform.state() == state_before
    [checked] = platform.audit("client/production/drift-demo")
    assert (checked["kind"], checked["result"]) == ("drift", "in-sync")


@pytest.mark.slow
def test_the_drift_job_when_someone_changed_production_by_hand(
    jenkins: Jenkins, platform: Platform, tmp_path: Path
) -> None:
    state = platform.state()
    state["resources"] = [
        r for r in state["resources"] if r.get("module") != 'module.server["web-2"]'
    ]
    state["serial"] += 1
    platform.put_state(state)

    result = drift(jenkins, platform, tmp_path)

    assert result.result == "UNSTABLE"
    assert result.description == "demo (production): drifted"
    assert "demo (production) no longer matches the code: see drift/report.md" in result.log
    assert "web-2" in result.artifacts["drift/report.md"].read_text()
    assert platform.state() == state  # the check changes nothing
    [checked] = platform.audit("client/production/drift-demo")
    assert (checked["kind"], checked["result"]) == ("drift", "drifted")


@pytest.mark.slow
def test_the_drift_job_on_a_broken_config_fails_rather_than_calling_it_drift(
    jenkins: Jenkins, platform: Platform, tmp_path: Path
) -> None:
    break_the_stack_folder(platform)
    result = drift(jenkins, platform, tmp_path)

    assert result.result == "FAILURE"
    assert result.description is None
    assert result.error == "ERROR: drift check of demo failed (runners plan exit 1)"
    assert result.artifacts == {}


# -- backups -----------------------------------------------------------------------------------
def backup_world(platform: Platform) -> dict[str, str]:
    """What the daily policy selects, seeded as the demo seeds it; the volumes by name."""
    backup_demo.seed(platform.policy(), platform.aws.region)
    ec2 = boto3.client("ec2", region_name=platform.aws.region)
    return {
        tags_of(v).get("Name", v["VolumeId"]): v["VolumeId"]
        for v in ec2.describe_volumes()["Volumes"]
    }


def keep_one_daily(platform: Platform) -> None:
    """The policy keeps one daily backup and no weekly or monthly ones: older ones expire."""
    path = platform.repo.root / "runners.toml"
    text = path.read_text()
    for key, value in (("daily", 1), ("weekly", 0), ("monthly", 0)):
        text = re.sub(rf"(?m)^{key} = \d+$", f"{key} = {value}", text, count=1)
    path.write_text(text)
    platform.repo.commit("keep one daily backup", author="Olivia Ops <o@x.org>")


def old_backups(volume: str, region: str, days_ago: tuple[int, ...]) -> list[str]:
    """Scheduled snapshots runners made long ago, by their tags: retention expires them."""
    ec2 = boto3.client("ec2", region_name=region)
    made = []
    for days in days_ago:
        when = datetime.now(UTC) - timedelta(days=days)
        tags = {
            T.MANAGED_BY: T.MANAGED_BY_VALUE,
            T.POLICY: "daily",
            T.KIND: "ebs-volume",
            T.SOURCE_ID: volume,
            T.RETENTION_CLASS: T.SCHEDULED,
            T.PERIOD: f"{when:%Y-%m-%d}",
            T.TAKEN_AT: T.format_time(when),
        }
        snap = ec2.create_snapshot(
            VolumeId=volume,
            TagSpecifications=[
                {
                    "ResourceType": "snapshot",
                    "Tags": [{"Key": k, "Value": v} for k, v in tags.items()],
                }
            ],
        )
        made.append(snap["SnapshotId"])
    return made


def nightly(jenkins: Jenkins, platform: Platform, tmp_path: Path) -> BuildResult:
    return rehearse(
        production_zone(jenkins),
        synced(platform, "backup.Jenkinsfile", tmp_path),
        job="client/production/backup-daily",
        params={"POLICY": "daily"},
        causes=[Cause.timer()],
    )


@pytest.mark.slow
def test_the_nightly_backup(jenkins: Jenkins, platform: Platform, tmp_path: Path) -> None:
    volumes = backup_world(platform)
    keep_one_daily(platform)
    expired = old_backups(volumes["demo-data-1"], platform.aws.region, (400, 401))

    result = nightly(jenkins, platform, tmp_path)

    assert result.result == "SUCCESS"
    assert result.stages_run == ["Check", "Backup", "Ship", "Prune", "Report"]
    assert result.description == "policy daily"
    assert set(result.artifacts) == {"reports/backup.md", "reports/backup.xml"}
    [junit] = result.of_type("junit")
    assert junit["tests"] > 0 and junit["failed"] == 0
    assert {c for s in result.stages for c in s.credentials} == {"runners-aws-backup"}
    # Every selected volume has tonight's snapshot here and its copy in the backup region;
    # the expired ones are gone.
    region, backup = platform.aws.region, platform.policy().backup_region
    made = ebs_snapshots(region, **{T.POLICY: "daily"})
    assert {s["SnapshotId"] for s in made}.isdisjoint(expired)
    tonight = {tags_of(s)[T.SOURCE_ID] for s in made}
    assert {volumes[f"demo-data-{i}"] for i in (1, 2, 3)} <= tonight
    copies = ebs_snapshots(backup, **{T.POLICY: "daily"})
    assert {tags_of(s)[T.SOURCE_ID] for s in copies} == tonight
    databases = boto3.client("rds", region_name=backup).describe_db_snapshots()["DBSnapshots"]
    assert [d["DBInstanceIdentifier"] for d in databases] == ["demo-db"]
    assert "demo-db" in result.artifacts["reports/backup.md"].read_text()


@pytest.mark.slow
def test_a_failed_prune_fails_the_nightly_backup_and_the_report_still_runs(
    jenkins: Jenkins, platform: Platform, layer: Behaviour, tmp_path: Path
) -> None:
    volumes = backup_world(platform)
    keep_one_daily(platform)
    expired = old_backups(volumes["demo-data-1"], platform.aws.region, (400, 401))
    layer.fail("DeleteSnapshot", "UnauthorizedOperation", message="not allowed to delete")

    result = nightly(jenkins, platform, tmp_path)

    assert result.result == "FAILURE"
    assert result.stages_run == ["Check", "Backup", "Ship", "Prune", "Report"]
    assert result.stage("Prune").status == "FAILURE"
    assert result.stage("Report").status == "SUCCESS"
    assert "prune failed; the report still runs" in result.log
    assert set(result.artifacts) == {"reports/backup.md", "reports/backup.xml"}
    assert result.description == "policy daily"
    left = {s["SnapshotId"] for s in ebs_snapshots(platform.aws.region, **{T.POLICY: "daily"})}
    assert set(expired) <= left  # nothing was deleted
    assert layer.raised.count("UnauthorizedOperation") >= len(expired)


@pytest.mark.slow
def test_an_on_demand_backup(jenkins: Jenkins, platform: Platform, tmp_path: Path) -> None:
    volumes = backup_world(platform)
    reason = "before the PostgreSQL 17 upgrade"

    result = rehearse(
        production_zone(jenkins),
        synced(platform, "on-demand-backup.Jenkinsfile", tmp_path),
        job="client/production/on-demand-backup",
        params={"POLICY": "daily", "REASON": reason},
        causes=[Cause.user("olivia")],
    )

    assert result.result == "SUCCESS"
    assert result.stages_run == ["Check", "Backup", "Ship"]
    assert result.description == f"daily: {reason}"
    assert result.artifacts == {}
    for region in (platform.aws.region, platform.policy().backup_region):
        taken = ebs_snapshots(region, **{T.RETENTION_CLASS: T.ON_DEMAND})
        assert {volumes[f"demo-data-{i}"] for i in (1, 2, 3)} <= {
            tags_of(s)[T.SOURCE_ID] for s in taken
        }, region
        for snap in taken:
            assert tags_of(snap)[T.REASON] == T.clean_value(reason)
            assert tags_of(snap)[T.REQUESTED_BY] == "olivia"


# -- disaster recovery -------------------------------------------------------------------------
@pytest.fixture
def dr_world(aws: EmbeddedAWS, git_repo: GitRepoHelper, tmp_path: Path) -> DrWorld:
    world = build_dr_world(git_repo, tmp_path)
    world.servers[1].image = world.debian[SOURCE]  # everything can be mapped
    world.write_state()
    return world


@pytest.mark.slow
def test_the_disaster_recovery_job(jenkins: Jenkins, dr_world: DrWorld, tmp_path: Path) -> None:
    jenkins = production_zone(jenkins)
    release = tmp_path / "go-ahead"
    script = as_synced("dr.Jenkinsfile", dr_world.repo.root, "production", tmp_path)
    production_state = dr_world.state_file.read_bytes()

    build = jenkins.start(
        script,
        job="client/production/dr",
        params={
            "STACK": "client",
            "ENV": "production",
            "TO_REGION": TARGET,
            "ALLOW_MISSING": False,
        },
        causes=[Cause.user("olivia")],
        inputs=[Input.approve("alice", match=f"Stand client up in {TARGET}", after=release)],
    )
    build.wait_for("input_waiting")
    # The lost region's state is out of reach from here on, as in a disaster. (It also names
    # the AWS provider, which no init here may download.)
    aside = dr_world.state_file.rename(dr_world.state_file.with_suffix(".aside"))
    release.touch()
    result = record(script, build.wait())

    assert result.result == "SUCCESS"
    assert result.stages_run == ["Recover"]
    assert result.description == f"client (production) to {TARGET}"
    assert {
        f"dr/{TARGET}/client/dr.auto.tfvars.json",
        f"dr/{TARGET}/client/runbook.md",
        "dr-plan/report.md",
        "dr-plan/plan.txt",
        "dr-plan/manifest.json",
    } <= set(result.artifacts)
    assert not [a for a in result.artifacts if a.endswith(("tfplan", "plan.json"))]
    apply = [c for c in result.runners_calls() if c.command.startswith("runners apply")]
    assert [c.status for c in apply] == [0]
    assert set(apply[0].credentials) == {
        "runners-aws-write",
        "runners-plan-signing-key",
        "runners-jenkins-token",
        GIT_CREDENTIALS,
    }
    # The rebuild has a state of its own, in the backup region, from the shipped copies.
    assert aside.read_bytes() == production_state
    rebuilt = json.loads(
        (dr_world.state_dir / "dr" / f"client-production-{TARGET}.tfstate").read_text()
    )
    [resource] = [r for r in rebuilt["resources"] if r["name"] == "rebuild"]  # beside its guard
    planned = resource["instances"][0]["attributes"]["input"]["value"]
    assert planned["region"] == TARGET
    copies = {s["SnapshotId"] for s in ebs_snapshots(TARGET)}
    assert planned["volumes"] and set(planned["volumes"].values()) <= copies


# -- make demo's step ---------------------------------------------------------------------------
@pytest.mark.slow
def test_the_demo_runs_a_merge_request_and_an_approval_through_the_jenkinsfiles(
    jenkins: Jenkins, platform: Platform, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``runners.demo_pipelines``, as ``make demo`` runs it after its own walk (the ``jenkins``
    fixture only makes the test skip, with its reason, where groovy is missing)."""
    assert demo_pipelines.run(platform.aws, platform.repo.root, tmp_path / "demo") == 0

    shown = capsys.readouterr().out
    assert "demo/merge-requests/terraform/MR-2 #1: SUCCESS" in shown
    assert "demo/production/terraform #1: SUCCESS" in shown
    assert "  Plan merge request  SUCCESS" in shown and "    demo      SUCCESS" in shown
    assert "input  Apply demo to production?  approve by alice" in shown
    assert "skipped" not in shown
    assert platform.servers() == ["web-1", "web-2", "web-4"]


# -- every Jenkinsfile, on a client without runners.toml -------------------------------------
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
    assert {path for path, _, _ in SMOKE} == {p.name for p in JENKINSFILES}


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

    Every ``runners`` call fails here (exit 2, no configuration; 1 where exit 2
    would mean changes); what is checked is that Groovy 2.4 runs the file and
    each step it reaches is emulated, with only its zone's agents and credentials.
    """
    git_repo.write("README", "no runners.toml\n")
    git_repo.commit("empty client")

    if path == "Jenkinsfile":
        jenkins = merge_request_zone(jenkins)
        result = rehearse(
            jenkins,
            JENKINSFILE,
            scm=Scm.at(git_repo.root, "HEAD"),
            causes=[Cause.user("olivia")],
            **build,
        )
    else:
        jenkins = production_zone(jenkins)
        result = rehearse(
            jenkins,
            as_synced(path, git_repo.root, "production", tmp_path),
            causes=[Cause.user("olivia")],
            **build,
        )

    assert result.stages_run == stages
    assert result.sh, "no sh step ran"
    assert {c.status for c in result.runners_calls()} <= {1, 2}


def test_every_runners_call_in_every_jenkinsfile_ran_in_a_scenario(
    request: pytest.FixtureRequest,
) -> None:
    """The contract test parses every call; the rehearsals above must also have run each one."""
    here = [
        i for i in request.session.items if i.module is request.module and i is not request.node
    ]
    if not {i.name for i in here} <= RAN:
        pytest.skip("only when the whole module runs: the scenarios above must run first")
    missing = []
    for path in JENKINSFILES:
        source = Source(path.read_text(encoding="utf-8"))
        for step in sh_steps(source):
            for argv in runners_invocations(step.script):
                if tuple(argv) not in EXECUTED.get(path.name, set()):
                    missing.append(
                        f"{path.relative_to(ROOT)}:{step.line}: runners {' '.join(argv)}"
                    )
    assert missing == [], "never run by a rehearsal:\n" + "\n".join(missing)
