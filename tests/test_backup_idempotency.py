"""No duplicate and no silent gap when AWS loses answers, throttles, or two runs race.

All against the behaviour layer (runners/aws/behaviour.py): botocore's own retries
run, and a lost answer means AWS did the work and the client never heard.
"""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from pathlib import Path

import boto3
import pytest

from runners.aws.behaviour import Behaviour
from runners.backup import tags as T
from runners.backup.copier import run_ship
from runners.backup.creator import run_backup
from tests.backup_world import (
    BACKUP,
    REGION,
    database,
    db_snapshots,
    ebs_snapshots,
    instance,
    kms_alias,
    make_policy,
    make_run,
    output,
    tags_of,
    volume,
    write_config,
)


@pytest.fixture
def world(layer: Behaviour) -> Behaviour:
    kms_alias()
    return layer


def per_source(snaps: list[dict[str, object]]) -> Counter[tuple[str, str]]:
    return Counter((tags_of(s)[T.SOURCE_ID], tags_of(s)[T.PERIOD]) for s in snaps)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "action", ["CreateSnapshot", "CreateSnapshots", "CreateDBSnapshot", "CreateDBClusterSnapshot"]
)
def test_a_lost_create_is_adopted_not_repeated(world: Behaviour, action: str) -> None:
    volume()
    instance(data_volume=volume())
    database("app-db")
    boto3.client("rds", region_name=REGION).create_db_cluster(
        DBClusterIdentifier="app-aurora",
        Engine="aurora-postgresql",
        MasterUsername="admin1",
        MasterUserPassword="not-a-secret-1",
        Tags=[{"Key": "backup", "Value": "daily"}],
    )
    world.lose(action)
    run = make_run(make_policy())
    run_backup(run)
    assert run.failures == []
    assert world.count("lost response") == 1
    assert "adopted" in output(run)
    ebs = ebs_snapshots(REGION)
    assert len(ebs) == 3  # the volume, and the instance's two volumes in one set
    assert max(per_source(ebs).values()) in (1, 2)  # the instance's set is two snapshots
    assert len({tags_of(s)[T.SOURCE_ID] for s in ebs}) == 2
    assert len(db_snapshots(REGION)) == 1
    rds = boto3.client("rds", region_name=REGION)
    assert len(rds.describe_db_cluster_snapshots(SnapshotType="manual")["DBClusterSnapshots"]) == 1


@pytest.mark.parametrize("action", ["CopySnapshot", "CopyDBSnapshot"])
def test_a_lost_copy_is_adopted_not_repeated(world: Behaviour, action: str) -> None:
    volume(encrypted=True)
    database("app-db")
    policy = make_policy(kinds=["ebs-volume", "rds-instance"])
    run_backup(make_run(policy))
    world.lose(action)
    run = make_run(policy)
    result = run_ship(run)
    assert run.failures == [] and world.count("lost response") == 1
    assert len(result.started) == 2
    assert len(ebs_snapshots(BACKUP)) == 1 and len(db_snapshots(BACKUP)) == 1


def test_a_failed_rds_snapshot_does_not_block_its_name(world: Behaviour) -> None:
    database("app-db")
    policy = make_policy(kinds=["rds-instance"])
    run_backup(make_run(policy))
    [first] = db_snapshots(REGION)
    world.fail_later(REGION, first["DBSnapshotIdentifier"])  # it failed inside AWS
    again = make_run(policy)
    run_backup(again)
    assert again.failures == []
    names = sorted(s["DBSnapshotIdentifier"] for s in db_snapshots(REGION))
    assert names == [first["DBSnapshotIdentifier"], first["DBSnapshotIdentifier"] + "-try2"]


def test_many_lost_answers_and_throttling_make_no_duplicate(world: Behaviour) -> None:
    for _ in range(8):
        volume()
    database("db-1")
    database("db-2")
    world.settings.lose = 0.4
    world.settings.throttle = 0.15
    policy = make_policy(kinds=["ebs-volume", "rds-instance"])
    for _ in range(2):  # at most one re-run finishes the job
        run_backup(make_run(policy))
        run_ship(make_run(policy))
    assert world.count("lost response") > 0 and world.count("random throttle") > 0
    world.settings.lose = world.settings.throttle = 0.0
    for region in (REGION, BACKUP):
        ebs = per_source(ebs_snapshots(region))
        assert len(ebs) == 8 and set(ebs.values()) == {1}, region
        assert sorted(per_source(db_snapshots(region)).values()) == [1, 1], region


def test_two_runs_at_once_in_two_processes_make_one_snapshot_each(
    world: Behaviour, tmp_path: Path
) -> None:
    for _ in range(6):
        volume()
    database("app-db")
    config = write_config(tmp_path, kinds=["ebs-volume", "rds-instance"])
    argv = [sys.executable, "-m", "runners", "backup", "--policy", "daily", "--config", str(config)]
    runs = [subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)]
    runs.append(subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    outs = [r.communicate(timeout=120) for r in runs]
    assert [r.returncode for r in runs] == [0, 0], outs
    ebs = per_source(ebs_snapshots(REGION))
    assert len(ebs) == 6 and set(ebs.values()) == {1}
    assert len(db_snapshots(REGION)) == 1
    summaries = sorted(out.strip().splitlines()[-1] for out, _ in outs)
    assert summaries == [
        "created 0 snapshots of 0 resources; adopted 7, skipped 0",
        "created 7 snapshots of 7 resources; adopted 0, skipped 0",
    ]
