"""``runners prune``: retention's wishes, filtered through safety rails, in both regions.

``apply_rails`` is pure and is what the property tests hold to account. Whatever
retention asks, a snapshot is never deleted when:

- it lacks ``runners:managed-by`` (runners did not make it), or belongs to
  another policy, or is owned by AWS Backup or Data Lifecycle Manager;
- it carries a legal hold, or a registered AMI uses it;
- it is pending or already being deleted;
- it belongs to the newest completed recovery point of its resource in its
  region (the last good copy);
- it is a completed source whose copy in the backup region is not completed;
- the run's deletion cap is reached (oldest go first).

A recovery point is deleted whole or not at all, so an instance never keeps
half of its volumes.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial

from runners.backup import inventory, retention
from runners.backup import tags as T
from runners.backup.context import Run
from runners.backup.model import PlanLine, Snapshot
from runners.backup.retention import Decision, Key


@dataclass(frozen=True)
class Facts:
    policy: str
    backup_region: str
    in_use: Mapping[Key, str]  # snapshot -> what uses it, e.g. "AMI ami-0abc"
    max_deletions: int


@dataclass(frozen=True)
class Verdict:
    snapshot: Snapshot
    delete: bool
    reason: str


@dataclass
class PruneResult:
    verdicts: list[Verdict]
    deleted: int = 0


def guard(snap: Snapshot, facts: Facts) -> str | None:
    """Why this snapshot may never be deleted, whatever its age; None when it may."""
    tags = snap.tags
    if tags.get(T.MANAGED_BY) != T.MANAGED_BY_VALUE:
        return f"no {T.MANAGED_BY} tag: runners did not make it"
    if tags.get(T.POLICY) != facts.policy:
        return f"belongs to policy {tags.get(T.POLICY)!r}"
    if snap.foreign_owner is not None:
        return f"owned by {snap.foreign_owner}"
    hold = T.legal_hold(tags)
    if hold is not None:
        return f"legal hold ({hold} tag)"
    if snap.key in facts.in_use:
        return f"used by {facts.in_use[snap.key]}"
    if snap.state in ("pending", "deleting"):
        return "pending" if snap.state == "pending" else "already being deleted"
    return None


NO_DECISION = Decision(False, "no retention decision")


class _Plan:
    """Keep/delete and the reason per snapshot, while the rails work on it."""

    def __init__(self) -> None:
        self.delete: dict[Key, bool] = {}
        self.reason: dict[Key, str] = {}

    def keep(self, snap: Snapshot, reason: str) -> None:
        if self.delete[snap.key]:
            self.delete[snap.key] = False
            self.reason[snap.key] = reason


def apply_rails(
    snapshots: Sequence[Snapshot], decisions: Mapping[Key, Decision], facts: Facts
) -> list[Verdict]:
    """The final keep/delete for each snapshot, in input order, each with its reason."""
    plan = _Plan()
    for snap in snapshots:
        key = snap.key
        wish = decisions.get(key, NO_DECISION)
        held = guard(snap, facts) if wish.delete else None
        plan.delete[key] = wish.delete and held is None
        plan.reason[key] = held or wish.reason
    points = _points(snapshots)
    for reason, snap in [*_last_good(points), *_uncopied(snapshots, facts)]:
        plan.keep(snap, reason)
    _keep_points_whole(points, plan)
    _cap(snapshots, plan, facts.max_deletions)
    return [Verdict(s, plan.delete[s.key], plan.reason[s.key]) for s in snapshots]


def _points(snapshots: Sequence[Snapshot]) -> dict[tuple[str, ...], list[Snapshot]]:
    points: dict[tuple[str, ...], list[Snapshot]] = defaultdict(list)
    for snap in snapshots:
        if snap.state != "error":
            points[snap.point].append(snap)
    return points


def _last_good(points: dict[tuple[str, ...], list[Snapshot]]) -> list[tuple[str, Snapshot]]:
    """Every snapshot of the newest completed recovery point of each resource in each region."""
    newest: dict[tuple[str, ...], tuple[datetime, tuple[str, ...], list[Snapshot]]] = {}
    for point, snaps in points.items():
        if all(s.state == "completed" for s in snaps):
            when = max(s.taken_at for s in snaps)
            resource = point[:4]
            if resource not in newest or (when, point) > newest[resource][:2]:
                newest[resource] = (when, point, snaps)
    out = []
    for resource, (_, _, snaps) in newest.items():
        for snap in snaps:
            out.append((f"newest completed backup of {resource[3]} in {resource[1]}", snap))
    return out


def _uncopied(snapshots: Sequence[Snapshot], facts: Facts) -> list[tuple[str, Snapshot]]:
    """Completed sources whose copy in the backup region is not completed."""
    copied = {
        (s.place.account, s.tags.get(T.COPY_OF_REGION), s.copy_of)
        for s in snapshots
        if s.copy_of and s.state == "completed" and s.place.region == facts.backup_region
    }
    out = []
    for snap in snapshots:
        is_source = snap.copy_of is None and snap.place.region != facts.backup_region
        if (
            is_source
            and snap.state == "completed"
            and (snap.place.account, snap.place.region, snap.ref) not in copied
        ):
            out.append((f"its copy in {facts.backup_region} is not completed yet", snap))
    return out


def _keep_points_whole(points: dict[tuple[str, ...], list[Snapshot]], plan: _Plan) -> None:
    for snaps in points.values():
        if len(snaps) < 2:
            continue
        kept = [s for s in snaps if not plan.delete[s.key]]
        if kept and len(kept) < len(snaps):
            why = f"kept with its recovery point ({kept[0].id}: {plan.reason[kept[0].key]})"
            for snap in snaps:
                plan.keep(snap, why)


def _cap(snapshots: Sequence[Snapshot], plan: _Plan, cap: int) -> None:
    """Allow at most ``cap`` deletions, oldest first, whole recovery points at a time."""
    doomed: dict[tuple[str, ...], list[Snapshot]] = defaultdict(list)
    for snap in snapshots:
        if plan.delete[snap.key]:
            # Failed snapshots are not part of a recovery point: each goes alone.
            alone = snap.id if snap.state == "error" else ""
            doomed[(*snap.point, alone)].append(snap)
    if sum(len(snaps) for snaps in doomed.values()) <= cap:
        return
    order = sorted(
        doomed.values(), key=lambda snaps: (min(s.taken_at for s in snaps), snaps[0].key)
    )
    allowed = cap
    for snaps in order:
        if len(snaps) <= allowed:
            allowed -= len(snaps)
            continue
        allowed = 0
        for snap in snaps:
            plan.keep(snap, f"deletion cap of {cap} reached; left for the next run")


def run_prune(run: Run, max_deletions: int | None = None) -> PruneResult:
    places = run.places() + run.dests()
    inv = inventory.snapshots(run, places)
    in_use: dict[Key, str] = {}
    for place in places:
        for family, engine in {e.family: e for e in run.engines.values()}.items():
            used = run.attempt(f"{family} users ({place})", partial(engine.in_use, place))
            for snap in inv.snapshots:
                if snap.place == place and run.engines[snap.kind].family == family:
                    if used is None:
                        in_use[snap.key] = "something unknown: its users could not be listed"
                    elif snap.id in used:
                        in_use[snap.key] = used[snap.id]
    facts = Facts(
        policy=run.policy.name,
        backup_region=run.policy.backup_region,
        in_use=in_use,
        max_deletions=run.policy.max_deletions if max_deletions is None else max_deletions,
    )
    decisions = retention.decide(inv.snapshots, run.now, run.policy.retention)
    verdicts = apply_rails(inv.snapshots, decisions, facts)
    ordered = sorted(
        verdicts,
        key=lambda v: (
            v.snapshot.kind,
            v.snapshot.place,
            v.snapshot.source_id,
            v.snapshot.taken_at,
            v.snapshot.id,
        ),
    )
    for v in ordered:
        s = v.snapshot
        run.emit(
            PlanLine(
                "delete" if v.delete else "keep",
                s.kind,
                s.id,
                s.place,
                f"{s.source_id}, taken {s.taken_at.astimezone(UTC):%Y-%m-%d %H:%M}Z: {v.reason}",
            )
        )
    result = PruneResult(verdicts)
    for v in ordered:
        if v.delete:
            result.deleted += _delete(run, v.snapshot)
    return result


def _delete(run: Run, snap: Snapshot) -> int:
    engine = run.engines[snap.kind]
    what = snap.describe()
    if not run.succeeded(
        what, partial(run.backoff.call, what, partial(engine.delete, snap, run.dry_run))
    ):
        return 0
    if not run.dry_run:
        run.say(f"  deleted {snap.id} ({snap.place})")
    return 1
