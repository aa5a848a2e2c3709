"""Read a stack's Terraform state: which volumes, databases and servers it has, by address.

The state is read as a file, not through ``terraform``: in a disaster the
place to read it from is the replica in the backup region (``[dr.state]``),
and reading it needs no provider plugins and no working directory. Only the
S3 and local backends are understood, as those are what runners.toml
configures. Only identifying attributes are kept (ids, zones, image names);
the rest of the state, secrets included, is dropped as soon as it is parsed
and is never written or logged.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from runners.aws.retry import error_code
from runners.dr.addresses import instance_address
from runners.dr.stackcode import backend_type
from runners.errors import ConfigError, RunnersError

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

    from runners.config import BackendConfig

AWS_OPERATIONS: dict[str, frozenset[str]] = {"s3": frozenset({"GetObject"})}

# The attributes disaster recovery needs; everything else in the state is dropped.
KEPT = frozenset(
    {
        "id",
        "identifier",
        "cluster_identifier",
        "ami",
        "availability_zone",
        "name",
        "owner_id",
        "device_name",  # aws_volume_attachment: which device of which instance a volume is
        "volume_id",
        "instance_id",
    }
)
ROOT_VOLUME = "root_volume_id"  # kept from an aws_instance's root_block_device


@dataclass(frozen=True)
class StateLocation:
    backend: str  # "s3" or "local"
    path: Path | None = None
    bucket: str | None = None
    key: str | None = None
    region: str | None = None

    def __str__(self) -> str:
        if self.backend == "local":
            return str(self.path)
        return f"s3://{self.bucket}/{self.key}" + (f" ({self.region})" if self.region else "")


@dataclass(frozen=True)
class StateResource:
    address: str
    mode: str  # managed | data
    type: str
    attributes: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class StackState:
    location: StateLocation
    serial: int | None
    resources: tuple[StateResource, ...]

    def zones(self, region: str) -> list[str]:
        """The region's zones the stack's resources sit in, sorted (a, b, c ...)."""
        found = {
            r.attributes["availability_zone"]
            for r in self.resources
            if r.attributes.get("availability_zone", "").startswith(region)
        }
        return sorted(found)

    def image_facts(self, image_id: str) -> tuple[str, str] | None:
        """(name, owner) of an image the stack itself looked up with a ``data "aws_ami"``."""
        for r in self.resources:
            a = r.attributes
            is_lookup = r.mode == "data" and r.type == "aws_ami" and a.get("id") == image_id
            if is_lookup and a.get("name") and a.get("owner_id"):
                return a["name"], a["owner_id"]
        return None


def fill(values: BackendConfig, stack: str, env: str, region: str) -> BackendConfig:
    return {
        k: v.replace("{stack}", stack).replace("{env}", env).replace("{region}", region)
        if isinstance(v, str)
        else v
        for k, v in values.items()
    }


def overlay(base: BackendConfig, over: BackendConfig) -> BackendConfig:
    """``base`` overlaid by ``over``; naming the other backend's location drops the base's."""
    if "bucket" in over:
        base = {k: v for k, v in base.items() if k != "path"}
    if "path" in over:
        base = {k: v for k, v in base.items() if k not in ("bucket", "key", "region")}
    return {**base, **over}


def locate(stack_dir: Path, settings: BackendConfig, config_path: Path) -> StateLocation:
    """Where the state is, from the merged backend settings (the environment's, overlaid)."""
    declared = backend_type(stack_dir)
    if "bucket" not in settings and ("path" in settings or declared in (None, "local")):
        raw = Path(str(settings.get("path", "terraform.tfstate"))).expanduser()
        return StateLocation("local", path=raw if raw.is_absolute() else stack_dir / raw)
    bucket, key = settings.get("bucket"), settings.get("key")
    if not isinstance(bucket, str) or not isinstance(key, str):
        raise ConfigError(
            config_path,
            "dr.state",
            f"cannot tell where the {declared or 's3'} state is: give bucket and key "
            "(the environment's backend settings, overlaid by [dr.state])",
        )
    region = settings.get("region")
    return StateLocation("s3", bucket=bucket, key=key, region=str(region) if region else None)


class StateUnreadable(RunnersError):
    """The state cannot be read: nothing can be mapped without it (exit 1, one line)."""


# What an S3 error code means for the person reading the line.
_S3_HINTS = {
    "NoSuchKey": "no such object: has the stack been applied, and is the state bucket replicated?",
    "NoSuchBucket": "no such bucket in that region: check [dr.state]",
    "InvalidObjectState": (
        "the object is archived (Glacier or Deep Archive): restore it (s3api restore-object) "
        "and run again; the backup-region module keeps state objects out of archive classes"
    ),
    "AccessDenied": "access denied: the plan role's RunnerRecoveryState statement must cover it",
}


def fetch(location: StateLocation, s3: S3Client | None) -> bytes:
    """The state file's bytes, or StateUnreadable naming the object and why."""
    if location.path is not None:
        try:
            return location.path.read_bytes()
        except FileNotFoundError:
            raise StateUnreadable(
                f"cannot read the state {location}: no such file; has the stack been applied?"
            ) from None
        except OSError as exc:
            raise StateUnreadable(f"cannot read the state {location}: {exc.strerror}") from None
    if s3 is None:
        raise StateUnreadable(f"cannot read the state {location}: no S3 client")
    try:
        body = s3.get_object(Bucket=str(location.bucket), Key=str(location.key))["Body"]
        return body.read()
    except ClientError as exc:
        code = error_code(exc)
        raise StateUnreadable(
            f"cannot read the state {location}: {code}: {_S3_HINTS.get(code, 'S3 refused it')}"
        ) from None
    except BotoCoreError as exc:
        raise StateUnreadable(
            f"cannot read the state {location}: {type(exc).__name__} (S3 in "
            f"{location.region or 'the default region'} did not answer)"
        ) from None


def parse(data: bytes, location: StateLocation) -> StackState:
    """The resources of a version-4 state (Terraform 0.12 and later), identifying attributes only."""
    try:
        doc = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise StateUnreadable(
            f"cannot read the state {location}: not JSON (a damaged or partial copy)"
        ) from None
    if not isinstance(doc, dict) or doc.get("version") != 4:
        version = doc.get("version") if isinstance(doc, dict) else None
        raise StateUnreadable(
            f"cannot read the state {location}: format version {version!r}, expected 4"
        )
    found: list[StateResource] = []
    for res in doc.get("resources") or []:
        if not isinstance(res, dict):
            continue
        for inst in res.get("instances") or []:
            if isinstance(inst, dict):
                found.append(_resource(res, inst))
    serial = doc.get("serial")
    return StackState(location, serial if isinstance(serial, int) else None, tuple(found))


def _first(value: object) -> dict[str, Any]:
    """The one block of a nested block list, as the provider writes it, or {}."""
    if isinstance(value, list) and value and isinstance(value[0], dict):
        return value[0]
    return {}


def _record(attrs: dict[str, Any]) -> dict[str, str]:
    """A DNS record's name, type, values, and failover role: for the runbook's DNS section."""
    out = {k: str(attrs[k]) for k in ("type", "zone_id", "set_identifier", "ttl") if attrs.get(k)}
    values = attrs.get("records")
    if isinstance(values, list):
        out["records"] = ", ".join(str(v) for v in values)
    alias = _first(attrs.get("alias"))
    if alias.get("name"):
        out["records"] = f"alias {alias['name']}"
    failover = _first(attrs.get("failover_routing_policy"))
    if failover.get("type"):
        out["failover"] = str(failover["type"])
    if attrs.get("health_check_id"):
        out["health_check_id"] = str(attrs["health_check_id"])
    return out


def _resource(res: dict[str, Any], inst: dict[str, Any]) -> StateResource:
    attrs = inst.get("attributes") or {}
    kept = {k: str(v) for k, v in attrs.items() if k in KEPT and isinstance(v, str | int) and v}
    root = _first(attrs.get("root_block_device"))
    if root.get("volume_id"):
        kept[ROOT_VOLUME] = str(root["volume_id"])
    if res.get("type") == "aws_route53_record":
        kept.update(_record(attrs))
    mode = str(res.get("mode", "managed"))
    address = instance_address(
        res.get("module"), mode, str(res.get("type")), str(res.get("name")), inst.get("index_key")
    )
    return StateResource(address, mode, str(res.get("type")), kept)
