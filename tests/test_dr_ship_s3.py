"""``runners ship-s3`` against the moto server's two regions: idempotent, never deletes, reports lag.

Moto does not replicate between buckets and stamps every object with the
time it was written. Where a test needs an old object or a failing copy, a
thin fault injector on botocore's event hooks rewrites the listing's
LastModified or raises the error code S3 would (``AccessDenied``).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from hypothesis import given
from hypothesis import strategies as st

from runners import cli, config
from runners.aws.embedded import EmbeddedAWS
from runners.aws.session import SessionFactory
from runners.dr import s3report
from runners.dr.s3diff import Obj, compare
from runners.dr.s3ship import ShipS3Run, replicated_by, run_ship_s3
from tests.backup_world import BACKUP, REGION, write_config

SOURCE_BUCKET = "acme-offsite"
DEST = "acme-backup-eu-central-1"
S3_TOML = f"""
[dr.s3.daily]
destination_bucket = "{DEST}"
max_lag_minutes = 60

[dr.s3.daily.buckets."{SOURCE_BUCKET}"]
prefixes = ["db-dumps/", "files/"]
"""
OBJECTS = {
    "db-dumps/2026-11-25.sql.gz.gpg": b"dump 1",
    "db-dumps/2026-11-26.sql.gz.gpg": b"dump 2, a little longer",
    "files/uploads.tar.gpg": b"x" * 2048,
    "tmp/scratch": b"not configured: never shipped",
}


def bucket(name: str, region: str, versioned: bool = False) -> Any:
    s3 = boto3.client("s3", region_name=region)
    s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": region})  # type: ignore[typeddict-item]
    if versioned:
        s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    return s3


@pytest.fixture
def src(aws: EmbeddedAWS) -> Any:
    s3 = bucket(SOURCE_BUCKET, REGION, versioned=True)
    for key, body in OBJECTS.items():
        s3.put_object(Bucket=SOURCE_BUCKET, Key=key, Body=body)
    return s3


@pytest.fixture
def cfg_path(tmp_path: Path) -> Path:
    path = write_config(tmp_path)
    path.write_text(path.read_text() + S3_TOML)
    return path


def dest_keys() -> dict[str, bytes]:
    s3 = boto3.client("s3", region_name=BACKUP)
    listed = s3.list_objects_v2(Bucket=DEST).get("Contents", [])
    return {o["Key"]: s3.get_object(Bucket=DEST, Key=o["Key"])["Body"].read() for o in listed}


def ship(cfg_path: Path, *extra: str) -> int:
    return cli.main(["ship-s3", "--policy", "daily", "--config", str(cfg_path), *extra])


def shipped_copy(key: str) -> str:
    return f"{SOURCE_BUCKET}/{key}"


def test_ship_copies_what_is_missing_and_a_second_run_copies_nothing(
    src: Any, cfg_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bucket(DEST, BACKUP)
    assert ship(cfg_path) == 0
    first = capsys.readouterr().out
    assert "3 copied; ok" in first
    assert dest_keys() == {
        shipped_copy(k): v for k, v in OBJECTS.items() if not k.startswith("tmp/")
    }
    assert ship(cfg_path) == 0
    second = capsys.readouterr().out
    assert "0 copied; ok" in second
    assert "copy " not in second
    assert "up to date before this run" in second


def test_a_dry_run_copies_nothing(
    src: Any, cfg_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bucket(DEST, BACKUP)
    assert ship(cfg_path, "--dry-run") == 1  # it says what is missing, and it is still missing
    out = capsys.readouterr().out
    assert out.count("copy    s3://") == 3
    assert "dry run: nothing copied" in out
    assert dest_keys() == {}


def test_nothing_in_the_destination_is_ever_deleted(
    src: Any, cfg_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dest = bucket(DEST, BACKUP)
    dest.put_object(Bucket=DEST, Key=shipped_copy("db-dumps/2026-01-01.sql.gz.gpg"), Body=b"old")
    assert ship(cfg_path) == 0
    src.delete_object(Bucket=SOURCE_BUCKET, Key="db-dumps/2026-11-25.sql.gz.gpg")
    assert ship(cfg_path) == 0
    keys = dest_keys()
    assert shipped_copy("db-dumps/2026-01-01.sql.gz.gpg") in keys
    assert shipped_copy("db-dumps/2026-11-25.sql.gz.gpg") in keys
    assert "2 object(s) only in the destination: kept" in capsys.readouterr().out


def test_a_changed_object_is_not_overwritten_in_an_unversioned_bucket(
    src: Any, cfg_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bucket(DEST, BACKUP)
    assert ship(cfg_path) == 0
    src.put_object(Bucket=SOURCE_BUCKET, Key="files/uploads.tar.gpg", Body=b"y" * 4096)
    assert ship(cfg_path) == 1
    assert "keeps no versions, so it is not overwritten" in capsys.readouterr().out
    assert dest_keys()[shipped_copy("files/uploads.tar.gpg")] == b"x" * 2048


def test_a_changed_object_is_copied_again_in_a_versioned_bucket(src: Any, cfg_path: Path) -> None:
    dest = bucket(DEST, BACKUP, versioned=True)
    assert ship(cfg_path) == 0
    src.put_object(Bucket=SOURCE_BUCKET, Key="files/uploads.tar.gpg", Body=b"y" * 4096)
    assert ship(cfg_path) == 0
    assert dest_keys()[shipped_copy("files/uploads.tar.gpg")] == b"y" * 4096
    versions = dest.list_object_versions(Bucket=DEST, Prefix=shipped_copy("files/"))["Versions"]
    assert len(versions) == 2  # the earlier copy is still there


# -- in-process, with faults ----------------------------------------------------------------


def hook(factory: SessionFactory, region: str, event: str, fn: Callable[..., Any]) -> None:
    factory.client("s3", region).meta.events.register(event, fn)


def run(cfg_path: Path, factory: SessionFactory) -> ShipS3Run:
    cfg = config.load(cfg_path)
    policy = cfg.policies["daily"]
    return run_ship_s3(ShipS3Run(cfg.dr.s3["daily"], policy, factory, out=io.StringIO()))


def test_one_failed_copy_is_reported_and_the_others_are_made(src: Any, cfg_path: Path) -> None:
    bucket(DEST, BACKUP)
    factory = SessionFactory()

    def deny(params: dict[str, Any], **_: Any) -> None:
        if "2026-11-26" in params.get("Key", ""):
            raise ClientError(
                {"Error": {"Code": "AccessDenied", "Message": "injected"}}, "CopyObject"
            )

    hook(factory, BACKUP, "before-parameter-build.s3.CopyObject", deny)
    done = run(cfg_path, factory)
    assert not done.ok
    (dumps, files) = done.results
    assert [i.source.key for i in dumps.copied] == ["db-dumps/2026-11-25.sql.gz.gpg"]
    assert dumps.failures == [
        "s3://acme-offsite/db-dumps/2026-11-26.sql.gz.gpg: CopyObject: AccessDenied"
    ]
    assert len(files.copied) == 1
    assert "FAILED s3://acme-offsite/db-dumps/2026-11-26.sql.gz.gpg" in "\n".join(
        s3report.lines(done)
    )


def replicate(src: Any) -> None:
    bucket(DEST, BACKUP, versioned=True)
    src.put_bucket_replication(
        Bucket=SOURCE_BUCKET,
        ReplicationConfiguration={
            "Role": "arn:aws:iam::123456789012:role/replication",
            "Rules": [
                {
                    "ID": "all",
                    "Status": "Enabled",
                    "Priority": 1,
                    "Filter": {"Prefix": ""},
                    "DeleteMarkerReplication": {"Status": "Disabled"},
                    "Destination": {"Bucket": f"arn:aws:s3:::{DEST}"},
                }
            ],
        },
    )


def test_replicated_prefixes_are_not_copied_but_their_lag_is_reported(
    src: Any, cfg_path: Path
) -> None:
    replicate(src)
    done = run(cfg_path, SessionFactory())
    assert all(r.replicated and not r.copied for r in done.results)
    assert dest_keys() == {}  # ship-s3 left the copying to S3
    assert done.ok  # the objects were written seconds ago: within the 60 minutes allowed
    text = "\n".join(s3report.lines(done))
    assert "replicated by S3" in text and "2 object(s) not replicated yet" in text


def test_replication_lagging_past_the_limit_fails(src: Any, cfg_path: Path) -> None:
    replicate(src)
    factory = SessionFactory()
    old = datetime.now(UTC) - timedelta(hours=2)

    def backdate(parsed: dict[str, Any], **_: Any) -> None:
        for item in parsed.get("Contents", []):
            item["LastModified"] = old

    hook(factory, REGION, "after-call.s3.ListObjectsV2", backdate)
    done = run(cfg_path, factory)
    assert not done.ok
    assert "replication lag 2 h 0 min (BREACH 60 min)" in "\n".join(s3report.lines(done))


@pytest.mark.parametrize(
    ("rule", "covered"),
    [
        (
            {
                "Status": "Enabled",
                "Filter": {"Prefix": "db-"},
                "Destination": {"Bucket": f"arn:aws:s3:::{DEST}"},
            },
            True,
        ),
        (
            {"Status": "Enabled", "Prefix": "", "Destination": {"Bucket": f"arn:aws:s3:::{DEST}"}},
            True,
        ),
        (
            {"Status": "Disabled", "Filter": {}, "Destination": {"Bucket": f"arn:aws:s3:::{DEST}"}},
            False,
        ),
        (
            {
                "Status": "Enabled",
                "Filter": {"Prefix": "files/"},
                "Destination": {"Bucket": f"arn:aws:s3:::{DEST}"},
            },
            False,
        ),
        (
            {
                "Status": "Enabled",
                "Filter": {},
                "Destination": {"Bucket": "arn:aws:s3:::elsewhere"},
            },
            False,
        ),
        (
            {
                "Status": "Enabled",
                "Filter": {"And": {"Prefix": "", "Tags": [{"Key": "a", "Value": "b"}]}},
                "Destination": {"Bucket": f"arn:aws:s3:::{DEST}"},
            },
            False,
        ),
    ],
)
def test_which_replication_rules_cover_a_prefix(rule: dict[str, Any], covered: bool) -> None:
    assert replicated_by([rule], "db-dumps/", DEST) is covered


# -- the comparison, as a property -----------------------------------------------------------

T0 = datetime(2026, 11, 26, tzinfo=UTC)
objects = st.dictionaries(
    st.text("abc/", min_size=1, max_size=6),
    st.tuples(st.integers(0, 5), st.integers(0, 100)),
    max_size=8,
)


@given(source=objects, there=objects)
def test_after_copying_what_compare_asks_for_nothing_is_left_to_copy(
    source: dict[str, tuple[int, int]], there: dict[str, tuple[int, int]]
) -> None:
    src = [Obj(k, size, T0 + timedelta(minutes=m)) for k, (size, m) in source.items()]
    dest = {
        f"p/{k}": Obj(f"p/{k}", size, T0 + timedelta(minutes=m)) for k, (size, m) in there.items()
    }
    items = compare(src, dest, lambda k: f"p/{k}")
    copied_at = T0 + timedelta(days=1)  # S3 stamps a copy with the time it is made
    for item in items:
        if item.action != "same":
            dest[item.dest_key] = Obj(item.dest_key, item.source.size, copied_at)
    assert all(i.action == "same" for i in compare(src, dest, lambda k: f"p/{k}"))
    assert set(dest) >= {f"p/{k}" for k in there}  # nothing was removed
