"""The runner's own per-stack lock, taken before Terraform's state lock.

In S3 it is one object created with a conditional write (``If-None-Match: *``):
exactly one writer succeeds, every other gets ``PreconditionFailed`` and is
told who holds the lock, since when and from which build. Without a bucket it
is a file created with ``O_EXCL``. A lock is never broken automatically: a
stale one is removed by a person with ``runners unlock``, naming its run id.
"""

from __future__ import annotations

import abc
import contextlib
import datetime as dt
import json
import os
import socket
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from runners.config import Config, Environment, Stack
from runners.errors import Locked, RunnersError

AWS_OPERATIONS: dict[str, frozenset[str]] = {
    "s3": frozenset({"PutObject", "GetObject", "DeleteObject"})
}

_HELD_CODES = ("PreconditionFailed", "ConditionalRequestConflict")


@dataclass(frozen=True)
class LockInfo:
    run_id: str
    holder: str
    since: str
    build_url: str | None
    host: str
    pid: int
    operation: str

    def describe(self) -> str:
        build = (
            f" from build {self.build_url}"
            if self.build_url
            else f" on {self.host} (pid {self.pid})"
        )
        return f"held by {self.holder} since {self.since}{build}, {self.operation}, run id {self.run_id}"

    @classmethod
    def new(cls, holder: str | None, build_url: str | None, operation: str) -> LockInfo:
        return cls(
            run_id=uuid.uuid4().hex[:12],
            holder=holder or os.environ.get("USER", "unknown"),
            since=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            build_url=build_url,
            host=socket.gethostname(),
            pid=os.getpid(),
            operation=operation,
        )

    @classmethod
    def parse(cls, raw: bytes) -> LockInfo | None:
        try:
            data = json.loads(raw)
            return cls(**{k: data.get(k) for k in cls.__dataclass_fields__})
        except (ValueError, TypeError):
            return None


class LockStore(abc.ABC):
    name: str

    @abc.abstractmethod
    def create(self, info: LockInfo) -> bool:
        """Create the lock if absent; False when someone else holds it."""

    @abc.abstractmethod
    def read(self) -> LockInfo | None:
        """The current holder, or None when unlocked (or unreadable)."""

    @abc.abstractmethod
    def delete(self) -> None:
        """Remove the lock object."""


class S3LockStore(LockStore):
    def __init__(self, client: Any, bucket: str, key: str) -> None:
        self.client, self.bucket, self.key = client, bucket, key
        self.name = f"s3://{bucket}/{key}"

    def create(self, info: LockInfo) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client.put_object(
                Bucket=self.bucket,
                Key=self.key,
                Body=json.dumps(asdict(info)).encode(),
                IfNoneMatch="*",
                ContentType="application/json",
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] in _HELD_CODES:
                return False
            raise
        return True

    def read(self) -> LockInfo | None:
        from botocore.exceptions import ClientError

        try:
            body = self.client.get_object(Bucket=self.bucket, Key=self.key)["Body"].read()
        except ClientError as exc:
            if exc.response["Error"]["Code"] in ("NoSuchKey", "404"):
                return None
            raise
        return LockInfo.parse(body)

    def delete(self) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self.key)


class FileLockStore(LockStore):
    def __init__(self, path: Path) -> None:
        self.path = path
        self.name = str(path)

    def create(self, info: LockInfo) -> bool:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            return False
        with os.fdopen(fd, "w") as fh:
            fh.write(json.dumps(asdict(info)))
        return True

    def read(self) -> LockInfo | None:
        try:
            return LockInfo.parse(self.path.read_bytes())
        except FileNotFoundError:
            return None

    def delete(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()


class StackLock:
    """Acquire and release one stack's lock; release only what this run created."""

    def __init__(self, store: LockStore, label: str) -> None:
        self.store = store
        self.label = label
        self.info: LockInfo | None = None

    def acquire(self, info: LockInfo) -> None:
        if not self.store.create(info):
            holder = self.store.read()
            detail = holder.describe() if holder else f"unreadable lock at {self.store.name}"
            raise Locked(f"{self.label} is locked: {detail}")
        self.info = info

    def release(self) -> None:
        """Delete the lock if it is still ours; say so plainly when that fails."""
        if self.info is None:
            return
        try:
            current = self.store.read()
            if current is not None and current.run_id == self.info.run_id:
                self.store.delete()
        except (
            Exception
        ) as exc:  # the caller reports it; a lock left behind must never pass silently
            raise RunnersError(
                f"could not release the runner lock {self.store.name} ({type(exc).__name__}); "
                f"once the state is checked, run: runners unlock --run-id {self.info.run_id}"
            ) from exc
        finally:
            self.info = None

    @contextlib.contextmanager
    def held(self, info: LockInfo) -> Iterator[LockInfo]:
        self.acquire(info)
        try:
            yield info
        finally:
            self.release()


def unlock(store: LockStore, run_id: str) -> LockInfo:
    """Remove a lock a person has judged stale; it must name the lock's run id."""
    current = store.read()
    if current is None:
        raise RunnersError(f"{store.name}: not locked")
    if current.run_id != run_id:
        raise RunnersError(
            f"{store.name}: the lock's run id is {current.run_id}, not {run_id}; nothing removed"
        )
    store.delete()
    return current


def lock_for(cfg: Config, stack: Stack, env: Environment) -> StackLock:
    """The stack's lock in its state bucket, or a file when the stack has no bucket."""
    from runners.change.stores import s3_client, state_bucket

    label = f"stack {stack.name} ({env.name})"
    bucket = state_bucket(cfg, stack, env)
    if bucket is None:
        return StackLock(
            FileLockStore(cfg.root / ".runners" / "locks" / f"{stack.name}.{env.name}.lock"), label
        )
    key = f"{bucket.prefix}/locks/{stack.name}/{env.name}.lock"
    return StackLock(S3LockStore(s3_client(bucket.region), bucket.bucket, key), label)
