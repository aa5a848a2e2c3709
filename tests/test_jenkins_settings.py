"""The [jenkins] section: defaults, validation, and never a secret in the file."""

from __future__ import annotations

from pathlib import Path

import pytest

from runners import config
from runners.errors import ConfigError
from tests.conftest import run_cli
from tests.jenkins_support import write_config

BASE = """\
[environments.production]
branch = "main"
region = "eu-west-1"
backup_region = "eu-central-1"
approvers = ["alice"]

[environments.development]
branch = "dev"
region = "eu-west-1"

[stacks.app]
dir = "terraform/stacks/app"

[stacks.edge]
dir = "terraform/stacks/edge"
environments = ["development"]
"""

# backup_policies must name policies the file defines.
POLICIES = "".join(
    f"""
[policies.{name}]
backup_region = "eu-central-1"
kms_key_alias = "alias/runners-backup"
rpo_hours = 26
select = {{ tags = {{ backup = "{name}" }} }}
"""
    for name in ("daily", "weekly")
)


def load(tmp_path: Path, section: str) -> config.Config:
    path = tmp_path / "runners.toml"
    path.write_text(BASE + section)
    return config.load(path)


def test_no_section_gives_defaults(tmp_path: Path) -> None:
    cfg = load(tmp_path, "")
    assert cfg.jenkins.url is None
    assert cfg.jenkins.token_env == "JENKINS_API_TOKEN"
    assert cfg.jenkins.comments.token_env == "RUNNERS_MR_TOKEN"
    assert cfg.jenkins.environment == "production"


def test_full_section(tmp_path: Path) -> None:
    cfg = load(
        tmp_path,
        """
[jenkins]
url = "https://jenkins.acme.internal/"
user = "runners-bot"
token_env = "ACME_JENKINS_TOKEN"
folder = "clients/acme"
backup_policies = ["daily", "weekly"]
dr_job = false

[jenkins.repository]
url = "git@github.com:acme/infra.git"
credentials_id = "acme-git"

[jenkins.comments]
token_env = "ACME_GITHUB_TOKEN"
"""
        + POLICIES,
    )
    j = cfg.jenkins
    assert (j.url, j.user, j.token_env, j.folder) == (
        "https://jenkins.acme.internal/",
        "runners-bot",
        "ACME_JENKINS_TOKEN",
        "clients/acme",
    )
    assert j.drift_stacks == ("app",)  # every stack deployed to production, not edge
    assert j.backup_policies == ("daily", "weekly")
    assert j.repository is not None
    assert (j.repository.platform, j.repository.branch) == ("github", "main")
    assert j.repository.owner_and_name == ("acme", "infra")
    assert (j.merge_request_zone, j.production_zone) == (
        "clients/acme/merge-requests",
        "clients/acme/production",
    )
    assert j.schedules.backup == "H 2 * * *"
    assert j.full_name("drift-app") == "clients/acme/drift-app"
    assert j.full_name("/elsewhere/job") == "elsewhere/job"
    assert j.comments.token_env == "ACME_GITHUB_TOKEN"


@pytest.mark.parametrize(
    ("section", "key", "expected"),
    [
        ('token = "11abcdef"', "jenkins.token", "never put a secret in runners.toml"),
        (
            'token_env = "11abcdef0123456789abcdef0123456789"',
            "jenkins.token_env",
            "the NAME of an environment variable",
        ),
        ('url = "jenkins.acme.internal"', "jenkins.url", "expected an http:// or https:// URL"),
        (
            'drift_stacks = ["edge"]',
            "jenkins.drift_stacks",
            "stack 'edge' is not deployed to 'production'",
        ),
        ('drift_stacks = ["nope"]', "jenkins.drift_stacks", "unknown stack 'nope'"),
        ('environment = "staging"', "jenkins.environment", "unknown environment 'staging'"),
        ('folder = "a b"', "jenkins.folder", "expected folder names"),
        ('backup_policies = ["da ily"]', "jenkins.backup_policies", "names use letters"),
        (
            'verify_restore_policies = ["hourly"]',
            "jenkins.verify_restore_policies",
            "'hourly' is not a backup policy ([policies.NAME])",
        ),
        ("pol_seconds = 1", "jenkins.pol_seconds", "unknown key (did you mean 'poll_seconds'?)"),
        (
            'templates = "pipelines/jobs"',
            "jenkins.templates",
            "come from the runners library, never from the client's repository",
        ),
        (
            'merge_request_folder = "zone"\nproduction_folder = "zone"',
            "jenkins.production_folder",
            "the zones need a folder each",
        ),
        ('production_folder = "a/b"', "jenkins.production_folder", "expected a job name"),
        (
            '[jenkins.schedules]\nbackup = "every night"',
            "jenkins.schedules.backup",
            "expected a Jenkins cron spec of five fields",
        ),
        (
            '[jenkins.schedules]\nbackups = "H 2 * * *"',
            "jenkins.schedules.backups",
            "unknown key",
        ),
        (
            '[jenkins.repository]\nurl = "https://gitlab.example.com/a/b.git"\n'
            'credentials_id = "runners-plan-signing-key"',
            "jenkins.repository.credentials_id",
            "'runners-plan-signing-key' is a production-only credential",
        ),
        (
            '[jenkins.repository]\nurl = "https://gitlab.example.com/a/b.git"\nbranch = "-x"',
            "jenkins.repository.branch",
            "expected a branch name",
        ),
        (
            '[jenkins.comments]\nplatform = "bitbucket"',
            "jenkins.comments.platform",
            "expected gitlab or github",
        ),
        (
            '[jenkins.repository]\nurl = "https://example.com/x.git"\nplatform = "svn"',
            "jenkins.repository.platform",
            "expected one of gitlab, github, git",
        ),
    ],
)
def test_bad_values_name_the_key(tmp_path: Path, section: str, key: str, expected: str) -> None:
    with pytest.raises(ConfigError) as err:
        load(tmp_path, "\n[jenkins]\n" + section + "\n")
    message = str(err.value)
    assert f": {key}: " in message, message
    assert expected in message
    assert "\n" not in message


def test_cli_reports_a_token_in_the_file_as_one_line(tmp_path: Path) -> None:
    path = write_config(tmp_path, "http://127.0.0.1:9/", extra='token = "11abcdef"\n')
    result = run_cli("jobs", "sync", "--dry-run", "--config", str(path))
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"error: {path}: jenkins.token: never put a secret in runners.toml; set token_env to "
        "the NAME of the environment variable that holds it"
    ]
    assert "11abcdef" not in result.stderr


def test_jobs_approvers_and_stacks(tmp_path: Path) -> None:
    path = tmp_path / "runners.toml"
    path.write_text(BASE)
    approvers = run_cli("jobs", "approvers", "--env", "production", "--config", str(path))
    assert (approvers.returncode, approvers.stdout) == (0, "alice\n")
    stacks = run_cli("jobs", "stacks", "--env", "development", "--config", str(path))
    assert (stacks.returncode, stacks.stdout) == (0, "app\nedge\n")
    nobody = run_cli("jobs", "approvers", "--env", "development", "--config", str(path))
    assert nobody.returncode == 2
    assert "environments.development.approvers: is empty" in nobody.stderr
