"""What RDS instances and Aurora clusters share: the same snapshot workflow under other names.

RDS has one set of calls for DB snapshots and a parallel set for DB cluster
snapshots. Each kind declares its names once in an ``RdsShape`` record
(``rds_instance``, ``aurora_cluster``) and this class runs the workflow with
them, so the two kinds cannot drift apart.

Snapshot identifiers are deterministic (``runners-POLICY-SOURCE-PERIOD``), so
even two runs racing each other cannot make two backups of one period: the
second gets ``...AlreadyExists`` and adopts.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from runners.aws.retry import error_code
from runners.backup import tags as T
from runners.backup.engines.base import Clients, Engine
from runners.backup.engines.ec2snapshots import chunked
from runners.backup.model import Place, Resource, Snapshot, State
from runners.backup.selection import Selection

AWS_OPERATIONS: dict[str, frozenset[str]] = {"rds": frozenset({"AddTagsToResource"})}

RDS_PAGE = 100  # the largest MaxRecords RDS allows
FILTER_VALUES = 100
NAME_MAX = 255
_OTHER_SERVICES = ("docdb", "neptune")  # listed by the RDS API but not RDS databases
_READY = frozenset({"available", "stopped"})
_GONE = frozenset({"deleting", "deleted"})


@dataclass(frozen=True)
class RdsShape:
    """The names one RDS snapshot family uses for the same things."""

    describe_sources: str
    sources_key: str
    source_id: str
    source_arn: str
    source_status: str
    source_filter: str
    list_snapshots: str
    snapshots_key: str
    snapshot_key: str
    snapshot_id: str
    snapshot_arn: str
    snapshot_filter: str
    encrypted: str
    create: str
    copy: str
    copy_source: str
    copy_target: str
    delete: str
    already_exists: str


def snapshot_name(*parts: str) -> str:
    """An RDS identifier: a letter first, letters, digits and single hyphens, no hyphen last."""
    name = re.sub(r"[^a-z0-9]+", "-", "-".join(parts).lower())
    return re.sub(r"-{2,}", "-", name)[:NAME_MAX].strip("-")


def state_of(status: str) -> State:
    if status == "available":
        return "completed"
    if status in _GONE:
        return "deleting"
    if status in ("failed", "error") or status.startswith("incompatible"):
        return "error"
    return "pending"


class RdsSnapshotEngine(Engine):
    shape: RdsShape
    copy_pool = "rds"

    def __init__(self, clients: Clients) -> None:
        super().__init__(clients)
        # Every manual snapshot listed per place, whoever made it: they all count
        # against the region's quota.
        self.manual_seen: dict[Place, int] = {}
        self.others_pending: dict[Place, list[Snapshot]] = {}

    def selectable(self, item: Mapping[str, Any]) -> bool:
        """Whether a described source is this kind (subclasses narrow it)."""
        return not str(item.get("Engine", "")).startswith(_OTHER_SERVICES)

    # The operation names come from the engine's RdsShape, whose module
    # declares them in its AWS_OPERATIONS.
    def _call(self, place: Place, method: str, once: bool = True) -> Callable[..., Any]:
        # Creates and copies send once; ``runners.backup.once`` decides about a retry.
        return getattr(self.clients.rds(place.region, place.account, once=once), method)  # type: ignore[no-any-return]

    def _pages(self, place: Place, method: str, **kwargs: Any) -> Any:
        rds = self.clients.rds(place.region, place.account)
        pages = rds.get_paginator(method)  # type: ignore[call-overload]  # aws-ops: dynamic
        return pages.paginate(**kwargs)

    def _snapshot(self, item: Mapping[str, Any], place: Place) -> Snapshot:
        tags = T.from_list(item.get("TagList"))
        started = item.get("SnapshotCreateTime")
        owner = "AWS Backup" if item.get("SnapshotType") == "awsbackup" else T.foreign_owner(tags)
        return Snapshot(
            id=str(item[self.shape.snapshot_id]),
            kind=tags.get(T.KIND, self.kind),
            place=place,
            state=state_of(str(item.get("Status", ""))),
            started=started if isinstance(started, datetime) else datetime.now(UTC),
            tags=tags,
            encrypted=bool(item.get(self.shape.encrypted)),
            arn=item.get(self.shape.snapshot_arn),
            foreign_owner=owner,
            option_group=str(item.get("OptionGroupName") or ""),
            size_gib=int(item.get("AllocatedStorage") or 0),
            kms_key=str(item.get("KmsKeyId") or ""),
            progress=(item["PercentProgress"] / 100) if "PercentProgress" in item else None,
        )

    def discover(self, place: Place, selection: Selection) -> list[Resource]:
        s = self.shape
        found = []
        for page in self._pages(place, s.describe_sources, PaginationConfig={"PageSize": RDS_PAGE}):
            for item in page[s.sources_key]:
                tags = T.from_list(item.get("TagList"))
                status = str(item.get(s.source_status, ""))
                if status in _GONE or not self.selectable(item) or not selection.matches(tags):
                    continue
                found.append(
                    Resource(
                        kind=self.kind,
                        id=str(item[s.source_id]),
                        place=place,
                        tags=tags,
                        arn=item.get(s.source_arn),
                        status=status,
                        option_group=next(
                            (
                                str(g.get("OptionGroupName", ""))
                                for g in item.get("OptionGroupMemberships", [])
                            ),
                            "",
                        ),
                    )
                )
        return found

    def not_ready(self, resource: Resource) -> str | None:
        return None if resource.status in _READY else f"database is {resource.status}"

    def existing(self, place: Place, ids: Collection[str]) -> set[str]:
        out: set[str] = set()
        for chunk in chunked(sorted(ids), FILTER_VALUES):
            filters = [{"Name": self.shape.source_filter, "Values": list(chunk)}]
            for page in self._pages(place, self.shape.describe_sources, Filters=filters):
                out |= {
                    str(i[self.shape.source_id])
                    for i in page[self.shape.sources_key]
                    if str(i.get(self.shape.source_status, "")) not in _GONE
                }
        return out

    def snapshots(self, place: Place, policy: str) -> list[Snapshot]:
        # RDS has no tag filter on this call; the tags come with each snapshot.
        out: list[Snapshot] = []
        others: list[Snapshot] = []
        seen = 0
        for page in self._pages(
            place,
            self.shape.list_snapshots,
            SnapshotType="manual",
            PaginationConfig={"PageSize": RDS_PAGE},
        ):
            seen += len(page[self.shape.snapshots_key])
            for item in page[self.shape.snapshots_key]:
                tags = T.from_list(item.get("TagList"))
                if tags.get(T.POLICY) == policy and tags.get(T.KIND) == self.kind:
                    out.append(self._snapshot(item, place))
                elif (
                    tags.get(T.POLICY) != policy and state_of(str(item.get("Status"))) == "pending"
                ):
                    others.append(self._snapshot(item, place))
        self.manual_seen[place] = seen
        self.others_pending[place] = others
        return out

    def foreign_snapshots(self, place: Place, resources: Sequence[Resource]) -> list[Snapshot]:
        ids = {r.id for r in resources}
        out = []
        for page in self._pages(
            place,
            self.shape.list_snapshots,
            SnapshotType="awsbackup",
            PaginationConfig={"PageSize": RDS_PAGE},
        ):
            out += [
                self._snapshot(i, place)
                for i in page[self.shape.snapshots_key]
                if i.get(self.shape.source_id) in ids
            ]
        return out

    # A failed snapshot keeps its name: the next tries take the next of these names, so
    # even then a retry finds what an earlier attempt made.
    NAME_TRIES = 3

    def _names(self, name: str) -> list[str]:
        return [name] + [snapshot_name(name, f"try{n}") for n in range(2, self.NAME_TRIES + 1)]

    def _by_name(self, place: Place, names: Sequence[str]) -> dict[str, Snapshot]:
        filters = [{"Name": self.shape.snapshot_filter, "Values": list(names)}]
        found: dict[str, Snapshot] = {}
        for page in self._pages(place, self.shape.list_snapshots, Filters=filters):
            for item in page[self.shape.snapshots_key]:
                snap = self._snapshot(item, place)
                found[snap.id] = snap
        return found

    def _make(
        self, place: Place, method: str, name_param: str, name: str, **kwargs: Any
    ) -> Snapshot:
        """Create or copy under the first free name; an existing live one is adopted."""
        call = self._call(place, method)
        names = self._names(name)
        for index, candidate in enumerate(names):
            try:
                made = call(**{name_param: candidate}, **kwargs)[self.shape.snapshot_key]
                tags = T.as_list(T.from_list(kwargs.get("Tags")))
                return self._snapshot({**made, "TagList": tags}, place)
            except ClientError as exc:
                if error_code(exc) != self.shape.already_exists:
                    raise
            held = self._by_name(place, [candidate]).get(candidate)
            if held is not None and held.state in ("pending", "completed"):
                return held  # made by an earlier attempt or a concurrent run: adopted
            if index + 1 == len(names):
                raise ClientError(
                    {
                        "Error": {
                            "Code": self.shape.already_exists,
                            "Message": f"{', '.join(names)} are all taken by failed snapshots",
                        }
                    },
                    method,
                )
        raise AssertionError("unreachable")

    def _live(self, place: Place, name: str) -> list[Snapshot]:
        found = self._by_name(place, self._names(name))
        return [s for s in found.values() if s.state in ("pending", "completed")]

    def _create_name(self, resource_id: str, tags: Mapping[str, str]) -> str:
        return snapshot_name("runners", tags[T.POLICY], resource_id, tags[T.PERIOD])

    def pending_in(self, place: Place, policy: str) -> list[Snapshot]:
        return list(self.others_pending.get(place, []))  # from the listing: no extra call

    def find(self, place: Place, tags: dict[str, str]) -> list[Snapshot]:
        return self._live(place, self._create_name(tags[T.SOURCE_ID], tags))

    def find_copy(self, source: Snapshot, dest: Place) -> Snapshot | None:
        found = [s for s in self._live(dest, source.id) if s.copy_of == source.ref]
        return found[0] if found else None

    def create(self, resource: Resource, tags: dict[str, str], dry_run: bool) -> list[Snapshot]:
        if dry_run:  # RDS has no DryRun; the plan line is the check
            return []
        made = self._make(
            resource.place,
            self.shape.create,
            self.shape.snapshot_id,
            self._create_name(resource.id, tags),
            **{self.shape.source_id: resource.id},
            Tags=T.as_list(tags),
        )
        return [made]

    def copy(
        self,
        source: Snapshot,
        dest: Place,
        kms_key: str | None,
        tags: dict[str, str],
        dry_run: bool,
    ) -> Snapshot | None:
        if dry_run:
            return None
        args: dict[str, Any] = {
            self.shape.copy_source: source.ref,
            # boto3 signs the cross-region request (PreSignedUrl) from SourceRegion.
            "SourceRegion": source.place.region,
            "Tags": T.as_list(tags),
        }
        if source.encrypted:
            args["KmsKeyId"] = kms_key
        group = source.option_group or source.tags.get(T.OPTION_GROUP, "")
        if group and not group.startswith("default:"):
            # Option groups are regional: the copy names the group of the same name that
            # the backup region must hold (docs/backup.md).
            args["OptionGroupName"] = group
        return self._make(dest, self.shape.copy, self.shape.copy_target, source.id, **args)

    def refresh(self, place: Place, snapshots: Sequence[Snapshot]) -> dict[str, Snapshot]:
        found: dict[str, Snapshot] = {}
        for chunk in chunked([s.id for s in snapshots], FILTER_VALUES):
            filters = [{"Name": self.shape.snapshot_filter, "Values": list(chunk)}]
            for page in self._pages(place, self.shape.list_snapshots, Filters=filters):
                for item in page[self.shape.snapshots_key]:
                    snap = self._snapshot(item, place)
                    found[snap.id] = snap
        return found

    def link_sources(
        self, place: Place, sources: Sequence[Snapshot], dest_region: str, dry_run: bool
    ) -> None:
        if dry_run:
            return
        rds = self.clients.rds(place.region, place.account)
        for source in sources:
            if source.arn:
                rds.add_tags_to_resource(
                    ResourceName=source.arn, Tags=[{"Key": T.COPIED_TO, "Value": dest_region}]
                )

    def in_use(self, place: Place) -> dict[str, str]:
        return {}  # nothing registers on an RDS snapshot the way an AMI does

    def delete(self, snapshot: Snapshot, dry_run: bool) -> None:
        if not dry_run:
            self._call(snapshot.place, self.shape.delete, once=False)(
                **{self.shape.snapshot_id: snapshot.id}
            )
