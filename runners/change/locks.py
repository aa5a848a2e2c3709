"""The runner's own lock on a Terraform state, taken before Terraform's state lock.

An S3 failure to take or read the lock ends the command in one line naming
the service, region and operation (``runners.aws.failures``); a failure to
release it is reported with the ``runners unlock`` command to run.

The lock is keyed by the state it protects (bucket and key, or the state
file's path), not by the environment's name, so two names for one state
still exclude each other. In S3 it is one object created with a conditional
write (``If-None-Match: *``): exactly one writer succeeds, every other gets
``PreconditionFailed`` and is told who holds the lock, since when and from
which build. Without a bucket it is a file created with ``O_EXCL``.

Releasing deletes conditionally: the object is read, checked to be this
run's, and deleted with ``If-Match`` on the ETag read, so a lock someone
else took in between is never removed. A lock is never broken
automatically: a stale one is removed by a person with ``runners unlock``,
naming its run id.
"""

from __future__ import annotations

import abc
import contextlib
import datetime as dt
import hashlib
import json
import os
import socket
import sys
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from runners import log
from runners.change.stores import PREFIX, bucket_of, failure_code, s3_client
from runners.config import BackendConfig, Config, Environment, Stack, state_identity
from runners.errors import Locked, RunnersError

AWS_OPERATIONS: dict[str, frozenset[str]] = {
    "s3": frozenset({"PutObject", "GetObject", "DeleteObject"})
}

_HELD_CODES = ("PreconditionFailed", "ConditionalRequestConflict")
_GONE_CODES = ("NoSuchKey", "404")


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
            info = cls(**{k: data.get(k) for k in cls.__dataclass_fields__})
        except (ValueError, TypeError, AttributeError, RecursionError):
            return None
        return info if isinstance(info.run_id, str) and info.run_id else None


@dataclass(frozen=True)
class Held:
    """The lock as read: who holds it (None when unreadable) and the version read."""

    info: LockInfo | None
    tag: str  # the S3 ETag, or the file's sha256


class LockStore(abc.ABC):
    name: str

    @abc.abstractmethod
    def create(self, info: LockInfo) -> bool:
        """Create the lock if absent; False when someone else holds it."""

    @abc.abstractmethod
    def read(self) -> Held | None:
        """The lock as it is now, or None when there is none."""

    @abc.abstractmethod
    def delete(self, tag: str) -> bool:
        """Remove the lock if it is still the version ``tag``; False when it changed."""


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
            if failure_code(exc) in _HELD_CODES:
                return False
            raise
        return True

    def read(self) -> Held | None:
        from botocore.exceptions import ClientError

        try:
            got = self.client.get_object(Bucket=self.bucket, Key=self.key)
        except ClientError as exc:
            if failure_code(exc) in _GONE_CODES:
                return None
            raise
        return Held(LockInfo.parse(got["Body"].read()), str(got["ETag"]))

    def delete(self, tag: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client.delete_object(Bucket=self.bucket, Key=self.key, IfMatch=tag)
        except ClientError as exc:
            code = failure_code(exc)
            if code in _HELD_CODES:
                return False
            if code in _GONE_CODES:
                return True
            raise
        return True


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

    def read(self) -> Held | None:
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return None
        return Held(LockInfo.parse(raw), hashlib.sha256(raw).hexdigest())

    def delete(self, tag: str) -> bool:
        held = self.read()
        if held is None:
            return True
        if held.tag != tag:
            return False
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
        return True


class StackLock:
    """Acquire and release one state's lock; release only what this run created."""

    def __init__(self, store: LockStore, label: str) -> None:
        self.store = store
        self.label = label
        self.info: LockInfo | None = None

    def acquire(self, info: LockInfo) -> None:
        if not self.store.create(info):
            held = self.store.read()
            detail = (
                held.info.describe()
                if held and held.info
                else f"unreadable lock at {self.store.name}"
                if held
                else f"a lock at {self.store.name} that vanished while it was read; try again"
            )
            raise Locked(f"{self.label} is locked: {detail}")
        self.info = info

    def release(self) -> None:
        """Delete the lock if it is still ours; say so plainly when that fails."""
        if self.info is None:
            return
        info, self.info = self.info, None
        try:
            held = self.store.read()
            if held is None or held.info is None or held.info.run_id != info.run_id:
                log.warn(
                    f"the runner lock {self.store.name} is no longer this run's; left as it is"
                )
                return
            if not self.store.delete(held.tag):
                log.warn(
                    f"the runner lock {self.store.name} changed while it was released; left as it is"
                )
        except Exception as exc:  # the caller reports it; a lock left behind never passes silently
            raise RunnersError(
                f"could not release the runner lock {self.store.name} ({_why(exc)}); once the "
                f"state is checked, run: runners unlock --run-id {info.run_id}"
            ) from exc

    @contextlib.contextmanager
    def held(self, info: LockInfo) -> Iterator[LockInfo]:
        self.acquire(info)
        try:
            yield info
        finally:
            self.release()


def _why(exc: BaseException) -> str:
    if "botocore" in sys.modules:
        from runners.aws.failures import as_runners_error

        translated = as_runners_error(exc)
        if translated is not None:
            return str(translated)
    return str(exc) or type(exc).__name__


def unlock(store: LockStore, run_id: str) -> LockInfo:
    """Remove a lock a person has judged stale; it must name the lock's run id."""
    held = store.read()
    if held is None:
        raise RunnersError(f"{store.name}: not locked")
    if held.info is None:
        raise RunnersError(
            f"{store.name}: the lock is unreadable; check it and remove the object by hand"
        )
    if held.info.run_id != run_id:
        raise RunnersError(
            f"{store.name}: the lock's run id is {held.info.run_id}, not {run_id}; nothing removed"
        )
    if not store.delete(held.tag):
        raise RunnersError(f"{store.name}: the lock changed while it was removed; nothing removed")
    return held.info


def lock_for(
    cfg: Config, stack: Stack, env: Environment, backend: BackendConfig | None = None
) -> StackLock:
    """The lock on the state ``backend`` names (default: the stack's own in ``env``)."""
    settings = cfg.backend_for(stack, env) if backend is None else backend
    label = f"stack {stack.name} ({env.name})"
    bucket = bucket_of(settings, env.region)
    key = settings.get("key")
    if bucket is not None:
        name = key if isinstance(key, str) and key else f"{stack.name}/{env.name}"
        object_key = f"{PREFIX}/locks/{name}.lock"
        return StackLock(S3LockStore(s3_client(bucket.region), bucket.bucket, object_key), label)
    where = state_identity(settings, stack.dir) or str(stack.dir / "terraform.tfstate")
    digest = hashlib.sha256(where.encode("utf-8")).hexdigest()[:16]
    return StackLock(FileLockStore(cfg.root / ".runners" / "locks" / f"state-{digest}.lock"), label)
