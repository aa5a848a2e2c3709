"""EC2 instances: all attached EBS volumes at one instant, with ``CreateSnapshots``.

The snapshots of one call are crash-consistent with each other, so they form
one recovery point: retention keeps or deletes them together. A volume
attached to a selected instance is covered here and skipped as a volume.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from runners.backup import tags as T
from runners.backup.engines.ec2snapshots import (
    Ec2SnapshotEngine,
    chunk_filter,
    existing_ids,
    tag_filters,
)
from runners.backup.model import Place, Resource, Snapshot
from runners.backup.selection import Selection

AWS_OPERATIONS: dict[str, frozenset[str]] = {
    "ec2": frozenset({"DescribeInstances", "CreateSnapshots", "DescribeImages"}),
}

INSTANCE_PAGE = 1000
_LIVE = ["pending", "running", "stopping", "stopped"]
_READY = frozenset({"running", "stopping", "stopped"})


class Ec2Instance(Ec2SnapshotEngine):
    kind = "ec2-instance"
    label = "EC2 instance"

    def discover(self, place: Place, selection: Selection) -> list[Resource]:
        pages = (
            self.clients.ec2(place.region, place.account)
            .get_paginator("describe_instances")
            .paginate(
                Filters=[*tag_filters(selection), {"Name": "instance-state-name", "Values": _LIVE}],
                PaginationConfig={"PageSize": INSTANCE_PAGE},
            )
        )
        found = []
        for page in pages:
            for reservation in page["Reservations"]:
                for inst in reservation["Instances"]:
                    tags = T.from_list(inst.get("Tags"))
                    if not selection.matches(tags):
                        continue
                    devices = tuple(
                        (m["Ebs"]["VolumeId"], m.get("DeviceName", ""))
                        for m in inst.get("BlockDeviceMappings", [])
                        if "Ebs" in m
                    )
                    found.append(
                        Resource(
                            kind=self.kind,
                            id=inst["InstanceId"],
                            place=place,
                            tags=tags,
                            volumes=tuple(v for v, _ in devices),
                            devices=devices,
                            image=inst.get("ImageId", ""),
                            status=inst["State"]["Name"],
                        )
                    )
        return found

    def not_ready(self, resource: Resource) -> str | None:
        if resource.status not in _READY:
            return f"instance is {resource.status}"
        return None if resource.volumes else "instance has no EBS volumes"

    def existing(self, place: Place, ids: Collection[str]) -> set[str]:
        ec2 = self.clients.ec2(place.region, place.account)
        out: set[str] = set()
        for filters in chunk_filter("instance-id", ids):
            pages = ec2.get_paginator("describe_instances").paginate(Filters=filters)
            out |= existing_ids(
                pages,
                "Reservations",
                "Instances",
                "InstanceId",
                lambda i: i["State"]["Name"] != "terminated",
            )
        return out

    def image_identities(self, place: Place, ids: Sequence[str]) -> dict[str, tuple[str, str]]:
        """Image id -> (name, owner account) of the instances' images, in one listing."""
        pages = (
            self.clients.ec2(place.region, place.account)
            .get_paginator("describe_images")
            .paginate(Filters=[{"Name": "image-id", "Values": list(ids)}], IncludeDeprecated=True)
        )
        return {
            i["ImageId"]: (str(i.get("Name", "")), str(i.get("OwnerId", "")))
            for page in pages
            for i in page["Images"]
        }

    def create(self, resource: Resource, tags: dict[str, str], dry_run: bool) -> list[Snapshot]:
        ec2 = self.clients.ec2(resource.place.region, resource.place.account, once=True)
        spec = {"InstanceId": resource.id, "ExcludeBootVolume": False}
        args = {"InstanceSpecification": spec, **self._labels(resource, tags)}
        made = self._send(ec2.create_snapshots, args, dry_run)
        return [] if made is None else self._made(made["Snapshots"], tags, resource.place)
