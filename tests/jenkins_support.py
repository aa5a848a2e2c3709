"""A runners.toml pointing at the Jenkins double, and the environment to reach it."""

from __future__ import annotations

from pathlib import Path

from tests.jenkins_double import JenkinsDouble

CONFIG = """\
[environments.development]
branch = "development"
region = "eu-west-1"
backup_region = "eu-central-1"

[environments.production]
branch = "production"
region = "eu-west-1"
backup_region = "eu-central-1"
approvers = ["alice", "bob"]
require_approval = true

[stacks.app]
dir = "terraform/stacks/app"

[stacks.network]
dir = "terraform/stacks/network"
environments = ["production"]

[dr.stacks.app]
region_variable = "region"

[jenkins]
url = "{url}"
user = "{user}"
folder = "acme"
backup_policies = {policies}
poll_seconds = 0.01
request_timeout = 5
{extra}
[jenkins.repository]
url = "https://gitlab.acme.test/acme/infra.git"
credentials_id = "acme-infra-git"
"""

# backup_policies must name policies the file defines.
POLICY = """
[policies.{name}]
backup_region = "eu-central-1"
kms_key_alias = "alias/runners-backup"
rpo_hours = 26
select = {{ tags = {{ backup = "{name}" }} }}
"""

JOBS = (
    "acme",
    "acme/merge-requests",
    "acme/merge-requests/terraform",
    "acme/production",
    "acme/production/terraform",
    "acme/production/backup-daily",
    "acme/production/on-demand-backup",
    "acme/production/verify-restore-daily",
    "acme/production/drift-app",
    "acme/production/drift-network",
    "acme/production/dr-prepare",
    "acme/production/dr",
)
MERGE_REQUEST_ZONE = "acme/merge-requests"
PRODUCTION_ZONE = "acme/production"


def write_config(
    folder: Path,
    url: str,
    user: str = "runner",
    policies: tuple[str, ...] = ("daily",),
    extra: str = "",
) -> Path:
    path = folder / "runners.toml"
    quoted = "[" + ", ".join(f'"{p}"' for p in policies) + "]"
    path.write_text(
        CONFIG.format(url=url, user=user, policies=quoted, extra=extra)
        + "".join(POLICY.format(name=p) for p in policies)
    )
    return path


def token_env(double: JenkinsDouble, user: str = "runner") -> dict[str, str]:
    return {"JENKINS_API_TOKEN": double.users[user][0]}
