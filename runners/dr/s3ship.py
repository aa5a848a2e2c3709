"""``ship-s3``: objects under configured buckets and prefixes, copied to the backup region's bucket.

For each source bucket and prefix of ``[dr.s3.POLICY]``:

- if S3 replication already sends the prefix to the destination bucket,
  nothing is copied; the objects not there yet are reported with the
  replication lag (the age of the oldest), a breach past ``max_lag_minutes``;
- otherwise each object the destination lacks, or has an older copy of, is
  copied (managed copy: multipart for large objects, metadata kept). A changed
  object overwrites its copy only when the destination keeps versions;
  otherwise it is reported and left, so no copy is ever lost.

Nothing in the destination is ever deleted, and a second run copies nothing:
what is there is compared by key, size and time (``s3diff``).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any, TextIO

from botocore.exceptions import BotoCoreError, ClientError

from runners.aws.retry import error_code
from runners.backup.policy import Policy
from runners.dr.clients import DrClients
from runners.dr.s3diff import Item, Obj, compare, covers, lag
from runners.dr.settings import S3Shipping, S3Source
from runners.errors import UsageError

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

AWS_OPERATIONS: dict[str, frozenset[str]] = {
    "s3": frozenset(
        {
            "ListObjectsV2",
            "GetBucketReplication",
            "GetBucketVersioning",
            # the managed copy (S3Client.copy): HeadObject, then one CopyObject or a multipart copy
            "HeadObject",
            "CopyObject",
            "CreateMultipartUpload",
            "UploadPartCopy",
            "CompleteMultipartUpload",
            "AbortMultipartUpload",
        }
    ),
}

LIST_PAGE = 1000
SHOWN = 20  # objects listed by name per prefix when many are missing


@dataclass
class PrefixResult:
    bucket: str
    prefix: str
    region: str
    replicated: bool
    objects: int = 0
    shipped_before: int = 0
    copied: list[Item] = field(default_factory=list)
    missing: list[Item] = field(default_factory=list)  # still not in the destination
    kept: list[Item] = field(default_factory=list)  # changed, not overwritten (not versioned)
    only_in_destination: int = 0
    lag: timedelta | None = None
    failures: list[str] = field(default_factory=list)

    def breached(self, max_lag: timedelta) -> bool:
        if self.failures or self.kept:
            return True
        if self.replicated:
            return self.lag is not None and self.lag > max_lag
        return bool(self.missing)


@dataclass
class ShipS3Run:
    shipping: S3Shipping
    policy: Policy
    clients: DrClients
    dry_run: bool = False
    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    out: TextIO = field(default_factory=lambda: sys.stdout)
    results: list[PrefixResult] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    @property
    def max_lag(self) -> timedelta:
        return timedelta(minutes=self.shipping.max_lag_minutes)

    @property
    def ok(self) -> bool:
        return not self.failures and not any(r.breached(self.max_lag) for r in self.results)

    def say(self, text: str) -> None:
        print(text, file=self.out)


def run_ship_s3(run: ShipS3Run) -> ShipS3Run:
    account = _account(run)
    regions = {source.bucket: _region(run, source) for source in run.shipping.sources}
    dest: S3Client = run.clients.client("s3", run.policy.backup_region, account)
    versioned = _versioned(run, dest)
    for source in run.shipping.sources:
        region = regions[source.bucket]
        src: S3Client = run.clients.client("s3", region, account)
        for prefix in source.prefixes:
            run.results.append(_prefix(run, src, dest, source, prefix, region, versioned))
    return run


def _account(run: ShipS3Run) -> str | None:
    """The one account to work in: bucket names are global, so a policy spans at most one."""
    accounts = run.policy.selection.accounts
    if len(accounts) > 1:
        raise UsageError(
            f"policy {run.policy.name} spans {len(accounts)} accounts; ship-s3 names buckets, "
            "which are global: give each account's buckets a policy of their own"
        )
    return accounts[0]


def _region(run: ShipS3Run, source: S3Source) -> str:
    region = source.region or next(iter(run.policy.selection.regions), None)
    region = region or run.clients.default_region()
    if region is None:
        raise UsageError(
            f"no region for bucket {source.bucket}: set region in "
            f'[dr.s3.{run.shipping.policy}.buckets."{source.bucket}"] or AWS_DEFAULT_REGION'
        )
    return region


def _versioned(run: ShipS3Run, dest: S3Client) -> bool | None:
    try:
        status = dest.get_bucket_versioning(Bucket=run.shipping.destination_bucket).get("Status")
    except (ClientError, BotoCoreError) as exc:
        run.failures.append(f"s3://{run.shipping.destination_bucket}: {_describe(exc)}")
        return None
    return status == "Enabled"


def replicated_by(rules: Sequence[Mapping[str, Any]], prefix: str, dest_bucket: str) -> bool:
    """Whether an enabled replication rule sends every object under ``prefix`` to ``dest_bucket``."""
    for rule in rules:
        if rule.get("Status") != "Enabled":
            continue
        target = str((rule.get("Destination") or {}).get("Bucket", ""))
        if target.rsplit(":", 1)[-1] != dest_bucket:
            continue
        flt = rule.get("Filter")
        if flt is None:
            rule_prefix: str | None = str(rule.get("Prefix", ""))
        elif "Prefix" in flt:
            rule_prefix = str(flt["Prefix"])
        elif not flt:
            rule_prefix = ""
        else:
            rule_prefix = None  # a tag filter: only some objects are replicated
        if rule_prefix is not None and covers(rule_prefix, prefix):
            return True
    return False


def _replication_rules(src: S3Client, bucket: str) -> list[Mapping[str, Any]]:
    try:
        config = src.get_bucket_replication(Bucket=bucket)["ReplicationConfiguration"]
    except ClientError as exc:
        if error_code(exc) == "ReplicationConfigurationNotFoundError":
            return []
        raise
    return list(config.get("Rules", []))


def _listing(s3: S3Client, bucket: str, prefix: str) -> Iterator[Obj]:
    pages = s3.get_paginator("list_objects_v2").paginate(
        Bucket=bucket, Prefix=prefix, PaginationConfig={"PageSize": LIST_PAGE}
    )
    for page in pages:
        for item in page.get("Contents", []):
            yield Obj(item["Key"], int(item.get("Size", 0)), item["LastModified"])


def _prefix(
    run: ShipS3Run,
    src: S3Client,
    dest: S3Client,
    source: S3Source,
    prefix: str,
    region: str,
    versioned: bool | None,
) -> PrefixResult:
    dest_bucket = run.shipping.destination_bucket
    where = f"s3://{source.bucket}/{prefix}"
    try:
        replicated = replicated_by(_replication_rules(src, source.bucket), prefix, dest_bucket)
        # S3 replication keeps keys; ship-s3's own copies go under the source's destination prefix.
        dest_prefix = "" if replicated else source.destination_prefix
        objects = list(_listing(src, source.bucket, prefix))
        there = {o.key: o for o in _listing(dest, dest_bucket, dest_prefix + prefix)}
    except (ClientError, BotoCoreError) as exc:
        result = PrefixResult(source.bucket, prefix, region, False)
        result.failures.append(f"{where}: {_describe(exc)}")
        return result
    items = compare(objects, there, partial(_join, dest_prefix))
    result = PrefixResult(source.bucket, prefix, region, replicated, objects=len(objects))
    result.shipped_before = sum(i.action == "same" for i in items)
    result.only_in_destination = len(set(there) - {i.dest_key for i in items})
    result.lag = lag(items, run.now)
    todo = [i for i in items if i.action != "same"]
    if replicated:
        result.missing = todo
        return result
    for item in todo:
        if item.action == "changed" and not versioned:
            result.kept.append(item)
            run.say(
                f"keep    s3://{dest_bucket}/{item.dest_key}: the source {item.reason}, but "
                f"s3://{dest_bucket} keeps no versions, so it is not overwritten"
            )
            continue
        run.say(
            f"copy    s3://{source.bucket}/{item.source.key} -> s3://{dest_bucket}/{item.dest_key} ({item.reason})"
        )
        if run.dry_run:
            result.missing.append(item)
            continue
        try:
            dest.copy(
                CopySource={"Bucket": source.bucket, "Key": item.source.key},
                Bucket=dest_bucket,
                Key=item.dest_key,
                SourceClient=src,
            )
        except (ClientError, BotoCoreError) as exc:
            result.missing.append(item)
            result.failures.append(f"s3://{source.bucket}/{item.source.key}: {_describe(exc)}")
        else:
            result.copied.append(item)
    return result


def _join(prefix: str, key: str) -> str:
    return prefix + key


def _describe(exc: ClientError | BotoCoreError) -> str:
    if isinstance(exc, ClientError):
        return f"{exc.operation_name}: {error_code(exc)}"
    return type(exc).__name__
