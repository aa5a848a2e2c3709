"""The report: whole instance backups only, the account, the quota headroom, the job report."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import replace
from pathlib import Path

import boto3
import pytest

from runners.aws.behaviour import Behaviour
from runners.backup import tags as T
from runners.backup.copier import run_ship
from runners.backup.creator import run_backup
from runners.backup.quotas import kept_per_resource
from runners.backup.report import build
from tests.backup_world import (
    BACKUP,
    NOW,
    REGION,
    database,
    ebs_snapshots,
    image,
    instance,
    kms_alias,
    make_policy,
    make_run,
    policy_text,
    tags_of,
    volume,
)
from tests.conftest import run_cli


@pytest.fixture
def world(layer: Behaviour) -> Behaviour:
    kms_alias()
    return layer


def test_an_instance_is_ok_only_when_every_volume_has_its_copy(world: Behaviour) -> None:
    inst = instance(data_volume=volume(tags={"Name": "data"}))
    policy = make_policy(kinds=["ec2-instance"])
    run_backup(make_run(policy))
    run_ship(make_run(policy))
    fine = build(make_run(policy))
    assert fine.breaches == []
    # One member's copy is lost: the backup region holds half an instance.
    copy = ebs_snapshots(BACKUP)[0]["SnapshotId"]
    boto3.client("ec2", region_name=BACKUP).delete_snapshot(SnapshotId=copy)
    half = build(make_run(policy))
    assert [(r.resource, r.place.region, r.note) for r in half.breaches] == [
        (inst, BACKUP, "no completed backup")
    ]


def test_instance_members_carry_their_volume_device_and_image(world: Behaviour) -> None:
    data = volume(tags={"Name": "data"})
    ami = image()
    inst = instance(data_volume=data, image_id=ami)
    policy = make_policy(kinds=["ec2-instance"])
    run_backup(make_run(policy))
    run_ship(make_run(policy))
    sources = {s["VolumeId"]: tags_of(s) for s in ebs_snapshots(REGION, **{T.SOURCE_ID: inst})}
    assert sources[data][T.DEVICE] == "/dev/sdf"
    assert len(sources) == 2
    for tags in sources.values():
        assert (tags[T.IMAGE_ID], tags[T.IMAGE_NAME]) == (ami, "acme-app-20261020")
        assert tags[T.IMAGE_OWNER] == "123456789012" and tags[T.SOURCE_ID] == inst
    copies = {tags_of(c)[T.SOURCE_VOLUME]: tags_of(c) for c in ebs_snapshots(BACKUP)}
    assert set(copies) == set(sources)
    assert copies[data][T.DEVICE] == "/dev/sdf"


def test_the_account_is_filled_in_from_runners_toml(world: Behaviour, tmp_path: Path) -> None:
    volume()
    config = tmp_path / "runners.toml"
    config.write_text(
        '[environments.production]\nbranch = "production"\nregion = "eu-west-1"\n'
        'account_id = "123456789012"\n\n[stacks.app]\ndir = "."\n\n'
        + policy_text(kinds=["ebs-volume"])
    )
    done = run_cli("report", "--policy", "daily", "--config", str(config))
    assert "| ebs-volume | vol-" in done.stdout
    assert "| 123456789012 | eu-west-1 |" in done.stdout
    assert "| - | eu-west-1 |" not in done.stdout


def test_quota_headroom_and_a_warning_when_retention_cannot_fit(
    world: Behaviour, tmp_path: Path
) -> None:
    for name in ("db-a", "db-b", "db-c"):
        database(name)
    kept = kept_per_resource("daily", make_policy().retention)
    quota = 3 * kept - 1
    text = policy_text(kinds=["rds-instance"]).replace(
        "retries = 4", f"retries = 4\nrds_manual_snapshots = {quota}"
    )
    config = tmp_path / "runners.toml"
    config.write_text(
        '[environments.production]\nbranch = "production"\nregion = "eu-west-1"\n\n'
        '[stacks.app]\ndir = "."\n\n' + text
    )
    dry = run_cli("backup", "--policy", "daily", "--config", str(config), "--dry-run")
    warning = (
        f"warning: RDS manual DB snapshots in eu-west-1: retention keeps about {kept} per "
        f"database x 3 databases = {3 * kept}, plus 0 others already there = {3 * kept}, "
        f"over the quota of {quota} (limits.rds_manual_snapshots); lower policy daily's "
        "retention or ask AWS for a higher quota"
    )
    assert warning in dry.stdout
    report = run_cli("report", "--policy", "daily", "--config", str(config))
    assert "## RDS manual snapshot quota" in report.stdout
    assert f"| eu-west-1 | DB snapshots | 0 | 0 | 3 | {3 * kept} | {quota} | {quota} |" in (
        report.stdout
    )
    assert "**Warning:** RDS manual DB snapshots in eu-west-1" in report.stdout


def test_the_job_report_in_markdown_and_junit(world: Behaviour, tmp_path: Path) -> None:
    plain, secret = volume(), volume(encrypted=True)
    database("app-db")
    policy = make_policy(kinds=["ebs-volume", "rds-instance"])
    backup = make_run(policy)
    run_backup(backup)
    world.settings.copy_seconds = 10**6  # the copies stay pending
    run_ship(make_run(policy))
    from runners.backup import jobs

    report = jobs.build(make_run(policy, now=NOW))
    assert report.run_id == backup.run_id
    assert {(j.resource, j.status) for j in report.jobs} == {
        (plain, "pending"),
        (secret, "pending"),
        ("app-db", "pending"),
    }
    world.complete()
    report = jobs.build(make_run(policy, now=NOW))
    by = {j.resource: j for j in report.jobs}
    assert {j.status for j in report.jobs} == {"completed"}
    assert by[secret].key.startswith(f"arn:aws:kms:{BACKUP}:")
    assert by[plain].size_gib == 1 and by[plain].copies[0].place.region == BACKUP
    assert by[plain].expiry.startswith("kept: daily 2026-03-10")
    text = jobs.markdown(report)
    assert "3 completed" in text and f"| completed | ebs-volume | {plain} | - | eu-west-1 |" in text
    suite = ET.fromstring(jobs.junit(report)).find("testsuite")  # noqa: S314  # our own XML
    assert suite is not None and (suite.get("tests"), suite.get("failures")) == ("3", "0")
    # A copy failing inside AWS fails its job.
    world.fail_later(BACKUP, by[plain].copies[0].id)
    failed = jobs.build(make_run(policy, now=NOW))
    assert {j.resource: j.status for j in failed.jobs}[plain] == "failed"
    assert 'failures="1"' in jobs.junit(failed)


def test_ship_copies_the_images_the_policy_names_once(world: Behaviour) -> None:
    ami = image("acme-app-20261020")
    other = image("scratch-1")
    instance(image_id=ami)
    instance(image_id=other)
    policy = replace(make_policy(kinds=["ec2-instance"]), images=("acme-app-*",))
    run_backup(make_run(policy))
    world.lose("CopyImage")  # botocore resends it; the ClientToken returns the same copy
    first = make_run(policy)
    assert run_ship(first).images == 1 and first.failures == []
    assert world.count("lost response") == 1 and world.count("client token") == 1
    again = run_ship(make_run(policy))
    assert again.images == 0
    copies = boto3.client("ec2", region_name=BACKUP).describe_images(Owners=["self"])["Images"]
    assert len(copies) == 1
    tags = tags_of(copies[0])
    assert (tags[T.COPY_OF], tags[T.COPY_OF_REGION], tags[T.IMAGE_NAME]) == (
        ami,
        REGION,
        "acme-app-20261020",
    )
    assert copies[0]["Name"] == "acme-app-20261020"
