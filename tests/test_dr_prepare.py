"""``runners dr prepare`` against the moto server: images, zones, snapshots and the key, mapped."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest

from runners import cli
from runners.aws.embedded import EmbeddedAWS
from runners.backup import tags as T
from tests.backup_world import ebs_snapshots, tags_of
from tests.conftest import GitRepoHelper
from tests.dr_world import DEBIAN, SECRET, SOURCE, TARGET, DrWorld, build


@pytest.fixture
def world(aws: EmbeddedAWS, git_repo: GitRepoHelper, tmp_path: Path) -> DrWorld:
    return build(git_repo, tmp_path)


def newest_copy(volume: str) -> dict[str, Any]:
    copies = [s for s in ebs_snapshots(TARGET, **{T.SOURCE_ID: volume}) if T.COPY_OF in tags_of(s)]
    return max(copies, key=lambda s: tags_of(s)[T.TAKEN_AT])


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


def test_prepare_maps_images_zones_snapshots_and_key(
    world: DrWorld, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # web-2 runs a private image that was never copied to the backup region:
    # drop it here so everything else is mappable and the command succeeds.
    world.servers[1].image = world.debian[SOURCE]
    world.write_state()
    out = tmp_path / "dr"
    assert prepare(world, out) == 0
    folder = out / "client"
    tfvars = json.loads((folder / "dr.auto.tfvars.json").read_text())
    web1, web2 = world.servers
    assert tfvars == {
        "region": TARGET,
        "availability_zones": [f"{TARGET}a", f"{TARGET}b", f"{TARGET}c"],
        "backup_kms_key_arn": world.key_arn,
        "ami_ids": {"web-1": world.debian[TARGET], "web-2": world.debian[TARGET]},
        "snapshot_ids": {
            "web-1": newest_copy(web1.volume)["SnapshotId"],
            "web-2": newest_copy(web2.volume)["SnapshotId"],
        },
        "snapshot_identifier": newest_db_copy()["DBSnapshotIdentifier"],
    }
    runbook = (folder / "runbook.md").read_text()
    assert "RPO achieved: 3 h 0 min" in runbook
    assert "**met**" in runbook
    assert f"| 0 | {SOURCE}a | {TARGET}a |" in runbook
    assert "Point www.acme.example at the new load balancer" in runbook
    assert "Not mapped" not in runbook
    meta = json.loads((folder / "dr.json").read_text())
    assert meta["missing"] == [] and meta["state_serial"] == 42
    assert "RPO achieved: 3.0 h" in capsys.readouterr().out


def test_the_newest_completed_copy_wins_over_older_ones(world: DrWorld, tmp_path: Path) -> None:
    world.servers[1].image = world.debian[SOURCE]
    world.write_state()
    assert prepare(world, tmp_path / "dr") == 0
    tfvars = json.loads((tmp_path / "dr/client/dr.auto.tfvars.json").read_text())
    web1 = world.servers[0].volume
    all_copies = [
        s["SnapshotId"]
        for s in ebs_snapshots(TARGET, **{T.SOURCE_ID: web1})
        if T.COPY_OF in tags_of(s)
    ]
    assert len(all_copies) == 2  # two days of backups were shipped
    assert tfvars["snapshot_ids"]["web-1"] == newest_copy(web1)["SnapshotId"]


def test_an_image_missing_from_the_target_region_is_listed_and_fails(
    world: DrWorld, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "dr"
    assert prepare(world, out) == 1
    printed = capsys.readouterr()
    assert (
        f'NOT MAPPED ami_ids["web-2"]: image acme-app-20261020 (owner 123456789012) is not in {TARGET}'
        in printed.out
    )
    assert "could not be mapped" in printed.err
    # The files are still written, so the runbook shows what is missing.
    tfvars = json.loads((out / "client/dr.auto.tfvars.json").read_text())
    assert tfvars["ami_ids"] == {"web-1": world.debian[TARGET]}
    runbook = (out / "client/runbook.md").read_text()
    assert "## Not mapped" in runbook
    assert "the server boots the stack's default image" in runbook


def test_allow_missing_exits_zero_and_still_lists_it(world: DrWorld, tmp_path: Path) -> None:
    assert prepare(world, tmp_path / "dr", "--allow-missing") == 0
    meta = json.loads((tmp_path / "dr/client/dr.json").read_text())
    assert [m["what"] for m in meta["missing"]] == ['ami_ids["web-2"]']


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
    tfvars = json.loads((tmp_path / "dr/client/dr.auto.tfvars.json").read_text())
    assert tfvars["snapshot_identifier"] is None
    assert (
        "the plan creates a new, empty database" in (tmp_path / "dr/client/runbook.md").read_text()
    )


def test_no_state_means_nothing_can_be_mapped(
    world: DrWorld, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    world.state_file.unlink()
    assert prepare(world, tmp_path / "dr") == 1
    assert "NOT MAPPED state: no state at" in capsys.readouterr().out


def test_images_are_found_from_the_state_when_the_source_region_is_down(
    world: DrWorld,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The stack looked its image up by name and owner: the state alone names it."""
    from runners.dr import images

    world.servers[1].image = world.debian[SOURCE]
    world.write_state(debian_lookup=True)

    def region_is_down(ec2: Any, image_id: str) -> Any:
        raise AssertionError("the source region was asked although the state knew the image")

    monkeypatch.setattr(images, "source_identity", region_is_down)
    assert prepare(world, tmp_path / "dr") == 0
    tfvars = json.loads((tmp_path / "dr/client/dr.auto.tfvars.json").read_text())
    assert tfvars["ami_ids"] == {"web-1": world.debian[TARGET], "web-2": world.debian[TARGET]}
    assert DEBIAN in (tmp_path / "dr/client/runbook.md").read_text()


def test_no_secret_from_the_state_is_written_or_printed(
    world: DrWorld, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    prepare(world, tmp_path / "dr", "--allow-missing")
    printed = capsys.readouterr()
    assert SECRET not in printed.out + printed.err
    for path in (tmp_path / "dr").rglob("*"):
        if path.is_file():
            assert SECRET not in path.read_text(), path


def test_state_is_read_from_the_replica_in_the_backup_region(
    world: DrWorld, tmp_path: Path
) -> None:
    """[dr.state] points prepare at the backup region's copy of the state bucket."""
    s3 = boto3.client("s3", region_name=TARGET)
    s3.create_bucket(
        Bucket="acme-backup-eu-central-1", CreateBucketConfiguration={"LocationConstraint": TARGET}
    )  # type: ignore[typeddict-item]
    s3.put_object(
        Bucket="acme-backup-eu-central-1",
        Key="client/production.tfstate",
        Body=world.state_file.read_bytes(),
    )
    world.state_file.unlink()  # the primary region's state is gone
    text = world.config.read_text().replace(
        "[dr.backend]",
        '[dr.state]\nbucket = "acme-backup-eu-central-1"\nkey = "{stack}/{env}.tfstate"\n'
        f'region = "{TARGET}"\n\n[dr.backend]',
    )
    world.config.write_text(text)
    assert prepare(world, tmp_path / "dr", "--allow-missing") == 0
    meta = json.loads((tmp_path / "dr/client/dr.json").read_text())
    assert meta["state"] == f"s3://acme-backup-eu-central-1/client/production.tfstate ({TARGET})"
    assert len(meta["restores"]) == 3


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


def test_a_source_region_that_does_not_answer_leaves_only_unknown_images_unmapped(
    world: DrWorld,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """web-1's image is named in the state; web-2's pinned image can only be asked of the source."""
    from botocore.exceptions import EndpointConnectionError

    from runners.dr import images

    world.write_state(debian_lookup=True)

    def region_is_down(ec2: Any, image_id: str) -> Any:
        raise EndpointConnectionError(endpoint_url=f"https://ec2.{SOURCE}.amazonaws.com/")

    monkeypatch.setattr(images, "source_identity", region_is_down)
    assert prepare(world, tmp_path / "dr") == 1
    out = capsys.readouterr().out
    assert (
        f'NOT MAPPED ami_ids["web-2"]: cannot describe {world.custom} in {SOURCE} '
        "(EndpointConnectionError)"
    ) in out
    tfvars = json.loads((tmp_path / "dr/client/dr.auto.tfvars.json").read_text())
    assert tfvars["ami_ids"] == {"web-1": world.debian[TARGET]}
    assert len(tfvars["snapshot_ids"]) == 2  # everything else is still mapped
