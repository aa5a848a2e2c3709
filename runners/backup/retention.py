"""Grandfather-father-son retention: a pure function of (snapshots, now, policy).

Per resource and region, scheduled backups are kept the way restic and borg
keep them: the newest backup of each of the N most recent days that have
one, of the N most recent ISO weeks, months and years. A backup can be kept
by several rules at once, and the reason says which. Because the rules count
periods that have backups rather than calendar days back from now, backups
that stopped for a month are not all expired by the passage of time.

On-demand backups are kept for ``on_demand_days`` from when they were taken.
A recovery point (all snapshots of one resource for one period: the volumes
of an instance) is decided as a whole. Pending snapshots are kept until they
complete; failed ones are deleted. This decides only what retention wants:
``runners.backup.prune`` then applies the safety rails.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from runners.backup import tags as T
from runners.backup.model import Snapshot
from runners.backup.policy import Retention

Key = tuple[str, str, str]


@dataclass(frozen=True)
class Decision:
    delete: bool
    reason: str


KEEP_PENDING = Decision(False, "pending; decided once completed")
KEEP_DELETING = Decision(False, "already being deleted")
DELETE_FAILED = Decision(True, "the snapshot failed (state error)")


def _day(t: datetime) -> tuple[Hashable, str]:
    return t.toordinal(), f"{t:%Y-%m-%d}"


def _week(t: datetime) -> tuple[Hashable, str]:
    year, week, _ = t.isocalendar()
    return (year, week), f"{year}-W{week:02d}"


def _month(t: datetime) -> tuple[Hashable, str]:
    return (t.year, t.month), f"{t:%Y-%m}"


def _year(t: datetime) -> tuple[Hashable, str]:
    return t.year, str(t.year)


BUCKETS: dict[str, Callable[[datetime], tuple[Hashable, str]]] = {
    "daily": _day,
    "weekly": _week,
    "monthly": _month,
    "yearly": _year,
}


@dataclass
class _Point:
    when: datetime
    snaps: list[Snapshot]


def decide(
    snapshots: Iterable[Snapshot], now: datetime, retention: Retention
) -> dict[Key, Decision]:
    """Keep or delete, with the reason, for every snapshot given."""
    out: dict[Key, Decision] = {}
    points: dict[tuple[str, ...], _Point] = {}
    for snap in snapshots:
        if snap.state == "error":
            out[snap.key] = DELETE_FAILED
            continue
        when = snap.taken_at
        point = points.get(snap.point)
        if point is None:
            points[snap.point] = _Point(when, [snap])
        else:
            point.snaps.append(snap)
            point.when = max(point.when, when)
    scheduled: dict[tuple[str, ...], list[_Point]] = defaultdict(list)
    for key, point in points.items():
        if any(s.state != "completed" for s in point.snaps):
            verdict = (
                KEEP_DELETING if all(s.state == "deleting" for s in point.snaps) else KEEP_PENDING
            )
            _set(out, point, verdict)
        elif key[4] == T.SCHEDULED:
            scheduled[key[:4]].append(point)
        elif key[4] == T.ON_DEMAND:
            _set(out, point, _on_demand(point.when, now, retention.on_demand_days))
        else:
            _set(out, point, Decision(False, f"unknown retention class {key[4]!r}; left alone"))
    for group in scheduled.values():
        _grandfather(out, group, retention)
    return out


def _set(out: dict[Key, Decision], point: _Point, decision: Decision) -> None:
    for snap in point.snaps:
        out[snap.key] = decision


def _on_demand(when: datetime, now: datetime, days: int) -> Decision:
    until = when + timedelta(days=days)
    if now < until:
        return Decision(
            False, f"on-demand, kept {days} days (until {until.astimezone(UTC):%Y-%m-%d})"
        )
    return Decision(True, f"on-demand, older than {days} days")


def _grandfather(out: dict[Key, Decision], points: list[_Point], retention: Retention) -> None:
    points.sort(key=lambda p: p.when, reverse=True)
    utc = [p.when.astimezone(UTC) for p in points]
    kept: dict[int, list[str]] = defaultdict(list)
    for rule, count in retention.rules():
        if count <= 0:
            continue
        bucket_of = BUCKETS[rule]
        seen: set[Hashable] = set()
        for index, when in enumerate(utc):
            bucket, label = bucket_of(when)
            if bucket in seen:
                continue
            if len(seen) == count:
                break
            seen.add(bucket)
            kept[index].append(f"{rule} {label}")
    for index, point in enumerate(points):
        reasons = kept.get(index)
        if reasons:
            _set(out, point, Decision(False, ", ".join(reasons)))
        else:
            _set(
                out,
                point,
                Decision(True, "not the newest backup of any day, week, month or year kept"),
            )
