"""The engine contract: what every resource kind must do for backup, ship, prune and report.

An engine owns the AWS calls for one kind of resource; the workflow (what to
create, what to copy when, what to delete) lives in ``runners.backup`` and is
the same for every kind. Adding a kind is one module with a subclass of
``Engine`` and one entry in ``runners.backup.engines.ENGINES``; the abstract
methods make a half-written engine fail at construction, not at 3 a.m.
"""

from __future__ import annotations

import abc
from collections.abc import Collection, Sequence
from typing import TYPE_CHECKING, ClassVar, Protocol

from runners.backup import tags as T
from runners.backup.model import Place, Resource, Snapshot

if TYPE_CHECKING:
    from mypy_boto3_ec2 import EC2Client
    from mypy_boto3_kms import KMSClient
    from mypy_boto3_rds import RDSClient

    from runners.backup.selection import Selection


class Clients(Protocol):
    """Where engines get their boto3 clients (``runners.aws.session.SessionFactory``)."""

    def default_region(self) -> str | None: ...
    def ec2(self, region: str, account: str | None = None, once: bool = False) -> EC2Client: ...
    def rds(self, region: str, account: str | None = None, once: bool = False) -> RDSClient: ...
    def kms(self, region: str, account: str | None = None) -> KMSClient: ...


class Engine(abc.ABC):
    kind: ClassVar[str]  # the name used in policies and in the runners:kind tag
    label: ClassVar[str]  # for people: "EBS volume"
    copy_pool: ClassVar[str]  # the destination-region copy quota it draws on: "ebs" or "rds"
    family: ClassVar[str]  # engines with the same family share snapshot storage (EC2 snapshots)

    def __init__(self, clients: Clients) -> None:
        self.clients = clients

    # -- resources -------------------------------------------------------------------------
    @abc.abstractmethod
    def discover(self, place: Place, selection: Selection) -> list[Resource]:
        """The resources in ``place`` the selection picks, via paginators."""

    @abc.abstractmethod
    def not_ready(self, resource: Resource) -> str | None:
        """Why the resource cannot be snapshotted now, or None when it can."""

    @abc.abstractmethod
    def existing(self, place: Place, ids: Collection[str]) -> set[str]:
        """Which of ``ids`` still exist in ``place``, whatever their tags."""

    # -- snapshots -------------------------------------------------------------------------
    @abc.abstractmethod
    def snapshots(self, place: Place, policy: str) -> list[Snapshot]:
        """Every snapshot of this family in ``place`` tagged with the policy, sources and copies.

        Engines of one family (EBS volumes and EC2 instances) share one listing; each
        snapshot's kind comes from its ``runners:kind`` tag.
        """

    @abc.abstractmethod
    def foreign_snapshots(self, place: Place, resources: Sequence[Resource]) -> list[Snapshot]:
        """Snapshots of ``resources`` owned by AWS Backup or DLM: listed, never touched."""

    @abc.abstractmethod
    def create(self, resource: Resource, tags: dict[str, str], dry_run: bool) -> list[Snapshot]:
        """Start the snapshot(s) of one resource; with ``dry_run`` check what can be checked."""

    @abc.abstractmethod
    def copy(
        self,
        source: Snapshot,
        dest: Place,
        kms_key: str | None,
        tags: dict[str, str],
        dry_run: bool,
    ) -> Snapshot | None:
        """Start one copy with a client in ``dest``; None on a dry run."""

    @abc.abstractmethod
    def pending_in(self, place: Place, policy: str) -> list[Snapshot]:
        """Snapshots of this family pending in ``place`` that are not the policy's own.

        Copies quotas are counted per account and destination region, so copies started
        by other policies or people take slots too.
        """

    @abc.abstractmethod
    def find(self, place: Place, tags: dict[str, str]) -> list[Snapshot]:
        """The live (pending or completed) snapshots made with the identity in ``tags``."""

    @abc.abstractmethod
    def find_copy(self, source: Snapshot, dest: Place) -> Snapshot | None:
        """The live copy of ``source`` in ``dest``, if one was started."""

    @abc.abstractmethod
    def refresh(self, place: Place, snapshots: Sequence[Snapshot]) -> dict[str, Snapshot]:
        """The current state of ``snapshots`` by id; a missing id is gone."""

    @abc.abstractmethod
    def link_sources(
        self, place: Place, sources: Sequence[Snapshot], dest_region: str, dry_run: bool
    ) -> None:
        """Tag sources with the region their copy went to."""

    @abc.abstractmethod
    def in_use(self, place: Place) -> dict[str, str]:
        """Snapshot id -> what depends on it (a registered AMI): prune never deletes these."""

    @abc.abstractmethod
    def delete(self, snapshot: Snapshot, dry_run: bool) -> None: ...

    def gate(self, snapshot: Snapshot) -> str:
        """What only a few copies may be pending for at once: the source database by default."""
        return f"{snapshot.tags.get(T.COPY_OF_REGION, snapshot.place.region)}/{snapshot.source_id}"

    def what(self, target: str, place: Place) -> str:
        return f"{self.kind} {target} ({place})"
