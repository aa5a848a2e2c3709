"""Append-only storage for audit records: one S3 object each, plus a local JSONL file.

In S3 each record is its own object, written with ``If-None-Match: *`` so it
can never be overwritten; the state-backend module keeps every version under
Object Lock and denies deleting one. The local JSONL file gets the same record
appended with one ``write`` on an ``O_APPEND`` descriptor. A record that
cannot reach S3 is still in the local file and is uploaded by the next run
that can.

Plan and drift records go under ``<prefix>/plan-records/``, apply records
(refusals included) under ``<prefix>/audit/``. The plan role, whose keys the
merge-request zone holds, may write only the first (runner-role): IAM cannot
read a record's content, but it can tell prefixes apart, so the prefix is what
proves an apply record came from the apply role. An apply record found under
the plan prefix is reported and left out.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from runners import log
from runners.audit.record import AuditRecord
from runners.change.stores import (
    StateBucket,
    dr_state_bucket,
    failure_code,
    records_bucket,
    s3_client,
    state_bucket,
)
from runners.config import Config, Environment, Stack

AWS_OPERATIONS: dict[str, frozenset[str]] = {
    "s3": frozenset({"PutObject", "GetObject", "ListObjectsV2"})
}


class LocalLedger:
    def __init__(self, path: Path) -> None:
        self.path = path

    def append(self, record: AuditRecord) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        line = (json.dumps(record.to_dict(), sort_keys=True) + "\n").encode("utf-8")
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            os.write(fd, line)
            os.fsync(fd)
        finally:
            os.close(fd)

    def records(self) -> Iterator[AuditRecord]:
        try:
            fh = open(self.path, encoding="utf-8")  # noqa: SIM115
        except FileNotFoundError:
            return
        with fh:
            for number, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                try:
                    yield AuditRecord.from_dict(json.loads(line))
                except (ValueError, TypeError, AttributeError, RecursionError):
                    log.warn(f"{self.path}:{number}: not an audit record; skipped")


# Records the plan role writes; any other kind belongs under the apply prefix.
PLAN_KINDS = frozenset({"plan", "drift"})


class S3Ledger:
    def __init__(self, client: Any, bucket: str, prefix: str) -> None:
        base = prefix.rstrip("/") + "/"
        self.client, self.bucket = client, bucket
        self.prefix = base + "audit/"  # apply records: the apply role's
        self.plan_prefix = base + "plan-records/"  # plan and drift records: the plan role's

    def key(self, record: AuditRecord) -> str:
        day = record.started_at[:10].replace("-", "/")
        root = self.plan_prefix if record.kind in PLAN_KINDS else self.prefix
        return f"{root}{day}/{record.stack}/{record.environment}/{record.id}.json"

    def append(self, record: AuditRecord) -> None:
        from botocore.exceptions import ClientError

        try:
            self.client.put_object(
                Bucket=self.bucket,
                Key=self.key(record),
                IfNoneMatch="*",
                Body=json.dumps(record.to_dict(), sort_keys=True).encode("utf-8"),
                ContentType="application/json",
            )
        except ClientError as exc:
            # Already there: a retry of an upload that had succeeded. Records never change.
            if failure_code(exc) not in ("PreconditionFailed", "ConditionalRequestConflict"):
                raise

    def keys(self, since: dt.date | None = None, apply_only: bool = False) -> Iterator[str]:
        """Record keys; an S3 failure here ends the command in one line (runners.aws.failures)."""
        paginator = self.client.get_paginator("list_objects_v2")
        for prefix in (self.prefix,) if apply_only else (self.prefix, self.plan_prefix):
            for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
                for obj in page.get("Contents", []):
                    key = obj["Key"]
                    if not key.endswith(".json"):
                        continue
                    if since is not None and _key_day(key, prefix) < since:
                        continue
                    yield key

    def _keys_under(self, prefix: str) -> Iterator[str]:
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
            for obj in page.get("Contents", []):
                if obj["Key"].endswith(".json"):
                    yield obj["Key"]

    def read(self, key: str) -> AuditRecord | None:
        body = self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        try:
            record = AuditRecord.from_dict(json.loads(body))
        except (ValueError, TypeError, AttributeError, RecursionError):
            log.warn(f"s3://{self.bucket}/{key}: not an audit record; skipped")
            return None
        if key.startswith(self.plan_prefix) and record.kind not in PLAN_KINDS:
            log.warn(
                f"s3://{self.bucket}/{key}: a {record.kind} record where only the plan role "
                "writes; not genuine, skipped"
            )
            return None
        return record

    def records(self, since: dt.date | None = None) -> Iterator[AuditRecord]:
        for key in self.keys(since):
            record = self.read(key)
            if record is not None:
                yield record

    def newest_first(
        self, stack: str, environment: str, plans: bool = False
    ) -> Iterator[AuditRecord]:
        """One stack's apply records (``plans``: plan records) in one environment, newest first."""
        marker = f"/{stack}/{environment}/"
        prefix = self.plan_prefix if plans else self.prefix
        keys = (k for k in self._keys_under(prefix)) if plans else self.keys(apply_only=True)
        mine = sorted(
            (k for k in keys if marker in k[len(prefix) :]),
            key=lambda k: k.rsplit("/", 1)[-1],
            reverse=True,
        )
        for key in mine:
            record = self.read(key)
            if record is not None:
                yield record


def _key_day(key: str, prefix: str) -> dt.date:
    parts = key[len(prefix) :].split("/")
    try:
        return dt.date(int(parts[0]), int(parts[1]), int(parts[2]))
    except (IndexError, ValueError):
        return dt.date.max


class Ledger:
    """Both stores together; losing S3 never loses a record.

    A record S3 refuses goes to a pending file beside the local ledger and is
    uploaded by the next append that reaches S3.
    """

    def __init__(self, local: LocalLedger | None, remote: S3Ledger | None) -> None:
        self.local, self.remote = local, remote
        self.pending = LocalLedger(local.path.with_suffix(".pending.jsonl")) if local else None

    def append(self, record: AuditRecord) -> list[str]:
        """Write the record everywhere it can go; return what failed, one line each."""
        problems = []
        if self.local is not None:
            try:
                self.local.append(record)
            except OSError as exc:
                problems.append(f"local ledger {self.local.path}: {exc.strerror}")
        if self.remote is not None:
            try:
                self.remote.append(record)
            except Exception as exc:  # reported below; the pending file keeps the record
                problems.append(
                    f"s3://{self.remote.bucket}/{self.remote.prefix} ({failure_code(exc)}); "
                    + ("kept for the next run" if self._keep(record) else "and not kept locally")
                )
            else:
                self._flush_pending()
        for line in problems:
            log.warn(f"audit record {record.id} not written to {line}")
        return problems

    def _keep(self, record: AuditRecord) -> bool:
        if self.pending is None:
            return False
        try:
            self.pending.append(record)
        except OSError:
            return False
        return True

    def _flush_pending(self) -> None:
        if self.pending is None or self.remote is None or not self.pending.path.exists():
            return
        try:
            for record in self.pending.records():
                self.remote.append(record)  # idempotent: an existing object is left as it is
            self.pending.path.unlink()
        except Exception as exc:  # the pending file stays for the run after this one
            log.warn(f"pending audit records not uploaded yet ({failure_code(exc)})")

    def recorded_somewhere(self, problems: list[str]) -> bool:
        """Did ``append`` leave the record in at least one store (S3, the ledger or pending)?"""
        stores = int(self.local is not None) + int(self.remote is not None)
        kept = any(p.endswith("kept for the next run") for p in problems)
        return stores > len(problems) or kept

    def last_applied(
        self,
        stack: str,
        environment: str,
        state: str | None,
        trust: Callable[[AuditRecord], bool] | None = None,
    ) -> str | None:
        """The commit of this stack's last successful apply to ``state``, from the ledger.

        The state bucket's ledger when there is one (a local file anyone in the
        workspace can edit is no evidence then), else the local ledger; only
        records ``trust`` accepts (sealed with the signing key, where there is
        one). A record written before records named their state counts for any
        state.
        """
        source: Iterable[AuditRecord]
        if self.remote is not None:
            source = self.remote.newest_first(stack, environment)
        elif self.local is not None:
            source = sorted(
                (
                    r
                    for r in self.local.records()
                    if (r.stack, r.environment) == (stack, environment)
                ),
                key=lambda r: (r.started_at, r.id),
                reverse=True,
            )
        else:
            return None
        for record in source:
            if record.kind != "apply" or record.result != "applied" or not record.commit:
                continue
            if trust is not None and not trust(record):
                continue
            if state is None or record.state in (None, state):
                return record.commit
        return None

    def plan_records(self, stack: str, environment: str) -> Iterator[AuditRecord]:
        """One stack's plan records in one environment, newest first.

        From the state bucket when there is one (the plan role writes them), else
        the local ledger.
        """
        if self.remote is not None:
            yield from (
                r
                for r in self.remote.newest_first(stack, environment, plans=True)
                if r.kind == "plan"
            )
            return
        if self.local is not None:
            yield from sorted(
                (
                    r
                    for r in self.local.records()
                    if (r.kind, r.stack, r.environment) == ("plan", stack, environment)
                ),
                key=lambda r: (r.started_at, r.id),
                reverse=True,
            )

    def records(self, since: dt.date | None = None) -> list[AuditRecord]:
        seen: dict[str, AuditRecord] = {}
        sources: list[Iterable[AuditRecord]] = []
        if self.remote is not None:
            sources.append(self.remote.records(since))
        if self.local is not None:
            sources.append(self.local.records())
        for source in sources:
            for record in source:
                seen.setdefault(record.id, record)
        return sorted(seen.values(), key=lambda r: (r.started_at, r.id), reverse=True)


def open_ledger(
    cfg: Config, stack: Stack | None, env: Environment, dr_region: str | None = None
) -> Ledger:
    """The ledger for one environment: its state bucket (when it has one) and the local file.

    For a disaster-recovery plan or apply into ``dr_region``, the bucket of
    the rebuild's state (``[dr.backend]``) instead: nothing on that path may
    need the region that is lost.
    """
    bucket = records_bucket(cfg, stack, env, dr_region)
    remote = S3Ledger(s3_client(bucket.region), bucket.bucket, bucket.prefix) if bucket else None
    return Ledger(LocalLedger(cfg.ledger) if cfg.ledger else None, remote)


def _unreachable(exc: Exception) -> str | None:
    """Why one bucket could not be read, when it is that bucket's (or its region's) failure."""
    from runners.aws.failures import AwsSetupError, as_runners_error

    translated = as_runners_error(exc)
    if translated is None or isinstance(translated, AwsSetupError):
        return None
    return str(translated)


def record_buckets(cfg: Config) -> list[StateBucket]:
    """Every bucket records may be in: each environment's state buckets and each rebuild's."""
    found: dict[tuple[str, str], StateBucket] = {}
    for env in cfg.environments.values():
        for stack in [None, *cfg.stacks.values()]:
            buckets = [state_bucket(cfg, stack, env)]
            if env.backup_region is not None and stack is not None:
                buckets.append(dr_state_bucket(cfg, stack, env, env.backup_region))
            for b in buckets:
                if b is not None:
                    found.setdefault((b.bucket, b.prefix), b)
    return list(found.values())


def all_records(
    cfg: Config, since: dt.date | None = None, unread: list[str] | None = None
) -> list[AuditRecord]:
    """Every record from every bucket and the local file, newest first.

    With ``unread``, a bucket that cannot be read (its region may be the one
    that is down) is named there, one line each, and the others are still
    read; without it, the failure ends the command.
    """
    seen: dict[str, AuditRecord] = {}
    sources: list[tuple[str, Ledger]] = [
        (
            f"s3://{b.bucket}/{b.prefix} ({b.region})",
            Ledger(
                None, S3Ledger(s3_client(b.region, quick=unread is not None), b.bucket, b.prefix)
            ),
        )
        for b in record_buckets(cfg)
    ]
    sources.append((str(cfg.ledger), Ledger(LocalLedger(cfg.ledger) if cfg.ledger else None, None)))
    for where, ledger in sources:
        try:
            records = ledger.records(since)
        except Exception as exc:
            reason = _unreachable(exc) if ledger.remote else None
            if unread is None or reason is None:
                raise  # a bug, or AWS set up wrongly everywhere: the CLI says it in one line
            unread.append(f"{where}: {reason}")
            continue
        for record in records:
            seen.setdefault(record.id, record)
    return sorted(seen.values(), key=lambda r: (r.started_at, r.id), reverse=True)
