"""The ``[dr]`` table of runners.toml: how each stack is rebuilt, rehearsed and shipped.

Checked when the file loads, like the rest of the config: a bad key ends in
one line naming it. Cross-checks against ``[policies]`` need the whole file
and are made by ``DrConfig.check_policies`` before a command uses them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from runners.confread import Table
from runners.dr.addresses import IMAGE_HOLDERS, RESTORABLE, Pattern, parse_pattern
from runners.errors import ConfigError, UsageError
from runners.layout import Stack
from runners.terraform.backendconf import BackendConfig, parse_backend

_VARIABLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_PARAMETER = re.compile(r"^/[A-Za-z0-9_./-]+$")
_DB_CLASS = re.compile(r"^db\.[a-z0-9]+\.[a-z0-9]+$")


@dataclass(frozen=True)
class DrillSettings:
    """``[dr.stacks.NAME.drill]``: what ``dr drill`` passes, checks and runs."""

    # Variables for the drill's copy only, after the prepared ones: what lets
    # the drill destroy what it built (deletion protection off, no final snapshots).
    variables: Mapping[str, str | int | bool] = field(default_factory=dict)
    outputs: tuple[str, ...] = ()  # outputs that must be set (not null, not empty) after apply
    smoke: str | None = None  # a command run after apply; exit 0 is a pass
    smoke_timeout_minutes: float = 10.0


@dataclass(frozen=True)
class StackRecovery:
    """``[dr.stacks.NAME]``: which variables of the stack disaster recovery sets, from what."""

    stack: str
    region_variable: str | None = None
    zones_variable: str | None = None
    zones: int | None = None  # how many zones the stack uses; default: as many as its state shows
    kms_key_variable: str | None = None
    snapshots: Mapping[str, Pattern] = field(default_factory=dict)  # variable -> what it restores
    images: Mapping[str, Pattern] = field(default_factory=dict)  # variable -> instances to re-image
    image_parameter: str | None = None  # SSM parameter: the image when the same one is not there
    manual_steps: tuple[str, ...] = ()
    start_empty: tuple[
        str, ...
    ] = ()  # address globs of stateful resources rebuilt empty, on purpose
    var_files: tuple[str, ...] = ()  # the stack's DR variable files ({region} filled in)
    drill: DrillSettings = field(default_factory=DrillSettings)

    def dr_var_files(self, region: str) -> tuple[str, ...]:
        return tuple(f.replace("{region}", region) for f in self.var_files)

    def variables(self) -> list[str]:
        named = [self.region_variable, self.zones_variable, self.kms_key_variable]
        return [v for v in named if v] + list(self.snapshots) + list(self.images)


@dataclass(frozen=True)
class VerifySettings:
    """``[dr.verify]``: how ``verify-restore`` makes its throwaway volumes and databases."""

    db_instance_class: str = "db.t3.micro"
    db_subnet_group: str | None = None
    availability_zone: str | None = None  # default: the backup region's first available zone
    timeout_minutes: float = 60.0
    poll_seconds: float = 30.0
    parallel: int = 4


@dataclass(frozen=True)
class S3Source:
    bucket: str
    prefixes: tuple[str, ...]
    region: str | None  # default: the policy's first source region, else the configured one
    destination_prefix: str  # where its copies go in the destination bucket


@dataclass(frozen=True)
class S3Shipping:
    """``[dr.s3.POLICY]``: buckets whose objects ``ship-s3`` copies to the backup region."""

    policy: str
    destination_bucket: str
    sources: tuple[S3Source, ...]
    max_lag_minutes: float = 60.0


@dataclass(frozen=True)
class DrConfig:
    policy: str | None = None
    state: BackendConfig = field(default_factory=dict)
    backend: BackendConfig = field(default_factory=dict)
    stacks: Mapping[str, StackRecovery] = field(default_factory=dict)
    verify: VerifySettings = field(default_factory=VerifySettings)
    s3: Mapping[str, S3Shipping] = field(default_factory=dict)

    def stack(self, name: str, source: Path) -> StackRecovery:
        """The ``[dr.stacks.NAME]`` of a stack known to exist (``source``: the config file)."""
        try:
            return self.stacks[name]
        except KeyError:
            raise UsageError(
                f"{source}: stack {name!r} has no [dr.stacks.{name}] table; "
                "say there which variables disaster recovery sets (see docs/dr.md)"
            ) from None

    def check_policies(self, policies: Mapping[str, object], source: Path) -> None:
        """Every policy ``[dr]`` names exists; called before a DR command uses them."""
        named = [("dr.policy", self.policy)] + [(f"dr.s3.{n}", n) for n in self.s3]
        for key, name in named:
            if name is not None and name not in policies:
                known = ", ".join(sorted(policies)) or "none"
                raise ConfigError(
                    source,
                    key,
                    f"{name!r} is not a backup policy ([policies.NAME]); known: {known}",
                )


def parse_dr(table: Table, stacks: Mapping[str, Stack]) -> DrConfig:
    table.only("policy", "state", "backend", "stacks", "verify", "s3")
    policy = table.str("policy")
    state = parse_backend(table.table("state"))
    backend = parse_backend(table.table("backend"))
    recoveries = {name: _stack(name, t, table, stacks) for name, t in table.table("stacks").items()}
    verify = _verify(table.table("verify"))
    s3 = {name: _s3(name, t) for name, t in table.table("s3").items()}
    table.check_unknown()
    return DrConfig(policy, state, backend, recoveries, verify, s3)


def _variable(t: Table, key: str) -> str | None:
    value = t.str(key)
    if value is not None and not _VARIABLE.match(value):
        raise t.fail(key, f"expected a Terraform variable name, got {value!r}")
    return value


def _patterns(t: Table, allowed: Mapping[str, object], what: str) -> dict[str, Pattern]:
    out: dict[str, Pattern] = {}
    for variable in list(t.data):
        text = t.str(variable, required=True) or ""
        if not _VARIABLE.match(variable):
            raise t.fail(variable, "expected a Terraform variable name as the key")
        try:
            pattern = parse_pattern(text)
        except ValueError as exc:
            raise t.fail(variable, str(exc)) from None
        if pattern.resource_type not in allowed:
            kinds = ", ".join(sorted(allowed))
            raise t.fail(
                variable, f"{what} must be a resource of type {kinds}, got {pattern.resource_type}"
            )
        out[variable] = pattern
    return out


def _stack(name: str, t: Table, parent: Table, stacks: Mapping[str, Stack]) -> StackRecovery:
    if name not in stacks:
        raise parent.fail(f"stacks.{name}", f"no stack {name!r} in [stacks]")
    t.only(
        "region_variable",
        "zones_variable",
        "zones",
        "kms_key_variable",
        "snapshots",
        "images",
        "image_parameter",
        "manual_steps",
        "start_empty",
        "var_files",
        "drill",
    )
    zones = t.int("zones", 0, minimum=0) or None
    parameter = t.str("image_parameter")
    if parameter is not None and not _PARAMETER.match(parameter):
        raise t.fail(
            "image_parameter",
            f"expected an SSM parameter name such as "
            f"/aws/service/debian/release/13/latest/amd64, got {parameter!r}",
        )
    recovery = StackRecovery(
        stack=name,
        region_variable=_variable(t, "region_variable"),
        zones_variable=_variable(t, "zones_variable"),
        zones=zones,
        kms_key_variable=_variable(t, "kms_key_variable"),
        snapshots=_patterns(t.table("snapshots"), RESTORABLE, "what a snapshot restores"),
        images=_patterns(t.table("images"), IMAGE_HOLDERS, "what is re-imaged"),
        image_parameter=parameter,
        manual_steps=t.str_list("manual_steps"),
        start_empty=t.str_list("start_empty"),
        var_files=_var_files(t),
        drill=_drill(t.table("drill")),
    )
    t.check_unknown()
    seen: set[str] = set()
    for variable in recovery.variables():
        if variable in seen:
            raise t.fail(variable, f"variable {variable!r} is set twice")
        seen.add(variable)
    return recovery


def _var_files(t: Table) -> tuple[str, ...]:
    files = t.str_list("var_files")
    for name in files:
        if Path(name).is_absolute() or ".." in Path(name).parts:
            raise t.fail(
                "var_files",
                f"expected files in the stack's folder ({{region}} allowed), got {name!r}",
            )
    return files


def _drill(t: Table) -> DrillSettings:
    t.only("variables", "outputs", "smoke", "smoke_timeout_minutes")
    variables = t.scalar_map("variables")
    for name in variables:
        if not _VARIABLE.match(name):
            raise t.table("variables").fail(name, "expected a Terraform variable name as the key")
    drill = DrillSettings(
        variables=variables,
        outputs=t.str_list("outputs"),
        smoke=t.str("smoke"),
        smoke_timeout_minutes=t.float("smoke_timeout_minutes", 10.0, minimum=0.1),
    )
    t.check_unknown()
    return drill


def _verify(t: Table) -> VerifySettings:
    t.only(
        "db_instance_class",
        "db_subnet_group",
        "availability_zone",
        "timeout_minutes",
        "poll_seconds",
        "parallel",
    )
    d = VerifySettings()
    db_class = t.str("db_instance_class", d.db_instance_class) or d.db_instance_class
    if not _DB_CLASS.match(db_class):
        raise t.fail(
            "db_instance_class", f"expected an RDS class such as db.t3.micro, got {db_class!r}"
        )
    timeout = t.float("timeout_minutes", d.timeout_minutes, minimum=1.0)
    poll = t.float("poll_seconds", d.poll_seconds, minimum=1.0)
    if poll >= timeout * 60:
        raise t.fail("poll_seconds", "must be shorter than timeout_minutes")
    return VerifySettings(
        db_instance_class=db_class,
        db_subnet_group=t.str("db_subnet_group"),
        availability_zone=t.str("availability_zone"),
        timeout_minutes=timeout,
        poll_seconds=poll,
        parallel=t.int("parallel", d.parallel, minimum=1),
    )


def _s3(policy: str, t: Table) -> S3Shipping:
    t.only("destination_bucket", "max_lag_minutes", "buckets")
    dest = t.req_str("destination_bucket")
    if not _BUCKET.match(dest):
        raise t.fail("destination_bucket", f"expected an S3 bucket name, got {dest!r}")
    buckets = t.table("buckets", required=True)
    sources = []
    for bucket, s in buckets.items():
        if not _BUCKET.match(bucket):
            raise buckets.fail(bucket, "expected an S3 bucket name as the key")
        if bucket == dest:
            raise buckets.fail(bucket, "is the destination bucket itself")
        s.only("prefixes", "region", "destination_prefix")
        region = s.region("region")
        dest_prefix = s.str("destination_prefix", f"{bucket}/", allow_empty=True)
        sources.append(
            S3Source(
                bucket=bucket,
                prefixes=s.str_list("prefixes", default=("",)) or ("",),
                region=region,
                destination_prefix=dest_prefix if dest_prefix is not None else f"{bucket}/",
            )
        )
        s.check_unknown()
    if not sources:
        raise t.fail("buckets", 'name at least one bucket: [dr.s3.POLICY.buckets."NAME"]')
    return S3Shipping(
        policy=policy,
        destination_bucket=dest,
        sources=tuple(sources),
        max_lag_minutes=t.float("max_lag_minutes", 60.0, minimum=1.0),
    )
