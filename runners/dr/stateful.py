"""Everything in a stack's state that holds data and that ``dr prepare`` will not restore.

A rebuild from code and snapshots brings back what a snapshot holds; every
other resource that held data comes back empty. Nothing of that may pass in
silence: each one is listed, and unless the stack's ``start_empty`` names it
(``[dr.stacks.NAME]``: reviewed once, like the rest of the mapping) it is
unmapped, and ``dr prepare`` exits 1.

Members of an instance backup that belong to no volume of the state (a volume
attached by hand) are listed the same way; root volumes are not, as the
servers are rebuilt from their image.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass

from runners.backup import tags as T
from runners.backup.model import Snapshot
from runners.dr.statefile import ROOT_VOLUME, StackState, StateResource

# Resource type -> (what it is, what the rebuild does without a restore).
STATEFUL: Mapping[str, tuple[str, str]] = {
    "aws_ebs_volume": ("EBS volume", "the rebuild creates it empty"),
    "aws_db_instance": ("RDS database", "the rebuild creates a new, empty database"),
    "aws_rds_cluster": ("Aurora cluster", "the rebuild creates a new, empty cluster"),
    "aws_efs_file_system": ("EFS file system", "the rebuild creates it empty"),
    "aws_elasticache_replication_group": (
        "ElastiCache replication group",
        "the cache starts empty and is warmed by use",
    ),
    "aws_elasticache_cluster": ("ElastiCache cluster", "the cache starts empty"),
    "aws_elasticache_serverless_cache": ("ElastiCache serverless cache", "the cache starts empty"),
    "aws_sqs_queue": (
        "SQS queue",
        "the queue starts empty: messages waiting in the lost region are lost",
    ),
    "aws_secretsmanager_secret": (
        "Secrets Manager secret",
        "re-created without its value unless a replica exists there: set the value again",
    ),
    "aws_ssm_parameter": (
        "SSM parameter",
        "re-created with the value in the code; a value changed outside Terraform is lost",
    ),
    "aws_s3_bucket": (
        "S3 bucket",
        "the bucket starts empty unless replication or ship-s3 copies its objects",
    ),
    "aws_dynamodb_table": ("DynamoDB table", "the table starts empty unless it is a global table"),
}


@dataclass(frozen=True)
class Unrestored:
    address: str  # the resource in the state, or the snapshot for an instance member
    what: str  # "EFS file system fs-0123"
    consequence: str
    accepted: bool  # named by start_empty: listed, not unmapped
    type: str = ""  # the resource type; "" for an instance backup's member

    @property
    def why(self) -> str:
        return f"{self.what} is not restored"


def glob(pattern: str) -> re.Pattern[str]:
    """An address glob: ``*`` matches anything; brackets and quotes are literal."""
    return re.compile("^" + re.escape(pattern).replace(r"\*", ".*") + "$")


def accepted_by(address: str, start_empty: Iterable[str]) -> bool:
    return any(glob(p).match(address) for p in start_empty)


def _label(resource: StateResource) -> str:
    kind = STATEFUL[resource.type][0]
    a = resource.attributes
    ident = a.get("identifier") or a.get("cluster_identifier") or a.get("name") or a.get("id")
    return f"{kind} {ident}" if ident else kind


def unrestored(
    state: StackState,
    covered: Collection[str],
    start_empty: Iterable[str],
) -> list[Unrestored]:
    """Stateful resources of the state that no ``[dr.stacks]`` snapshot pattern covers. Pure.

    ``covered``: the addresses the snapshot patterns pick (restored, or
    already reported as having no copy).
    """
    allowed = tuple(start_empty)
    out = []
    for r in state.resources:
        if r.mode != "managed" or r.type not in STATEFUL or r.address in covered:
            continue
        consequence = STATEFUL[r.type][1]
        accepted = accepted_by(r.address, allowed)
        out.append(Unrestored(r.address, _label(r), consequence, accepted, r.type))
    return out


def orphan_members(
    state: StackState,
    points: Mapping[tuple[str, str], tuple[Snapshot, ...]],
    start_empty: Iterable[str],
) -> list[Unrestored]:
    """Members of the state's instances' newest backups that no volume of the state is. Pure.

    A root volume is rebuilt from the image; a volume the state has is
    accounted for by ``unrestored``; what is left was attached outside
    Terraform, and its data is in the snapshot but nothing will restore it.
    """
    allowed = tuple(start_empty)
    volumes = {r.attributes.get("id") for r in state.resources if r.type == "aws_ebs_volume"}
    out = []
    for r in state.resources:
        if r.mode != "managed" or r.type != "aws_instance" or not r.attributes.get("id"):
            continue
        root = r.attributes.get(ROOT_VOLUME)
        for snap in points.get(("ec2-instance", r.attributes["id"]), ()):
            volume = snap.tags.get(T.SOURCE_VOLUME, "")
            if not volume or volume in volumes or volume == root:
                continue
            device = snap.tags.get(T.DEVICE, "?")
            out.append(
                Unrestored(
                    f"{r.address} {device}",
                    f"volume {volume} ({device} of {r.attributes['id']}, backed up as {snap.id})",
                    "no volume of the stack is restored from it: restore it by hand",
                    accepted_by(f"{r.address} {device}", allowed),
                )
            )
    return out
