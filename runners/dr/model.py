"""What ``dr prepare`` found: restores, images, zones, the key, and what it could not map."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from runners.dr.literals import Literal
    from runners.dr.stateful import Unrestored


@dataclass(frozen=True)
class Slot:
    """One value of one variable: ``snapshot_ids["web-1"]`` or ``snapshot_identifier``."""

    variable: str
    key: str | None = None  # None: the variable is a plain value, not a map

    def __str__(self) -> str:
        return self.variable if self.key is None else f'{self.variable}["{self.key}"]'


@dataclass(frozen=True)
class Restore:
    slot: Slot
    address: str  # the resource in the state
    kind: str  # the backup kind: ebs-volume, rds-instance, aurora-cluster
    source_id: str  # what was backed up, as runners:source-id says
    snapshot_id: str  # the shipped copy in the target region
    taken_at: datetime
    source_snapshot: str  # runners:copy-of
    via: str = ""  # an instance backup's member: "i-0123 /dev/sdf"

    def age(self, now: datetime) -> timedelta:
        return now - self.taken_at


@dataclass(frozen=True)
class ImageChoice:
    slot: Slot
    address: str
    source_image: str  # in the source region
    name: str | None
    owner: str | None
    target_image: str
    found_by: str  # "copy", "name and owner" or "parameter /aws/service/..."

    @property
    def same_image(self) -> bool:
        return self.found_by in ("copy", "name and owner")


@dataclass(frozen=True)
class DnsRecord:
    """A record the stack manages, as its state has it in the lost region."""

    address: str
    name: str
    type: str
    values: str  # "10.0.1.5, 10.0.2.7" or "alias dualstack.web-123.eu-west-1.elb.amazonaws.com"
    failover: str = ""  # PRIMARY or SECONDARY, for a failover record
    health_check: str = ""


@dataclass(frozen=True)
class DrillResult:
    """The last ``dr drill`` of the stack into the region, from the ledger."""

    at: datetime
    rto_seconds: float  # prepare to a checked rebuild, as measured
    steps: tuple[tuple[str, float], ...]  # (step, seconds)
    rpo_seconds: float | None
    passed: bool


@dataclass(frozen=True)
class Missing:
    """Something prepare could not map; the command exits 1 unless --allow-missing."""

    what: str  # a slot, or "zones", "kms key", "state"
    why: str
    consequence: str = ""  # what the plan does without it

    def __str__(self) -> str:
        return f"{self.what}: {self.why}"


@dataclass
class Preparation:
    stack: str
    environment: str
    source_region: str
    target_region: str
    policy: str
    rpo_hours: float
    prepared_at: datetime
    state: str = ""  # where the state was read, for the runbook
    state_serial: int | None = None
    restores: list[Restore] = field(default_factory=list)
    images: list[ImageChoice] = field(default_factory=list)
    zones: list[tuple[str, str]] = field(default_factory=list)  # (source zone, target zone)
    target_zones: list[str] = field(default_factory=list)
    kms_key: str | None = None
    kms_alias: str = ""
    missing: list[Missing] = field(default_factory=list)
    variables: dict[str, Any] = field(default_factory=dict)
    manual_steps: tuple[str, ...] = ()
    unrestored: list[Unrestored] = field(default_factory=list)  # stateful, rebuilt empty
    literals: list[Literal] = field(default_factory=list)  # regional literals, mapped or not
    var_files: tuple[str, ...] = ()  # the stack's DR variable files, relative to its folder
    dns: list[DnsRecord] = field(default_factory=list)
    last_drill: DrillResult | None = None

    def rpo_achieved(self) -> timedelta | None:
        """The data lost in the worst case: the age of the oldest point restored."""
        ages = [r.age(self.prepared_at) for r in self.restores]
        return max(ages) if ages else None

    def rpo_met(self) -> bool | None:
        achieved = self.rpo_achieved()
        if achieved is None:
            return None
        return achieved <= timedelta(hours=self.rpo_hours)
