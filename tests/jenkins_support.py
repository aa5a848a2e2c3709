"""A runners.toml pointing at the Jenkins double, and the environment to reach it."""

from __future__ import annotations

from pathlib import Path

from tests.jenkins_double import JenkinsDouble

TEMPLATES = Path(__file__).parent.parent / "pipelines" / "jobs"

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

[jenkins]
url = "{url}"
user = "{user}"
folder = "acme"
backup_policies = {policies}
templates = "{templates}"
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
    "acme/terraform",
    "acme/backup-daily",
    "acme/on-demand-backup",
    "acme/drift-app",
    "acme/drift-network",
    "acme/dr",
)


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
        CONFIG.format(url=url, user=user, policies=quoted, templates=TEMPLATES, extra=extra)
        + "".join(POLICY.format(name=p) for p in policies)
    )
    return path


def token_env(double: JenkinsDouble, user: str = "runner") -> dict[str, str]:
    return {"JENKINS_API_TOKEN": double.users[user][0]}
