"""The restorer contract: what ``verify-restore`` needs from each kind of throwaway restore.

A restorer owns the AWS calls for one kind of restored resource (an EBS
volume, an RDS instance, an Aurora cluster); the workflow (restore, wait,
check, delete, sweep leftovers, time it) lives in ``runners.dr.verify`` and
is the same for every kind. Adding one is a module with a subclass and an
entry in ``runners.dr.restorers.RESTORERS``.
"""

from __future__ import annotations

import abc
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import ClassVar

from runners.backup.engines import Clients
from runners.backup.model import Place, Snapshot
from runners.backup.tags import parse_time
from runners.dr.settings import VerifySettings
from runners.dr.tags import NAME_PREFIX, VERIFY_STARTED


@dataclass(frozen=True)
class Facts:
    """What a snapshot promises, or what its restore turned out to be."""

    state: str = ""
    size_gb: int | None = None
    encrypted: bool | None = None
    engine: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Throwaway:
    """A restore ``verify-restore`` made, found by its tags."""

    id: str
    place: Place
    tags: Mapping[str, str]
    state: str = ""


@dataclass(frozen=True)
class Wait:
    """A botocore WaiterConfig: seconds between polls, and how many polls."""

    delay: int
    attempts: int


class Restorer(abc.ABC):
    kinds: ClassVar[tuple[str, ...]]  # the backup kinds whose snapshots it restores
    label: ClassVar[str]  # for people: "EBS volume"
    size_exact: ClassVar[bool] = True  # False: the restore may be larger than the snapshot
    busy_codes: ClassVar[frozenset[str]]  # "not deletable yet": retried before giving up
    gone_codes: ClassVar[frozenset[str]]  # "no such resource": already deleted

    def __init__(self, clients: Clients, settings: VerifySettings) -> None:
        self.clients = clients
        self.settings = settings

    @abc.abstractmethod
    def expected(self, snap: Snapshot) -> Facts:
        """What the restore must turn out to be: size, encryption, engine of the snapshot."""

    @abc.abstractmethod
    def start(self, snap: Snapshot, expected: Facts, name: str, tags: Mapping[str, str]) -> str:
        """Start the restore in the snapshot's place; its id."""

    @abc.abstractmethod
    def wait_usable(self, place: Place, resource_id: str, wait: Wait) -> None:
        """Block until usable (botocore waiter); WaiterError when it does not become so."""

    @abc.abstractmethod
    def observe(self, place: Place, resource_id: str) -> Facts: ...

    @abc.abstractmethod
    def delete(self, place: Place, resource_id: str) -> None: ...

    @abc.abstractmethod
    def wait_deleted(self, place: Place, resource_id: str, wait: Wait) -> None: ...

    @abc.abstractmethod
    def throwaways(self, place: Place) -> list[Throwaway]:
        """Every resource of this kind in ``place`` that carries the verify-restore tag."""

    @staticmethod
    def name_for(snapshot_id: str, run_id: str) -> str:
        """A name unique to the snapshot and the run, valid as an RDS identifier."""
        digest = hashlib.sha256(f"{run_id}/{snapshot_id}".encode()).hexdigest()[:12]
        return f"{NAME_PREFIX}{digest}"


def started_at(tags: Mapping[str, str]) -> datetime | None:
    return parse_time(tags.get(VERIFY_STARTED))
