"""Backup and ship against moto: AWS calls per EBS snapshot and wall time, vs the naive loop.

Ours: 1,000 tagged volumes, 50 tagged instances (one root volume each) and
50 tagged RDS instances, one ``backup`` and one ``ship`` run of a policy with
the default limits. The baseline is the simplest possible loop over the same
1,000 volumes on a fresh server: create a snapshot, describe it, copy it,
describe the copy. Calls are counted with a botocore ``before-send`` hook, so
retries and every describe count. Also the retention decision (and the rails
after it) over 100,000 snapshots.

Moto answers in microseconds where AWS takes tens of milliseconds, so the
wall times compare the two loops with each other, not with production.
"""

from __future__ import annotations

import gc
import io
import os
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3

from benchmarks.common import Row
from runners.aws.embedded import EmbeddedAWS
from runners.aws.session import SessionFactory
from runners.backup import tags as T
from runners.backup.context import Run
from runners.backup.copier import run_ship
from runners.backup.creator import run_backup
from runners.backup.model import Place, Snapshot
from runners.backup.policy import Limits, Policy, Retention
from runners.backup.prune import Facts, apply_rails
from runners.backup.retention import decide
from runners.backup.selection import Selection

REGION, BACKUP, ALIAS = "eu-west-1", "eu-central-1", "alias/runners-backup"
VOLUMES, INSTANCES, DATABASES = 1000, 50, 50
TAGS = [{"Key": "backup", "Value": "daily"}]
SNAPSHOTS = 100_000
NAME = "backup"

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
    limits=Limits(),
)


class Calls:
    """Counts HTTP requests by service and operation, retries included.

    Also times the DescribeSnapshots calls that filter on tags: moto evaluates a tag
    filter by scanning every tag in the region for every snapshot, so one listing of a
    thousand snapshots takes tens of seconds there and milliseconds in AWS.
    """

    def __init__(self, session: boto3.Session) -> None:
        self.by_op: Counter[str] = Counter()
        self.tag_filter_seconds = 0.0
        self._started: float | None = None
        session.events.register("before-send", self._count)
        session.events.register("provide-client-params.ec2.DescribeSnapshots", self._start)
        session.events.register("after-call.ec2.DescribeSnapshots", self._stop)

    def _count(self, **kwargs: Any) -> None:
        _, service, op = kwargs["event_name"].split(".", 2)
        self.by_op[f"{service}:{op}"] += 1

    def _start(self, params: dict[str, Any], **_: Any) -> None:
        tagged = any(f.get("Name", "").startswith("tag") for f in params.get("Filters", []))
        self._started = time.perf_counter() if tagged else None

    def _stop(self, **_: Any) -> None:
        if self._started is not None:
            self.tag_filter_seconds += time.perf_counter() - self._started

    def total(self, *services: str) -> int:
        return sum(n for key, n in self.by_op.items() if key.split(":")[0] in services)


def seed(with_others: bool) -> None:
    ec2 = boto3.client("ec2", region_name=REGION)
    for _ in range(VOLUMES):
        ec2.create_volume(
            AvailabilityZone=f"{REGION}a",
            Size=1,
            TagSpecifications=[{"ResourceType": "volume", "Tags": TAGS}],
        )
    kms = boto3.client("kms", region_name=BACKUP)
    kms.create_alias(AliasName=ALIAS, TargetKeyId=kms.create_key()["KeyMetadata"]["KeyId"])
    if not with_others:
        return
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


def ours() -> tuple[float, Calls, int, int]:
    base = boto3.Session()
    calls = Calls(base)
    run = Run(policy=POLICY, clients=SessionFactory(base=base), out=io.StringIO())
    started = time.perf_counter()
    backup = run_backup(run)
    ship_run = Run(policy=POLICY, clients=run.clients, out=io.StringIO())
    shipped = run_ship(ship_run)
    wall = time.perf_counter() - started
    failures = run.failures + ship_run.failures
    if failures:
        raise RuntimeError(f"benchmark run failed: {failures[:3]}")
    ebs = sum(1 for s in backup.created if s.kind != "rds-instance")
    rds = len(backup.created) - ebs
    copied = sum(1 for s in shipped.started if s.kind != "rds-instance")
    if copied != ebs or shipped.deferred:
        raise RuntimeError(
            f"ship copied {copied} of {ebs} EBS snapshots, deferred {shipped.deferred}"
        )
    return wall, calls, ebs, rds


def naive() -> tuple[float, Calls]:
    base = boto3.Session()
    calls = Calls(base)
    src, dst = base.client("ec2", region_name=REGION), base.client("ec2", region_name=BACKUP)
    volumes = [
        v["VolumeId"]
        for p in src.get_paginator("describe_volumes").paginate()
        for v in p["Volumes"]
    ]
    calls.by_op.clear()  # the baseline is given its volumes for free
    started = time.perf_counter()
    for vol in volumes:
        snap = src.create_snapshot(VolumeId=vol)["SnapshotId"]
        src.describe_snapshots(SnapshotIds=[snap])
        copy = dst.copy_snapshot(SourceRegion=REGION, SourceSnapshotId=snap)["SnapshotId"]
        dst.describe_snapshots(SnapshotIds=[copy])
    return time.perf_counter() - started, calls


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
    saved = dict(os.environ)
    try:
        aws.apply_to(os.environ)
        seed(with_others=True)
        wall, calls, ebs, rds = ours()
        aws.reset()
        seed(with_others=False)
        naive_wall, naive_calls = naive()
    finally:
        os.environ.clear()
        os.environ.update(saved)
        aws.stop()
    per_ebs = calls.total("ec2", "kms", "sts") / ebs
    per_naive = naive_calls.total("ec2") / VOLUMES
    print(f"   {ebs} EBS and {rds} RDS snapshots made and shipped; calls by operation:")
    for op, n in sorted(calls.by_op.items()):
        print(f"     {op:<34} {n}")
    return [
        Row(
            NAME,
            "AWS calls per EBS snapshot, backup+ship",
            per_ebs,
            per_naive,
            "calls",
            "<= 2.2",
            per_ebs <= 2.2,
        ),
        Row(
            NAME,
            "AWS calls per RDS snapshot, backup+ship",
            calls.total("rds") / rds,
            None,
            "calls",
            "-",
            None,
        ),
        Row(
            NAME,
            f"backup+ship wall time (ours: +{INSTANCES} inst, +{DATABASES} RDS)",
            wall,
            naive_wall,
            "s",
            "-",
            None,
        ),
        Row(
            NAME,
            "the same, less moto's tag-filtered listings",
            wall - calls.tag_filter_seconds,
            naive_wall,
            "s",
            "-",
            None,
        ),
        *retention_rows(),
    ]
