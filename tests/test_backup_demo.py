"""The demo driver against the embedded AWS, and a policy spanning two accounts through STS."""

from __future__ import annotations

from pathlib import Path

import boto3
import pytest

from runners.aws.embedded import EmbeddedAWS
from runners.aws.session import SessionFactory
from runners.backup import tags as T
from runners.backup.copier import run_ship
from runners.backup.creator import run_backup
from runners.backup.demo import run_demo
from runners.backup.report import build
from tests.backup_world import ALIAS, BACKUP, REGION, make_policy, make_run, policy_text, tag_list

DEMO_CONFIG = Path(__file__).parent.parent / "docs" / "backup.md"


def demo_policy_block() -> str:
    """The [policies.daily] example from docs/backup.md, so the documented example is what runs."""
    text = DEMO_CONFIG.read_text()
    start = text.index("```toml\n[policies.daily]") + len("```toml\n")
    return text[start : text.index("```", start)]


def test_demo_runs_backup_ship_prune_and_report(
    aws: EmbeddedAWS, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "runners.toml"
    config.write_text(
        '[environments.production]\nbranch = "production"\nregion = "eu-west-1"\n\n'
        '[stacks.app]\ndir = "."\n\n' + demo_policy_block()
    )
    kms = boto3.client("kms", region_name=BACKUP)  # as if the main demo had made the key already
    kms.create_alias(
        AliasName="alias/runners-backup", TargetKeyId=kms.create_key()["KeyMetadata"]["KeyId"]
    )
    assert run_demo(aws, config) == 0
    out = capsys.readouterr().out
    for step in (
        "$ runners backup",
        "$ runners ship",
        "$ runners prune --dry-run",
        "$ runners report",
    ):
        assert step in out
    # 3 volumes, the instance (its 2 volumes at once) and the database
    assert "created 6 snapshots of 5 resources; adopted 0, skipped 0" in out
    assert "the earlier attempt was done after all" not in out  # that warning is on stderr
    assert len([line for line in out.splitlines() if line.startswith("  adopted snap-")]) == 1
    assert "started 6 copies" in out
    assert "dry run, nothing changed: would delete 0 of 12 snapshots, keep 12" in out
    assert "All 10 checks are within the RPO." in out
    assert (
        len(
            boto3.client("ec2", region_name="eu-central-1").describe_snapshots(OwnerIds=["self"])[
                "Snapshots"
            ]
        )
        == 5
    )


ACCOUNTS = ("111111111111", "222222222222")


def test_a_policy_spans_accounts_through_assumed_roles(aws: EmbeddedAWS) -> None:
    text = policy_text(kinds=["ebs-volume"]).replace(
        'regions = ["eu-west-1"]',
        f'regions = ["eu-west-1"]\naccounts = ["{ACCOUNTS[0]}", "{ACCOUNTS[1]}"]',
    )
    policy = make_policy(text)
    factory = SessionFactory(role_arn_template=policy.role_arn, session_name="runners-daily")
    for account in ACCOUNTS:  # seed each client account as its own role sees it
        ec2 = factory.ec2(REGION, account)
        ec2.create_volume(
            AvailabilityZone=f"{REGION}a",
            Size=1,
            TagSpecifications=[{"ResourceType": "volume", "Tags": tag_list({"backup": "daily"})}],
        )
        kms = factory.kms(BACKUP, account)
        kms.create_alias(AliasName=ALIAS, TargetKeyId=kms.create_key()["KeyMetadata"]["KeyId"])
    run = make_run(policy, factory)
    run_backup(run)
    run_ship(make_run(policy, factory))
    assert run.failures == []
    for account in ACCOUNTS:
        snaps = factory.ec2(BACKUP, account).describe_snapshots(OwnerIds=["self"])["Snapshots"]
        assert len(snaps) == 1 and T.COPY_OF in {t["Key"] for t in snaps[0]["Tags"]}
    assert (
        boto3.client("ec2", region_name=REGION).describe_snapshots(OwnerIds=["self"])["Snapshots"]
        == []
    )
    report = build(make_run(policy, factory))
    assert report.breaches == [] and {r.place.account for r in report.rows} == set(ACCOUNTS)
