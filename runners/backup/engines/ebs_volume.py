"""EBS volumes, one snapshot each with ``CreateSnapshot``."""

from __future__ import annotations

from collections.abc import Collection

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
    "ec2": frozenset({"DescribeVolumes", "CreateSnapshot"}),
}

VOLUME_PAGE = 500  # DescribeVolumes' largest page
_GONE = frozenset({"deleting", "deleted"})
_READY = frozenset({"available", "in-use"})


class EbsVolume(Ec2SnapshotEngine):
    kind = "ebs-volume"
    label = "EBS volume"

    def discover(self, place: Place, selection: Selection) -> list[Resource]:
        pages = (
            self.clients.ec2(place.region, place.account)
            .get_paginator("describe_volumes")
            .paginate(
                Filters=tag_filters(selection),
                PaginationConfig={"PageSize": VOLUME_PAGE},
            )
        )
        found = []
        for page in pages:
            for vol in page["Volumes"]:
                tags = T.from_list(vol.get("Tags"))
                if vol["State"] in _GONE or not selection.matches(tags):
                    continue
                found.append(
                    Resource(
                        kind=self.kind,
                        id=vol["VolumeId"],
                        place=place,
                        tags=tags,
                        status=vol["State"],
                        volume_type=vol.get("VolumeType", ""),
                        attached_to=tuple(
                            a["InstanceId"] for a in vol.get("Attachments", []) if "InstanceId" in a
                        ),
                    )
                )
        return found

    def not_ready(self, resource: Resource) -> str | None:
        return None if resource.status in _READY else f"volume is {resource.status}"

    def existing(self, place: Place, ids: Collection[str]) -> set[str]:
        ec2 = self.clients.ec2(place.region, place.account)
        out: set[str] = set()
        for filters in chunk_filter("volume-id", ids):
            pages = ec2.get_paginator("describe_volumes").paginate(Filters=filters)
            out |= existing_ids(
                pages, "Volumes", None, "VolumeId", lambda v: v["State"] not in _GONE
            )
        return out

    def create(self, resource: Resource, tags: dict[str, str], dry_run: bool) -> list[Snapshot]:
        ec2 = self.clients.ec2(resource.place.region, resource.place.account, once=True)
        args = {"VolumeId": resource.id, **self._labels(resource, tags)}
        made = self._send(ec2.create_snapshot, args, dry_run)
        return [] if made is None else self._made([made], tags, resource.place)
