"""From boto3 operations to the IAM actions they need, and whether a policy grants them.

Most operations need the IAM action of the same name under the service's
prefix. The exceptions are written down here from the AWS service
authorization reference: S3 object and listing calls authorise as
``s3:GetObject``/``s3:ListBucket``, some calls need no permission, and some
need more than their own action (tagging on create, KMS grants for copies of
encrypted snapshots).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from runners.aws.operations import OperationMap

# boto3 service name -> IAM prefix, where they differ.
_PREFIX = {
    "elbv2": "elasticloadbalancing",
    "elb": "elasticloadbalancing",
    "efs": "elasticfilesystem",
    "s3control": "s3",
    "logs": "logs",
    "cloudwatch": "cloudwatch",
}

# Operations authorised by an action with another name (or by none at all).
_ACTIONS: dict[tuple[str, str], tuple[str, ...]] = {
    ("s3", "ListObjectsV2"): ("s3:ListBucket",),
    ("s3", "ListObjects"): ("s3:ListBucket",),
    ("s3", "HeadBucket"): ("s3:ListBucket",),
    ("s3", "HeadObject"): ("s3:GetObject",),
    ("s3", "ListObjectVersions"): ("s3:ListBucketVersions",),
    ("s3", "DeleteObjects"): ("s3:DeleteObject",),
    ("s3", "CreateMultipartUpload"): ("s3:PutObject",),
    ("s3", "UploadPart"): ("s3:PutObject",),
    ("s3", "CompleteMultipartUpload"): ("s3:PutObject",),
    ("s3", "AbortMultipartUpload"): ("s3:AbortMultipartUpload",),
    ("s3", "CopyObject"): ("s3:GetObject", "s3:PutObject"),
    ("s3", "UploadPartCopy"): ("s3:GetObject", "s3:PutObject"),
    ("s3", "ListParts"): ("s3:ListMultipartUploadParts",),
    ("s3", "GetBucketReplication"): ("s3:GetReplicationConfiguration",),
    ("sts", "GetCallerIdentity"): (),  # always allowed, cannot be denied
}

# Permissions an operation needs besides its own, as the runners call it:
# snapshots are created and copied with their tags (so tagging on create is
# authorised), and copies of encrypted snapshots re-encrypt under a key in
# the destination region.
_KMS_COPY = (
    "kms:CreateGrant",
    "kms:Decrypt",
    "kms:DescribeKey",
    "kms:GenerateDataKeyWithoutPlaintext",
    "kms:ReEncryptFrom",
    "kms:ReEncryptTo",
)
_IMPLIED: dict[tuple[str, str], tuple[str, ...]] = {
    # The session carries the build's source identity and tags (runners.aws.identity).
    ("sts", "AssumeRole"): ("sts:SetSourceIdentity", "sts:TagSession"),
    ("ec2", "CreateSnapshot"): ("ec2:CreateTags",),
    ("ec2", "CreateSnapshots"): ("ec2:CreateTags",),
    ("ec2", "CopySnapshot"): ("ec2:CreateTags", *_KMS_COPY),
    ("rds", "CreateDBSnapshot"): ("rds:AddTagsToResource",),
    ("rds", "CreateDBClusterSnapshot"): ("rds:AddTagsToResource",),
    ("rds", "CopyDBSnapshot"): ("rds:AddTagsToResource", "kms:CreateGrant", "kms:DescribeKey"),
    ("rds", "CopyDBClusterSnapshot"): (
        "rds:AddTagsToResource",
        "kms:CreateGrant",
        "kms:DescribeKey",
    ),
    # verify-restore: throwaway restores are tagged as they are made, and
    # restoring an encrypted snapshot uses its key through a grant.
    ("ec2", "CreateVolume"): ("ec2:CreateTags", *_KMS_COPY),
    ("rds", "RestoreDBInstanceFromDBSnapshot"): (
        "rds:AddTagsToResource",
        "kms:CreateGrant",
        "kms:DescribeKey",
    ),
    ("rds", "RestoreDBClusterFromSnapshot"): (
        "rds:AddTagsToResource",
        "kms:CreateGrant",
        "kms:DescribeKey",
    ),
}


def prefix(service: str) -> str:
    return _PREFIX.get(service, service)


def actions_for(service: str, operation: str) -> frozenset[str]:
    """Every IAM action one call of ``service`` ``operation`` needs."""
    own = _ACTIONS.get((service, operation), (f"{prefix(service)}:{operation}",))
    return frozenset((*own, *_IMPLIED.get((service, operation), ())))


def required(operations: OperationMap) -> dict[str, list[str]]:
    """IAM action -> the operations ("ec2 CopySnapshot") that need it."""
    needs: dict[str, list[str]] = {}
    for service, ops in sorted(operations.items()):
        for op in sorted(ops):
            for action in actions_for(service, op):
                needs.setdefault(action, []).append(f"{service} {op}")
    return dict(sorted(needs.items()))


@dataclass(frozen=True)
class Statement:
    document: str
    sid: str
    effect: str
    actions: tuple[str, ...]
    raw: Mapping[str, Any]

    def matches(self, action: str) -> bool:
        # IAM compares action names case-insensitively, with * and ? wildcards.
        return any(fnmatch.fnmatchcase(action.lower(), pattern.lower()) for pattern in self.actions)


def statements(documents: Mapping[str, Mapping[str, Any]]) -> list[Statement]:
    """The statements of named policy documents, with Action always a tuple."""
    found = []
    for name, doc in documents.items():
        body = doc.get("Statement", [])
        for stmt in [body] if isinstance(body, Mapping) else body:
            acts = stmt.get("Action", ())
            found.append(
                Statement(
                    name,
                    str(stmt.get("Sid", "")),
                    str(stmt.get("Effect", "")),
                    (acts,) if isinstance(acts, str) else tuple(acts),
                    stmt,
                )
            )
    return found


def uncovered(
    operations: OperationMap, documents: Mapping[str, Mapping[str, Any]], sid_prefix: str = ""
) -> dict[str, list[str]]:
    """Actions the operations need that no Allow statement grants, with who needs them.

    ``sid_prefix`` counts only the statements meant for these calls, so a
    broad grant made for another purpose (Terraform's) cannot hide a gap.
    """
    allows = [
        s for s in statements(documents) if s.effect == "Allow" and s.sid.startswith(sid_prefix)
    ]
    return {
        action: needed_by
        for action, needed_by in required(operations).items()
        if not any(s.matches(action) for s in allows)
    }


def runner_actions(
    documents: Mapping[str, Mapping[str, Any]], sid_prefix: str
) -> dict[str, list[str]]:
    """Actions granted by the statements that exist for the runners' own calls.

    Those statements' Sids start with ``sid_prefix``; the other statements
    grant Terraform what the managed resources need and are not derived from
    the runners' code.
    """
    granted: dict[str, list[str]] = {}
    for stmt in statements(documents):
        if stmt.effect == "Allow" and stmt.sid.startswith(sid_prefix):
            for action in stmt.actions:
                granted.setdefault(action, []).append(f"{stmt.document}/{stmt.sid}")
    return granted


def unneeded(granted: Iterable[str], operations: OperationMap) -> list[str]:
    """Granted actions that no declared operation needs (wildcards never count as needed)."""
    needed = {action.lower() for action in required(operations)}
    return sorted(action for action in granted if action.lower() not in needed)
