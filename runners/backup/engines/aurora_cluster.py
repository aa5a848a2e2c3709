"""Aurora DB clusters (and Multi-AZ DB clusters), backed up as DB cluster snapshots."""

from __future__ import annotations

from runners.backup.engines.rdssnapshots import RdsShape, RdsSnapshotEngine

AWS_OPERATIONS: dict[str, frozenset[str]] = {
    "rds": frozenset(
        {
            "DescribeDBClusters",
            "DescribeDBClusterSnapshots",
            "CreateDBClusterSnapshot",
            "CopyDBClusterSnapshot",
            "DeleteDBClusterSnapshot",
        }
    ),
}

SHAPE = RdsShape(
    describe_sources="describe_db_clusters",
    sources_key="DBClusters",
    source_id="DBClusterIdentifier",
    source_arn="DBClusterArn",
    source_status="Status",
    source_filter="db-cluster-id",
    list_snapshots="describe_db_cluster_snapshots",
    snapshots_key="DBClusterSnapshots",
    snapshot_key="DBClusterSnapshot",
    snapshot_id="DBClusterSnapshotIdentifier",
    snapshot_arn="DBClusterSnapshotArn",
    snapshot_filter="db-cluster-snapshot-id",
    encrypted="StorageEncrypted",
    create="create_db_cluster_snapshot",
    copy="copy_db_cluster_snapshot",
    copy_source="SourceDBClusterSnapshotIdentifier",
    copy_target="TargetDBClusterSnapshotIdentifier",
    delete="delete_db_cluster_snapshot",
    already_exists="DBClusterSnapshotAlreadyExistsFault",
)


class AuroraCluster(RdsSnapshotEngine):
    kind = "aurora-cluster"
    label = "Aurora cluster"
    family = "rds-cluster-snapshot"
    shape = SHAPE
