"""A client made ready step by step, for runners doctor to look at.

``runners init`` (pushed to a bare repository standing in for GitLab's),
``runners bootstrap`` against the embedded AWS, the runner roles with the
trust policies the runner-role module renders, ``runners jobs sync`` against
the Jenkins double with the production folder's signing key, the branches
protected on the platform double, and a tagged volume backed up and shipped.
Each test takes the steps it needs and then breaks one thing.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3

from runners.aws.embedded import EmbeddedAWS
from runners.client.names import DUTIES
from runners.jenkins.double import PERMISSIONS, JenkinsDouble
from runners.jenkins.platform_double import TOKEN, Platform
from runners.jenkins.settings import SIGNING_CREDENTIAL
from tests import runnerpolicy
from tests.conftest import run_cli

JENKINS_TOKEN = "11ee22dd33cc44bb55aa6699887766554433"
ACCOUNT = "123456789012"
PRINCIPALS = {d: f"arn:aws:iam::{ACCOUNT}:user/acme-production-runners-{d}" for d in DUTIES}


def trust_documents(workdir: Path) -> dict[str, dict[str, Any]]:
    """The trust policies runner-role renders for the principals init's tfvars name."""
    inputs = {
        **runnerpolicy.INPUTS,
        "account_id": ACCOUNT,
        "role_name_prefix": "acme-production-runners",
        "jenkins_oidc": None,
        **{f"{d}_principal_arns": [arn] for d, arn in PRINCIPALS.items()},
    }
    return runnerpolicy.trust_documents(workdir, runnerpolicy.evaluate(workdir, inputs))


@dataclass
class DoctorWorld:
    root: Path
    aws: EmbeddedAWS
    jenkins: JenkinsDouble
    platform: Platform
    trust: dict[str, dict[str, Any]]
    mirror: Path | None
    env: dict[str, str] = field(default_factory=dict)

    @property
    def repo(self) -> Path:
        return self.root / "acme"

    @property
    def remote(self) -> Path:
        return self.root / "gitlab" / "acme" / "infra.git"

    def init(self) -> DoctorWorld:
        self.remote.mkdir(parents=True)
        subprocess.run(["git", "init", "--bare", "--quiet"], cwd=self.remote, check=True)
        self.env.update(
            {
                "JENKINS_API_TOKEN": JENKINS_TOKEN,
                "RUNNERS_MR_TOKEN": TOKEN,
                **({"RUNNERS_PROVIDER_MIRROR": str(self.mirror)} if self.mirror else {}),
            }
        )
        self.jenkins.users["runners"] = (JENKINS_TOKEN, PERMISSIONS)
        done = self.cli(
            "init",
            str(self.repo),
            "--client",
            "acme",
            "--account",
            ACCOUNT,
            "--region",
            "eu-west-1",
            "--backup-region",
            "eu-central-1",
            "--approver",
            "alice",
            "--approver",
            "bob",
            "--jenkins-url",
            self.jenkins.url,
            "--remote",
            str(self.remote),
            cwd=self.root,
        )
        assert done.returncode == 0, done.stderr
        # What an operator sets for this machine: GitLab's API (the platform double), and
        # the embedded AWS's buckets as paths on 127.0.0.1.
        self.edit(
            lambda t: t.replace(
                'credentials_id = "acme-infra-git"\n',
                'credentials_id = "acme-infra-git"\nplatform = "gitlab"\n\n'
                f'[jenkins.comments]\napi_url = "{self.platform.url}/api/v4"\n',
            ).replace("use_lockfile = true\n", "use_lockfile = true\nuse_path_style = true\n")
        )
        return self

    def edit(self, change: Any) -> None:
        path = self.repo / "runners.toml"
        path.write_text(change(path.read_text()))

    def cli(self, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
        return run_cli(*args, cwd=cwd or self.repo, env=self.env)

    def bootstrap(self) -> DoctorWorld:
        done = self.cli("bootstrap", "--env", "production")
        assert done.returncode == 0, done.stderr
        return self

    def roles(self) -> DoctorWorld:
        """What applying the bootstrap stack makes that doctor reads: the runner roles."""
        iam = boto3.client("iam")
        for duty in DUTIES:
            iam.create_role(
                RoleName=f"acme-production-runners-{duty}",
                AssumeRolePolicyDocument=json.dumps(self.trust[duty]),
            )
        return self

    def jobs(self) -> DoctorWorld:
        done = self.cli("jobs", "sync")
        assert done.returncode == 0, done.stderr
        self.jenkins.add_credentials("acme/production", SIGNING_CREDENTIAL, "runners-aws-write")
        self.jenkins.add_credentials("acme/merge-requests", "runners-aws-plan")
        return self

    def branches(self, **protected: bool) -> DoctorWorld:
        self.platform.branches.update({"production": True, "development": True, **protected})
        return self

    def servers(self) -> DoctorWorld:
        """A data volume carrying the backup tag, as the servers stack makes them."""
        ec2 = boto3.client("ec2", region_name="eu-west-1")
        ec2.create_volume(
            AvailabilityZone="eu-west-1a",
            Size=20,
            TagSpecifications=[
                {
                    "ResourceType": "volume",
                    "Tags": [
                        {"Key": "runners:backup", "Value": "daily"},
                        {"Key": "Name", "Value": "app-1-data"},
                    ],
                }
            ],
        )
        return self

    def backed_up(self) -> DoctorWorld:
        for command in ("backup", "ship"):
            done = self.cli(command, "--policy", "daily")
            assert done.returncode == 0, done.stdout + done.stderr
        return self

    def ready(self) -> DoctorWorld:
        return self.bootstrap().roles().jobs().branches().servers().backed_up()

    def doctor(self, *args: str) -> subprocess.CompletedProcess[str]:
        return self.cli("doctor", "--env", "production", *args)
