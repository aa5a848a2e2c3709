"""``runners backup``: one snapshot per selected resource per period, never two.

The plan comes first and is the same with and without ``--dry-run``: for
each resource, create (and why), adopt (the snapshot already covering this
period, pending or completed), or skip (and why). A resource whose snapshots
could not be listed is skipped rather than snapshotted blind, so a failed
listing can never produce a duplicate.
"""

from __future__ import annotations

import fnmatch
from collections import defaultdict
from dataclasses import dataclass, field
from functools import partial

from runners.backup import inventory, quotas
from runners.backup import tags as T
from runners.backup.context import Run
from runners.backup.inventory import INSTANCE, VOLUME, Inventory
from runners.backup.model import Failure, Place, PlanLine, Resource, Snapshot, Verb
from runners.backup.once import start_once


@dataclass(frozen=True)
class OnDemand:
    reason: str
    requested_by: str | None = None


@dataclass(frozen=True)
class CreateJob:
    resource: Resource
    tags: dict[str, str]


@dataclass
class BackupResult:
    created: list[Snapshot] = field(default_factory=list)
    adopted: int = 0
    skipped: int = 0
    planned: int = 0


def run_backup(run: Run, on_demand: OnDemand | None = None) -> BackupResult:
    places = run.places()
    found = inventory.resources(run, places)
    inv = inventory.snapshots(run, places + (run.dests() if _has_rds(run) else []))
    result = BackupResult()
    for room in headroom(run, found, inv):
        if room.exceeded:
            run.say(f"warning: {room.warning(run.policy)}")
    images = _images(run, found)
    jobs = plan(run, found, inv, on_demand, result, images)
    result.planned = len(jobs)
    for job in jobs:
        result.created += create(run, job)
    _tag_devices(run, found, result.created)
    return result


def _has_rds(run: Run) -> bool:
    return any(e.copy_pool == "rds" for e in run.engines.values())


def headroom(run: Run, found: list[Resource], inv: Inventory) -> list[quotas.Headroom]:
    """Manual RDS snapshots against the quota, in each source region and the backup region."""
    out = []
    kept = quotas.kept_per_resource(run.policy.schedule, run.policy.retention)
    for engine in run.engines.values():
        seen = getattr(engine, "manual_seen", None)
        if seen is None:
            continue
        for place, used in sorted(seen.items()):
            databases = sum(
                1
                for r in found
                if r.kind == engine.kind
                and r.place.account == place.account
                and (r.place == place or place.region == run.policy.backup_region)
            )
            mine = sum(1 for s in inv.snapshots if s.kind == engine.kind and s.place == place)
            family = "DB cluster snapshots" if "cluster" in engine.family else "DB snapshots"
            out.append(
                quotas.Headroom(
                    place,
                    family,
                    used,
                    mine,
                    databases,
                    run.policy.limits.rds_manual_snapshots,
                    kept,
                )
            )
    return out


def _images(run: Run, found: list[Resource]) -> dict[tuple[Place, str], tuple[str, str]]:
    """(place, image id) -> (name, owner) for the selected instances' images."""
    engine = run.engines.get(INSTANCE)
    wanted: dict[Place, set[str]] = defaultdict(set)
    for res in found:
        if res.kind == INSTANCE and res.image:
            wanted[res.place].add(res.image)
    out: dict[tuple[Place, str], tuple[str, str]] = {}
    for place, ids in wanted.items():
        got = run.attempt(
            f"images of {INSTANCE}s ({place})",
            partial(engine.image_identities, place, sorted(ids)),  # type: ignore[union-attr]
        )
        for image_id, identity in (got or {}).items():
            out[(place, image_id)] = identity
    return out


def _tag_devices(run: Run, found: list[Resource], made: list[Snapshot]) -> None:
    """Each member of an instance snapshot names its device, one call per device and place."""
    devices = {(r.place, vol): dev for r in found if r.kind == INSTANCE for vol, dev in r.devices}
    groups: dict[tuple[Place, str], list[str]] = defaultdict(list)
    for snap in made:
        device = devices.get((snap.place, snap.volume_id or ""))
        if snap.kind == INSTANCE and device:
            groups[(snap.place, device)].append(snap.id)
    engine = run.engines.get(INSTANCE)
    for (place, device), ids in sorted(groups.items()):
        run.attempt(
            f"{INSTANCE} snapshot devices ({place})",
            partial(engine.tag, place, ids, {T.DEVICE: device}, run.dry_run),  # type: ignore[union-attr]
        )


@dataclass(frozen=True)
class _Scope:
    """What every decision of one backup run shares."""

    run: Run
    inv: Inventory
    covered: dict[tuple[Place, str], str]
    period: str
    on_demand: OnDemand | None


def plan(
    run: Run,
    found: list[Resource],
    inv: Inventory,
    on_demand: OnDemand | None,
    result: BackupResult,
    images: dict[tuple[Place, str], tuple[str, str]] | None = None,
) -> list[CreateJob]:
    period = run.run_id if on_demand else run.policy.period(run.now)
    scope = _Scope(run, inv, inventory.covered_volumes(run, found), period, on_demand)
    mine: dict[tuple[str, Place, str], list[Snapshot]] = defaultdict(list)
    for snap in inv.snapshots:
        if snap.copy_of is None:
            mine[(snap.kind, snap.place, snap.source_id)].append(snap)
    jobs = []
    for res in sorted(found, key=lambda r: (r.kind, r.place, r.id)):
        snaps = mine[(res.kind, res.place, res.id)]
        verb, reason = _blocked(scope, res, snaps) or _wanted(scope, snaps)
        run.emit(PlanLine(verb, res.kind, res.id, res.place, reason))
        if verb == "create":
            tags = _tags(run, res, period, on_demand)
            tags.update(_image_tags(run, res, images or {}))
            if res.option_group and not res.option_group.startswith("default:"):
                tags[T.OPTION_GROUP] = res.option_group  # a snapshot may not say it
            jobs.append(CreateJob(res, tags))
        elif verb == "adopt":
            result.adopted += 1
        else:
            result.skipped += 1
    return jobs


def _blocked(scope: _Scope, res: Resource, mine: list[Snapshot]) -> tuple[Verb, str] | None:
    """Why no snapshot is made now (a skip), or None. Some skips are failures too."""
    engine = scope.run.engines[res.kind]
    if res.kind == VOLUME and (res.place, res.id) in scope.covered:
        return "skip", f"attached to {scope.covered[(res.place, res.id)]}: in its instance snapshot"
    if (res.kind, res.place) not in scope.inv.listed:
        return "skip", "its snapshots could not be listed; not creating one blind"
    problem = engine.not_ready(res)
    pending = sum(s.state == "pending" for s in mine)
    limit = quotas.pending_limit(res.volume_type, scope.run.policy.limits.pending_per_volume)
    crowded = res.kind == VOLUME and pending >= limit
    if not problem and crowded and (scope.on_demand or not _live(scope, mine)):
        problem = f"{pending} snapshots of it are still pending (limit {limit})"
    if problem:
        scope.run.failures.append(
            Failure(engine.what(res.id, res.place), "backup", "NotDone", problem)
        )
        return "skip", f"cannot be snapshotted now: {problem}"
    return None


def _live(scope: _Scope, mine: list[Snapshot]) -> list[Snapshot]:
    """The scheduled snapshots already covering this period, pending or completed."""
    return [
        s
        for s in mine
        if s.period == scope.period
        and s.retention_class == T.SCHEDULED
        and s.state in ("pending", "completed")
    ]


def _wanted(scope: _Scope, mine: list[Snapshot]) -> tuple[Verb, str]:
    if scope.on_demand:
        return "create", f"on-demand: {scope.on_demand.reason}"
    live = _live(scope, mine)
    if live:
        ids = ", ".join(f"{s.id} ({s.state})" for s in live)
        return "adopt", f"{ids} already covers period {scope.period}"
    failed = [s.id for s in mine if s.period == scope.period and s.state == "error"]
    if failed:
        return "create", f"the snapshot for period {scope.period} failed ({', '.join(failed)})"
    return "create", f"no snapshot for period {scope.period} yet"


def _image_tags(
    run: Run, res: Resource, images: dict[tuple[Place, str], tuple[str, str]]
) -> dict[str, str]:
    """An instance's image, recorded at backup time so a recovery needs no source region."""
    if res.kind != INSTANCE or not res.image:
        return {}
    name, owner = images.get((res.place, res.image), ("", ""))
    tags = {T.IMAGE_ID: res.image}
    if name:
        tags[T.IMAGE_NAME] = T.clean_value(name)
    if owner:
        tags[T.IMAGE_OWNER] = owner
    if images_named(run.policy.images, res.image, name):
        tags[T.IMAGE_COPY_REGION] = run.policy.backup_region
    return tags


def images_named(patterns: tuple[str, ...], image_id: str, name: str) -> bool:
    return any(fnmatch.fnmatchcase(image_id, p) or fnmatch.fnmatchcase(name, p) for p in patterns)


def _tags(run: Run, res: Resource, period: str, on_demand: OnDemand | None) -> dict[str, str]:
    own = {k: res.tags[k] for k in run.policy.copy_tags if k in res.tags}
    return own | T.snapshot_tags(
        policy=run.policy.name,
        kind=res.kind,
        source_id=res.id,
        period=period,
        retention_class=T.ON_DEMAND if on_demand else T.SCHEDULED,
        run_id=run.run_id,
        taken_at=run.now,
        reason=on_demand.reason if on_demand else None,
        requested_by=on_demand.requested_by if on_demand else None,
    )


def create(run: Run, job: CreateJob) -> list[Snapshot]:
    res = job.resource
    engine = run.engines[res.kind]
    what = engine.what(res.id, res.place)
    start = partial(engine.create, res, job.tags, run.dry_run)
    find = partial(engine.find, res.place, job.tags)
    got = run.attempt(what, partial(start_once, run.backoff, what, start, find))
    if got is None:
        return []
    made, adopted = got
    for snap in made:
        run.say(f"  {'adopted' if adopted else 'created'} {snap.id} for {what}")
    return made
