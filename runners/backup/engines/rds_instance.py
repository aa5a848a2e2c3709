"""RDS DB instances (not Aurora members: their backups are cluster snapshots)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from runners.backup.engines.rdssnapshots import RdsShape, RdsSnapshotEngine

AWS_OPERATIONS: dict[str, frozenset[str]] = {
    "rds": frozenset(
        {
            "DescribeDBInstances",
            "DescribeDBSnapshots",
            "CreateDBSnapshot",
            "CopyDBSnapshot",
            "DeleteDBSnapshot",
        }
    ),
}

SHAPE = RdsShape(
    describe_sources="describe_db_instances",
    sources_key="DBInstances",
    source_id="DBInstanceIdentifier",
    source_arn="DBInstanceArn",
    source_status="DBInstanceStatus",
    source_filter="db-instance-id",
    list_snapshots="describe_db_snapshots",
    snapshots_key="DBSnapshots",
    snapshot_key="DBSnapshot",
    snapshot_id="DBSnapshotIdentifier",
    snapshot_arn="DBSnapshotArn",
    snapshot_filter="db-snapshot-id",
    encrypted="Encrypted",
    create="create_db_snapshot",
    copy="copy_db_snapshot",
    copy_source="SourceDBSnapshotIdentifier",
    copy_target="TargetDBSnapshotIdentifier",
    delete="delete_db_snapshot",
    already_exists="DBSnapshotAlreadyExists",
)


class RdsInstance(RdsSnapshotEngine):
    kind = "rds-instance"
    label = "RDS instance"
    family = "rds-db-snapshot"
    shape = SHAPE

    def selectable(self, item: Mapping[str, Any]) -> bool:
        return super().selectable(item) and not item.get("DBClusterIdentifier")
