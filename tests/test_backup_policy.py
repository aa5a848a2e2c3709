"""[policies.NAME] in runners.toml: what loads, and one line naming the key for what does not."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from runners import config
from runners.backup.policy import DEFAULT_ROLE_ARN, Limits, Retention, find
from runners.errors import ConfigError, UsageError
from tests.backup_world import make_policy, policy_text
from tests.conftest import run_cli

BASE = (
    '[environments.production]\nbranch = "production"\nregion = "eu-west-1"\n\n'
    '[stacks.app]\ndir = "."\n\n'
)

MINIMAL = """\
[policies.nightly]
backup_region = "eu-central-1"
kms_key_alias = "alias/backup"
rpo_hours = 25

[policies.nightly.select]
tags = { backup = "*" }
"""


def load(tmp_path: Path, text: str) -> config.Config:
    path = tmp_path / "runners.toml"
    path.write_text(BASE + text)
    return config.load(path)


def test_minimal_policy_takes_the_defaults(tmp_path: Path) -> None:
    policy = load(tmp_path, MINIMAL).policies["nightly"]
    assert policy.schedule == "daily"
    assert policy.selection.kinds == (
        "ebs-volume",
        "ec2-instance",
        "rds-instance",
        "aurora-cluster",
    )
    assert policy.selection.accounts == (None,)  # the runner's own account, no STS
    assert policy.selection.regions == ()
    assert policy.retention == Retention() and policy.limits == Limits()
    assert policy.role_arn == DEFAULT_ROLE_ARN
    assert policy.selection.matches({"backup": "anything"}) and not policy.selection.matches(
        {"other": "x"}
    )


def test_full_policy(tmp_path: Path) -> None:
    policy = make_policy()
    assert policy.retention.daily == 3 and policy.limits.ship_wait_minutes == 5
    assert policy.selection.regions == ("eu-west-1",)
    cfg = load(tmp_path, policy_text())
    assert cfg.policies["daily"] == policy


def test_no_policies_is_fine(tmp_path: Path) -> None:
    assert load(tmp_path, "").policies == {}


@pytest.mark.parametrize(
    ("edit", "key", "expected"),
    [
        (("rpo_hours = 25\n", ""), "policies.nightly.rpo_hours", "is required"),
        (
            ('"eu-central-1"', '"eu-west-1"\n[policies.nightly.x]'),
            "policies.nightly.x",
            "unknown key",
        ),
        (
            ('"alias/backup"', '"arn:aws:kms:eu-central-1:1:key/k"'),
            "policies.nightly.kms_key_alias",
            "expected a KMS alias",
        ),
        (
            ('tags = { backup = "*" }', "tags = {}"),
            "policies.nightly.select.tags",
            "at least one tag",
        ),
        (
            ('tags = { backup = "*" }', 'tags = { backup = "*" }\nkinds = ["s3-bucket"]'),
            "policies.nightly.select.kinds",
            "unknown kind 's3-bucket'",
        ),
        (
            ('tags = { backup = "*" }', 'tags = { backup = "*" }\nregions = ["eu-central-1"]'),
            "policies.nightly.backup_region",
            "must not be one of select.regions",
        ),
        (
            ('tags = { backup = "*" }', 'tags = { backup = "*" }\naccounts = ["12345"]'),
            "policies.nightly.select.accounts",
            "12-digit",
        ),
        (
            ("[policies.nightly]", '[policies.nightly]\nschedule = "fortnightly"'),
            "policies.nightly.schedule",
            "expected one of hourly, daily, weekly, monthly",
        ),
        (
            (
                "[policies.nightly.select]",
                "[policies.nightly.retention]\ndaily = 0\nweekly = 0\nmonthly = 0\n"
                "[policies.nightly.select]",
            ),
            "policies.nightly.retention.daily",
            "would keep nothing",
        ),
        (
            (
                "[policies.nightly.select]",
                "[policies.nightly.limits]\nebs_copies = 0\n[policies.nightly.select]",
            ),
            "policies.nightly.limits.ebs_copies",
            "expected an integer >= 1",
        ),
        (("[policies.nightly]", "[policies.9lives]"), "policies.9lives", "start with a letter"),
    ],
)
def test_bad_policy_is_one_line_naming_the_key(
    tmp_path: Path, edit: tuple[str, str], key: str, expected: str
) -> None:
    text = MINIMAL.replace(*edit)
    with pytest.raises(ConfigError) as err:
        load(tmp_path, text)
    assert f": {key}" in str(err.value) and expected in str(err.value)
    assert "\n" not in str(err.value)


def test_accounts_need_a_role_template(tmp_path: Path) -> None:
    text = MINIMAL.replace(
        'tags = { backup = "*" }', 'tags = { backup = "*" }\naccounts = ["111111111111"]'
    )
    assert load(tmp_path, text).policies["nightly"].selection.accounts == ("111111111111",)
    bad = text.replace(
        "rpo_hours = 25", 'rpo_hours = 25\nrole_arn = "arn:aws:iam::111111111111:role/fixed"'
    )
    with pytest.raises(
        ConfigError, match=r"policies.nightly.role_arn: expected a role ARN template"
    ):
        load(tmp_path, bad)


def test_unknown_policy_names_the_known_ones(tmp_path: Path) -> None:
    cfg = load(tmp_path, MINIMAL)
    with pytest.raises(UsageError, match="unknown backup policy 'daily'; known policies: nightly"):
        find(cfg.policies, "daily", cfg.path)


def test_cli_bad_flags_exit_2(tmp_path: Path) -> None:
    path = tmp_path / "runners.toml"
    path.write_text(BASE + MINIMAL)
    out = run_cli("backup", "--policy", "nightly", "--on-demand", "--config", str(path))
    assert out.returncode == 2
    assert (
        out.stderr.strip() == "error: --on-demand needs --reason TEXT (it is kept on the snapshot)"
    )
    out = run_cli("report", "--policy", "weekly", "--config", str(path))
    assert (out.returncode, out.stderr.count("\n")) == (2, 1)
    assert "unknown backup policy 'weekly'" in out.stderr
    out = run_cli("prune", "--policy", "nightly", "--max-deletions", "-1", "--config", str(path))
    assert out.returncode == 2


def test_no_credentials_is_one_line_before_any_resource(tmp_path: Path) -> None:
    """A Jenkins job with its credential binding missing: one line, exit 2, no AWS call."""
    path = tmp_path / "runners.toml"
    path.write_text(BASE + MINIMAL)
    nowhere = str(tmp_path / "absent")
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("AWS_") or k in ("AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL")
    }
    env.update(
        AWS_SHARED_CREDENTIALS_FILE=nowhere,
        AWS_CONFIG_FILE=nowhere,
        AWS_EC2_METADATA_DISABLED="true",
    )
    cases = [
        ({}, "error: no AWS credentials found"),
        ({"AWS_PROFILE": "acme-prod"}, "error: AWS profile 'acme-prod' (AWS_PROFILE) is not in"),
    ]
    for extra, expected in cases:
        for command in ("backup", "report"):
            out = subprocess.run(
                [sys.executable, "-m", "runners", command, "--policy=nightly", f"--config={path}"],
                env={**env, **extra},
                capture_output=True,
                text=True,
                timeout=120,
            )
            assert out.returncode == 2, out
            assert out.stderr.startswith(expected), out.stderr
            assert out.stderr.count("\n") == 1 and "Traceback" not in out.stderr


def test_a_backup_only_config_serves_the_backup_commands(layer: object, tmp_path: Path) -> None:
    from tests.backup_world import kms_alias, volume
    from tests.conftest import run_cli

    kms_alias()
    volume()
    config = tmp_path / "runners.toml"
    config.write_text(policy_text(kinds=["ebs-volume"]))  # policies only: no environments, stacks
    for argv in (("backup",), ("ship",), ("prune", "--dry-run"), ("report",)):
        done = run_cli(*argv, "--policy", "daily", "--config", str(config))
        assert done.returncode == 0, (argv, done.stdout, done.stderr)
    assert "All 2 checks are within the RPO." in done.stdout
    plan = run_cli("plan", "--config", str(config), "--stack", "app", "--env", "production")
    assert plan.returncode == 2 and "unknown" in plan.stderr and "Traceback" not in plan.stderr
