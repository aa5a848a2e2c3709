"""``verify-restore``: prove the newest shipped copies restore, and time it.

In the policy's backup region, for each resource the policy backs up: take
its newest complete shipped recovery point, restore each snapshot in it to a
throwaway volume, DB instance or cluster, wait until usable (botocore
waiters, explicit WaiterConfig), check state, size, encryption, engine and
tags, and delete it again. The time from the restore request to usable is
the RTO evidence.

Deleting happens in a ``finally`` for each restore, whatever the checks say,
and once more at the end for anything this run tagged. Throwaways an earlier
run could not delete (it was killed, or AWS refused) carry the
``runners:verify-restore`` tag: each run first removes those older than the
timeout, so a run still in progress elsewhere is left alone.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError, WaiterError

from runners import log
from runners.aws.retry import Backoff, error_code
from runners.backup.engines import Clients
from runners.backup.model import Place, Snapshot
from runners.backup.policy import Policy
from runners.backup.tags import new_run_id
from runners.dr import checks, snapshots
from runners.dr.restorers import CLASSES, RESTORERS, Restorer, Throwaway, Wait
from runners.dr.restorers.base import started_at
from runners.dr.settings import VerifySettings
from runners.dr.tags import VERIFY, throwaway_tags

AwsError = (ClientError, BotoCoreError)


@dataclass
class Outcome:
    """One snapshot restored, checked and deleted (or not)."""

    kind: str
    source_id: str
    snapshot_id: str
    place: Place
    taken_at: datetime
    label: str = ""
    restored_as: str | None = None
    seconds_to_usable: float | None = None
    seconds_total: float | None = None
    problems: list[str] = field(default_factory=list)
    error: str | None = None
    cleanup: str = "nothing to delete"

    @property
    def deleted(self) -> bool:
        return self.restored_as is None or self.cleanup == "deleted"

    @property
    def passed(self) -> bool:
        return self.error is None and not self.problems and self.deleted


@dataclass
class Sweep:
    """A throwaway from an earlier run, and what became of it."""

    throwaway: Throwaway
    label: str
    result: str

    @property
    def deleted(self) -> bool:
        return self.result == "deleted"


@dataclass
class VerifyRun:
    policy: Policy
    clients: Clients
    settings: VerifySettings
    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    run_id: str = ""
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    outcomes: list[Outcome] = field(default_factory=list)
    sweeps: list[Sweep] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)  # listing failures: nothing was verified

    def __post_init__(self) -> None:
        self.run_id = self.run_id or new_run_id(self.now)

    @property
    def wait(self) -> Wait:
        delay = max(1, round(self.settings.poll_seconds))
        return Wait(delay, max(1, math.ceil(self.settings.timeout_minutes * 60 / delay)))

    @property
    def passed(self) -> bool:
        return (
            not self.failures
            and all(o.passed for o in self.outcomes)
            and all(s.deleted for s in self.sweeps)
        )

    def places(self) -> list[Place]:
        return [Place(a, self.policy.backup_region) for a in self.policy.selection.accounts]

    def restorer(self, cls: type[Restorer]) -> Restorer:
        return cls(self.clients, self.settings)


def run_verify(run: VerifyRun) -> VerifyRun:
    kinds = [k for k in run.policy.selection.kinds if k in RESTORERS]
    for kind in run.policy.selection.kinds:
        if kind not in RESTORERS:
            run.failures.append(f"{kind}: verify-restore cannot restore this kind")
    for place in run.places():
        sweep(run, place, older_than=run.now - timedelta(minutes=run.settings.timeout_minutes))
        listed, failed = snapshots.shipped(run.clients, place, run.policy.name, kinds)
        for kind, why in failed.items():
            run.failures.append(f"{kind} snapshots in {place}: {why}")
        points = snapshots.newest_points(listed, place.region)
        jobs = [snap for _, point in sorted(points.items()) for snap in point]
        log.step(
            f"verify-restore {len(jobs)} snapshot(s) in {place}, {run.settings.parallel} at a time"
        )
        pool = ThreadPoolExecutor(max_workers=run.settings.parallel)
        try:
            run.outcomes += list(pool.map(partial(verify_one, run), jobs))
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
            sweep(run, place, this_run=True)
    return run


def verify_one(run: VerifyRun, snap: Snapshot) -> Outcome:
    restorer = run.restorer(RESTORERS[snap.kind])
    out = Outcome(snap.kind, snap.source_id, snap.id, snap.place, snap.taken_at, restorer.label)
    tags = throwaway_tags(run.run_id, run.policy.name, snap.id, run.now)
    started = run.clock()
    try:
        expected = restorer.expected(snap)
        out.restored_as = restorer.start(
            snap, expected, restorer.name_for(snap.id, run.run_id), tags
        )
        log.step(f"restoring {snap.id} ({snap.kind} {snap.source_id}) as {out.restored_as}")
        restorer.wait_usable(snap.place, out.restored_as, run.wait)
        out.seconds_to_usable = run.clock() - started
        observed = restorer.observe(snap.place, out.restored_as)
        out.problems = checks.problems(expected, observed, tags, restorer.size_exact)
    except WaiterError as exc:
        out.error = f"not usable within {run.settings.timeout_minutes:g} min ({_waiter_state(exc)})"
    except AwsError as exc:
        out.error = _describe(exc)
    finally:
        if out.restored_as is not None:
            out.cleanup = _delete(run, restorer, snap.place, out.restored_as)
        out.seconds_total = run.clock() - started
    return out


def sweep(
    run: VerifyRun, place: Place, older_than: datetime | None = None, this_run: bool = False
) -> None:
    """Delete throwaways: an earlier run's leftovers (older than ``older_than``), or this run's."""
    for cls in CLASSES:
        restorer = run.restorer(cls)
        try:
            found = restorer.throwaways(place)
        except AwsError as exc:
            run.failures.append(
                f"listing {cls.label}s left by verify-restore in {place}: {_describe(exc)}"
            )
            continue
        for item in found:
            mine = item.tags.get(VERIFY) == run.run_id
            if this_run != mine:
                continue
            if not this_run:
                when = started_at(item.tags)
                if when is not None and older_than is not None and when > older_than:
                    continue  # another run may still be using it
            if item.state in ("deleting", "deleted"):
                continue
            log.step(
                f"deleting {cls.label} {item.id}, left by verify-restore run {item.tags.get(VERIFY)}"
            )
            result = _delete(run, restorer, place, item.id)
            if this_run:
                for out in run.outcomes:
                    if out.restored_as == item.id:
                        out.cleanup = result
            else:
                run.sweeps.append(Sweep(item, cls.label, result))


def _delete(run: VerifyRun, restorer: Restorer, place: Place, resource_id: str) -> str:
    what = f"{restorer.label} {resource_id} ({place})"
    backoff = Backoff(attempts=6, sleep=run.sleep)
    try:
        backoff.call(what, partial(restorer.delete, place, resource_id), codes=restorer.busy_codes)
        restorer.wait_deleted(place, resource_id, run.wait)
    except ClientError as exc:
        if error_code(exc) in restorer.gone_codes:
            return "deleted"
        return f"NOT deleted ({_describe(exc)}); the next run deletes it"
    except (WaiterError, BotoCoreError) as exc:
        return f"NOT deleted ({type(exc).__name__}); the next run deletes it"
    return "deleted"


def _waiter_state(exc: WaiterError) -> str:
    last: Any = exc.last_response or {}
    for key, field_name in (
        ("Volumes", "State"),
        ("DBInstances", "DBInstanceStatus"),
        ("DBClusters", "Status"),
    ):
        items = last.get(key) or []
        if items:
            return f"last seen {items[0].get(field_name, 'unknown')}"
    code = (last.get("Error") or {}).get("Code")
    return f"last seen {code}" if code else "no answer"


def _describe(exc: ClientError | BotoCoreError) -> str:
    if isinstance(exc, ClientError):
        message = exc.response.get("Error", {}).get("Message", "")
        return f"{exc.operation_name}: {error_code(exc)}: {message}".rstrip(": ")
    return type(exc).__name__
