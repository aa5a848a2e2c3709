"""Every tag runners writes or reads on a snapshot, in one place.

The tags are the only state: a run rebuilds what was done before from them,
with no local file. Keys share the ``runners:`` prefix so they sort together
in the console and never collide with a client's own tags.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from datetime import UTC, datetime

PREFIX = "runners:"
MANAGED_BY = (
    "runners:managed-by"  # the mark of a snapshot runners made; nothing else is ever deleted
)
MANAGED_BY_VALUE = "runners"
POLICY = "runners:policy"
KIND = "runners:kind"  # ebs-volume, ec2-instance, rds-instance, aurora-cluster
SOURCE_ID = "runners:source-id"  # the volume, instance, DB instance or cluster backed up
PERIOD = "runners:period"  # the schedule period this snapshot covers, e.g. 2024-05-17
RETENTION_CLASS = "runners:retention"  # scheduled | on-demand
RUN_ID = "runners:run-id"
TAKEN_AT = "runners:taken-at"  # ISO time of the backup, carried unchanged onto copies
REASON = "runners:on-demand-reason"
REQUESTED_BY = "runners:requested-by"
COPY_OF = "runners:copy-of"  # on a copy: the source snapshot's id (EBS) or ARN (RDS)
COPY_OF_REGION = "runners:copy-of-region"  # on a copy: the source snapshot's region
COPIED_TO = "runners:copied-to"  # on a source: the region its copy was started in
# Instance backups (CreateSnapshots), for a recovery without the source region:
DEVICE = "runners:device"  # on each member and its copy: the volume's device, e.g. /dev/sdf
SOURCE_VOLUME = "runners:source-volume"  # on each EBS copy: the volume its source was taken of
OPTION_GROUP = "runners:option-group"  # an RDS source's non-default option group
IMAGE_ID = "runners:image-id"  # the instance's AMI id in its own region
IMAGE_NAME = "runners:image-name"
IMAGE_OWNER = "runners:image-owner"  # the AMI owner's account id
IMAGE_COPY_REGION = "runners:image-copy-region"  # where ship copies the image (policy.images)

SCHEDULED = "scheduled"
ON_DEMAND = "on-demand"

# Anyone may put a hold on a snapshot; these keys (any case, any value) stop prune.
LEGAL_HOLD_KEYS = frozenset({"legal-hold", "runners:legal-hold"})

# Tags that mark a snapshot as another service's; runners lists these and never touches them.
FOREIGN_OWNERS: Mapping[str, str] = {
    "aws:backup:source-resource": "AWS Backup",
    "aws:dlm:lifecycle-policy-id": "Data Lifecycle Manager",
}

# The tags carried from a source onto its copy: everything runners wrote except the copy links.
_NOT_COPIED = frozenset({COPIED_TO, COPY_OF, COPY_OF_REGION})

# RDS accepts only these characters in tag values; EC2 accepts more, so one rule serves both.
_UNSAFE = re.compile(r"[^\w\s.:/=+\-@]")
MAX_VALUE = 256


def clean_value(text: str) -> str:
    """A free-text value (reason, user) that every service accepts."""
    return _UNSAFE.sub("_", text.strip())[:MAX_VALUE]


def new_run_id(now: datetime) -> str:
    return f"{now.astimezone(UTC):%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


def format_time(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        parsed = datetime.fromisoformat(text)  # 3.11 reads the trailing Z
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def snapshot_tags(
    *,
    policy: str,
    kind: str,
    source_id: str,
    period: str,
    retention_class: str,
    run_id: str,
    taken_at: datetime,
    reason: str | None = None,
    requested_by: str | None = None,
) -> dict[str, str]:
    tags = {
        MANAGED_BY: MANAGED_BY_VALUE,
        POLICY: policy,
        KIND: kind,
        SOURCE_ID: source_id,
        PERIOD: period,
        RETENTION_CLASS: retention_class,
        RUN_ID: run_id,
        TAKEN_AT: format_time(taken_at),
    }
    if reason:
        tags[REASON] = clean_value(reason)
    if requested_by:
        tags[REQUESTED_BY] = clean_value(requested_by)
    return tags


def copy_tags(
    source_tags: Mapping[str, str],
    source_ref: str,
    source_region: str,
    also: tuple[str, ...] = (),
) -> dict[str, str]:
    """The copy's tags: the source's runners tags and the ``also`` keys, and the link back."""
    tags = {
        k: v
        for k, v in source_tags.items()
        if (k.startswith(PREFIX) and k not in _NOT_COPIED) or k in also
    }
    tags[COPY_OF] = source_ref
    tags[COPY_OF_REGION] = source_region
    return tags


def legal_hold(tags: Mapping[str, str]) -> str | None:
    for key in tags:
        if key.lower() in LEGAL_HOLD_KEYS:
            return key
    return None


def foreign_owner(tags: Mapping[str, str]) -> str | None:
    for key, owner in FOREIGN_OWNERS.items():
        if key in tags:
            return owner
    return None


def as_list(tags: Mapping[str, str]) -> list[dict[str, str]]:
    """The ``[{"Key": ..., "Value": ...}]`` shape every AWS API takes."""
    return [{"Key": k, "Value": v} for k, v in tags.items()]


def from_list(items: object) -> dict[str, str]:
    if not isinstance(items, list):
        return {}
    return {
        str(t["Key"]): str(t.get("Value", "")) for t in items if isinstance(t, dict) and "Key" in t
    }
