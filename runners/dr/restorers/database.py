"""RDS DB snapshots restored to a throwaway DB instance: small, private, single-AZ."""

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
            "DescribeDBSnapshots",
            "RestoreDBInstanceFromDBSnapshot",
            "DescribeDBInstances",
            "DeleteDBInstance",
        }
    ),
}

RDS_PAGE = 100


class DatabaseRestorer(Restorer):
    kinds = ("rds-instance",)
    label = "RDS DB instance"
    size_exact = False  # a restore may be given more storage than the snapshot, never less
    busy_codes: ClassVar[frozenset[str]] = frozenset({"InvalidDBInstanceState"})
    gone_codes: ClassVar[frozenset[str]] = frozenset(
        {"DBInstanceNotFound", "DBInstanceNotFoundFault"}
    )

    def _rds(self, place: Place) -> RDSClient:
        return self.clients.rds(place.region, place.account)

    def expected(self, snap: Snapshot) -> Facts:
        rds = self._rds(snap.place)
        (item,) = rds.describe_db_snapshots(DBSnapshotIdentifier=snap.id)["DBSnapshots"]
        return Facts(
            "available",
            item.get("AllocatedStorage"),
            bool(item.get("Encrypted")),
            item.get("Engine"),
        )

    def start(self, snap: Snapshot, expected: Facts, name: str, tags: Mapping[str, str]) -> str:
        where: dict[str, Any] = {}
        if self.settings.db_subnet_group:
            where["DBSubnetGroupName"] = self.settings.db_subnet_group
        if self.settings.availability_zone:
            where["AvailabilityZone"] = self.settings.availability_zone
        made = self._rds(snap.place).restore_db_instance_from_db_snapshot(
            DBInstanceIdentifier=name,
            DBSnapshotIdentifier=snap.id,
            DBInstanceClass=self.settings.db_instance_class,
            MultiAZ=False,
            PubliclyAccessible=False,
            AutoMinorVersionUpgrade=False,
            DeletionProtection=False,
            CopyTagsToSnapshot=False,
            Tags=T.as_list(dict(tags)),  # type: ignore[arg-type]
            **where,
        )
        return made["DBInstance"]["DBInstanceIdentifier"]

    def wait_usable(self, place: Place, resource_id: str, wait: Wait) -> None:
        waiter = self._rds(place).get_waiter("db_instance_available")
        waiter.wait(
            DBInstanceIdentifier=resource_id,
            WaiterConfig={"Delay": wait.delay, "MaxAttempts": wait.attempts},
        )

    def observe(self, place: Place, resource_id: str) -> Facts:
        rds = self._rds(place)
        (db,) = rds.describe_db_instances(DBInstanceIdentifier=resource_id)["DBInstances"]
        return Facts(
            db.get("DBInstanceStatus", ""),
            db.get("AllocatedStorage"),
            bool(db.get("StorageEncrypted")),
            db.get("Engine"),
            T.from_list(db.get("TagList")),
        )

    def delete(self, place: Place, resource_id: str) -> None:
        self._rds(place).delete_db_instance(
            DBInstanceIdentifier=resource_id, SkipFinalSnapshot=True, DeleteAutomatedBackups=True
        )

    def wait_deleted(self, place: Place, resource_id: str, wait: Wait) -> None:
        waiter = self._rds(place).get_waiter("db_instance_deleted")
        waiter.wait(
            DBInstanceIdentifier=resource_id,
            WaiterConfig={"Delay": wait.delay, "MaxAttempts": wait.attempts},
        )

    def throwaways(self, place: Place) -> list[Throwaway]:
        pages = (
            self._rds(place)
            .get_paginator("describe_db_instances")
            .paginate(PaginationConfig={"PageSize": RDS_PAGE})
        )
        found = []
        for page in pages:
            for db in page["DBInstances"]:
                tags = T.from_list(db.get("TagList"))
                # Both marks: the tag, and the name only verify-restore gives.
                if VERIFY in tags and db["DBInstanceIdentifier"].startswith(NAME_PREFIX):
                    found.append(
                        Throwaway(
                            db["DBInstanceIdentifier"], place, tags, db.get("DBInstanceStatus", "")
                        )
                    )
        return found
