"""EBS snapshots (of volumes, and of instances' volumes) restored to a throwaway volume."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from runners.backup import tags as T
from runners.backup.model import Place, Snapshot
from runners.dr import zones
from runners.dr.restorers.base import Facts, Restorer, Throwaway, Wait
from runners.dr.tags import VERIFY

if TYPE_CHECKING:
    from mypy_boto3_ec2 import EC2Client

AWS_OPERATIONS: dict[str, frozenset[str]] = {
    "ec2": frozenset({"DescribeSnapshots", "CreateVolume", "DescribeVolumes", "DeleteVolume"}),
}

VOLUME_PAGE = 500


class VolumeRestorer(Restorer):
    kinds = ("ebs-volume", "ec2-instance")
    label = "EBS volume"
    busy_codes: ClassVar[frozenset[str]] = frozenset({"IncorrectState", "VolumeInUse"})
    gone_codes: ClassVar[frozenset[str]] = frozenset({"InvalidVolume.NotFound"})

    def _ec2(self, place: Place) -> EC2Client:
        return self.clients.ec2(place.region, place.account)

    def expected(self, snap: Snapshot) -> Facts:
        ec2 = self._ec2(snap.place)
        (item,) = ec2.describe_snapshots(SnapshotIds=[snap.id])["Snapshots"]
        return Facts("available", item.get("VolumeSize"), bool(item.get("Encrypted")))

    def start(self, snap: Snapshot, expected: Facts, name: str, tags: Mapping[str, str]) -> str:
        ec2 = self._ec2(snap.place)
        zone = self.settings.availability_zone or zones.available(ec2)[0]
        spec: Any = {"ResourceType": "volume", "Tags": T.as_list(dict(tags))}
        made = ec2.create_volume(
            SnapshotId=snap.id, AvailabilityZone=zone, VolumeType="gp3", TagSpecifications=[spec]
        )
        return made["VolumeId"]

    def wait_usable(self, place: Place, resource_id: str, wait: Wait) -> None:
        waiter = self._ec2(place).get_waiter("volume_available")
        waiter.wait(
            VolumeIds=[resource_id],
            WaiterConfig={"Delay": wait.delay, "MaxAttempts": wait.attempts},
        )

    def observe(self, place: Place, resource_id: str) -> Facts:
        (vol,) = self._ec2(place).describe_volumes(VolumeIds=[resource_id])["Volumes"]
        return Facts(
            vol.get("State", ""),
            vol.get("Size"),
            bool(vol.get("Encrypted")),
            None,
            T.from_list(vol.get("Tags")),
        )

    def delete(self, place: Place, resource_id: str) -> None:
        self._ec2(place).delete_volume(VolumeId=resource_id)

    def wait_deleted(self, place: Place, resource_id: str, wait: Wait) -> None:
        waiter = self._ec2(place).get_waiter("volume_deleted")
        waiter.wait(
            VolumeIds=[resource_id],
            WaiterConfig={"Delay": wait.delay, "MaxAttempts": wait.attempts},
        )

    def throwaways(self, place: Place) -> list[Throwaway]:
        pages = (
            self._ec2(place)
            .get_paginator("describe_volumes")
            .paginate(
                Filters=[{"Name": "tag-key", "Values": [VERIFY]}],
                PaginationConfig={"PageSize": VOLUME_PAGE},
            )
        )
        return [
            Throwaway(v["VolumeId"], place, T.from_list(v.get("Tags")), v.get("State", ""))
            for page in pages
            for v in page["Volumes"]
        ]
