"""Backup and ship through the behaviour layer: AWS's rate limits, quotas and pending times.

1,000 tagged volumes (800 gp3, 200 sc1), 50 tagged instances (one root volume
each) and 50 tagged RDS instances, one ``backup`` and one ``ship`` run of a
policy with the default limits, through ``runners.aws.behaviour`` with AWS's
documented token buckets, snapshots pending ``SNAPSHOT_SECONDS`` and copies
``COPY_SECONDS`` (AWS time), everything time-scaled by ``SPEEDUP``. The run's
own clock and sleeps are scaled by the same factor.

The lower bound is what the token buckets and the copy quota allow for that
work, run as Jenkins runs it (backup, then ship):

- backup: the CreateSnapshot calls beyond the 50-token mutating bucket, at 5 a
  second (CreateSnapshots and RDS calls fit in their buckets);
- ship: the larger of (the EBS copies in waves of 20 in flight, each
  ``COPY_SECONDS``), (the CopySnapshot calls beyond the bucket, at 5 a second,
  plus one copy time), and (the RDS copies in waves of ``rds_copies``).

Calls are counted by the layer, so retries and every describe count.
Then the same world again with 10% of answers lost and 10% of calls throttled:
no duplicates, and every resource backed up and shipped after at most one re-run.
Also the retention decision (and the rails after it) over 100,000 snapshots.
"""

from __future__ import annotations

import gc
import io
import math
import os
import time
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import boto3

from benchmarks.common import Row
from runners.aws import behaviour
from runners.aws.behaviour import Behaviour, Settings
from runners.aws.embedded import EmbeddedAWS
from runners.aws.session import SessionFactory
from runners.backup import tags as T
from runners.backup.context import Run
from runners.backup.copier import ShipResult, run_ship
from runners.backup.creator import BackupResult, run_backup
from runners.backup.model import Place, Snapshot
from runners.backup.policy import Limits, Policy, Retention
from runners.backup.prune import Facts, apply_rails
from runners.backup.retention import decide
from runners.backup.selection import Selection

REGION, BACKUP, ALIAS = "eu-west-1", "eu-central-1", "alias/runners-backup"
GP3, SC1, INSTANCES, DATABASES = 800, 200, 50, 50
TAGS = [{"Key": "backup", "Value": "daily"}]
SNAPSHOTS = 100_000
NAME = "backup"
SPEEDUP = 300.0  # AWS seconds per wall second
SNAPSHOT_SECONDS = 60.0  # how long a new snapshot stays pending (AWS time)
COPY_SECONDS = 900.0  # how long a copy stays pending (AWS time): 15 minutes
# The faulty run is judged on duplicates and re-runs, not time: shorter copies.
FAULTY_COPY_SECONDS = 60.0
NOW = datetime(2026, 3, 10, 2, 0, tzinfo=UTC)

POLICY = Policy(
    name="daily",
    schedule="daily",
    selection=Selection(
        tags={"backup": "daily"},
        kinds=("ebs-volume", "ec2-instance", "rds-instance"),
        regions=(REGION,),
    ),
    backup_region=BACKUP,
    kms_key_alias=ALIAS,
    rpo_hours=26,
    limits=Limits(ship_wait_minutes=24 * 60, poll_seconds=30),
)


def seed() -> None:
    ec2 = boto3.client("ec2", region_name=REGION)
    for n in range(GP3 + SC1):
        ec2.create_volume(
            AvailabilityZone=f"{REGION}a",
            Size=125,
            VolumeType="gp3" if n < GP3 else "sc1",
            TagSpecifications=[{"ResourceType": "volume", "Tags": TAGS}],
        )
    kms = boto3.client("kms", region_name=BACKUP)
    kms.create_alias(AliasName=ALIAS, TargetKeyId=kms.create_key()["KeyMetadata"]["KeyId"])
    ec2.run_instances(
        ImageId="ami-12c6146b",
        MinCount=INSTANCES,
        MaxCount=INSTANCES,
        TagSpecifications=[{"ResourceType": "instance", "Tags": TAGS}],
    )
    rds = boto3.client("rds", region_name=REGION)
    for n in range(DATABASES):
        rds.create_db_instance(
            DBInstanceIdentifier=f"db-{n}",
            Engine="postgres",
            DBInstanceClass="db.t3.micro",
            AllocatedStorage=20,
            MasterUsername="bench",
            MasterUserPassword=os.urandom(8).hex(),
            StorageEncrypted=True,
            Tags=TAGS,
        )


def scaled_run(clients: SessionFactory, now: datetime) -> Run:
    return Run(
        policy=POLICY,
        clients=clients,
        now=now,
        out=io.StringIO(),
        sleep=lambda seconds: time.sleep(seconds / SPEEDUP),
        clock=lambda: time.monotonic() * SPEEDUP,
    )


def backup_and_ship(
    clients: SessionFactory, now: datetime
) -> tuple[BackupResult, ShipResult, list[object]]:
    run = scaled_run(clients, now)
    made = run_backup(run)
    ship = scaled_run(clients, now)
    shipped = run_ship(ship)
    return made, shipped, [*run.failures, *ship.failures]


def lower_bound(ebs: int, rds: int) -> float:
    """Wall seconds the token buckets and the copy quota allow at the least."""
    capacity, refill = behaviour.EC2_MUTATING
    create = max(0.0, (GP3 + SC1 - capacity) / refill)
    waves = math.ceil(ebs / behaviour.COPIES_PER_REGION) * COPY_SECONDS
    copy_calls = max(0.0, (ebs - capacity) / refill) + COPY_SECONDS
    rds_waves = math.ceil(rds / POLICY.limits.rds_copies) * COPY_SECONDS
    return (create + max(waves, copy_calls, rds_waves)) / SPEEDUP


def duplicates() -> int:
    """Snapshots beyond one per resource, period and region, sources and copies."""
    seen: Counter[tuple[str, ...]] = Counter()
    for region in (REGION, BACKUP):
        pages = boto3.client("ec2", region_name=region).get_paginator("describe_snapshots")
        for page in pages.paginate(OwnerIds=["self"]):
            for snap in page["Snapshots"]:
                tags = T.from_list(snap.get("Tags"))
                seen[
                    (
                        region,
                        tags.get(T.SOURCE_ID, ""),
                        tags.get(T.PERIOD, ""),
                        snap.get("VolumeId", "")
                        if region == REGION
                        else tags.get(T.SOURCE_VOLUME, ""),
                    )
                ] += 1
        rds = boto3.client("rds", region_name=region)
        for page in rds.get_paginator("describe_db_snapshots").paginate(SnapshotType="manual"):
            for snap in page["DBSnapshots"]:
                tags = T.from_list(snap.get("TagList"))
                seen[(region, "rds", tags.get(T.SOURCE_ID, ""), tags.get(T.PERIOD, ""))] += 1
    return sum(n - 1 for n in seen.values())


def clean_run(layer: Behaviour) -> tuple[list[Row], dict[str, int]]:
    layer.reset(
        Settings(
            speedup=SPEEDUP,
            buckets=True,
            snapshot_seconds=SNAPSHOT_SECONDS,
            copy_seconds=COPY_SECONDS,
        )
    )
    clients = SessionFactory(base=boto3.Session())
    started = time.perf_counter()
    made, shipped, failures = backup_and_ship(clients, NOW)
    wall = time.perf_counter() - started
    if failures or shipped.deferred:
        raise RuntimeError(f"benchmark run failed: {failures[:3]}, deferred {shipped.deferred}")
    ebs = sum(1 for s in made.created if s.kind != "rds-instance")
    rds = len(made.created) - ebs
    by_op = Counter(f"{c.service}:{c.action}" for c in layer.calls)
    ebs_calls = sum(n for op, n in by_op.items() if op.split(":")[0] in ("ec2", "kms", "sts"))
    bound = lower_bound(ebs, rds)
    dups = duplicates()
    print(f"   {ebs} EBS and {rds} RDS snapshots made and shipped; calls by operation:")
    for op, n in sorted(by_op.items()):
        print(f"     {op:<34} {n}")
    print(f"   throttled: {layer.count('token bucket')}")
    rows = [
        Row(
            NAME,
            "backup+ship wall time vs the buckets' and copy quota's bound",
            wall,
            bound,
            "s",
            "<= 1.25x",
            wall <= 1.25 * bound,
        ),
        Row(
            NAME,
            "AWS calls per EBS snapshot, retries included",
            ebs_calls / ebs,
            None,
            "calls",
            "<= 2.2",
            ebs_calls / ebs <= 2.2,
        ),
        Row(
            NAME,
            "AWS calls per RDS snapshot, retries included",
            by_op_total(by_op, "rds") / rds,
            None,
            "calls",
            "-",
            None,
        ),
        Row(NAME, "duplicate snapshots or copies", dups, None, "", "0", dups == 0),
    ]
    return rows, dict(by_op)


def by_op_total(by_op: Counter[str], service: str) -> int:
    return sum(n for op, n in by_op.items() if op.startswith(service + ":"))


def faulty_run(layer: Behaviour) -> list[Row]:
    """10% of answers lost and 10% of calls throttled: no duplicate, all done by one re-run."""
    layer.reset(
        Settings(
            speedup=SPEEDUP,
            buckets=True,
            snapshot_seconds=SNAPSHOT_SECONDS,
            copy_seconds=FAULTY_COPY_SECONDS,
            lose=0.10,
            throttle=0.10,
            seed=16,
        )
    )
    clients = SessionFactory(base=boto3.Session())
    later = NOW + timedelta(days=1)
    runs = 0
    done = False
    while runs < 2 and not done:
        runs += 1
        backup_and_ship(clients, later)
        layer_settings = layer.settings
        layer.settings = replace(layer_settings, lose=0.0, throttle=0.0)
        done = shipped_everything_for(later)
        layer.settings = layer_settings
    lost, throttled = layer.count("lost response"), layer.count("random throttle")
    layer.settings = replace(layer.settings, lose=0.0, throttle=0.0)
    dups = duplicates()
    print(f"   faulty: {lost} answers lost, {throttled} calls throttled, {runs} runs")
    return [
        Row(NAME, "10% lost + 10% throttled: duplicates", dups, None, "", "0", dups == 0),
        Row(
            NAME,
            "10% lost + 10% throttled: runs until all backed up and shipped",
            runs,
            None,
            "runs",
            "<= 2",
            done and runs <= 2,
        ),
    ]


def shipped_everything_for(when: datetime) -> bool:
    period = f"{when:%Y-%m-%d}"
    ec2 = boto3.client("ec2", region_name=BACKUP)
    ebs = 0
    for page in ec2.get_paginator("describe_snapshots").paginate(
        OwnerIds=["self"], Filters=[{"Name": f"tag:{T.PERIOD}", "Values": [period]}]
    ):
        ebs += sum(1 for s in page["Snapshots"] if s["State"] == "completed")
    rds = boto3.client("rds", region_name=BACKUP).describe_db_snapshots(SnapshotType="manual")
    db = sum(
        1
        for s in rds["DBSnapshots"]
        if s["Status"] == "available" and T.from_list(s.get("TagList")).get(T.PERIOD) == period
    )
    return ebs >= GP3 + SC1 + INSTANCES and db >= DATABASES


def synthetic(count: int) -> list[Snapshot]:
    """``count`` snapshots: 1,000 resources x daily backups, a few on-demand, some copies."""
    now = datetime(2026, 1, 1, tzinfo=UTC)
    per = count // 1000
    out = []
    for r in range(1000):
        for d in range(per):
            when = now - timedelta(days=d, minutes=r)
            klass = T.ON_DEMAND if d % 17 == 0 else T.SCHEDULED
            tags = {
                T.MANAGED_BY: "runners",
                T.POLICY: "daily",
                T.KIND: "ebs-volume",
                T.SOURCE_ID: f"vol-{r}",
                T.RETENTION_CLASS: klass,
                T.PERIOD: f"{when:%Y-%m-%d}" if klass == T.SCHEDULED else f"od{d}",
                T.TAKEN_AT: T.format_time(when),
            }
            region = BACKUP if r % 2 else REGION
            out.append(
                Snapshot(
                    id=f"snap-{r}-{d}",
                    kind="ebs-volume",
                    place=Place(None, region),
                    state="completed",
                    started=when,
                    tags=tags,
                    volume_id=f"vol-{r}",
                )
            )
    return out


def retention_rows() -> list[Row]:
    """Best of three, each on freshly built snapshots, so nothing is cached between runs.

    The target is judged on the process's CPU time: the decision is pure CPU, and on a
    shared machine wall time also counts the other processes. Both are printed.
    """
    now = datetime(2026, 1, 1, 6, tzinfo=UTC)
    retention = Retention(daily=7, weekly=4, monthly=12, yearly=2, on_demand_days=30)
    cpu, wall, rails = [], [], []
    for _ in range(3):
        snaps = synthetic(SNAPSHOTS)
        gc.collect()
        started, clock = time.process_time(), time.perf_counter()
        decisions = decide(snaps, now, retention)
        cpu.append(time.process_time() - started)
        wall.append(time.perf_counter() - clock)
        started = time.process_time()
        apply_rails(snaps, decisions, Facts("daily", BACKUP, {}, max_deletions=10**6))
        rails.append(time.process_time() - started)
    return [
        Row(
            NAME,
            "retention decision, 100,000 snapshots (CPU)",
            min(cpu),
            None,
            "s",
            "< 1 s",
            min(cpu) < 1.0,
        ),
        Row(NAME, "retention decision, 100,000 snapshots (wall)", min(wall), None, "s", "-", None),
        Row(
            NAME, "safety rails after it, 100,000 snapshots (CPU)", min(rails), None, "s", "-", None
        ),
    ]


def main() -> list[Row]:
    log = Path(__file__).parent / ".cache" / "moto-bench.log"
    log.parent.mkdir(exist_ok=True)
    aws = EmbeddedAWS(log_path=log).start()
    layer = Behaviour(aws.endpoint).start()
    saved = dict(os.environ)
    try:
        aws.apply_to(os.environ)
        seed()  # straight into moto
        os.environ.update(layer.environ())
        rows, _ = clean_run(layer)
        rows += faulty_run(layer)
    finally:
        os.environ.clear()
        os.environ.update(saved)
        layer.stop()
        aws.stop()
    return [*rows, *retention_rows()]
