"""What moto does not do, at the wire: pending snapshots, copy quotas, throttling, KMS rules.

Every fault comes from the behaviour layer (runners/aws/behaviour.py), a proxy between
botocore and moto, so botocore's own retries run as they would against AWS.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from runners import cli
from runners.aws.behaviour import Behaviour
from runners.backup import tags as T
from runners.backup.copier import run_ship
from runners.backup.creator import OnDemand, run_backup
from runners.backup.prune import run_prune
from tests.backup_world import (
    BACKUP,
    NOW,
    REGION,
    Clock,
    clients,
    cluster,
    cluster_snapshots,
    database,
    db_snapshots,
    ebs_snapshots,
    kms_alias,
    lines,
    make_policy,
    make_run,
    output,
    tags_of,
    volume,
    write_config,
)

EBS = ["ebs-volume"]


FOREVER = 10**7  # AWS seconds: pending until the test completes it


@pytest.fixture
def faults(layer: Behaviour) -> Behaviour:
    kms_alias()
    return layer


def slow(layer: Behaviour) -> None:
    layer.settings.snapshot_seconds = layer.settings.copy_seconds = FOREVER


def ops(layer: Behaviour, action: str) -> list[object]:
    return [c for c in layer.calls if c.action == action]


# -- pending states ----------------------------------------------------------------------
def test_backup_adopts_a_pending_snapshot_and_ship_waits_for_it(faults: Behaviour) -> None:
    vol = volume()
    slow(faults)
    policy = make_policy(kinds=EBS)
    run_backup(make_run(policy, clients()))
    [snap] = ebs_snapshots(REGION)
    again = make_run(policy, clients())
    run_backup(again)
    assert lines(again, "adopt") == [line for line in lines(again, "adopt") if "(pending)" in line]
    assert len(lines(again, "adopt")) == 1 and len(ebs_snapshots(REGION)) == 1
    ship = make_run(policy, clients())
    run_ship(ship)
    assert ops(faults, "CopySnapshot") == []
    assert "still pending; copied once completed" in output(ship)
    faults.complete(snap["SnapshotId"])
    shipped = make_run(policy, clients())
    assert len(run_ship(shipped).started) == 1
    assert tags_of(ebs_snapshots(BACKUP)[0])[T.SOURCE_ID] == vol


def test_copies_wait_for_free_slots_and_resume_next_run(faults: Behaviour) -> None:
    for _ in range(5):
        volume()
    policy = make_policy(kinds=EBS, ebs_copies=2)
    run_backup(make_run(policy, clients()))
    slow(faults)  # copies stay pending: the two slots never free up in this run
    clock = Clock()
    run = make_run(policy, clients(), clock=clock)
    result = run_ship(run)
    assert run.failures == []
    assert len(ops(faults, "CopySnapshot")) == 2
    assert result.deferred == 3 and len(lines(run, "queue")) == 3
    assert "2 ebs copies already in flight to eu-central-1" in output(run)
    assert sum(clock.slept) >= 5 * 60  # waited the whole ship window, polling
    # The next run counts the two pending copies against the quota and starts nothing more.
    busy = make_run(policy, clients())
    assert run_ship(busy).started == []
    faults.complete()
    done = make_run(policy, clients())
    run_ship(done)
    assert len(ops(faults, "CopySnapshot")) == 4
    faults.complete()
    run_ship(make_run(policy, clients()))
    assert len(ops(faults, "CopySnapshot")) == 5
    sources = {tags_of(c)[T.COPY_OF] for c in ebs_snapshots(BACKUP)}
    assert len(sources) == len(ebs_snapshots(BACKUP)) == 5  # one copy each, no duplicates


def test_slots_freed_during_the_run_are_reused(faults: Behaviour) -> None:
    for _ in range(5):
        volume()
    policy = make_policy(kinds=EBS, ebs_copies=2)
    run_backup(make_run(policy, clients()))
    slow(faults)
    clock = Clock()
    clock.on_sleep.append(faults.complete)  # every poll interval, the copies in flight complete
    run = make_run(policy, clients(), clock=clock)
    result = run_ship(run)
    assert len(result.started) == 5 and result.deferred == 0
    assert result.completed >= 4


def test_at_most_five_pending_copies_per_volume(faults: Behaviour) -> None:
    volume()
    policy = make_policy(kinds=EBS)
    for day in range(7):
        run_backup(make_run(policy, clients(), now=NOW + timedelta(days=day)))
    slow(faults)
    run = make_run(policy, clients())
    result = run_ship(run)
    assert len(result.started) == 5 and result.deferred == 2
    assert "5 copies of eu-west-1/vol-" in output(run)
    started = [s.tags[T.PERIOD] for s in result.started]
    assert started == sorted(started, reverse=True)  # newest first: what a recovery needs


def test_backup_refuses_a_sixth_pending_snapshot_of_a_volume(faults: Behaviour) -> None:
    volume()
    slow(faults)
    policy = make_policy(kinds=EBS)
    for _ in range(5):
        run_backup(make_run(policy, clients()), OnDemand("load test", "bob"))
    sixth = make_run(policy, clients())
    run_backup(sixth, OnDemand("load test", "bob"))
    assert len(ebs_snapshots(REGION)) == 5
    assert [f.code for f in sixth.failures] == ["NotDone"]
    assert "5 snapshots of it are still pending (limit 5)" in str(sixth.failures[0])


def test_one_rds_copy_per_database_at_a_time(faults: Behaviour) -> None:
    database("app-db")
    policy = make_policy(kinds=["rds-instance"])
    run_backup(make_run(policy, clients()))
    run_backup(make_run(policy, clients()), OnDemand("before migration"))
    slow(faults)
    run = make_run(policy, clients())
    result = run_ship(run)
    assert len(ops(faults, "CopyDBSnapshot")) == 1 and result.deferred == 1
    assert "1 copies of eu-west-1/app-db already pending" in output(run)
    faults.complete()
    run_ship(make_run(policy, clients()))
    assert len(ops(faults, "CopyDBSnapshot")) == 2 and len(db_snapshots(BACKUP)) == 2


# -- quotas and throttling -----------------------------------------------------------------
@pytest.mark.parametrize("code", ["ResourceLimitExceeded", "Throttling", "RequestLimitExceeded"])
def test_copy_backs_off_and_retries(faults: Behaviour, code: str) -> None:
    volume()
    policy = make_policy(kinds=EBS)
    run_backup(make_run(policy, clients()))
    faults.fail("CopySnapshot", code, times=2)
    clock = Clock()
    run = make_run(policy, clients(), clock=clock)
    result = run_ship(run)
    assert run.failures == [] and len(result.started) == 1
    assert faults.raised == [code, code]
    # Exponential with jitter: 2 s then 4 s, each scaled by a random factor in [0.5, 1].
    assert len(clock.slept) == 2
    assert 1.0 <= clock.slept[0] <= 2.0 <= clock.slept[1] <= 4.0


def test_the_rds_snapshot_quota_fails_that_database_at_once(faults: Behaviour) -> None:
    database("app-db")
    database("other-db")
    faults.settings.manual_snapshot_quota = 1  # the layer refuses as RDS does at its quota
    clock = Clock()
    run = make_run(make_policy(kinds=["rds-instance"]), clients(), clock=clock)
    run_backup(run)
    assert len(db_snapshots(REGION)) == 1 and clock.slept == []  # no useless backoff
    [failure] = run.failures
    assert failure.code == "SnapshotQuotaExceeded"
    assert str(failure) == (
        f"rds-instance {failure.what.split()[1]} (eu-west-1): CreateDBSnapshot: "
        "SnapshotQuotaExceeded: quota RDS manual snapshots per region reached "
        "(Cannot create more than 1 manual snapshots); not retried in this run"
    )
    assert len(ops(faults, "CreateDBSnapshot")) == 2  # one call each, no retry


def test_a_quota_that_stays_full_fails_loudly_and_the_next_run_finishes(
    faults: Behaviour, tmp_path: Any
) -> None:
    volume()
    volume()
    policy = make_policy(kinds=EBS)
    run_backup(make_run(policy, clients()))
    faults.fail("CopySnapshot", "ResourceLimitExceeded")
    run = make_run(policy, clients())
    result = run_ship(run)
    assert result.started == [] and result.deferred == 2
    assert [f.code for f in run.failures] == ["ResourceLimitExceeded"]
    assert str(run.failures[0]) == (
        "ebs copies to eu-central-1: copy: ResourceLimitExceeded: AWS refused for all of the "
        "5-minute ship window; 2 copies are left for the next run"
    )
    faults.injected.clear()
    again = make_run(policy, clients())
    assert len(run_ship(again).started) == 2 and again.failures == []


# -- KMS rules -----------------------------------------------------------------------------
def test_encrypted_copies_use_the_backup_region_key(faults: Behaviour) -> None:
    volume(encrypted=True)
    database("enc-db", encrypted=True)
    database("plain-db", encrypted=False)
    cluster("enc-aurora", encrypted=True)
    cluster("plain-aurora", encrypted=False)
    policy = make_policy()
    run_backup(make_run(policy, clients()))
    run = make_run(policy, clients())
    run_ship(run)
    assert run.failures == [] and faults.raised == []
    assert len(ebs_snapshots(BACKUP)) == 1
    assert {tags_of(s)[T.SOURCE_ID] for s in db_snapshots(BACKUP)} == {"enc-db", "plain-db"}
    assert {tags_of(s)[T.SOURCE_ID] for s in cluster_snapshots(BACKUP)} == {
        "enc-aurora",
        "plain-aurora",
    }
    [ebs_copy] = ebs_snapshots(BACKUP)
    assert ebs_copy["KmsKeyId"].startswith(f"arn:aws:kms:{BACKUP}:")


def test_the_emulated_kms_rules_reject_what_aws_rejects(faults: Behaviour) -> None:
    database("enc-db", encrypted=True)
    run_backup(make_run(make_policy(kinds=["rds-instance"]), clients()))
    src = db_snapshots(REGION)[0]["DBSnapshotArn"]
    rds = clients().rds(BACKUP)
    source_key = boto3.client("kms", region_name=REGION).create_key()["KeyMetadata"]["Arn"]
    with pytest.raises(ClientError) as no_key:
        rds.copy_db_snapshot(
            SourceDBSnapshotIdentifier=src, TargetDBSnapshotIdentifier="x1", SourceRegion=REGION
        )
    assert no_key.value.response["Error"]["Code"] == "InvalidParameterValue"
    with pytest.raises(ClientError) as wrong_region:
        rds.copy_db_snapshot(
            SourceDBSnapshotIdentifier=src,
            TargetDBSnapshotIdentifier="x2",
            SourceRegion=REGION,
            KmsKeyId=source_key,
        )
    assert wrong_region.value.response["Error"]["Code"] == "KMSKeyNotAccessibleFault"


def test_a_missing_backup_key_skips_encrypted_copies_only(faults: Behaviour) -> None:
    volume(encrypted=True)
    volume(encrypted=False)
    policy = replace(make_policy(kinds=EBS), kms_key_alias="alias/missing")
    run_backup(make_run(policy, clients()))
    run = make_run(policy, clients())
    result = run_ship(run)
    assert len(result.started) == 1  # the unencrypted one
    assert [(f.operation, f.code) for f in run.failures] == [("DescribeKey", "NotFoundException")]
    assert "no usable KMS key alias/missing in eu-central-1" in output(run)


def test_an_ebs_copy_that_fails_in_aws_is_reported_and_recopied(faults: Behaviour) -> None:
    volume(encrypted=True)
    policy = make_policy(kinds=EBS)
    run_backup(make_run(policy, clients()))
    source_key = boto3.client("kms", region_name=REGION).create_key()["KeyMetadata"]["Arn"]
    faults.before(
        "CopySnapshot", lambda kw: kw.update(KmsKeyId=source_key)
    )  # as a buggy caller would
    slow(faults)
    clock = Clock()
    run = make_run(policy, clients(), clock=clock)
    run_ship(run)
    assert run.failures == []  # the copy started; it fails later, as EBS does
    faults.injected.clear()
    faults.complete()
    again = make_run(policy, clients())
    run_ship(again)
    assert "failed (snap-" in output(again) and "copying again" in output(again)
    assert [f.code for f in again.failures] == ["CopyFailed"]  # never silent
    assert len(ops(faults, "CopySnapshot")) == 2
    settled = make_run(policy, clients())
    run_ship(settled)
    assert settled.failures == [] and len(ops(faults, "CopySnapshot")) == 2


# -- failure isolation -----------------------------------------------------------------------
def test_one_resource_failing_never_stops_the_others(faults: Behaviour) -> None:
    denied, doomed, fine = volume(), volume(), volume()
    database("app-db")
    faults.fail(
        "CreateSnapshot", "UnauthorizedOperation", match=lambda kw: kw["VolumeId"] == denied
    )
    ec2 = boto3.client("ec2", region_name=REGION)
    faults.before(
        "CreateSnapshot",
        lambda kw: ec2.delete_volume(VolumeId=doomed) if kw["VolumeId"] == doomed else None,
    )
    policy = make_policy(kinds=["ebs-volume", "rds-instance"])
    run = make_run(policy, clients())
    run_backup(run)
    assert sorted(f.code for f in run.failures) == [
        "InvalidVolume.NotFound",
        "UnauthorizedOperation",
    ]
    assert {s["VolumeId"] for s in ebs_snapshots(REGION)} == {fine}
    assert len(db_snapshots(REGION)) == 1
    first = ebs_snapshots(REGION)[0]["SnapshotId"]
    faults.fail(
        "CopySnapshot", "InvalidParameterValue", match=lambda kw: kw["SourceSnapshotId"] == first
    )
    ship = make_run(policy, clients())
    run_ship(ship)
    assert [f.code for f in ship.failures] == ["InvalidParameterValue"]
    assert len(db_snapshots(BACKUP)) == 1
    # Re-runs without the faults finish the job and duplicate nothing.
    faults.injected.clear()
    faults.injected.clear()
    again = make_run(policy, clients())
    run_backup(again)
    assert again.failures == []
    assert {s["VolumeId"] for s in ebs_snapshots(REGION)} == {fine, denied}
    assert len(lines(again, "adopt")) == 2  # the fine volume and the database
    run_ship(make_run(policy, clients()))
    copies = [tags_of(c)[T.COPY_OF] for c in ebs_snapshots(BACKUP)]
    assert sorted(copies) == sorted(s["SnapshotId"] for s in ebs_snapshots(REGION))
    assert len(db_snapshots(BACKUP)) == 1


def test_a_listing_denied_skips_that_kind_and_creates_nothing_blind(faults: Behaviour) -> None:
    volume()
    database("app-db")
    policy = make_policy(kinds=["ebs-volume", "rds-instance"])
    run_backup(make_run(policy, clients()))
    faults.fail("DescribeDBSnapshots", "AccessDenied")
    run = make_run(policy, clients(), now=NOW + timedelta(days=1))
    run_backup(run)
    # Listed in the source region, and in the backup region for the quota's headroom.
    assert {(f.what, f.code) for f in run.failures} == {
        ("rds-db-snapshot snapshots (eu-west-1)", "AccessDenied"),
        ("rds-db-snapshot snapshots (eu-central-1)", "AccessDenied"),
    }
    assert "its snapshots could not be listed; not creating one blind" in output(run)
    faults.injected.clear()
    assert len(ebs_snapshots(REGION)) == 2 and len(db_snapshots(REGION)) == 1


def test_delete_in_use_is_a_failure_and_the_rest_are_deleted(faults: Behaviour) -> None:
    volume()
    volume()
    policy = make_policy(kinds=EBS)
    for day in range(6):
        run_backup(make_run(policy, clients(), now=NOW + timedelta(days=day)))
        run_ship(make_run(policy, clients(), now=NOW + timedelta(days=day)))
    oldest = min(ebs_snapshots(REGION), key=lambda s: tags_of(s)[T.PERIOD])["SnapshotId"]
    faults.fail(
        "DeleteSnapshot", "InvalidSnapshot.InUse", match=lambda kw: kw["SnapshotId"] == oldest
    )
    run = make_run(policy, clients(), now=NOW + timedelta(days=6))
    result = run_prune(run)
    assert [f.code for f in run.failures] == ["InvalidSnapshot.InUse"]
    assert result.deleted == sum(v.delete for v in result.verdicts) - 1 > 0
    assert oldest in {s["SnapshotId"] for s in ebs_snapshots(REGION)}


def test_cli_lists_failures_and_exits_1(
    faults: Behaviour,
    tmp_path: Any,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    denied, fine = volume(), volume()
    faults.fail(
        "CreateSnapshot", "UnauthorizedOperation", match=lambda kw: kw["VolumeId"] == denied
    )
    monkeypatch.setattr("runners.commands.policyrun.sessions_for", lambda policy: clients())
    config = write_config(tmp_path, kinds=EBS)
    assert cli.main(["backup", "--policy", "daily", "--config", str(config)]) == 1
    out, err = capsys.readouterr()
    assert f"create  ebs-volume      {fine}" in out
    assert "1 failed:" in err
    assert f"ebs-volume {denied} (eu-west-1): CreateSnapshot: UnauthorizedOperation" in err
    faults.injected.clear()
    assert cli.main(["backup", "--policy", "daily", "--config", str(config)]) == 0
    assert "created 1 snapshot of 1 resource; adopted 1, skipped 0" in capsys.readouterr().out
    assert cli.main(["ship", "--policy", "daily", "--config", str(config), "--dry-run"]) == 0
    assert "dry run, nothing changed: would start 2 copies" in capsys.readouterr().out
    assert ebs_snapshots(BACKUP) == []
