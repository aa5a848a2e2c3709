"""``verify-restore`` against the moto server: restore, check, delete, time; leave nothing behind.

Moto makes every restore usable at once and never fails one. Where the
tests need AWS to be slower or worse, a thin fault injector hooks botocore's
own event system on the real clients (``Faults`` below): it rewrites what a
describe call answers (a volume still ``creating``, a restore of the wrong
size) or raises the error code AWS would (``InsufficientDBInstanceCapacity``).
The waiters, the checks and the deletes are the real ones.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from runners import cli
from runners.aws.embedded import EmbeddedAWS
from runners.aws.session import SessionFactory
from runners.backup import tags as T
from runners.backup.copier import run_ship
from runners.backup.creator import run_backup
from runners.dr import verify_report
from runners.dr.settings import VerifySettings
from runners.dr.tags import NAME_PREFIX, VERIFY, throwaway_tags
from runners.dr.verify import VerifyRun, run_verify
from tests.backup_world import (
    BACKUP,
    cluster,
    database,
    instance,
    kms_alias,
    make_policy,
    make_run,
    volume,
    write_config,
)

KINDS = ["ebs-volume", "ec2-instance", "rds-instance", "aurora-cluster"]
FAST = VerifySettings(timeout_minutes=1, poll_seconds=1, parallel=2)


class Faults:
    """Rewrites answers and raises errors through botocore's event hooks on real clients."""

    def __init__(self, factory: SessionFactory) -> None:
        self.factory = factory
        self.seen: dict[str, int] = {}

    def _client(self, service: str) -> Any:
        return self.factory.client(service, BACKUP)

    def answer(self, service: str, op: str, rewrite: Callable[[dict[str, Any], int], None]) -> None:
        """After each ``op``, ``rewrite(parsed, n)`` edits the answer (n: how many calls so far)."""

        def hook(parsed: dict[str, Any], **_: Any) -> None:
            self.seen[op] = self.seen.get(op, 0) + 1
            rewrite(parsed, self.seen[op])

        self._client(service).meta.events.register(f"after-call.{service}.{op}", hook)

    def error(self, service: str, op: str, code: str) -> None:
        def hook(**_: Any) -> None:
            raise ClientError({"Error": {"Code": code, "Message": "injected by the test"}}, op)

        self._client(service).meta.events.register(f"before-call.{service}.{op}", hook)


@pytest.fixture
def shipped(aws: EmbeddedAWS) -> dict[str, str]:
    """Two volumes (one encrypted), an instance, a database and an Aurora cluster; shipped twice."""
    kms_alias()
    made = {
        "plain": volume(),
        "secret": volume(encrypted=True),
        "server": instance(),
        "db": database("app-db"),
        "aurora": cluster("app-aurora"),
    }
    policy = make_policy(kinds=KINDS)
    # Two daily periods: yesterday's backup and today's (now), whatever the hour;
    # now minus a couple of hours would fall on yesterday just after midnight.
    now = datetime.now(UTC)
    for when in (now - timedelta(days=1), now):
        for step in (run_backup, run_ship):
            run = make_run(policy, now=when)
            step(run)
            assert run.failures == []
    return made


def left_behind() -> list[str]:
    """Every throwaway anything could have left in the backup region."""
    ec2 = boto3.client("ec2", region_name=BACKUP)
    rds = boto3.client("rds", region_name=BACKUP)
    vols = ec2.describe_volumes(Filters=[{"Name": "tag-key", "Values": [VERIFY]}])["Volumes"]
    dbs = [d["DBInstanceIdentifier"] for d in rds.describe_db_instances()["DBInstances"]]
    clusters = [c["DBClusterIdentifier"] for c in rds.describe_db_clusters()["DBClusters"]]
    return [v["VolumeId"] for v in vols] + [n for n in dbs + clusters if n.startswith(NAME_PREFIX)]


def verify(factory: SessionFactory | None = None, settings: VerifySettings = FAST) -> VerifyRun:
    run = VerifyRun(make_policy(kinds=KINDS), factory or SessionFactory(), settings)
    return run_verify(run)


def test_every_newest_copy_is_restored_checked_timed_and_deleted(shipped: dict[str, str]) -> None:
    run = verify()
    assert run.failures == []
    assert sorted((o.kind, o.source_id) for o in run.outcomes) == sorted(
        [
            ("aurora-cluster", "app-aurora"),
            ("ebs-volume", shipped["plain"]),
            ("ebs-volume", shipped["secret"]),
            ("ec2-instance", shipped["server"]),
            ("rds-instance", "app-db"),
        ]
    )
    for o in run.outcomes:
        assert o.passed, o
        assert o.restored_as and o.seconds_to_usable is not None
        assert o.taken_at > datetime.now(UTC) - timedelta(hours=3)  # the newest of two days
    assert left_behind() == []
    report = verify_report.markdown(run)
    assert "**RTO evidence:** the slowest restore took" in report
    assert "Result: **passed**." in report


def test_a_restore_still_creating_is_waited_for(shipped: dict[str, str]) -> None:
    factory = SessionFactory()
    faults = Faults(factory)

    polls: dict[str, int] = {}

    def creating_twice(parsed: dict[str, Any], n: int) -> None:
        for vol in parsed.get("Volumes", []):
            polls[vol["VolumeId"]] = polls.get(vol["VolumeId"], 0) + 1
            if polls[vol["VolumeId"]] <= 2 and vol.get("State") == "available":
                vol["State"] = "creating"

    faults.answer("ec2", "DescribeVolumes", creating_twice)
    run = verify(factory, VerifySettings(timeout_minutes=1, poll_seconds=1, parallel=1))
    volumes = [o for o in run.outcomes if o.kind in ("ebs-volume", "ec2-instance")]
    assert all(o.passed for o in run.outcomes)
    # The waiter polled through "creating" (one second apart) before each volume was usable.
    for o in volumes:
        assert o.seconds_to_usable is not None and o.seconds_to_usable >= 2
        assert polls[str(o.restored_as)] >= 3
    assert left_behind() == []


def test_a_failed_check_is_reported_and_the_restore_still_deleted(
    shipped: dict[str, str],
) -> None:
    factory = SessionFactory()

    def too_small(parsed: dict[str, Any], n: int) -> None:
        for vol in parsed.get("Volumes", []):
            if vol.get("VolumeId") and vol.get("State") == "available":
                vol["Size"] = 0

    Faults(factory).answer("ec2", "DescribeVolumes", too_small)
    run = verify(factory)
    bad = [o for o in run.outcomes if o.kind in ("ebs-volume", "ec2-instance")]
    assert len(bad) == 3  # two volumes, and the instance's root volume
    for o in bad:
        (problem,) = o.problems
        assert problem.startswith("size is 0 GiB, expected ")
        assert o.cleanup == "deleted"
    assert [o.passed for o in run.outcomes if o not in bad] == [True, True]
    assert not run.passed
    assert left_behind() == []
    suite = ET.fromstring(verify_report.junit(run))  # noqa: S314  # XML this run wrote
    assert suite.get("failures") == "3"


def test_a_restore_that_never_becomes_usable_is_deleted(shipped: dict[str, str]) -> None:
    factory = SessionFactory()

    def stuck(parsed: dict[str, Any], n: int) -> None:
        for db in parsed.get("DBInstances", []):
            if db["DBInstanceIdentifier"].startswith(NAME_PREFIX):
                db["DBInstanceStatus"] = "creating"

    Faults(factory).answer("rds", "DescribeDBInstances", stuck)
    run = verify(factory, VerifySettings(timeout_minutes=0.05, poll_seconds=1))
    (db,) = [o for o in run.outcomes if o.kind == "rds-instance"]
    assert db.error == "not usable within 0.05 min (last seen creating)"
    assert db.cleanup == "deleted"
    assert [o.passed for o in run.outcomes if o.kind != "rds-instance"] == [True] * 4
    assert left_behind() == []


def test_a_refused_restore_is_reported_and_the_others_go_on(shipped: dict[str, str]) -> None:
    factory = SessionFactory()
    Faults(factory).error(
        "rds", "RestoreDBInstanceFromDBSnapshot", "InsufficientDBInstanceCapacity"
    )
    run = verify(factory)
    (db,) = [o for o in run.outcomes if o.kind == "rds-instance"]
    assert db.error is not None and "InsufficientDBInstanceCapacity" in db.error
    assert db.restored_as is None and db.cleanup == "nothing to delete"
    assert sum(o.passed for o in run.outcomes) == 4
    assert left_behind() == []


def test_leftovers_of_earlier_runs_are_removed_but_a_running_one_is_left(
    shipped: dict[str, str],
) -> None:
    ec2 = boto3.client("ec2", region_name=BACKUP)
    snap = ec2.describe_snapshots(
        OwnerIds=["self"], Filters=[{"Name": f"tag:{T.COPY_OF}", "Values": ["*"]}]
    )["Snapshots"][0]["SnapshotId"]

    def throwaway(run_id: str, started: datetime) -> str:
        tags = throwaway_tags(run_id, "daily", snap, started)
        made = ec2.create_volume(
            SnapshotId=snap,
            AvailabilityZone=f"{BACKUP}a",
            TagSpecifications=[{"ResourceType": "volume", "Tags": T.as_list(tags)}],  # type: ignore[list-item]
        )
        return str(made["VolumeId"])

    killed = throwaway("20260101T000000Z-dead00", datetime.now(UTC) - timedelta(hours=3))
    running = throwaway("20260101T000000Z-busy00", datetime.now(UTC) - timedelta(seconds=10))
    run = verify()
    assert [(s.throwaway.id, s.result) for s in run.sweeps] == [(killed, "deleted")]
    assert left_behind() == [running]
    assert run.passed
    assert f"`{killed}`: deleted" in verify_report.markdown(run)


def test_the_command_writes_markdown_and_junit(
    shipped: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_config(tmp_path, kinds=KINDS)
    path.write_text(path.read_text() + "\n[dr.verify]\npoll_seconds = 1\ntimeout_minutes = 5\n")
    code = cli.main(
        [
            "verify-restore",
            "--policy",
            "daily",
            "--config",
            str(path),
            "--markdown",
            str(tmp_path / "verify.md"),
            "--junit",
            str(tmp_path / "verify.xml"),
        ]
    )
    assert code == 0
    assert "Result: **passed**." in capsys.readouterr().out
    assert (tmp_path / "verify.md").read_text().startswith("### Restore check: policy `daily`")
    suite = ET.fromstring((tmp_path / "verify.xml").read_text())  # noqa: S314  # written by the test
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("5", "0", "0")
    assert left_behind() == []
