"""Aurora cluster snapshots restored to a throwaway cluster.

The cluster is restored without a DB instance in it: its storage is what the
snapshot holds, and a cluster reaching ``available`` proves the snapshot
restores. Adding an instance would prove the engine starts too, at the cost
of another ten minutes or more per cluster; that is left out on purpose.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from runners.backup import tags as T
from runners.backup.model import Place, Snapshot
from runners.dr.restorers.base import Facts, Restorer, Throwaway, Wait
from runners.dr.tags import NAME_PREFIX, VERIFY

if TYPE_CHECKING:
    from mypy_boto3_rds import RDSClient

AWS_OPERATIONS: dict[str, frozenset[str]] = {
    "rds": frozenset(
        {
            "DescribeDBClusterSnapshots",
            "RestoreDBClusterFromSnapshot",
            "DescribeDBClusters",
            "DeleteDBCluster",
        }
    ),
}

RDS_PAGE = 100


class ClusterRestorer(Restorer):
    kinds = ("aurora-cluster",)
    label = "Aurora DB cluster"
    size_exact = False
    busy_codes: ClassVar[frozenset[str]] = frozenset({"InvalidDBClusterStateFault"})
    gone_codes: ClassVar[frozenset[str]] = frozenset({"DBClusterNotFoundFault"})

    def _rds(self, place: Place) -> RDSClient:
        return self.clients.rds(place.region, place.account)

    def expected(self, snap: Snapshot) -> Facts:
        rds = self._rds(snap.place)
        (item,) = rds.describe_db_cluster_snapshots(DBClusterSnapshotIdentifier=snap.id)[
            "DBClusterSnapshots"
        ]
        # Aurora storage grows with the data: there is no size to hold the restore to.
        return Facts("available", None, bool(item.get("StorageEncrypted")), item.get("Engine"))

    def start(self, snap: Snapshot, expected: Facts, name: str, tags: Mapping[str, str]) -> str:
        where: dict[str, Any] = {}
        if self.settings.db_subnet_group:
            where["DBSubnetGroupName"] = self.settings.db_subnet_group
        made = self._rds(snap.place).restore_db_cluster_from_snapshot(
            DBClusterIdentifier=name,
            SnapshotIdentifier=snap.id,
            Engine=expected.engine or "aurora-postgresql",
            DeletionProtection=False,
            CopyTagsToSnapshot=False,
            Tags=T.as_list(dict(tags)),  # type: ignore[arg-type]
            **where,
        )
        return made["DBCluster"]["DBClusterIdentifier"]

    def wait_usable(self, place: Place, resource_id: str, wait: Wait) -> None:
        waiter = self._rds(place).get_waiter("db_cluster_available")
        waiter.wait(
            DBClusterIdentifier=resource_id,
            WaiterConfig={"Delay": wait.delay, "MaxAttempts": wait.attempts},
        )

    def observe(self, place: Place, resource_id: str) -> Facts:
        rds = self._rds(place)
        (db,) = rds.describe_db_clusters(DBClusterIdentifier=resource_id)["DBClusters"]
        return Facts(
            db.get("Status", ""),
            None,
            bool(db.get("StorageEncrypted")),
            db.get("Engine"),
            T.from_list(db.get("TagList")),
        )

    def delete(self, place: Place, resource_id: str) -> None:
        self._rds(place).delete_db_cluster(DBClusterIdentifier=resource_id, SkipFinalSnapshot=True)

    def wait_deleted(self, place: Place, resource_id: str, wait: Wait) -> None:
        waiter = self._rds(place).get_waiter("db_cluster_deleted")
        waiter.wait(
            DBClusterIdentifier=resource_id,
            WaiterConfig={"Delay": wait.delay, "MaxAttempts": wait.attempts},
        )

    def throwaways(self, place: Place) -> list[Throwaway]:
        pages = (
            self._rds(place)
            .get_paginator("describe_db_clusters")
            .paginate(PaginationConfig={"PageSize": RDS_PAGE})
        )
        found = []
        for page in pages:
            for db in page["DBClusters"]:
                tags = T.from_list(db.get("TagList"))
                if VERIFY in tags and db["DBClusterIdentifier"].startswith(NAME_PREFIX):
                    found.append(
                        Throwaway(db["DBClusterIdentifier"], place, tags, db.get("Status", ""))
                    )
        return found
