"""``runners dr prepare`` against the moto server: images, zones, snapshots and the key, mapped.

Each finding of issue 15 ("Why") that concerns prepare has a test here:
images without the source region, the state replica in an archive class,
instance backups, volumes and other data nothing restores, the restored
database's key, and the regional literals beyond the variables.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest

from runners import cli
from runners.aws.behaviour import Behaviour
from runners.aws.embedded import EmbeddedAWS
from runners.backup import tags as T
from runners.dr.demo import state_resource
from tests.backup_world import ebs_snapshots, tags_of
from tests.conftest import GitRepoHelper
from tests.dr_world import (
    CERT_SOURCE,
    CUSTOM,
    DEBIAN,
    SECRET,
    SOURCE,
    START_EMPTY,
    TARGET,
    DrWorld,
    backup_and_ship,
    build,
)


@pytest.fixture
def world(aws: EmbeddedAWS, git_repo: GitRepoHelper, tmp_path: Path) -> DrWorld:
    return build(git_repo, tmp_path)


def newest(snaps: list[dict[str, Any]]) -> dict[str, Any]:
    copies = [s for s in snaps if T.COPY_OF in tags_of(s)]
    return max(copies, key=lambda s: tags_of(s)[T.TAKEN_AT])


def newest_copy(volume: str) -> dict[str, Any]:
    """The newest copy of a volume's own backup."""
    return newest(ebs_snapshots(TARGET, **{T.SOURCE_ID: volume}))


def newest_member_copy(volume: str) -> dict[str, Any]:
    """The newest copy of the volume's snapshot in its instance's backup."""
    return newest(ebs_snapshots(TARGET, **{T.SOURCE_VOLUME: volume, T.KIND: "ec2-instance"}))


def newest_db_copy() -> dict[str, Any]:
    snaps = boto3.client("rds", region_name=TARGET).describe_db_snapshots(SnapshotType="manual")
    return max(snaps["DBSnapshots"], key=lambda s: tags_of(s)[T.TAKEN_AT])


def prepare(world: DrWorld, out: Path, *extra: str) -> int:
    return cli.main(
        [
            "dr",
            "prepare",
            "--to-region",
            TARGET,
            "--config",
            str(world.config),
            "--out",
            str(out),
            *extra,
        ]
    )


def tfvars(out: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((out / "client/dr.auto.tfvars.json").read_text())
    return data


def meta(out: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((out / "client/dr.json").read_text())
    return data


def everything_mappable(world: DrWorld) -> None:
    """web-2's baked image was never copied: let it run Debian, as web-1 does."""
    world.servers[1].image = world.debian[SOURCE]
    world.write_state()


def test_prepare_maps_images_zones_snapshots_and_key(
    world: DrWorld, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    everything_mappable(world)
    out = tmp_path / "dr"
    assert prepare(world, out) == 0
    web1, web2 = world.servers
    assert tfvars(out) == {
        "region": TARGET,
        "availability_zones": [f"{TARGET}a", f"{TARGET}b", f"{TARGET}c"],
        # The restored database stays under the backup key: the rds module's restore key.
        "database_kms_key_arn": world.key_arn,
        "ami_ids": {"web-1": world.debian[TARGET], "web-2": world.debian[TARGET]},
        "snapshot_ids": {
            # web-1 is backed up as an instance: its data volume's member of the set.
            "web-1": newest_member_copy(web1.volume)["SnapshotId"],
            "web-2": newest_copy(web2.volume)["SnapshotId"],
        },
        "snapshot_identifier": newest_db_copy()["DBSnapshotIdentifier"],
    }
    runbook = (out / "client/runbook.md").read_text()
    assert "RPO achieved: 3 h 0 min" in runbook
    assert "**met**" in runbook
    assert f"| 0 | {SOURCE}a | {TARGET}a |" in runbook
    assert f"from the instance backup of {web1.instance} /dev/sdf" in runbook
    assert "Point www.acme.example at the new load balancer" in runbook
    assert "## Not mapped" not in runbook
    assert meta(out)["missing"] == [] and meta(out)["state_serial"] == 42
    assert "RPO achieved: 3.0 h" in capsys.readouterr().out


def test_the_newest_completed_copy_wins_over_older_ones(world: DrWorld, tmp_path: Path) -> None:
    everything_mappable(world)
    assert prepare(world, tmp_path / "dr") == 0
    web2 = world.servers[1].volume
    all_copies = [
        s["SnapshotId"]
        for s in ebs_snapshots(TARGET, **{T.SOURCE_ID: web2})
        if T.COPY_OF in tags_of(s)
    ]
    assert len(all_copies) == 2  # two days of backups were shipped
    assert tfvars(tmp_path / "dr")["snapshot_ids"]["web-2"] == newest_copy(web2)["SnapshotId"]


def test_an_image_never_copied_is_listed_and_fails(
    world: DrWorld, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """web-2's baked image: its instance is not backed up, so nothing copied or recorded it."""
    out = tmp_path / "dr"
    assert prepare(world, out) == 1
    printed = capsys.readouterr()
    assert (
        f'NOT MAPPED ami_ids["web-2"]: no copy of {world.custom} in {TARGET}, and neither '
        "the state nor a backup record names it"
    ) in printed.out
    assert "could not be mapped" in printed.err
    # The files are still written, so the runbook shows what is missing.
    assert tfvars(out)["ami_ids"] == {"web-1": world.debian[TARGET]}
    runbook = (out / "client/runbook.md").read_text()
    assert "## Not mapped" in runbook
    assert "the server boots the stack's default image" in runbook


def test_allow_missing_exits_zero_and_still_lists_it(world: DrWorld, tmp_path: Path) -> None:
    assert prepare(world, tmp_path / "dr", "--allow-missing") == 0
    assert [m["what"] for m in meta(tmp_path / "dr")["missing"]] == ['ami_ids["web-2"]']


def test_a_database_without_a_shipped_copy_is_unmappable(
    world: DrWorld, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rds = boto3.client("rds", region_name=TARGET)
    for snap in rds.describe_db_snapshots(SnapshotType="manual")["DBSnapshots"]:
        rds.delete_db_snapshot(DBSnapshotIdentifier=snap["DBSnapshotIdentifier"])
    assert prepare(world, tmp_path / "dr", "--allow-missing") == 0
    out = capsys.readouterr().out
    assert (
        f"NOT MAPPED snapshot_identifier: no completed copy of rds-instance acme-db in {TARGET}"
        in out
    )
    assert tfvars(tmp_path / "dr")["snapshot_identifier"] is None
    assert (
        "the plan creates a new, empty database" in (tmp_path / "dr/client/runbook.md").read_text()
    )


def test_no_secret_from_the_state_is_written_or_printed(
    world: DrWorld, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    prepare(world, tmp_path / "dr", "--allow-missing")
    printed = capsys.readouterr()
    assert SECRET not in printed.out + printed.err
    for path in (tmp_path / "dr").rglob("*"):
        if path.is_file():
            assert SECRET not in path.read_text(), path


def test_the_source_region_is_refused_as_a_target(
    world: DrWorld, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = cli.main(
        [
            "dr",
            "prepare",
            "--to-region",
            SOURCE,
            "--env",
            "production",
            "--config",
            str(world.config),
        ]
    )
    assert code == 2
    assert "is production's own region" in capsys.readouterr().err


# -- Why: images, with the source region down ------------------------------------------------


def test_a_baked_image_is_found_by_its_copy_with_the_source_region_down(
    world: DrWorld,
    layer: Behaviour,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The finding: the baked image was copied ahead of time, yet only the lost region was asked.

    Now web-2's instance is backed up too; the policy names acme-app-* in
    ``images``, so ship copies the image. Then eu-west-1 refuses everything.
    """
    world.back_up_instance("web-2")
    backup_and_ship(datetime.now(UTC) - timedelta(hours=1), on_demand="before the change")
    with layer.outage(SOURCE):
        assert prepare(world, tmp_path / "dr") == 0
    images = {i["variable"]: i for i in meta(tmp_path / "dr")["images"]}
    copy = images['ami_ids["web-2"]']
    assert copy["found_by"] == "copy" and copy["source_image"] == world.custom
    found = boto3.client("ec2", region_name=TARGET).describe_images(
        ImageIds=[copy["target_image"]]
    )["Images"][0]
    assert tags_of(found)[T.COPY_OF] == world.custom
    # web-1 runs the public image: name and owner from its instance backup's record.
    assert images['ami_ids["web-1"]']["found_by"] == "name and owner"
    assert images['ami_ids["web-1"]']["target_image"] == world.debian[TARGET]
    runbook = (tmp_path / "dr/client/runbook.md").read_text()
    assert "its copy, made ahead of time" in runbook and DEBIAN in runbook
    assert CUSTOM in runbook


def test_prepare_never_asks_the_source_region(
    world: DrWorld, layer: Behaviour, tmp_path: Path
) -> None:
    everything_mappable(world)
    with layer.outage(SOURCE):
        assert prepare(world, tmp_path / "dr") == 0
    assert layer.count("region down") == 0, "prepare sent a request to the lost region"


def test_images_are_found_from_the_state_alone(world: DrWorld, tmp_path: Path) -> None:
    """A stack that looked its image up by name and owner: the state names it, no record needed."""
    everything_mappable(world)
    world.write_state(debian_lookup=True)
    ec2 = boto3.client("ec2", region_name=TARGET)
    for snap in ebs_snapshots(TARGET, **{T.KIND: "ec2-instance"}):  # no records left
        ec2.delete_snapshot(SnapshotId=snap["SnapshotId"])
    assert prepare(world, tmp_path / "dr", "--allow-missing") == 0
    assert tfvars(tmp_path / "dr")["ami_ids"] == {
        "web-1": world.debian[TARGET],
        "web-2": world.debian[TARGET],
    }


# -- Why: the state replica ------------------------------------------------------------------


def replica(world: DrWorld, bucket: str = "acme-backup-eu-central-1") -> None:
    world.edit_config(
        "[dr.backend]",
        f'[dr.state]\nbucket = "{bucket}"\nkey = "{{stack}}/{{env}}.tfstate"\n'
        f'region = "{TARGET}"\n\n[dr.backend]',
    )


def put_replica(world: DrWorld, body: bytes, **extra: Any) -> None:
    s3 = boto3.client("s3", region_name=TARGET)
    s3.create_bucket(
        Bucket="acme-backup-eu-central-1",
        CreateBucketConfiguration={"LocationConstraint": TARGET},  # type: ignore[typeddict-item]
    )
    s3.put_object(
        Bucket="acme-backup-eu-central-1", Key="client/production.tfstate", Body=body, **extra
    )


def test_state_is_read_from_the_replica_in_the_backup_region(
    world: DrWorld, tmp_path: Path
) -> None:
    """[dr.state] points prepare at the backup region's copy of the state bucket."""
    put_replica(world, world.state_file.read_bytes())
    world.state_file.unlink()  # the primary region's state is gone
    replica(world)
    assert prepare(world, tmp_path / "dr", "--allow-missing") == 0
    found = meta(tmp_path / "dr")
    assert found["state"] == f"s3://acme-backup-eu-central-1/client/production.tfstate ({TARGET})"
    assert len(found["restores"]) == 3


@pytest.mark.parametrize(
    ("body", "extra", "expected"),
    [
        (None, {}, "NoSuchKey: no such object"),
        (b"{not json", {}, "not JSON (a damaged or partial copy)"),
        (b'{"version": 3}', {}, "format version 3, expected 4"),
        (
            b'{"version": 4}',
            {"StorageClass": "GLACIER"},
            "InvalidObjectState: the object is archived",
        ),
    ],
    ids=["missing", "corrupt", "old-format", "archived"],
)
def test_a_replica_that_cannot_be_read_is_one_line_and_exit_1(
    world: DrWorld,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    body: bytes | None,
    extra: dict[str, Any],
    expected: str,
) -> None:
    """The finding: the replica went to Glacier, and prepare could not read it."""
    if body is None:
        put_replica(world, b"{}")
        boto3.client("s3", region_name=TARGET).delete_object(
            Bucket="acme-backup-eu-central-1", Key="client/production.tfstate"
        )
    else:
        put_replica(world, body, **extra)
    replica(world)
    out = tmp_path / "dr"
    assert prepare(world, out) == 1
    (line,) = [e for e in capsys.readouterr().err.splitlines() if e.startswith("error:")]
    assert line.startswith(
        "error: cannot read the state s3://acme-backup-eu-central-1/client/production.tfstate "
        f"({TARGET}): {expected}"
    )
    assert not out.exists()  # nothing half-prepared is left to plan from


def test_no_local_state_is_one_line(
    world: DrWorld, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    world.state_file.unlink()
    assert prepare(world, tmp_path / "dr") == 1
    assert (
        f"error: cannot read the state {world.state_file}: no such file" in capsys.readouterr().err
    )


# -- Why: instance backups, and what nothing restores ----------------------------------------


def test_a_volume_attached_by_hand_to_a_backed_up_instance_is_listed(
    world: DrWorld, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Its data is in the instance backup, but no volume of the stack is restored from it."""
    everything_mappable(world)
    web1 = world.servers[0]
    ec2 = boto3.client("ec2", region_name=SOURCE)
    extra = ec2.create_volume(AvailabilityZone=web1.zone, Size=5)["VolumeId"]
    ec2.attach_volume(VolumeId=extra, InstanceId=web1.instance, Device="/dev/sdg")
    backup_and_ship(datetime.now(UTC) - timedelta(hours=1), on_demand="before the change")
    assert prepare(world, tmp_path / "dr") == 1
    out = capsys.readouterr().out
    assert (
        f'NOT MAPPED module.server["web-1"].aws_instance.this /dev/sdg: volume {extra} '
        f"(/dev/sdg of {web1.instance}, backed up as snap-"
    ) in out
    # The root volume is rebuilt from the image, never listed.
    assert web1.root not in out


def test_a_volume_no_pattern_covers_is_listed_not_dropped(
    world: DrWorld, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The finding: such a volume got exit 0 and appeared nowhere; it would come back empty."""
    everything_mappable(world)
    world.extra.append(
        state_resource(
            "module.reports",
            "aws_ebs_volume",
            "scratch",
            [{"attributes": {"id": "vol-0aaaabbbbccccdddd", "availability_zone": f"{SOURCE}a"}}],
        )
    )
    world.write_state()
    assert prepare(world, tmp_path / "dr") == 1
    assert (
        "NOT MAPPED module.reports.aws_ebs_volume.scratch: EBS volume vol-0aaaabbbbccccdddd "
        "is not restored" in capsys.readouterr().out
    )
    runbook = (tmp_path / "dr/client/runbook.md").read_text()
    assert (
        "| `module.reports.aws_ebs_volume.scratch` | EBS volume vol-0aaaabbbbccccdddd |" in runbook
    )
    # Said on purpose, it starts empty and is listed as expected.
    world.edit_config("start_empty = [", "start_empty = [\n  'module.reports.*',")
    assert prepare(world, tmp_path / "dr2") == 0
    (row,) = [u for u in meta(tmp_path / "dr2")["starts_empty"] if "scratch" in u["address"]]
    assert row["accepted"] is True


def test_efs_queues_secrets_and_parameters_are_listed_as_starting_empty(
    world: DrWorld, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    everything_mappable(world)
    world.extra += [
        state_resource(
            "module.app",
            "aws_secretsmanager_secret",
            "api_key",
            [{"attributes": {"id": "arn:aws:secretsmanager:x", "name": "acme/api-key"}}],
        ),
        state_resource(
            "module.app",
            "aws_ssm_parameter",
            "feature",
            [{"attributes": {"id": "/acme/feature", "name": "/acme/feature", "value": SECRET}}],
        ),
    ]
    world.write_state()
    world.edit_config(START_EMPTY, "")
    assert prepare(world, tmp_path / "dr") == 1
    out = capsys.readouterr().out
    for line in (
        "NOT MAPPED module.shared.aws_efs_file_system.this: EFS file system fs-0123456789abcdef0",
        'NOT MAPPED module.messaging.aws_sqs_queue.this["orders"]: SQS queue orders',
        "NOT MAPPED module.app.aws_secretsmanager_secret.api_key: Secrets Manager secret acme/api-key",
        "NOT MAPPED module.app.aws_ssm_parameter.feature: SSM parameter /acme/feature",
    ):
        assert line in out, line
    assert SECRET not in out
    runbook = (tmp_path / "dr/client/runbook.md").read_text()
    secrets = runbook[runbook.index("## Secrets and parameters") :]
    assert "`module.app.aws_secretsmanager_secret.api_key`: Secrets Manager secret" in secrets


# -- Why: more than the variables names the lost region --------------------------------------


def test_regional_literals_beyond_the_variables_are_not_mapped_with_file_and_line(
    world: DrWorld, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The finding: the find-and-replace covered variables only; certificate ARNs slipped through."""
    everything_mappable(world)
    assert prepare(world, tmp_path / "ok") == 0  # the DR var file replaces the certificate
    literals = {
        (lit["where"], lit["text"]): lit for lit in meta(tmp_path / "ok")["regional_literals"]
    }
    tfvars_file = "terraform/stacks/client/production.tfvars"
    assert literals[(f"{tfvars_file}:4", CERT_SOURCE)]["mapped_by"] == (
        f"terraform/stacks/client/dr-{TARGET}.tfvars"
    )
    assert literals[(f"{tfvars_file}:2", SOURCE)]["mapped_by"] == "dr.auto.tfvars.json"
    # The stack's code names a subnet of the lost region; the DR file is gone.
    (world.stack_dir / f"dr-{TARGET}.tfvars").unlink()
    main = world.stack_dir / "main.tf"
    main.write_text(
        main.read_text() + '\nlocals {\n  legacy_subnet = "subnet-0123abcd"  # eu-west-1 only\n}\n'
    )
    assert prepare(world, tmp_path / "dr") == 1
    out = capsys.readouterr().out
    line = len(main.read_text().splitlines()) - 1
    assert (
        f"NOT MAPPED {tfvars_file}:4: regional literal {CERT_SOURCE} (variable certificate_arn) "
        f"names {SOURCE}"
    ) in out
    assert (
        f"NOT MAPPED terraform/stacks/client/main.tf:{line}: regional literal subnet-0123abcd (code)"
    ) in out
    assert f"NOT MAPPED var file dr-{TARGET}.tfvars" in out
    # Documentation and comments are not configuration.
    described = next(
        n for n, text in enumerate(main.read_text().splitlines(), 1) if "description" in text
    )
    assert "arn:aws:kms:eu-west-1" in main.read_text().splitlines()[described - 1]
    assert f"main.tf:{described}:" not in out
    assert "eu-west-1 only" not in out
