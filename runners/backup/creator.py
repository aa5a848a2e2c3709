"""``runners backup``: one snapshot per selected resource per period, never two.

The plan comes first and is the same with and without ``--dry-run``: for
each resource, create (and why), adopt (the snapshot already covering this
period, pending or completed), or skip (and why). A resource whose snapshots
could not be listed is skipped rather than snapshotted blind, so a failed
listing can never produce a duplicate.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from functools import partial

from runners.backup import inventory
from runners.backup import tags as T
from runners.backup.context import Run
from runners.backup.inventory import VOLUME, Inventory
from runners.backup.model import Failure, Place, PlanLine, Resource, Snapshot, Verb


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
    inv = inventory.snapshots(run, places)
    result = BackupResult()
    jobs = plan(run, found, inv, on_demand, result)
    result.planned = len(jobs)
    for job in jobs:
        result.created += create(run, job)
    return result


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
            jobs.append(CreateJob(res, _tags(run, res, period, on_demand)))
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
    limit = scope.run.policy.limits.pending_per_volume
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


def _tags(run: Run, res: Resource, period: str, on_demand: OnDemand | None) -> dict[str, str]:
    return T.snapshot_tags(
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
    made = run.attempt(what, partial(run.backoff.call, what, start))
    for snap in made or []:
        run.say(f"  created {snap.id} for {what}")
    return made or []
