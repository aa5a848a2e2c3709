"""What EBS volumes and EC2 instances share: their backups are EBS snapshots.

Listing, copying, linking, AMI checks and deletion are the same for both
kinds; only discovery and creation differ, and live in ``ebs_volume`` and
``ec2_instance``. Lists use paginators with the largest page EC2 allows, so
a thousand snapshots cost one call.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

from botocore.exceptions import ClientError

from runners.aws.retry import error_code
from runners.backup import tags as T
from runners.backup.engines.base import Engine
from runners.backup.model import Place, Resource, Snapshot, State
from runners.backup.selection import ANY_VALUE, Selection

if TYPE_CHECKING:
    from mypy_boto3_ec2.type_defs import FilterTypeDef

AWS_OPERATIONS: dict[str, frozenset[str]] = {
    "ec2": frozenset(
        {"DescribeSnapshots", "CopySnapshot", "CreateTags", "DescribeImages", "DeleteSnapshot"}
    ),
}

# What makes two snapshots the same backup: a second one with these tags is a duplicate.
IDENTITY = (T.POLICY, T.KIND, T.SOURCE_ID, T.PERIOD, T.RETENTION_CLASS)

SNAPSHOT_PAGE = 1000  # DescribeSnapshots' largest page
FILTER_VALUES = 200  # EC2 takes at most this many values in one filter
TAG_BATCH = 500

_STATES: Mapping[str, State] = {"pending": "pending", "completed": "completed", "error": "error"}
X = TypeVar("X")


def chunked(items: Sequence[X], size: int) -> Iterator[Sequence[X]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def tag_filters(selection: Selection) -> list[FilterTypeDef]:
    """Server-side filters for the exact-value tags; ``Selection.matches`` checks the rest."""
    filters: list[FilterTypeDef] = [
        {"Name": f"tag:{k}", "Values": [v]} for k, v in selection.tags.items() if v != ANY_VALUE
    ]
    if not filters:
        filters.append({"Name": "tag-key", "Values": [next(iter(selection.tags))]})
    return filters


def check_dry_run(call: Callable[..., Any], **kwargs: Any) -> None:
    """EC2's DryRun: ``DryRunOperation`` means the real call would be allowed."""
    try:
        call(DryRun=True, **kwargs)
    except ClientError as exc:
        if error_code(exc) != "DryRunOperation":
            raise


def snapshot_from(item: Mapping[str, Any], kind: str, place: Place) -> Snapshot:
    tags = T.from_list(item.get("Tags"))
    started = item.get("StartTime")
    return Snapshot(
        id=str(item["SnapshotId"]),
        kind=tags.get(T.KIND, kind),
        place=place,
        # CreateSnapshots omits State; a snapshot just started is pending.
        state=_STATES.get(str(item.get("State", "pending")), "pending"),
        started=started if isinstance(started, datetime) else datetime.now(UTC),
        tags=tags,
        encrypted=bool(item.get("Encrypted")),
        volume_id=item.get("VolumeId"),
        foreign_owner=T.foreign_owner(tags),
        size_gib=int(item.get("VolumeSize") or 0),
        kms_key=str(item.get("KmsKeyId") or ""),
        progress=_percent(item.get("Progress")),
    )


def _percent(text: object) -> float | None:
    try:
        return float(str(text).rstrip("%")) / 100 if text not in (None, "") else None
    except ValueError:
        return None


def _description(resource_id: str, tags: Mapping[str, str]) -> str:
    return f"runners {tags[T.POLICY]} backup of {resource_id} for {tags[T.PERIOD]}"


def _copy_description(source: Snapshot) -> str:
    return f"runners copy of {source.id} from {source.place.region}"


class Ec2SnapshotEngine(Engine):
    """The EBS-snapshot half of an engine; subclasses add discovery and creation."""

    copy_pool = "ebs"
    family = "ec2-snapshot"

    @staticmethod
    def _send(call: Callable[..., Any], args: dict[str, Any], dry_run: bool) -> Any:
        """The call, or with ``dry_run`` the same call with EC2's DryRun (and None)."""
        if dry_run:
            check_dry_run(call, **args)
            return None
        return call(**args)

    @staticmethod
    def _labels(resource: Resource, tags: dict[str, str]) -> dict[str, Any]:
        """Description and tags for a new snapshot, tagged as it is created."""
        return {
            "Description": _description(resource.id, tags),
            "TagSpecifications": [{"ResourceType": "snapshot", "Tags": T.as_list(tags)}],
        }

    def _made(
        self, items: list[Mapping[str, Any]], tags: dict[str, str], place: Place
    ) -> list[Snapshot]:
        return [
            snapshot_from({**item, "Tags": T.as_list(tags)}, self.kind, place) for item in items
        ]

    def snapshots(self, place: Place, policy: str) -> list[Snapshot]:
        pages = (
            self.clients.ec2(place.region, place.account)
            .get_paginator("describe_snapshots")
            .paginate(
                # The policy tag only: the volume and instance engines share this listing.
                OwnerIds=["self"],
                Filters=[{"Name": f"tag:{T.POLICY}", "Values": [policy]}],
                PaginationConfig={"PageSize": SNAPSHOT_PAGE},
            )
        )
        return [snapshot_from(s, self.kind, place) for page in pages for s in page["Snapshots"]]

    def foreign_snapshots(self, place: Place, resources: Sequence[Resource]) -> list[Snapshot]:
        volumes = {v for r in resources for v in (r.volumes or (r.id,))}
        pages = (
            self.clients.ec2(place.region, place.account)
            .get_paginator("describe_snapshots")
            .paginate(
                OwnerIds=["self"],
                Filters=[{"Name": "tag-key", "Values": list(T.FOREIGN_OWNERS)}],
                PaginationConfig={"PageSize": SNAPSHOT_PAGE},
            )
        )
        found = [snapshot_from(s, self.kind, place) for page in pages for s in page["Snapshots"]]
        return [s for s in found if s.volume_id in volumes]

    def copy(
        self,
        source: Snapshot,
        dest: Place,
        kms_key: str | None,
        tags: dict[str, str],
        dry_run: bool,
    ) -> Snapshot | None:
        ec2 = self.clients.ec2(dest.region, dest.account, once=True)
        if source.volume_id:  # a copy's own VolumeId is a placeholder: name the real one
            tags = {**tags, T.SOURCE_VOLUME: source.volume_id}
        args: dict[str, Any] = {
            "SourceRegion": source.place.region,
            "SourceSnapshotId": source.id,
            "Description": _copy_description(source),
            "TagSpecifications": [{"ResourceType": "snapshot", "Tags": T.as_list(tags)}],
        }
        if source.encrypted:
            args.update(Encrypted=True, KmsKeyId=kms_key)
        made = self._send(ec2.copy_snapshot, args, dry_run)
        if made is None:
            return None
        return Snapshot(
            id=made["SnapshotId"],
            kind=self.kind,
            place=dest,
            state="pending",
            started=datetime.now(UTC),
            tags=tags,
            encrypted=source.encrypted,
            volume_id=source.volume_id,
        )

    def _tagged(self, place: Place, description: str, tags: Mapping[str, str]) -> list[Snapshot]:
        # The description first: it narrows the listing at once, and the tags then
        # make sure (EC2 applies every filter; moto applies them in order).
        filters: list[FilterTypeDef] = [{"Name": "description", "Values": [description]}]
        filters += [{"Name": f"tag:{k}", "Values": [v]} for k, v in sorted(tags.items())]
        pages = (
            self.clients.ec2(place.region, place.account)
            .get_paginator("describe_snapshots")
            .paginate(OwnerIds=["self"], Filters=filters)
        )
        found = [snapshot_from(s, self.kind, place) for p in pages for s in p["Snapshots"]]
        return [s for s in found if s.state in ("pending", "completed")]

    def pending_in(self, place: Place, policy: str) -> list[Snapshot]:
        pages = (
            self.clients.ec2(place.region, place.account)
            .get_paginator("describe_snapshots")
            .paginate(
                OwnerIds=["self"],
                Filters=[{"Name": "status", "Values": ["pending"]}],
                PaginationConfig={"PageSize": SNAPSHOT_PAGE},
            )
        )
        found = [snapshot_from(s, self.kind, place) for p in pages for s in p["Snapshots"]]
        return [s for s in found if s.tags.get(T.POLICY) != policy]

    def find(self, place: Place, tags: dict[str, str]) -> list[Snapshot]:
        identity = {k: tags[k] for k in IDENTITY if k in tags}
        return self._tagged(place, _description(tags[T.SOURCE_ID], tags), identity)

    def find_copy(self, source: Snapshot, dest: Place) -> Snapshot | None:
        link = {T.COPY_OF: source.ref, T.COPY_OF_REGION: source.place.region}
        found = self._tagged(dest, _copy_description(source), link)
        return found[0] if found else None

    def refresh(self, place: Place, snapshots: Sequence[Snapshot]) -> dict[str, Snapshot]:
        # A filter, not SnapshotIds: one missing id would fail the whole call.
        ec2 = self.clients.ec2(place.region, place.account)
        found: dict[str, Snapshot] = {}
        ids = [s.id for s in snapshots]
        for chunk in chunked(ids, FILTER_VALUES):
            pages = ec2.get_paginator("describe_snapshots").paginate(
                OwnerIds=["self"],
                Filters=[{"Name": "snapshot-id", "Values": list(chunk)}],
            )
            for page in pages:
                for item in page["Snapshots"]:
                    snap = snapshot_from(item, self.kind, place)
                    found[snap.id] = snap
        return found

    def tag(self, place: Place, ids: Sequence[str], tags: dict[str, str], dry_run: bool) -> None:
        ec2 = self.clients.ec2(place.region, place.account)
        for chunk in chunked(list(ids), TAG_BATCH):
            self._send(
                ec2.create_tags, {"Resources": list(chunk), "Tags": T.as_list(tags)}, dry_run
            )

    def link_sources(
        self, place: Place, sources: Sequence[Snapshot], dest_region: str, dry_run: bool
    ) -> None:
        # One value for the whole batch, so a thousand sources cost two calls; the
        # copy names its source exactly in runners:copy-of.
        ec2 = self.clients.ec2(place.region, place.account)
        for chunk in chunked([s.id for s in sources], TAG_BATCH):
            tag = [{"Key": T.COPIED_TO, "Value": dest_region}]
            self._send(ec2.create_tags, {"Resources": list(chunk), "Tags": tag}, dry_run)

    def in_use(self, place: Place) -> dict[str, str]:
        pages = (
            self.clients.ec2(place.region, place.account)
            .get_paginator("describe_images")
            .paginate(
                Owners=["self"],
            )
        )
        used: dict[str, str] = {}
        for page in pages:
            for image in page["Images"]:
                for mapping in image.get("BlockDeviceMappings", []):
                    snap = mapping.get("Ebs", {}).get("SnapshotId")
                    if snap:
                        used[snap] = f"AMI {image['ImageId']}"
        return used

    def delete(self, snapshot: Snapshot, dry_run: bool) -> None:
        ec2 = self.clients.ec2(snapshot.place.region, snapshot.place.account)
        self._send(ec2.delete_snapshot, {"SnapshotId": snapshot.id}, dry_run)

    def gate(self, snapshot: Snapshot) -> str:
        region = snapshot.tags.get(T.COPY_OF_REGION, snapshot.place.region)
        return f"{region}/{snapshot.volume_id or snapshot.source_id}"


def existing_ids(
    pages: Iterator[Any] | Any,
    key: str,
    inner: str | None,
    id_field: str,
    keep: Callable[[Mapping[str, Any]], bool] = lambda _: True,
) -> set[str]:
    """Ids from paginated describe pages (``Volumes``, or ``Reservations`` -> ``Instances``)."""
    out: set[str] = set()
    for page in pages:
        for item in page[key]:
            for entry in item[inner] if inner else [item]:
                if keep(entry):
                    out.add(str(entry[id_field]))
    return out


def chunk_filter(name: str, ids: Collection[str]) -> Iterator[list[FilterTypeDef]]:
    for chunk in chunked(sorted(ids), FILTER_VALUES):
        yield [{"Name": name, "Values": list(chunk)}]
