"""The records backup steps pass around: places, resources, snapshots, plan lines, failures."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from runners.backup import tags as T

State = Literal["pending", "completed", "error", "deleting"]


@dataclass(frozen=True, order=True)
class Place:
    """An account (None: the runner's own credentials) and a region."""

    account: str | None
    region: str

    def __str__(self) -> str:
        return f"{self.account}/{self.region}" if self.account else self.region


@dataclass(frozen=True)
class Resource:
    kind: str
    id: str
    place: Place
    tags: Mapping[str, str] = field(default_factory=dict)
    arn: str | None = None
    volumes: tuple[str, ...] = ()  # an instance's attached EBS volumes
    attached_to: tuple[str, ...] = ()  # a volume's instances
    status: str = ""  # the service's own state word, e.g. available, stopped
    volume_type: str = ""  # EBS volumes: gp3, sc1... (the pending-snapshot quota depends on it)
    devices: tuple[tuple[str, str], ...] = ()  # an instance's (volume id, device name)
    image: str = ""  # an instance's image id
    option_group: str = ""  # an RDS instance's option group


@dataclass(frozen=True)
class Snapshot:
    id: str  # snapshot id (EBS) or identifier (RDS)
    kind: str  # the runners kind that made it, or the engine that listed it
    place: Place
    state: State
    started: datetime  # the service's own start time
    tags: Mapping[str, str] = field(default_factory=dict)
    encrypted: bool = False
    arn: str | None = None  # RDS only
    volume_id: str | None = None  # EBS only: the volume it was taken from
    foreign_owner: str | None = None  # AWS Backup / DLM: never touched
    option_group: str = ""  # RDS only: a copy must name one when it is not a default group
    size_gib: int = 0
    kms_key: str = ""
    progress: float | None = None  # 0..1 while pending, as the service reports it

    @property
    def key(self) -> tuple[str, str, str]:
        """Unique across accounts and regions (RDS identifiers repeat between regions)."""
        return (self.place.account or "", self.place.region, self.id)

    @property
    def ref(self) -> str:
        """How a copy names this snapshot in its ``copy-of`` tag."""
        return self.arn or self.id

    @property
    def source_id(self) -> str:
        return self.tags.get(T.SOURCE_ID, self.volume_id or "")

    @property
    def period(self) -> str:
        return self.tags.get(T.PERIOD, "")

    @property
    def retention_class(self) -> str:
        return self.tags.get(T.RETENTION_CLASS, "")

    @property
    def copy_of(self) -> str | None:
        return self.tags.get(T.COPY_OF)

    @property
    def managed(self) -> bool:
        return self.tags.get(T.MANAGED_BY) == T.MANAGED_BY_VALUE

    @property
    def taken_at(self) -> datetime:
        """When the backup was taken: the tag (carried onto copies), else the start time."""
        return T.parse_time(self.tags.get(T.TAKEN_AT)) or self.started

    @property
    def point(self) -> tuple[str, str, str, str, str, str]:
        """The recovery point: an instance's volume snapshots stand or fall together."""
        tags = self.tags  # read directly: retention asks this of every snapshot
        return (
            self.place.account or "",
            self.place.region,
            self.kind,
            tags.get(T.SOURCE_ID, self.volume_id or ""),
            tags.get(T.RETENTION_CLASS, ""),
            tags.get(T.PERIOD, ""),
        )

    @property
    def resource_key(self) -> tuple[str, str, str, str]:
        return (self.place.account or "", self.place.region, self.kind, self.source_id)

    def describe(self) -> str:
        return f"{self.kind} {self.source_id} snapshot {self.id} ({self.place})"


Verb = Literal["create", "adopt", "skip", "copy", "wait", "queue", "link", "delete", "keep"]


@dataclass(frozen=True)
class PlanLine:
    """One thing a command will do, or deliberately not do, and why."""

    verb: Verb
    kind: str
    target: str  # a resource id or a snapshot id
    place: Place
    reason: str

    def __str__(self) -> str:
        return f"{self.verb:<7} {self.kind:<15} {self.target:<24} {self.place!s:<16} {self.reason}"


@dataclass(frozen=True)
class Failure:
    """One resource that could not be handled; the run goes on and ends with exit 1."""

    what: str  # e.g. "ebs-volume vol-0abc (eu-west-1)"
    operation: str  # e.g. CreateSnapshot
    code: str
    message: str

    def __str__(self) -> str:
        return f"{self.what}: {self.operation}: {self.code}: {self.message}".rstrip(": ")
