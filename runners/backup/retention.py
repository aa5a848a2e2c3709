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

from collections.abc import Callable, Iterable
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


def _week_label(t: datetime) -> str:
    year, week, _ = t.isocalendar()
    return f"{year}-W{week:02d}"


# Each rule's bucket is an integer worked out once per backup; a label is made only for
# the backups kept. Day 1 of the proleptic calendar is a Monday, so (day - 1) // 7
# numbers the ISO weeks.
LABELS: dict[str, Callable[[datetime], str]] = {
    "daily": lambda t: f"{t:%Y-%m-%d}",
    "weekly": _week_label,
    "monthly": lambda t: f"{t:%Y-%m}",
    "yearly": lambda t: str(t.year),
}


Entry = Snapshot | list[Snapshot]  # a recovery point: usually one snapshot, an instance's several


def _members(entry: Entry) -> list[Snapshot]:
    return entry if isinstance(entry, list) else [entry]


def decide(
    snapshots: Iterable[Snapshot], now: datetime, retention: Retention
) -> dict[Key, Decision]:
    """Keep or delete, with the reason, for every snapshot given."""
    # Written for a hundred thousand snapshots in well under a second: one pass to group
    # them into recovery points, few objects made per snapshot (the garbage collector's
    # work grows with them), labels only for what is kept.
    out: dict[Key, Decision] = {}
    scheduled: dict[tuple[str, ...], tuple[list[datetime], list[Entry]]] = {}
    for point_key, entry in _points(snapshots, out).items():
        if isinstance(entry, list):
            when = max(s.taken_at for s in entry)
            unfinished = any(s.state != "completed" for s in entry)
        else:
            when, unfinished = entry.taken_at, entry.state != "completed"
        klass = point_key[4]
        if unfinished:
            deleting = all(s.state == "deleting" for s in _members(entry))
            _set(out, entry, KEEP_DELETING if deleting else KEEP_PENDING)
        elif klass == T.SCHEDULED:
            group = scheduled.setdefault(point_key[:4], ([], []))
            group[0].append(when)
            group[1].append(entry)
        elif klass == T.ON_DEMAND:
            _set(out, entry, _on_demand(when, now, retention.on_demand_days))
        else:
            _set(out, entry, Decision(False, f"unknown retention class {klass!r}; left alone"))
    for whens, entries in scheduled.values():
        _grandfather(out, whens, entries, retention)
    return out


def _points(
    snapshots: Iterable[Snapshot], out: dict[Key, Decision]
) -> dict[tuple[str, ...], Entry]:
    """Snapshots grouped by recovery point; failed ones are decided here, on their own."""
    points: dict[tuple[str, ...], Entry] = {}
    for snap in snapshots:
        if snap.state == "error":
            out[snap.key] = DELETE_FAILED
            continue
        point_key = snap.point
        seen = points.get(point_key)
        if seen is None:
            points[point_key] = snap
        elif isinstance(seen, list):
            seen.append(snap)
        else:
            points[point_key] = [seen, snap]
    return points


def _set(out: dict[Key, Decision], entry: Entry, decision: Decision) -> None:
    if isinstance(entry, list):
        for snap in entry:
            out[snap.key] = decision
    else:
        out[entry.key] = decision


def _on_demand(when: datetime, now: datetime, days: int) -> Decision:
    until = when + timedelta(days=days)
    if now < until:
        return Decision(
            False, f"on-demand, kept {days} days (until {until.astimezone(UTC):%Y-%m-%d})"
        )
    return Decision(True, f"on-demand, older than {days} days")


def _grandfather(
    out: dict[Key, Decision], whens: list[datetime], entries: list[Entry], retention: Retention
) -> None:
    order = sorted(range(len(whens)), key=whens.__getitem__, reverse=True)
    utc = [whens[i] if whens[i].tzinfo is UTC else whens[i].astimezone(UTC) for i in order]
    days = [t.toordinal() for t in utc]
    buckets = {
        "daily": days,
        "weekly": [(day - 1) // 7 for day in days],
        "monthly": [t.year * 12 + t.month for t in utc],
        "yearly": [t.year for t in utc],
    }
    kept: dict[int, list[str]] = {}
    for rule, count in retention.rules():
        last, seen = -1, 0
        for rank, bucket in enumerate(buckets[rule]):
            if bucket == last:  # newest first, so the points of one bucket are adjacent
                continue
            if seen == count:
                break
            seen, last = seen + 1, bucket
            kept.setdefault(rank, []).append(f"{rule} {LABELS[rule](utc[rank])}")
    for rank, index in enumerate(order):
        reasons = kept.get(rank)
        _set(out, entries[index], Decision(False, ", ".join(reasons)) if reasons else _EXPIRED)


_EXPIRED = Decision(True, "not the newest backup of any day, week, month or year kept")
