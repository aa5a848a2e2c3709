"""The policy documents bootstrap gives what it makes: the ones the modules render. Pure.

``state-backend`` and ``backup-region`` (terraform/modules) write these with
``aws_iam_policy_document``; bootstrap writes the same statements, so the
first Terraform apply adopts each resource as it is instead of rewriting it.
The Object Lock retention is the module's default too.
"""

from __future__ import annotations

from typing import Any

from runners.client.names import RUNNER_KEY_PREFIX, AccountNames

Document = dict[str, Any]

OBJECT_LOCK_MODE = "GOVERNANCE"  # state-backend's object_lock_mode default
OBJECT_LOCK_DAYS = 365  # state-backend's object_lock_days default
REPLICA_STORAGE_CLASS = "STANDARD_IA"  # backup-region's replica_storage_class default
ERASING = [
    "s3:BypassGovernanceRetention",
    "s3:DeleteObject",
    "s3:DeleteObjectVersion",
    "s3:PutObjectLegalHold",
    "s3:PutObjectRetention",
]


def _doc(*statements: Document) -> Document:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def _anyone() -> str:
    return "*"  # as aws_iam_policy_document writes principals { type = "*" identifiers = ["*"] }


def key_policy(partition: str, account: str) -> Document:
    """The account root administers the key, so IAM policies decide who uses it."""
    return _doc(
        {
            "Sid": "AccountAdministersKey",
            "Effect": "Allow",
            "Action": "kms:*",
            "Resource": "*",
            "Principal": {"AWS": f"arn:{partition}:iam::{account}:root"},
        }
    )


def _tls_only(bucket_arn: str) -> Document:
    return {
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Action": "s3:*",
        "Resource": [bucket_arn, f"{bucket_arn}/*"],
        "Principal": _anyone(),
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }


def state_bucket_policy(partition: str, account: str, names: AccountNames, bucket: str) -> Document:
    """state-backend's bucket policy: TLS only, encrypted uploads, and the runners' records
    that no one erases, written (apply records) and unlocked (stack locks) by the apply role
    alone."""
    arn = f"arn:{partition}:s3:::{bucket}"
    audit = f"{arn}/{RUNNER_KEY_PREFIX}audit/*"
    plan_records = f"{arn}/{RUNNER_KEY_PREFIX}plan-records/*"
    locks = f"{arn}/{RUNNER_KEY_PREFIX}locks/*"
    apply_role = f"arn:{partition}:iam::{account}:role/{names.runner_role('apply')}"
    return _doc(
        _tls_only(arn),
        {
            "Sid": "DenyUnencryptedObjectUploads",
            "Effect": "Deny",
            "Action": "s3:PutObject",
            "Resource": f"{arn}/*",
            "Principal": _anyone(),
            "Condition": {
                "StringNotEqualsIfExists": {"s3:x-amz-server-side-encryption": "aws:kms"}
            },
        },
        {
            "Sid": "DenyErasingRunnerRecords",
            "Effect": "Deny",
            "Action": ERASING,
            "Resource": [audit, plan_records],
            "Principal": _anyone(),
        },
        {
            "Sid": "DenyApplyRecordsButFromTheApplyRole",
            "Effect": "Deny",
            "Action": "s3:PutObject",
            "Resource": audit,
            "Principal": _anyone(),
            "Condition": {"ArnNotEquals": {"aws:PrincipalArn": apply_role}},
        },
        {
            "Sid": "DenyStackLockRemovalButByTheApplyRole",
            "Effect": "Deny",
            "Action": "s3:DeleteObject",
            "Resource": locks,
            "Principal": _anyone(),
            "Condition": {"ArnNotEquals": {"aws:PrincipalArn": apply_role}},
        },
        {
            "Sid": "DenyBypassingRetention",
            "Effect": "Deny",
            "Action": "s3:BypassGovernanceRetention",
            "Resource": f"{arn}/*",
            "Principal": _anyone(),
        },
    )


def replica_bucket_policy(partition: str, bucket: str) -> Document:
    return _doc(_tls_only(f"arn:{partition}:s3:::{bucket}"))


def replication_trust(account: str) -> Document:
    return _doc(
        {
            "Effect": "Allow",
            "Action": "sts:AssumeRole",
            "Principal": {"Service": "s3.amazonaws.com"},
            "Condition": {"StringEquals": {"aws:SourceAccount": account}},
        }
    )


def replication_policy(
    partition: str, state_bucket: str, state_key_arn: str, replica: str, backup_key_arn: str
) -> Document:
    source = f"arn:{partition}:s3:::{state_bucket}"
    return _doc(
        {
            "Sid": "ReadSourceConfiguration",
            "Effect": "Allow",
            "Action": ["s3:GetReplicationConfiguration", "s3:ListBucket"],
            "Resource": source,
        },
        {
            "Sid": "ReadSourceVersions",
            "Effect": "Allow",
            "Action": [
                "s3:GetObjectVersionAcl",
                "s3:GetObjectVersionForReplication",
                "s3:GetObjectVersionTagging",
            ],
            "Resource": f"{source}/*",
        },
        {
            "Sid": "WriteReplicas",
            "Effect": "Allow",
            "Action": ["s3:ReplicateObject", "s3:ReplicateTags"],
            "Resource": f"arn:{partition}:s3:::{replica}/*",
        },
        {
            "Sid": "DecryptSources",
            "Effect": "Allow",
            "Action": "kms:Decrypt",
            "Resource": state_key_arn,
        },
        {
            "Sid": "EncryptReplicas",
            "Effect": "Allow",
            "Action": ["kms:Encrypt", "kms:GenerateDataKey"],
            "Resource": backup_key_arn,
        },
    )


def same_policy(a: Document | None, b: Document) -> bool:
    """Whether two documents say the same: statement order, one-item lists and the
    order inside lists of actions or resources do not matter."""
    if a is None:
        return False
    return _canonical(a) == _canonical(b)


def _canonical(doc: Document) -> object:
    statements = doc.get("Statement", [])
    if isinstance(statements, dict):
        statements = [statements]
    return sorted((_value(s) for s in statements if isinstance(s, dict)), key=repr)


def _value(value: object) -> object:
    if isinstance(value, dict):
        return tuple(sorted((k, _value(v)) for k, v in value.items()))
    if isinstance(value, list):
        items = sorted((_value(v) for v in value), key=repr)
        return items[0] if len(items) == 1 else tuple(items)
    return value
