"""Which resources a plan must not destroy or replace without an explicit count."""

from __future__ import annotations

from dataclasses import dataclass

# Resource types whose destroy or replace a reviewer must never miss: databases,
# buckets, KMS keys, EBS volumes, DNS zones and IAM. Patterns are fnmatch globs.
DEFAULT_PROTECTED_TYPES: tuple[str, ...] = (
    "aws_db_instance",
    "aws_rds_cluster",
    "aws_rds_cluster_instance",
    "aws_dynamodb_table",
    "aws_elasticache_cluster",
    "aws_elasticache_replication_group",
    "aws_docdb_cluster",
    "aws_redshift_cluster",
    "aws_s3_bucket",
    "aws_kms_key",
    "aws_ebs_volume",
    "aws_efs_file_system",
    "aws_route53_zone",
    "aws_iam_*",
)


@dataclass(frozen=True)
class Protection:
    types: tuple[str, ...] = DEFAULT_PROTECTED_TYPES
    addresses: tuple[str, ...] = ()
