"""Quotas as quotas: per-volume pending limits by type, copies counted account-wide,
option groups and the resources' own tags carried onto snapshots and copies."""

from __future__ import annotations

from dataclasses import replace

import boto3
import pytest

from runners.aws.behaviour import Behaviour
from runners.backup import tags as T
from runners.backup.copier import run_ship
from runners.backup.creator import OnDemand, run_backup
from tests.backup_world import (
    BACKUP,
    REGION,
    Clock,
    db_snapshots,
    ebs_snapshots,
    kms_alias,
    make_policy,
    make_run,
    output,
    tag_list,
    tags_of,
    volume,
)

FOREVER = 10**7


@pytest.fixture
def world(layer: Behaviour) -> Behaviour:
    kms_alias()
    return layer


def typed_volume(volume_type: str) -> str:
    made = boto3.client("ec2", region_name=REGION).create_volume(
        AvailabilityZone=f"{REGION}a",
        Size=500,
        VolumeType=volume_type,  # type: ignore[arg-type]
        TagSpecifications=[{"ResourceType": "volume", "Tags": tag_list({"backup": "daily"})}],
    )
    return str(made["VolumeId"])


def test_an_sc1_volume_gets_one_pending_snapshot_a_gp3_five(world: Behaviour) -> None:
    cold, warm = typed_volume("sc1"), typed_volume("gp3")
    world.settings.snapshot_seconds = FOREVER
    policy = make_policy(kinds=["ebs-volume"])
    run_backup(make_run(policy), OnDemand("before the migration"))
    second = make_run(policy)
    run_backup(second, OnDemand("again"))
    assert [f.what for f in second.failures] == [f"ebs-volume {cold} (eu-west-1)"]
    assert "1 snapshots of it are still pending (limit 1)" in str(second.failures[0])
    counts = {v: sum(s["VolumeId"] == v for s in ebs_snapshots(REGION)) for v in (cold, warm)}
    assert counts == {cold: 1, warm: 2}


def test_aws_refusing_a_pending_snapshot_fails_that_volume_at_once(world: Behaviour) -> None:
    vol = typed_volume("st1")
    world.settings.snapshot_seconds = FOREVER
    boto3.client("ec2", region_name=REGION).create_snapshot(VolumeId=vol)  # someone else's
    clock = Clock()
    run = make_run(make_policy(kinds=["ebs-volume"]), clock=clock)
    run_backup(run)
    [failure] = run.failures
    assert (failure.code, clock.slept) == ("ConcurrentSnapshotLimitExceeded", [])
    assert "quota EBS pending snapshots per volume reached" in failure.message


def test_copies_in_flight_are_counted_account_wide(world: Behaviour) -> None:
    mine = volume()
    others = [volume(tags={"team": "data"}) for _ in range(3)]
    ec2 = boto3.client("ec2", region_name=REGION)
    theirs = [ec2.create_snapshot(VolumeId=v)["SnapshotId"] for v in others]
    policy = replace(
        make_policy(kinds=["ebs-volume"]), limits=replace(make_policy().limits, ebs_copies=3)
    )
    run_backup(make_run(policy))
    world.settings.copy_seconds = FOREVER
    dest = boto3.client("ec2", region_name=BACKUP)
    for snap in theirs:  # another team's copies hold the destination's slots
        dest.copy_snapshot(SourceRegion=REGION, SourceSnapshotId=snap)
    run = make_run(policy)
    result = run_ship(run)
    assert result.started == [] and result.deferred == 1
    assert "3 ebs copies already in flight to eu-central-1" in output(run)
    world.complete()
    assert len(run_ship(make_run(policy)).started) == 1
    assert mine in {tags_of(s).get(T.SOURCE_ID) for s in ebs_snapshots(BACKUP)}


def test_copy_tags_reach_snapshots_and_copies(world: Behaviour) -> None:
    vol = volume(tags={"backup": "daily", "owner": "alice", "cost-centre": "42", "other": "x"})
    policy = replace(make_policy(kinds=["ebs-volume"]), copy_tags=("owner", "cost-centre"))
    run_backup(make_run(policy))
    run_ship(make_run(policy))
    for region in (REGION, BACKUP):
        [snap] = ebs_snapshots(region)
        tags = tags_of(snap)
        assert (tags["owner"], tags["cost-centre"], tags[T.SOURCE_ID]) == ("alice", "42", vol)
        assert "other" not in tags


def test_a_copy_names_a_non_default_option_group(world: Behaviour) -> None:
    rds = boto3.client("rds", region_name=REGION)
    rds.create_option_group(
        OptionGroupName="app-options",
        EngineName="postgres",
        MajorEngineVersion="13",
        OptionGroupDescription="app",
    )
    rds.create_db_instance(
        DBInstanceIdentifier="app-db",
        Engine="postgres",
        DBInstanceClass="db.t3.micro",
        AllocatedStorage=20,
        MasterUsername="admin1",
        MasterUserPassword="not-a-secret-1",
        OptionGroupName="app-options",
        Tags=tag_list({"backup": "daily"}),
    )
    policy = make_policy(kinds=["rds-instance"])
    run_backup(make_run(policy))
    assert tags_of(db_snapshots(REGION)[0])[T.OPTION_GROUP] == "app-options"
    run_ship(make_run(policy))
    [copy] = [c for c in world.calls if c.action == "CopyDBSnapshot"]
    assert copy.params["OptionGroupName"] == "app-options"
