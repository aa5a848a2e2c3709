"""The behaviour layer does what AWS documents: each test cites its source.

The layer (runners/aws/behaviour.py) is a proxy on loopback in front of the moto
server. These tests talk to it with plain boto3 clients, as the backup code does.
"""

from __future__ import annotations

import time

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, ConnectionClosedError

from runners.aws.behaviour import Behaviour
from tests.backup_world import BACKUP, REGION, database

ONCE = Config(retries={"mode": "standard", "total_max_attempts": 1})


def ec2(region: str = REGION, config: Config | None = None) -> object:
    return boto3.client("ec2", region_name=region, config=config)


def new_volume(volume_type: str = "gp3") -> str:
    iops = {"Iops": 3000} if volume_type.startswith("io") else {}
    made = boto3.client("ec2", region_name=REGION).create_volume(
        AvailabilityZone=f"{REGION}a",
        Size=125,
        VolumeType=volume_type,  # type: ignore[arg-type]
        **iops,  # type: ignore[arg-type]
    )
    return str(made["VolumeId"])


def code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc.value.response["Error"]["Code"])


# "Request throttling for the Amazon EC2 API": each API has its own bucket; mutating
# actions hold 50 tokens and refill 5 a second, and a request over the limit gets
# RequestLimitExceeded. Non-mutating (Describe*) hold 100 and refill 20; unfiltered and
# unpaginated DescribeVolumes/DescribeSnapshots/DescribeInstances draw on a bucket of 50.
def test_ec2_throttles_by_its_documented_token_buckets(layer: Behaviour) -> None:
    layer.settings.buckets = True
    layer.settings.speedup = 1e-6  # time stands still: no refill while the test runs
    client = boto3.client("ec2", region_name=REGION, config=ONCE)
    vol = new_volume()  # CreateVolume's own bucket, not CreateTags'
    for _ in range(50):
        client.create_tags(Resources=[vol], Tags=[{"Key": "k", "Value": "v"}])
    with pytest.raises(ClientError) as refused:
        client.create_tags(Resources=[vol], Tags=[{"Key": "k", "Value": "v"}])
    assert code(refused) == "RequestLimitExceeded"
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 503
    client.describe_tags()  # another API: its own bucket
    for _ in range(50):
        client.describe_volumes()
    with pytest.raises(ClientError) as unfiltered:
        client.describe_volumes()
    assert code(unfiltered) == "RequestLimitExceeded"
    for _ in range(100):  # filtered: the larger non-mutating bucket
        client.describe_volumes(Filters=[{"Name": "volume-id", "Values": [vol]}])
    with pytest.raises(ClientError):
        client.describe_volumes(Filters=[{"Name": "volume-id", "Values": [vol]}])
    layer.settings.speedup = 100  # 5 tokens an AWS second: 0.05 wall seconds a token
    time.sleep(0.25)
    client.create_tags(Resources=[vol], Tags=[{"Key": "k", "Value": "v"}])


# "Request throttling for the Amazon RDS API": 300 requests in a burst and 12 a second
# sustained, per account and region, answered with Throttling "Rate exceeded".
def test_rds_throttles_at_300_then_12_a_second(layer: Behaviour) -> None:
    layer.settings.buckets = True
    layer.settings.speedup = 1e-6
    rds = boto3.client("rds", region_name=REGION, config=ONCE)
    for _ in range(300):
        rds.describe_db_instances()
    with pytest.raises(ClientError) as refused:
        rds.describe_db_snapshots()  # one bucket for every RDS action
    assert (code(refused), refused.value.response["Error"]["Message"]) == (
        "Throttling",
        "Rate exceeded",
    )
    layer.settings.speedup = 100
    time.sleep(0.1)  # 10 AWS seconds: 120 tokens
    for _ in range(100):
        rds.describe_db_instances()


def test_botocore_retries_meet_the_throttling(layer: Behaviour) -> None:
    layer.fail("DescribeVolumes", "RequestLimitExceeded", times=2)
    boto3.client("ec2", region_name=REGION).describe_volumes()  # botocore's standard retries
    assert [c.action for c in layer.calls].count("DescribeVolumes") == 3


def test_a_lost_response_was_performed_and_botocore_resends_it(layer: Behaviour) -> None:
    vol = new_volume()
    layer.lose("CreateSnapshot")
    boto3.client("ec2", region_name=REGION).create_snapshot(VolumeId=vol)
    # The first was done and its answer dropped; botocore's retry made a second one:
    # the duplicate runners must not make (runners.backup.once).
    assert len(ec2().describe_snapshots(OwnerIds=["self"])["Snapshots"]) == 2  # type: ignore[attr-defined]
    layer.lose("CreateSnapshot")
    with pytest.raises(ConnectionClosedError):
        ec2(config=ONCE).create_snapshot(VolumeId=vol)  # type: ignore[attr-defined]


# EC2 DescribeSnapshots reports State pending with a Progress percentage until the
# snapshot completes; copying one still pending fails with IncorrectState "Snapshot is
# in invalid state - pending" (as EBS answers for a pending snapshot, e.g. velero #1799).
def test_snapshots_and_copies_stay_pending_with_progress(layer: Behaviour) -> None:
    layer.settings.snapshot_seconds = layer.settings.copy_seconds = 40.0
    layer.settings.speedup = 10  # 4 wall seconds: slow enough for a loaded machine
    vol = new_volume()
    # The layer starts the clock somewhere between these two instants.
    started = time.monotonic()
    snap = ec2().create_snapshot(VolumeId=vol)  # type: ignore[attr-defined]
    answered = time.monotonic()
    assert snap["State"] == "pending"
    time.sleep(1.0)
    [seen] = ec2().describe_snapshots(SnapshotIds=[snap["SnapshotId"]])["Snapshots"]  # type: ignore[attr-defined]
    elapsed = time.monotonic() - started
    assert seen["State"] == "pending"
    assert 20 <= int(seen["Progress"].rstrip("%")) <= min(99, elapsed / 4 * 100 + 1)
    dest = ec2(BACKUP)
    with pytest.raises(ClientError) as early:
        dest.copy_snapshot(SourceRegion=REGION, SourceSnapshotId=snap["SnapshotId"])  # type: ignore[attr-defined]
    assert code(early) == "IncorrectState"
    assert "pending" in early.value.response["Error"]["Message"]
    time.sleep(max(0.0, 4.1 - (time.monotonic() - answered)))
    [done] = ec2().describe_snapshots(SnapshotIds=[snap["SnapshotId"]])["Snapshots"]  # type: ignore[attr-defined]
    assert (done["State"], done["Progress"]) == ("completed", "100%")
    copy = dest.copy_snapshot(SourceRegion=REGION, SourceSnapshotId=snap["SnapshotId"])  # type: ignore[attr-defined]
    pending = dest.describe_snapshots(  # type: ignore[attr-defined]
        OwnerIds=["self"], Filters=[{"Name": "status", "Values": ["pending"]}]
    )["Snapshots"]
    assert [s["SnapshotId"] for s in pending] == [copy["SnapshotId"]]


# RDS DescribeDBSnapshots: Status creating with PercentProgress; CopyDBSnapshot of a
# snapshot that is not available fails with InvalidDBSnapshotState (API reference).
def test_rds_snapshots_stay_creating(layer: Behaviour) -> None:
    layer.settings.snapshot_seconds = 10**6
    database("app-db", encrypted=False)
    rds = boto3.client("rds", region_name=REGION)
    made = rds.create_db_snapshot(DBSnapshotIdentifier="s1", DBInstanceIdentifier="app-db")
    assert made["DBSnapshot"]["Status"] == "creating"
    [seen] = rds.describe_db_snapshots(DBSnapshotIdentifier="s1")["DBSnapshots"]
    assert seen["Status"] == "creating" and seen["PercentProgress"] < 100
    with pytest.raises(ClientError) as early:
        boto3.client("rds", region_name=BACKUP).copy_db_snapshot(
            SourceDBSnapshotIdentifier=seen["DBSnapshotArn"],
            TargetDBSnapshotIdentifier="c1",
            SourceRegion=REGION,
        )
    assert code(early) == "InvalidDBSnapshotState"
    layer.complete("s1")
    [done] = rds.describe_db_snapshots(DBSnapshotIdentifier="s1")["DBSnapshots"]
    assert done["Status"] == "available"


# "Amazon EBS endpoints and quotas": concurrent (pending) snapshots per volume are 5 for
# gp2, gp3, io1 and io2 volumes and 1 for st1 and sc1 volumes.
@pytest.mark.parametrize(("volume_type", "limit"), [("gp3", 5), ("io2", 5), ("sc1", 1), ("st1", 1)])
def test_pending_snapshots_per_volume_follow_the_volume_type(
    layer: Behaviour, volume_type: str, limit: int
) -> None:
    layer.settings.snapshot_seconds = 10**6
    vol = new_volume(volume_type)
    client = ec2(config=ONCE)
    for _ in range(limit):
        client.create_snapshot(VolumeId=vol)  # type: ignore[attr-defined]
    with pytest.raises(ClientError) as refused:
        client.create_snapshot(VolumeId=vol)  # type: ignore[attr-defined]
    assert code(refused) == "ConcurrentSnapshotLimitExceeded"
    layer.complete()
    client.create_snapshot(VolumeId=vol)  # type: ignore[attr-defined]


# "Amazon EBS endpoints and quotas": 20 concurrent snapshot copies per destination region.
def test_twenty_copies_in_flight_per_destination_region(layer: Behaviour) -> None:
    vol = new_volume()
    snaps = [ec2().create_snapshot(VolumeId=vol)["SnapshotId"] for _ in range(21)]  # type: ignore[attr-defined]
    layer.settings.copy_seconds = 10**6
    dest = ec2(BACKUP, ONCE)
    for snap in snaps[:20]:
        dest.copy_snapshot(SourceRegion=REGION, SourceSnapshotId=snap)  # type: ignore[attr-defined]
    with pytest.raises(ClientError) as refused:
        dest.copy_snapshot(SourceRegion=REGION, SourceSnapshotId=snaps[20])  # type: ignore[attr-defined]
    assert code(refused) == "ResourceLimitExceeded"
    ec2("eu-west-2", ONCE).copy_snapshot(SourceRegion=REGION, SourceSnapshotId=snaps[20])  # type: ignore[attr-defined]


# "Quotas and constraints for Amazon RDS": 100 manual DB snapshots per region.
def test_one_hundred_manual_rds_snapshots_per_region(layer: Behaviour) -> None:
    database("app-db", encrypted=False)
    rds = boto3.client("rds", region_name=REGION, config=ONCE)
    for n in range(100):
        rds.create_db_snapshot(DBSnapshotIdentifier=f"s{n}", DBInstanceIdentifier="app-db")
    with pytest.raises(ClientError) as refused:
        rds.create_db_snapshot(DBSnapshotIdentifier="s100", DBInstanceIdentifier="app-db")
    assert code(refused) == "SnapshotQuotaExceeded"
    assert "100" in refused.value.response["Error"]["Message"]


# A region that is down answers nothing: every request signed for it (SigV4 credential
# scope) has its connection closed unperformed; other regions carry on.
def test_a_region_down_refuses_every_request_signed_for_it(layer: Behaviour) -> None:
    s3 = boto3.client("s3", region_name=REGION, config=ONCE)
    s3.create_bucket(
        Bucket="runners-outage-test", CreateBucketConfiguration={"LocationConstraint": REGION}
    )
    with layer.outage(REGION):
        for call in (
            lambda: ec2(config=ONCE).describe_volumes(),  # type: ignore[attr-defined]
            lambda: s3.list_objects_v2(Bucket="runners-outage-test"),
            lambda: boto3.client("rds", region_name=REGION, config=ONCE).describe_db_instances(),
        ):
            with pytest.raises(ConnectionClosedError):
                call()
        with pytest.raises(ConnectionClosedError):
            ec2(config=ONCE).create_volume(AvailabilityZone=f"{REGION}a", Size=1)  # type: ignore[attr-defined]
        ec2(BACKUP, ONCE).describe_volumes()  # type: ignore[attr-defined]
    assert ec2().describe_volumes()["Volumes"] == []  # type: ignore[attr-defined]  # nothing done
