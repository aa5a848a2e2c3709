"""Backup, ship, prune and report from end to end against the moto server, in two regions."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import timedelta
from pathlib import Path

import boto3
import pytest

from runners.aws.embedded import EmbeddedAWS
from runners.backup import tags as T
from runners.backup.copier import run_ship
from runners.backup.creator import OnDemand, run_backup
from runners.backup.prune import run_prune
from runners.backup.report import build, junit, markdown
from tests.backup_world import (
    ALIAS,
    BACKUP,
    NOW,
    REGION,
    REGION2,
    cluster,
    cluster_snapshots,
    database,
    db_snapshots,
    ebs_snapshots,
    instance,
    kms_alias,
    lines,
    make_policy,
    make_run,
    output,
    tags_of,
    volume,
    write_config,
)
from tests.conftest import run_cli


@pytest.fixture
def world(aws: EmbeddedAWS) -> dict[str, str]:
    kms_alias()
    return {
        "plain": volume(),
        "secret": volume(encrypted=True),
        "untagged": volume(tags={"backup": "never"}),
        "west2": volume(region=REGION2),
        "db": database("app-db"),
        "aurora": cluster("app-aurora"),
    }


def test_backup_tags_every_selected_resource_once(world: dict[str, str]) -> None:
    policy = make_policy(regions=[REGION, REGION2])
    run = make_run(policy)
    result = run_backup(run)
    assert run.failures == []
    assert len(lines(run, "create")) == 5  # 3 volumes (2 regions), 1 database, 1 cluster
    snaps = ebs_snapshots(REGION, **{T.POLICY: "daily"})
    assert {s["VolumeId"] for s in snaps} == {world["plain"], world["secret"]}
    tags = tags_of(snaps[0])
    assert tags[T.MANAGED_BY] == "runners"
    assert tags[T.PERIOD] == "2026-03-10"
    assert tags[T.RETENTION_CLASS] == T.SCHEDULED
    assert tags[T.RUN_ID] == run.run_id
    assert tags[T.SOURCE_ID] == snaps[0]["VolumeId"]
    assert tags[T.KIND] == "ebs-volume"
    assert [s["VolumeId"] for s in ebs_snapshots(REGION2)] == [world["west2"]]
    assert [tags_of(s)[T.SOURCE_ID] for s in db_snapshots(REGION)] == ["app-db"]
    assert db_snapshots(REGION)[0]["DBSnapshotIdentifier"] == "runners-daily-app-db-2026-03-10"
    assert [tags_of(s)[T.SOURCE_ID] for s in cluster_snapshots(REGION)] == ["app-aurora"]
    assert len(result.created) == 5


def test_second_run_in_the_same_period_adopts(world: dict[str, str]) -> None:
    policy = make_policy()
    run_backup(make_run(policy))
    before = len(ebs_snapshots(REGION)) + len(db_snapshots(REGION)) + len(cluster_snapshots(REGION))
    again = make_run(policy, now=NOW + timedelta(hours=5))
    result = run_backup(again)
    assert again.failures == []
    assert result.created == []
    assert len(lines(again, "adopt")) == 4
    assert "already covers period 2026-03-10" in output(again)
    after = len(ebs_snapshots(REGION)) + len(db_snapshots(REGION)) + len(cluster_snapshots(REGION))
    assert after == before
    next_day = make_run(policy, now=NOW + timedelta(days=1))
    assert len(run_backup(next_day).created) == 4


def test_dry_run_prints_the_same_plan_and_changes_nothing(world: dict[str, str]) -> None:
    policy = make_policy()
    dry = make_run(policy, dry_run=True)
    run_backup(dry)
    assert dry.failures == []
    assert ebs_snapshots(REGION) == [] and db_snapshots(REGION) == []
    real = make_run(policy)
    run_backup(real)
    assert lines(dry, "create") == lines(real, "create")
    ship_dry = make_run(policy, dry_run=True)
    run_ship(ship_dry)
    assert ebs_snapshots(BACKUP) == []
    assert all(T.COPIED_TO not in tags_of(s) for s in ebs_snapshots(REGION))
    ship_real = make_run(policy)
    run_ship(ship_real)
    assert lines(ship_dry, "copy") == lines(ship_real, "copy")
    assert len(lines(ship_real, "copy")) == 4


def test_ship_copies_links_and_re_encrypts(world: dict[str, str]) -> None:
    policy = make_policy()
    run_backup(make_run(policy))
    key_arn = boto3.client("kms", region_name=BACKUP).describe_key(KeyId=ALIAS)["KeyMetadata"][
        "Arn"
    ]
    run = make_run(policy)
    result = run_ship(run)
    assert run.failures == []
    assert len(result.started) == 4
    copies = {tags_of(c)[T.COPY_OF]: c for c in ebs_snapshots(BACKUP)}
    for src in ebs_snapshots(REGION):
        copy = copies[src["SnapshotId"]]
        assert tags_of(copy)[T.COPY_OF_REGION] == REGION
        assert tags_of(copy)[T.TAKEN_AT] == tags_of(src)[T.TAKEN_AT]
        assert tags_of(copy)[T.SOURCE_ID] == src["VolumeId"]
        assert tags_of(src)[T.COPIED_TO] == BACKUP
        if src["Encrypted"]:
            assert copy["KmsKeyId"] == key_arn
    db_copy = db_snapshots(BACKUP)[0]
    assert tags_of(db_copy)[T.COPY_OF] == db_snapshots(REGION)[0]["DBSnapshotArn"]
    assert db_copy["KmsKeyId"] == key_arn
    assert tags_of(db_snapshots(REGION)[0])[T.COPIED_TO] == BACKUP
    assert (
        tags_of(cluster_snapshots(BACKUP)[0])[T.COPY_OF]
        == cluster_snapshots(REGION)[0]["DBClusterSnapshotArn"]
    )
    # Resume from tags alone: a second run finds every copy and starts none.
    again = make_run(policy)
    assert run_ship(again).started == []
    assert len(lines(again, "skip")) == 4
    assert len(ebs_snapshots(BACKUP)) == 2


def test_instance_snapshot_set_covers_its_tagged_volumes(aws: EmbeddedAWS) -> None:
    kms_alias()
    data = volume()
    inst = instance(data_volume=data)
    run = make_run(make_policy(kinds=["ebs-volume", "ec2-instance"]))
    run_backup(run)
    assert run.failures == []
    assert f"attached to {inst}: in its instance snapshot" in output(run)
    snaps = ebs_snapshots(REGION)
    assert len(snaps) == 2  # root and data volume, one call, no separate volume snapshot
    assert {tags_of(s)[T.SOURCE_ID] for s in snaps} == {inst}
    assert data in {s["VolumeId"] for s in snaps}


def test_on_demand_is_its_own_class_with_reason_and_requester(world: dict[str, str]) -> None:
    policy = make_policy(kinds=["ebs-volume"])
    run_backup(make_run(policy))
    run = make_run(policy)
    run_backup(run, OnDemand("before the Postgres 16 upgrade; ticket #42", "alice"))
    on_demand = [s for s in ebs_snapshots(REGION) if tags_of(s)[T.RETENTION_CLASS] == T.ON_DEMAND]
    assert len(on_demand) == 2
    tags = tags_of(on_demand[0])
    assert tags[T.REASON] == "before the Postgres 16 upgrade_ ticket _42"
    assert tags[T.REQUESTED_BY] == "alice"
    assert tags[T.PERIOD] == run.run_id


def test_prune_applies_retention_in_both_regions(world: dict[str, str]) -> None:
    policy = make_policy(kinds=["ebs-volume", "rds-instance"])
    for day in range(8):
        when = NOW + timedelta(days=day)
        run_backup(make_run(policy, now=when))
        run_ship(make_run(policy, now=when))
    later = NOW + timedelta(days=7, hours=1)
    plan = make_run(policy, now=later, dry_run=True)
    planned = run_prune(plan)
    doomed = {v.snapshot.key for v in planned.verdicts if v.delete}
    # 10-15 March are ISO week 11, 16-17 week 12. daily=3 keeps the 15th to 17th; weekly=2 the
    # newest of each week (17th, 15th); monthly=1 the 17th. 5 of 8 go, per resource and region.
    assert len(doomed) == 5 * 3 * 2
    assert len(ebs_snapshots(REGION)) == 16  # the dry run deleted nothing
    run = make_run(policy, now=later)
    result = run_prune(run)
    assert run.failures == []
    assert result.deleted == len(doomed)
    assert {v.snapshot.key for v in result.verdicts if v.delete} == doomed
    kept = sorted(
        tags_of(s)[T.PERIOD] for s in ebs_snapshots(REGION) if s["VolumeId"] == world["plain"]
    )
    assert kept == ["2026-03-15", "2026-03-16", "2026-03-17"]
    copies = sorted(
        tags_of(s)[T.PERIOD]
        for s in ebs_snapshots(BACKUP)
        if tags_of(s)[T.SOURCE_ID] == world["plain"]
    )
    assert copies == kept
    assert len(db_snapshots(REGION)) == 3 and len(db_snapshots(BACKUP)) == 3


def test_report_breaches_then_passes(world: dict[str, str]) -> None:
    policy = make_policy(kinds=["ebs-volume", "rds-instance"])
    empty = build(make_run(policy))
    assert (
        len(empty.breaches) == len(empty.rows) == 3 * 2
    )  # two volumes and a database, two regions
    run_backup(make_run(policy))
    half = build(make_run(policy, now=NOW + timedelta(hours=1)))
    assert {r.place.region for r in half.breaches} == {BACKUP}
    run_ship(make_run(policy))
    fine = build(make_run(policy, now=NOW + timedelta(hours=2)))
    assert fine.breaches == [] and fine.failures == []
    late = build(make_run(policy, now=NOW + timedelta(hours=30)))
    assert len(late.breaches) == 6
    text = markdown(late)
    assert "**BREACH**" in text and "older than 26 h" in text
    xml = junit(late)
    assert 'failures="6"' in xml and "RPO 26 h breached: 30.0 h old" in xml


def test_report_lists_orphans_and_foreign_snapshots(world: dict[str, str]) -> None:
    policy = make_policy(kinds=["ebs-volume"])
    run_backup(make_run(policy))
    run_ship(make_run(policy))
    ec2 = boto3.client("ec2", region_name=REGION)
    ec2.delete_volume(VolumeId=world["secret"])
    foreign = ec2.create_snapshot(VolumeId=world["plain"])["SnapshotId"]
    ec2.create_tags(
        Resources=[foreign], Tags=[{"Key": "aws:backup:source-resource", "Value": world["plain"]}]
    )
    report = build(make_run(policy))
    assert {s.source_id for s in report.orphans} == {world["secret"]}
    assert {s.place.region for s in report.orphans} == {REGION, BACKUP}
    assert [(s.id, s.foreign_owner) for s in report.foreign] == [(foreign, "AWS Backup")]
    text = markdown(report)
    assert foreign in text and "AWS Backup" in text
    # Prune never touches the foreign snapshot, even when told to delete everything it may.
    pruned = run_prune(make_run(policy, now=NOW + timedelta(days=400)))
    assert foreign not in {v.snapshot.id for v in pruned.verdicts}
    assert foreign in {s["SnapshotId"] for s in ebs_snapshots(REGION)}


def test_the_cli_as_jenkins_runs_it(world: dict[str, str], tmp_path: Path) -> None:
    config = write_config(tmp_path, kinds=["ebs-volume"])
    md, xml = tmp_path / "out" / "report.md", tmp_path / "out" / "rpo.xml"
    report = (
        "report",
        "--policy",
        "daily",
        "--config",
        str(config),
        "--markdown",
        str(md),
        "--junit",
        str(xml),
    )
    breached = run_cli(*report)
    assert breached.returncode == 1
    assert md.read_text() == breached.stdout
    suite = ET.parse(xml).getroot().find("testsuite")  # noqa: S314  # our own file
    assert suite is not None and (suite.get("tests"), suite.get("failures")) == ("4", "4")
    for command in ("backup", "ship"):
        done = run_cli(command, "--policy", "daily", "--config", str(config))
        assert done.returncode == 0, done.stderr
    assert "started 2 copies" in done.stdout
    pruned = run_cli(
        "prune", "--policy", "daily", "--config", str(config), "--dry-run", "--max-deletions", "0"
    )
    assert pruned.returncode == 0 and "would delete 0 of 4 snapshots, keep 4" in pruned.stdout
    fine = run_cli(*report)
    assert fine.returncode == 0, fine.stdout
    assert 'failures="0"' in xml.read_text()
