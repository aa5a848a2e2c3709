"""Backup policies: the ``[policies.NAME]`` tables of runners.toml.

A policy says what to back up (tags, kinds, accounts, regions), how often
(the schedule, which fixes the period one backup covers), how long to keep it
(grandfather-father-son plus days for on-demand copies), where the copies go
(the backup region and its KMS key alias), the RPO the report checks, and the
quota limits the copier respects. Everything is checked when the file loads.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from runners.aws.regions import REGION
from runners.backup.selection import ANY_VALUE, KINDS, Selection
from runners.confread import Table
from runners.errors import UsageError

SCHEDULES = ("hourly", "daily", "weekly", "monthly")
DEFAULT_ROLE_ARN = "arn:aws:iam::{account}:role/runners-backup"

_ACCOUNT = re.compile(r"^\d{12}$")
_REGION = REGION  # one pattern for every region in runners.toml
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,39}$")


@dataclass(frozen=True)
class Retention:
    daily: int = 7
    weekly: int = 4
    monthly: int = 12
    yearly: int = 0
    on_demand_days: int = 30

    def rules(self) -> tuple[tuple[str, int], ...]:
        return (
            ("daily", self.daily),
            ("weekly", self.weekly),
            ("monthly", self.monthly),
            ("yearly", self.yearly),
        )


@dataclass(frozen=True)
class Limits:
    ebs_copies: int = 20  # concurrent EBS snapshot copies into one destination region
    rds_copies: int = 20  # concurrent RDS snapshot copies into one destination region
    pending_per_volume: int = 5
    ship_wait_minutes: float = 30.0  # how long one ship run waits for copy slots to free up
    poll_seconds: float = 30.0
    retries: int = 6  # attempts on quota errors and throttling, with exponential backoff
    rds_manual_snapshots: int = 100  # the account's RDS quota of manual snapshots per region


@dataclass(frozen=True)
class Policy:
    name: str
    schedule: str
    selection: Selection
    backup_region: str
    kms_key_alias: str
    rpo_hours: float
    retention: Retention = field(default_factory=Retention)
    limits: Limits = field(default_factory=Limits)
    max_deletions: int = 500
    role_arn: str = DEFAULT_ROLE_ARN
    copy_tags: tuple[str, ...] = ()  # the resource's own tags put on its snapshots and copies
    images: tuple[str, ...] = ()  # instance images ship copies: ids or name globs, "*" for all

    def period(self, when: datetime) -> str:
        return period_key(self.schedule, when)


def period_key(schedule: str, when: datetime) -> str:
    """The period a backup taken at ``when`` covers; one scheduled backup per period."""
    t = when.astimezone(UTC)
    if schedule == "hourly":
        return f"{t:%Y-%m-%dT%H}"
    if schedule == "daily":
        return f"{t:%Y-%m-%d}"
    if schedule == "weekly":
        year, week, _ = t.isocalendar()
        return f"{year}-W{week:02d}"
    if schedule == "monthly":
        return f"{t:%Y-%m}"
    raise ValueError(f"unknown schedule {schedule!r}")


def find(policies: Mapping[str, Policy], name: str, path: object) -> Policy:
    try:
        return policies[name]
    except KeyError:
        known = ", ".join(sorted(policies)) or "none"
        raise UsageError(
            f"{path}: unknown backup policy {name!r}; known policies: {known}"
        ) from None


def parse_policies(table: Table) -> dict[str, Policy]:
    return {name: _policy(name, t, table) for name, t in table.items()}


def _policy(name: str, t: Table, parent: Table) -> Policy:
    if not _NAME.match(name):
        raise parent.fail(
            name,
            "policy names start with a letter and use letters, digits, '_' and '-' "
            "(at most 40), as they become part of snapshot names",
        )
    t.only(
        "schedule",
        "backup_region",
        "kms_key_alias",
        "rpo_hours",
        "max_deletions",
        "role_arn",
        "select",
        "retention",
        "limits",
        "copy_tags",
        "images",
    )
    selection = _selection(t.table("select", required=True))
    backup_region = t.req_str("backup_region")
    if not _REGION.match(backup_region):
        raise t.fail(
            "backup_region", f"expected an AWS region such as eu-central-1, got {backup_region!r}"
        )
    if backup_region in selection.regions:
        raise t.fail(
            "backup_region", "must not be one of select.regions, or losing one region loses both"
        )
    alias = t.req_str("kms_key_alias")
    if not alias.startswith("alias/") or len(alias) <= len("alias/"):
        raise t.fail(
            "kms_key_alias", f"expected a KMS alias such as alias/runners-backup, got {alias!r}"
        )
    role = t.str("role_arn") or DEFAULT_ROLE_ARN
    if selection.accounts != (None,) and (not role.startswith("arn:") or "{account}" not in role):
        raise t.fail(
            "role_arn", f"expected a role ARN template containing {{account}}, got {role!r}"
        )
    rpo = t.float("rpo_hours", 0.0, minimum=0.0)
    if rpo <= 0:
        raise t.fail("rpo_hours", "is required: the hours after which a missing backup is a breach")
    policy = Policy(
        name=name,
        schedule=t.choice("schedule", SCHEDULES, "daily"),
        selection=selection,
        backup_region=backup_region,
        kms_key_alias=alias,
        rpo_hours=rpo,
        retention=_retention(t.table("retention")),
        limits=_limits(t.table("limits")),
        max_deletions=t.int("max_deletions", 500, minimum=0),
        role_arn=role,
        copy_tags=_copy_tags(t),
        images=t.str_list("images"),
    )
    t.check_unknown()
    return policy


def _copy_tags(t: Table) -> tuple[str, ...]:
    keys = t.str_list("copy_tags")
    for key in keys:
        if key.lower().startswith(("aws:", "runners:")) or not key.strip():
            raise t.fail(
                "copy_tags",
                f"expected the keys of the resources' own tags, got {key!r} "
                "(aws: and runners: keys are reserved)",
            )
    return tuple(dict.fromkeys(keys))


def _selection(t: Table) -> Selection:
    t.only("tags", "kinds", "accounts", "regions")
    tags = t.table("tags")
    wanted: dict[str, str] = {}
    for key, value in tags.data.items():
        if not isinstance(value, str) or not value:
            raise tags.fail(
                key, f'expected a tag value, or "{ANY_VALUE}" for any value, got {value!r}'
            )
        wanted[key] = value
    if not wanted:
        raise t.fail(
            "tags",
            'name at least one tag, e.g. tags = { backup = "daily" }, '
            "so that nothing is backed up by accident",
        )
    kinds = t.str_list("kinds", default=KINDS)
    for kind in kinds:
        if kind not in KINDS:
            raise t.fail("kinds", f"unknown kind {kind!r}; expected some of: {', '.join(KINDS)}")
    accounts = t.str_list("accounts")
    for account in accounts:
        if not _ACCOUNT.match(account):
            raise t.fail("accounts", f"expected 12-digit AWS account ids, got {account!r}")
    regions = t.str_list("regions")
    for region in regions:
        if not _REGION.match(region):
            raise t.fail("regions", f"expected AWS regions such as eu-west-1, got {region!r}")
    t.check_unknown()
    return Selection(
        tags=wanted,
        kinds=tuple(dict.fromkeys(kinds)),
        accounts=tuple(dict.fromkeys(accounts)) or (None,),
        regions=tuple(dict.fromkeys(regions)),
    )


def _retention(t: Table) -> Retention:
    t.only("daily", "weekly", "monthly", "yearly", "on_demand_days")
    d = Retention()
    retention = Retention(
        daily=t.int("daily", d.daily),
        weekly=t.int("weekly", d.weekly),
        monthly=t.int("monthly", d.monthly),
        yearly=t.int("yearly", d.yearly),
        on_demand_days=t.int("on_demand_days", d.on_demand_days),
    )
    if not any(count for _, count in retention.rules()):
        raise t.fail(
            "daily", "daily, weekly, monthly and yearly are all 0: the policy would keep nothing"
        )
    return retention


def _limits(t: Table) -> Limits:
    t.only(
        "ebs_copies",
        "rds_copies",
        "pending_per_volume",
        "ship_wait_minutes",
        "poll_seconds",
        "retries",
        "rds_manual_snapshots",
    )
    d = Limits()
    return Limits(
        ebs_copies=t.int("ebs_copies", d.ebs_copies, minimum=1),
        rds_copies=t.int("rds_copies", d.rds_copies, minimum=1),
        pending_per_volume=t.int("pending_per_volume", d.pending_per_volume, minimum=1),
        ship_wait_minutes=t.float("ship_wait_minutes", d.ship_wait_minutes),
        poll_seconds=t.float("poll_seconds", d.poll_seconds),
        retries=t.int("retries", d.retries, minimum=1),
        rds_manual_snapshots=t.int("rds_manual_snapshots", d.rds_manual_snapshots, minimum=1),
    )
