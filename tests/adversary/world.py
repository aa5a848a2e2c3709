"""A client's production as an adversary meets it: real git, Terraform, S3, Jenkins and GitLab.

Built once per session (``build``), with the embedded Terraform, the moto
server, the Jenkins REST double and the GitLab double:

- ``origin.git`` and a clone of it, with two stacks, modules and runners.toml:
  production needs approval (alice, bob), a person's build read from Jenkins,
  a signed plan and one merge-request approval; development needs nothing;
- C0 (Olivia), merged through merge request !1, applied to production in
  Jenkins build 1 (started by olivia, approved by alice) and to development;
- merge request !2 (Dana's, approved on GitLab by carol): C1 by Dana replaces
  the protected database and changes a var file, C2 by Bob adds an output;
  merged into production (and development) by Olivia: commit M;
- the production plan of M, signed in the production zone (``plan``), and
  Jenkins build 2, started by olivia and approved by alice, waiting to apply it.

Each test works on its own copy of the repository and its origin
(``World.attempt``), so an attack that commits, pushes or edits files leaves
the next test a clean world. The state and the ledger live in S3; each
refusal must leave the state object byte for byte as it was.
"""

from __future__ import annotations

import contextlib
import copy
import json
import os
import shutil
import subprocess
import sys
import textwrap
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3

from runners.aws.embedded import FAKE_CREDENTIALS, EmbeddedAWS
from runners.change import manifest as manifest_mod
from tests.jenkins_double import JenkinsDouble
from tests.platform_double import TOKEN as MR_TOKEN
from tests.platform_double import Platform

FIXTURES = Path(__file__).parent.parent / "fixtures"
KEY = "adversary-suite-plan-signing-key-7e1f93"
OLIVIA = "Olivia Ops <olivia@example.com>"
DANA = "Dana Dev <dana@example.com>"
BOB = "Bob Builder <bob@example.com>"
MALLORY = "Mallory Mal <mallory@example.com>"
PRODUCTION_JOB = "production/terraform"  # the production zone's job (runners jobs sync)

CONFIG = """\
[runners]
terraform = "embedded"

[protected]
extra_types = ["terraform_data"]

[environments.development]
branch = "development"
region = "eu-west-1"
backup_region = "eu-central-1"

[environments.development.backend]
{backend}
key = "{{stack}}/development.tfstate"

[environments.production]
branch = "production"
account_id = "123456789012"
region = "eu-west-1"
backup_region = "eu-central-1"
approvers = ["alice", "bob"]
require_mr_approvals = 1

[environments.production.backend]
{backend}
key = "{{stack}}/production.tfstate"

[stacks.app]
dir = "terraform/stacks/app"

[stacks.app.var_files]
production = ["production.tfvars"]

[stacks.network]
dir = "terraform/stacks/network"

[dr.backend]
key = "dr/{{stack}}/{{env}}-{{region}}.tfstate"

[dr.stacks.app]                  # no snapshots or images: the stand-in stack has none

[jenkins]
url = "{jenkins}"
user = "runner"

[jenkins.repository]
url = "{platform}/acme/infra.git"
platform = "gitlab"
branch = "production"

[jenkins.comments]
api_url = "{platform}/api/v4"

[identities.bob]
git_emails = ["robert@home.example"]
"""

APP = """\
terraform {
  backend "s3" {}
}

variable "db_password" {
  type      = string
  sensitive = true
  default   = "s3cr3t-fixture-password"
}

variable "web_input" {
  type    = string
  default = "v0"
}

module "svc" {
  source = "../../modules/tagged"
  name   = "app"
}

resource "terraform_data" "db" {
  # A new major version is a new database: the replacement a person must confirm.
  triggers_replace = "%s"
  input = {
    engine   = "postgres"
    password = var.db_password
  }
}

resource "terraform_data" "web" {
  input = var.web_input
}
"""


def backend_block(bucket: str) -> str:
    return textwrap.dedent(f"""\
        bucket = "{bucket}"
        region = "eu-west-1"
        use_lockfile = true
        use_path_style = true
        skip_credentials_validation = true
        skip_requesting_account_id = true
        skip_metadata_api_check = true""")


def base_env(aws: EmbeddedAWS, cache: Path) -> dict[str, str]:
    """A process environment that reaches only the embedded AWS (no real profile, no CI vars)."""
    dropped = ("AWS_", "RUNNERS_", "TF_", "BUILD_", "CHANGE_", "GIT_", "JENKINS", "BRANCH_NAME")
    env = {k: v for k, v in os.environ.items() if not k.startswith(dropped)}
    env.update(FAKE_CREDENTIALS)
    env.update(aws.environ())
    env.update(
        RUNNERS_TERRAFORM="embedded",
        XDG_CACHE_HOME=str(cache),
        GIT_CONFIG_NOSYSTEM="1",
    )
    return env


def git(repo: Path, *args: str, author: str = OLIVIA, env: dict[str, str] | None = None) -> str:
    name, email = author.rstrip(">").split(" <")
    full = {
        **(env or os.environ),
        "GIT_AUTHOR_NAME": name,
        "GIT_AUTHOR_EMAIL": email,
        "GIT_COMMITTER_NAME": name,
        "GIT_COMMITTER_EMAIL": email,
    }
    done = subprocess.run(
        ["git", *args], cwd=repo, env=full, check=True, capture_output=True, text=True
    )
    return done.stdout.strip()


def cli(
    *args: str, cwd: Path, env: dict[str, str], timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "runners", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@dataclass
class World:
    base: Path
    aws: EmbeddedAWS
    jenkins: JenkinsDouble
    platform: Platform
    bucket: str
    env_base: dict[str, str]
    origin: Path = field(init=False)
    repo: Path = field(init=False)
    commits: dict[str, str] = field(default_factory=dict)
    plan: Path = field(init=False)  # the reviewed production plan of M, signed
    old_plan: Path = field(init=False)  # the production plan of C0, signed and applied
    build_url: str = ""  # Jenkins build 2: started by olivia, approved by alice
    objects: dict[str, bytes] = field(default_factory=dict)  # the bucket as built
    platform_state: list[Any] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.origin = self.base / "origin.git"
        self.repo = self.base / "repo"

    # -- the environment a step of the production zone runs with ----------

    def env(self, **over: str | None) -> dict[str, str]:
        env = {
            **self.env_base,
            manifest_mod.SIGNING_KEY_ENV: KEY,
            "JENKINS_API_TOKEN": self.jenkins.users["runner"][0],
            "RUNNERS_MR_TOKEN": MR_TOKEN,
            "BUILD_URL": self.build_url,
        }
        for key, value in over.items():
            if value is None:
                env.pop(key, None)
            else:
                env[key] = value
        return env

    # -- S3 ------------------------------------------------------------------

    @property
    def s3(self) -> Any:
        return boto3.client(
            "s3",
            region_name="eu-west-1",
            endpoint_url=self.aws.endpoint,
            aws_access_key_id=FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        )

    def state(self, env: str = "production", stack: str = "app") -> bytes | None:
        try:
            got = self.s3.get_object(Bucket=self.bucket, Key=f"{stack}/{env}.tfstate")
        except self.s3.exceptions.NoSuchKey:
            return None
        return bytes(got["Body"].read())

    def snapshot(self) -> None:
        s3 = self.s3
        self.objects = {
            o["Key"]: s3.get_object(Bucket=self.bucket, Key=o["Key"])["Body"].read()
            for o in s3.list_objects_v2(Bucket=self.bucket).get("Contents", [])
        }
        self.platform_state = copy.deepcopy(self.platform.merge_requests)

    def ensure(self) -> None:
        """Put the bucket back as built before each test.

        The moto server may have been reset by another test module; and an
        attack that got through (a failing test) must not make every test
        after it fail too: states, locks and apply records go back as built.
        """
        s3 = self.s3
        with contextlib.suppress(s3.exceptions.BucketAlreadyOwnedByYou):
            s3.create_bucket(
                Bucket=self.bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
            )
        present = {
            o["Key"]
            for page in s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket)
            for o in page.get("Contents", [])
        }
        for key in present - set(self.objects):
            if key.startswith("runners/audit/"):
                record = json.loads(s3.get_object(Bucket=self.bucket, Key=key)["Body"].read())
                if record.get("result") not in ("applied", "started"):
                    continue
            s3.delete_object(Bucket=self.bucket, Key=key)
        for key, body in self.objects.items():
            if key not in present or (
                not key.startswith("runners/audit/") and self._get(key) != body
            ):
                s3.put_object(Bucket=self.bucket, Key=key, Body=body)

    def _get(self, key: str) -> bytes:
        return bytes(self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read())

    def reset_platform(self) -> None:
        self.platform.merge_requests = copy.deepcopy(self.platform_state)

    def records(self, env: str = "production", stack: str = "app") -> list[dict[str, Any]]:
        """The S3 ledger's records of one stack in one environment, oldest first."""
        s3 = self.s3
        keys = [
            o["Key"]
            for page in s3.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix="runners/audit/"
            )
            for o in page.get("Contents", [])
            if f"/{stack}/{env}/" in o["Key"]
        ]
        records = [
            json.loads(s3.get_object(Bucket=self.bucket, Key=k)["Body"].read()) for k in keys
        ]
        return sorted(records, key=lambda r: (r["started_at"], r["id"]))

    # -- one test's copy -------------------------------------------------------

    def attempt(self, where: Path) -> Attempt:
        where.mkdir(parents=True, exist_ok=True)
        origin = where / "origin.git"
        repo = where / "repo"
        shutil.copytree(self.origin, origin, symlinks=True)
        shutil.copytree(self.repo, repo, symlinks=True)
        git(repo, "remote", "set-url", "origin", str(origin), env=self.env_base)
        plan = where / "plan"
        shutil.copytree(self.plan, plan)
        return Attempt(self, where, repo, origin, plan)


@dataclass
class Attempt:
    """One attack: a copy of the repository and its origin, and of the reviewed plan."""

    world: World
    where: Path
    repo: Path
    origin: Path
    plan: Path
    seen: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.seen = {
            r["id"] for env in ("production", "development") for r in self.world.records(env)
        }

    def git(self, *args: str, author: str = MALLORY) -> str:
        return git(self.repo, *args, author=author, env=self.world.env_base)

    def write(self, rel: str, text: str) -> Path:
        path = self.repo / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        return path

    def run(
        self, *args: str, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        return cli(*args, cwd=self.repo, env=env or self.world.env())

    def apply(
        self,
        *extra: str,
        plan: Path | None = None,
        stack: str = "app",
        environment: str = "production",
        env: dict[str, str] | None = None,
    ) -> subprocess.CompletedProcess[str]:
        return self.run(
            "apply",
            "--stack",
            stack,
            "--env",
            environment,
            "--plan-dir",
            str(plan or self.plan),
            "--no-color",
            *extra,
            env=env,
        )

    def plan_into(
        self,
        out: Path,
        *,
        stack: str = "app",
        environment: str = "production",
        env: dict[str, str] | None = None,
    ) -> Path:
        r = self.run(
            "plan",
            "--stack",
            stack,
            "--env",
            environment,
            "--out",
            str(out),
            "--no-color",
            env=env,
        )
        assert r.returncode == 0, r.stderr
        return out

    def new_records(self, env: str = "production") -> list[dict[str, Any]]:
        return [r for r in self.world.records(env) if r["id"] not in self.seen]


# -- changing a plan folder the way someone holding it could ----------------------


def read_manifest(plan: Path) -> dict[str, Any]:
    return dict(json.loads((plan / "manifest.json").read_text()))


def write_manifest(plan: Path, data: dict[str, Any], sign_with: str | None = None) -> None:
    """Rewrite the manifest; ``sign_with`` re-signs it (a key holder's doing, for defence in depth)."""
    body = {k: v for k, v in data.items() if k not in ("signature", "signing_key_id")}
    if sign_with:
        body = manifest_mod.sign(body, sign_with)
    (plan / "manifest.json").write_text(json.dumps(body, indent=2))


def rehash(plan: Path, data: dict[str, Any]) -> dict[str, Any]:
    """Point the manifest at whatever tfplan and plan.json the folder now holds."""
    from runners.fsutil import sha256_file

    data = dict(data)
    data["tfplan_sha256"] = sha256_file(plan / "tfplan")
    data["plan_json_sha256"] = sha256_file(plan / "plan.json")
    return data


def without_snapshot(tfplan: Path) -> None:
    """The plan file as a Terraform without configuration snapshots would write it."""
    kept = tfplan.with_suffix(".new")
    with zipfile.ZipFile(tfplan) as src, zipfile.ZipFile(kept, "w") as dst:
        for item in src.infolist():
            if not item.filename.startswith("tfconfig/"):
                dst.writestr(item, src.read(item.filename))
    kept.replace(tfplan)


# -- building it ---------------------------------------------------------------


def build(base: Path, aws: EmbeddedAWS, bucket: str) -> Iterator[World]:
    jenkins = JenkinsDouble().start()
    platform = Platform()
    try:
        env_base = base_env(aws, base / "xdg-cache")
        world = World(base, aws, jenkins, platform, bucket, env_base)
        _make(world)
        world.snapshot()
        yield world
    finally:
        jenkins.stop()
        platform.stop()


def _make(w: World) -> None:
    s3 = w.s3
    s3.create_bucket(Bucket=w.bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    env = w.env_base
    subprocess.run(["git", "init", "-q", "--bare", "-b", "production", str(w.origin)], check=True)
    subprocess.run(["git", "clone", "-q", str(w.origin), str(w.repo)], check=True, env=env)
    repo = w.repo
    git(repo, "checkout", "-q", "-b", "production", env=env)
    git(repo, "config", "commit.gpgsign", "false", env=env)
    shutil.copytree(FIXTURES / "client", repo, dirs_exist_ok=True)
    (repo / "terraform/stacks/app/main.tf").write_text(APP % "15")
    net = repo / "terraform/stacks/network/main.tf"
    net.write_text(net.read_text().replace('backend "local" {}', 'backend "s3" {}'))
    (repo / "terraform/stacks/app/production.tfvars").write_text('web_input = "v1"\n')
    (repo / "runners.toml").write_text(
        CONFIG.format(
            backend=backend_block(w.bucket),
            jenkins=w.jenkins.url,
            platform=w.platform.url,
        )
    )
    (repo / ".gitignore").write_text(".runners/\n.terraform/\n*_override.tf\n")
    git(repo, "add", "-A", env=env)
    git(repo, "commit", "-q", "-m", "Initial layout", env=env)
    c0 = git(repo, "rev-parse", "HEAD", env=env)
    git(repo, "push", "-q", "origin", "production", "production:development", env=env)
    w.platform.merged(1, "olivia", [c0], approvers=["bob"])
    w.commits["c0"] = c0

    # Production today: C0, planned in the production zone and applied in build 1.
    w.old_plan = w.base / "plans" / "c0"
    signed = {**env, manifest_mod.SIGNING_KEY_ENV: KEY}
    _ok(
        cli(
            "plan",
            "--stack",
            "app",
            "--env",
            "production",
            "--out",
            str(w.old_plan),
            cwd=repo,
            env=signed,
        )
    )
    first = w.jenkins.running_build(PRODUCTION_JOB, "olivia", ["alice"])
    _ok(
        cli(
            "apply",
            "--stack",
            "app",
            "--env",
            "production",
            "--plan-dir",
            str(w.old_plan),
            cwd=repo,
            env={**w.env(BUILD_URL=first)},
        )
    )
    w.jenkins.items[PRODUCTION_JOB].builds[1].running = False
    dev = w.base / "plans" / "dev-c0"
    _ok(cli("plan", "--stack", "app", "--env", "development", "--out", str(dev), cwd=repo, env=env))
    _ok(
        cli(
            "apply",
            "--stack",
            "app",
            "--env",
            "development",
            "--plan-dir",
            str(dev),
            cwd=repo,
            env=env,
        )
    )

    # Dana's merge request, with a commit by Bob, merged by Olivia.
    git(repo, "checkout", "-q", "-b", "feature/grow", env=env)
    (repo / "terraform/stacks/app/main.tf").write_text(APP % "16")
    (repo / "terraform/stacks/app/production.tfvars").write_text('web_input = "v2"\n')
    git(
        repo, "commit", "-q", "-am", "Upgrade the database; grow the web tier", author=DANA, env=env
    )
    w.commits["c1"] = git(repo, "rev-parse", "HEAD", env=env)
    (repo / "terraform/stacks/app/outputs.tf").write_text(
        'output "web" {\n  value = terraform_data.web.output\n}\n'
    )
    git(repo, "add", "-A", env=env)
    git(repo, "commit", "-q", "-m", "Output the web tier", author=BOB, env=env)
    w.commits["c2"] = git(repo, "rev-parse", "HEAD", env=env)
    git(repo, "checkout", "-q", "production", env=env)
    git(repo, "merge", "-q", "--no-ff", "-m", "Merge feature/grow", "feature/grow", env=env)
    w.commits["m"] = git(repo, "rev-parse", "HEAD", env=env)
    git(repo, "push", "-q", "origin", "production", "production:development", env=env)
    git(repo, "branch", "-q", "-D", "feature/grow", env=env)
    w.platform.merged(
        2, "dana", [w.commits["c1"], w.commits["c2"], w.commits["m"]], approvers=["carol"]
    )

    # The production build after the merge: planned with the key, approved by alice.
    w.plan = w.base / "plans" / "m"
    _ok(
        cli(
            "plan",
            "--stack",
            "app",
            "--env",
            "production",
            "--out",
            str(w.plan),
            cwd=repo,
            env=signed,
        )
    )
    w.build_url = w.jenkins.running_build(PRODUCTION_JOB, "olivia", ["alice"])


def _ok(result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode == 0, (result.args, result.stdout[-2000:], result.stderr[-3000:])
