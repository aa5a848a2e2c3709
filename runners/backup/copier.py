"""``runners ship``: copy every completed snapshot to the backup region, within AWS's quotas.

Resuming needs no local state: a copy carries ``runners:copy-of`` (its source)
in the backup region, so each run lists the copies there and starts only what
is missing. The quotas the copier respects:

- at most ``limits.ebs_copies`` EBS and ``limits.rds_copies`` RDS copies in
  flight per destination region (AWS's defaults are 20 and 20);
- at most ``limits.pending_per_volume`` pending copies of one volume (5);
- one copy at a time of one database's snapshots (RDS allows no more).

Copies start newest first, because the newest copy is what a recovery needs.
When every slot is busy the run polls the copies in flight and starts more as
they complete, for up to ``limits.ship_wait_minutes``; what is still queued
then is left for the next run. Quota errors and throttling are retried with
backoff; if they outlast the retries the copy goes back in the queue, and if
the quota stays full for the whole window the run ends with a failure, so a
copy problem is never silent.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import partial

from botocore.exceptions import BotoCoreError, ClientError

from runners import log
from runners.aws.retry import TRANSIENT, error_code
from runners.backup import inventory
from runners.backup import tags as T
from runners.backup.context import Run
from runners.backup.engines import Engine
from runners.backup.images import ship_images
from runners.backup.inventory import Inventory
from runners.backup.kms import destination_keys
from runners.backup.model import Failure, Place, PlanLine, Snapshot, Verb
from runners.backup.once import start_once

Pool = tuple[Place, str]  # destination, "ebs" or "rds"
Gate = tuple[Place, str]  # destination, a volume or a database
SourceKey = tuple[str | None, str, str]  # account, source region, source ref


@dataclass
class CopyJob:
    engine: Engine
    source: Snapshot
    dest: Place
    kms_key: str | None
    last_error: str | None = None  # the quota or throttling code that sent it back to the queue

    @property
    def pool(self) -> Pool:
        return (self.dest, self.engine.copy_pool)

    @property
    def gate(self) -> Gate:
        return (self.dest, self.engine.gate(self.source))


@dataclass
class InFlight:
    engine: Engine
    copy: Snapshot
    pool: Pool
    gate: Gate


@dataclass
class ShipPlan:
    jobs: list[CopyJob] = field(default_factory=list)
    waiting: list[CopyJob] = field(default_factory=list)  # sources still pending
    ripe: list[CopyJob] = field(default_factory=list)  # sources that completed during the run
    to_link: list[tuple[Engine, Snapshot]] = field(default_factory=list)


@dataclass
class ShipResult:
    started: list[Snapshot] = field(default_factory=list)
    planned: int = 0
    completed: int = 0
    deferred: int = 0
    images: int = 0


class Slots:
    """How many copies may start now, per destination pool and per volume or database."""

    def __init__(self, pool_limits: dict[str, int], gate_limits: dict[str, int]) -> None:
        self.pool_limits = pool_limits
        self.gate_limits = gate_limits
        self.pools: Counter[Pool] = Counter()
        self.gates: Counter[Gate] = Counter()
        self.saturated: set[Pool] = set()  # AWS said the quota is full: wait for the next poll
        self.refused: dict[Pool, str] = {}  # the error code, until a copy to that pool starts

    def why_not(self, pool: Pool, gate: Gate) -> str | None:
        kind = pool[1]
        if pool in self.saturated:
            return f"AWS reports the {kind} copy quota in {pool[0]} is full"
        if self.pools[pool] >= self.pool_limits[kind]:
            return f"{self.pool_limits[kind]} {kind} copies already in flight to {pool[0]}"
        if self.gates[gate] >= self.gate_limits[kind]:
            return f"{self.gates[gate]} copies of {gate[1]} already pending"
        return None

    def take(self, pool: Pool, gate: Gate) -> None:
        self.pools[pool] += 1
        self.gates[gate] += 1

    def release(self, pool: Pool, gate: Gate) -> None:
        self.pools[pool] -= 1
        self.gates[gate] -= 1


def run_ship(run: Run) -> ShipResult:
    inv = inventory.snapshots(run, run.places())
    dest_inv = inventory.snapshots(run, run.dests())
    limits = run.policy.limits
    slots = Slots(
        {"ebs": limits.ebs_copies, "rds": limits.rds_copies},
        {"ebs": limits.pending_per_volume, "rds": 1},
    )
    flying = _in_flight(run, inv, dest_inv, slots)
    shipping = plan(run, inv, dest_inv)
    result = ShipResult(planned=len(shipping.jobs))
    if run.dry_run:
        for job in shipping.jobs:
            _start(run, job)
            shipping.to_link.append((job.engine, job.source))
    else:
        _schedule(run, shipping, flying, slots, result)
        started = {s.tags.get(T.COPY_OF) for s in result.started}
        shipping.to_link += [
            (j.engine, j.source)
            for j in [*shipping.jobs, *shipping.ripe]
            if j.source.ref in started
        ]
    _link(run, shipping.to_link)
    if run.policy.images:
        result.images = ship_images(run, inv)
    return result


def _sources(inv: Inventory) -> list[Snapshot]:
    """The snapshots to ship: made by runners, not copies, not another service's."""
    return [s for s in inv.snapshots if s.copy_of is None and s.managed and s.foreign_owner is None]


def _copies(dest_inv: Inventory) -> dict[SourceKey, list[Snapshot]]:
    out: dict[SourceKey, list[Snapshot]] = defaultdict(list)
    for copy in dest_inv.snapshots:
        if copy.copy_of:
            out[(copy.place.account, copy.tags.get(T.COPY_OF_REGION, ""), copy.copy_of)].append(
                copy
            )
    return out


def _key(src: Snapshot) -> SourceKey:
    return (src.place.account, src.place.region, src.ref)


def _in_flight(run: Run, inv: Inventory, dest_inv: Inventory, slots: Slots) -> list[InFlight]:
    """Copies started by earlier runs and still pending: they hold quota slots."""
    sources = {_key(s): s for s in inv.snapshots}
    flying = []
    for copies in _copies(dest_inv).values():
        for copy in copies:
            if copy.state != "pending" or copy.kind not in run.engines:
                continue
            engine = run.engines[copy.kind]
            src = sources.get(
                (copy.place.account, copy.tags.get(T.COPY_OF_REGION, ""), copy.copy_of or "")
            )
            pool, gate = (copy.place, engine.copy_pool), (copy.place, engine.gate(src or copy))
            slots.take(pool, gate)
            flying.append(InFlight(engine, copy, pool, gate))
    if not run.dry_run:
        flying += _others_in_flight(run, slots)
    return flying


def _others_in_flight(run: Run, slots: Slots) -> list[InFlight]:
    """Copies other policies or people have in flight to the backup region take slots too."""
    families = {e.family: e for e in run.engines.values()}
    out = []
    for dest in run.dests():
        for engine in families.values():
            what = f"{engine.family} pending in {dest}"
            others = run.attempt(what, partial(engine.pending_in, dest, run.policy.name)) or []
            for snap in others:
                pool, gate = (dest, engine.copy_pool), (dest, f"other/{snap.id}")
                slots.take(pool, gate)
                out.append(InFlight(engine, snap, pool, gate))
    return out


def plan(run: Run, inv: Inventory, dest_inv: Inventory) -> ShipPlan:
    """A line per source snapshot (copy, skip or wait, with the reason) and the copy jobs."""
    copies = _copies(dest_inv)
    sources = sorted(_sources(inv), key=lambda s: (s.kind, s.place, s.source_id, s.taken_at))
    held = {_key(s): _held(run, s, copies[_key(s)], dest_inv) for s in sources}
    needs_key = {
        s.place.account
        for s in sources
        if s.encrypted and (held[_key(s)] is None or held[_key(s)][0] == "wait")  # type: ignore[index]
    }
    keys = destination_keys(run, needs_key)
    shipping = ShipPlan()
    for src in sources:
        engine, dest = run.engines[src.kind], run.dest(src.place.account)
        verb, reason = held[_key(src)] or ("copy", _copy_reason(src, dest, copies[_key(src)]))
        if verb == "copy" and src.encrypted and keys.get(src.place.account) is None:
            verb, reason = "skip", f"no usable KMS key {run.policy.kms_key_alias} in {dest}"
        if verb == "copy":
            shipping.jobs.append(CopyJob(engine, src, dest, keys.get(src.place.account)))
            _report_failed_copies(run, src, copies[_key(src)])
        elif verb == "wait" and not (src.encrypted and keys.get(src.place.account) is None):
            shipping.waiting.append(CopyJob(engine, src, dest, keys.get(src.place.account)))
        elif _live(copies[_key(src)]) and T.COPIED_TO not in src.tags:
            shipping.to_link.append((engine, src))  # copied, but the source tag was lost
        run.emit(PlanLine(verb, src.kind, src.id, src.place, reason))
    return shipping


def _held(
    run: Run, src: Snapshot, copies: list[Snapshot], dest_inv: Inventory
) -> tuple[Verb, str] | None:
    """Why a source is not copied now, or None when it is."""
    dest = run.dest(src.place.account)
    live = _live(copies)
    if live:
        return "skip", "copied: " + ", ".join(f"{c.id} ({c.state}) in {dest}" for c in live)
    if (src.kind, dest) not in dest_inv.listed:
        return "skip", f"the copies in {dest} could not be listed; not copying blind"
    if src.state == "pending":
        return "wait", "still pending; copied once completed"
    if src.state != "completed":
        return "skip", f"the snapshot is {src.state}"
    return None


def _report_failed_copies(run: Run, src: Snapshot, copies: list[Snapshot]) -> None:
    """A copy that failed in AWS after it started: loud once, in the run that finds it."""
    for copy in copies:
        if copy.state == "error":
            what = f"{copy.kind} copy {copy.id} ({copy.place}) of {src.id}"
            run.failures.append(
                Failure(what, "CopySnapshot", "CopyFailed", "ended in state error; copying again")
            )


def _live(copies: list[Snapshot]) -> list[Snapshot]:
    return [c for c in copies if c.state in ("pending", "completed")]


def _copy_reason(src: Snapshot, dest: Place, copies: list[Snapshot]) -> str:
    failed = [c.id for c in copies if c.state == "error"]
    if failed:
        return f"the copy in {dest} failed ({', '.join(failed)}); copying again"
    return f"no copy in {dest} yet" + (
        ", re-encrypted with the backup key" if src.encrypted else ""
    )


def _start(run: Run, job: CopyJob) -> Snapshot | None:
    """Start one copy; a quota error that outlasts the retries sends the job back to the queue."""
    src = job.source
    tags = T.copy_tags(src.tags, src.ref, src.place.region, run.policy.copy_tags)
    what = f"copy {src.id}"
    start = partial(job.engine.copy, src, job.dest, job.kms_key, tags, run.dry_run)
    find = partial(job.engine.find_copy, src, job.dest)
    try:
        copy, adopted = start_once(run.backoff, what, start, find)
    except ClientError as exc:
        code = error_code(exc)
        if code in TRANSIENT:
            job.last_error = code
            return None
        message = str(exc.response.get("Error", {}).get("Message", ""))
        run.failures.append(Failure(job.source.describe(), exc.operation_name, code, message))
        return None
    except BotoCoreError as exc:
        run.failures.append(
            Failure(job.source.describe(), "CopySnapshot", type(exc).__name__, str(exc))
        )
        return None
    job.last_error = None
    if copy is not None:
        verb = "adopted copy" if adopted else "started copy"
        run.say(f"  {verb} {copy.id} of {src.id} ({src.place} -> {job.dest})")
    return copy


def _schedule(
    run: Run, shipping: ShipPlan, flying: list[InFlight], slots: Slots, result: ShipResult
) -> None:
    limits = run.policy.limits
    deadline = run.clock() + limits.ship_wait_minutes * 60
    queue = sorted(shipping.jobs, key=lambda j: j.source.taken_at, reverse=True)
    waiting = list(shipping.waiting)
    # Half a pool's copies due at once: a poll then frees enough slots to be worth its call.
    watch = Watch(run.clock, batch=min(limits.ebs_copies, limits.rds_copies) // 2)
    while queue or waiting:
        queue = _start_what_fits(run, queue, flying, slots, result, watch)
        if (not queue and not waiting) or run.clock() >= deadline:
            break
        run.sleep(min(watch.next_wait(limits.poll_seconds), max(0.0, deadline - run.clock())))
        _poll(run, flying, slots, result, watch)
        ripe = _ripen(run, waiting, watch)
        shipping.ripe += ripe
        queue = sorted([*queue, *ripe], key=lambda j: j.source.taken_at, reverse=True)
        slots.saturated.clear()
    for job in waiting:
        run.emit(
            PlanLine(
                "queue",
                job.source.kind,
                job.source.id,
                job.source.place,
                "left for the next run: the snapshot is still pending",
            )
        )
    _defer(run, queue, slots)
    result.deferred = len(queue) + len(waiting)


def _start_what_fits(
    run: Run,
    queue: list[CopyJob],
    flying: list[InFlight],
    slots: Slots,
    result: ShipResult,
    watch: Watch,
) -> list[CopyJob]:
    """Start every queued copy a slot allows; the rest of the queue, in order."""
    left = []
    for job in queue:
        if slots.why_not(job.pool, job.gate):
            left.append(job)
            continue
        copy = _start(run, job)
        if copy is not None:
            slots.refused.pop(job.pool, None)
            slots.take(job.pool, job.gate)
            flying.append(InFlight(job.engine, copy, job.pool, job.gate))
            result.started.append(copy)
            watch.started(copy)
        elif job.last_error:
            slots.saturated.add(job.pool)
            slots.refused[job.pool] = job.last_error
            left.append(job)
    return left


class Watch:
    """When the next pending snapshot should complete, from the progress AWS reports.

    Copies started together complete close together, so waking when ``batch`` of
    them are due and polling once frees those slots with one call, where a fixed
    poll interval either wastes calls or leaves slots idle.
    """

    MIN_SHARE = 0.05  # of poll_seconds: never poll more often than this
    MAX_TIMES = 10  # of poll_seconds: an estimate is trusted this far ahead at most

    def __init__(self, clock: Callable[[], float], batch: int = 1) -> None:
        self.clock = clock
        self.batch = max(1, batch)
        self.first: dict[tuple[str, str], tuple[float, float]] = {}
        self.due: dict[tuple[str, str], float] = {}
        self.typical: dict[str, float] = {}  # kind -> how long its copies took, as estimated

    def started(self, snap: Snapshot) -> None:
        key, now = (snap.place.region, snap.id), self.clock()
        self.first[key] = (now, 0.0)
        if snap.kind in self.typical:  # like the ones before it, until its progress says
            self.due[key] = now + self.typical[snap.kind]

    def saw(self, snap: Snapshot) -> None:
        key, now = (snap.place.region, snap.id), self.clock()
        progress = snap.progress
        if progress is None or snap.state != "pending":
            self.due.pop(key, None)
            return
        t0, p0 = self.first.setdefault(key, (now, progress))
        if progress > p0 and now > t0:
            rate = (progress - p0) / (now - t0)
            # Progress is reported in whole percent: aim a little late rather than early.
            self.due[key] = now + (1.0 - progress) / rate * 1.02
            if p0 == 0.0:
                self.typical[snap.kind] = 1.02 / rate
        else:
            self.due.pop(key, None)

    def forget(self, snap: Snapshot) -> None:
        self.first.pop((snap.place.region, snap.id), None)
        self.due.pop((snap.place.region, snap.id), None)

    def next_wait(self, poll: float) -> float:
        if not self.due:
            return poll
        dues = sorted(self.due.values())
        wanted = dues[min(self.batch, len(dues)) - 1] - self.clock()
        return min(poll * self.MAX_TIMES, max(poll * self.MIN_SHARE, wanted))


def _poll(run: Run, flying: list[InFlight], slots: Slots, result: ShipResult, watch: Watch) -> bool:
    """Refresh the copies in flight; True when a slot came free."""
    groups: dict[tuple[str, Place], list[InFlight]] = defaultdict(list)
    for item in flying:
        groups[(item.engine.family, item.copy.place)].append(item)
    freed = False
    for (_, place), items in groups.items():
        engine = items[0].engine
        states = run.attempt(
            f"copy status ({place})", partial(engine.refresh, place, [i.copy for i in items])
        )
        if states is None:
            continue
        for item in items:
            now = states.get(item.copy.id)
            # A copy not listed yet is still starting (the API is eventually consistent).
            if now is None or now.state == "pending":
                if now is not None:
                    watch.saw(now)
                continue
            flying.remove(item)
            watch.forget(item.copy)
            slots.release(item.pool, item.gate)
            freed = True
            if item.gate[1].startswith("other/"):
                continue
            if now.state == "completed":
                result.completed += 1
            else:
                what = f"{item.copy.kind} copy {item.copy.id} of {item.copy.copy_of}"
                run.failures.append(
                    Failure(what, "CopySnapshot", "CopyFailed", f"the copy is {now.state}")
                )
    return freed


def _ripen(run: Run, waiting: list[CopyJob], watch: Watch) -> list[CopyJob]:
    """Sources that completed since the last look: they join the queue."""
    groups: dict[tuple[str, Place], list[CopyJob]] = defaultdict(list)
    for job in waiting:
        groups[(job.engine.family, job.source.place)].append(job)
    ripe = []
    for (_, place), jobs in groups.items():
        engine = jobs[0].engine
        states = run.attempt(
            f"snapshot status ({place})",
            partial(engine.refresh, place, [j.source for j in jobs]),
        )
        for job in jobs if states is not None else []:
            now = states.get(job.source.id)  # type: ignore[union-attr]
            if now is not None and now.state == "pending":
                watch.saw(now)
                continue
            waiting.remove(job)
            watch.forget(job.source)
            if now is not None and now.state == "completed":
                ripe.append(replace(job, source=replace(job.source, state="completed")))
                run.emit(
                    PlanLine(
                        "copy", job.source.kind, job.source.id, place, "completed during the run"
                    )
                )
    return ripe


def _defer(run: Run, queue: list[CopyJob], slots: Slots) -> None:
    """Leave the queue to the next run; a destination AWS kept refusing is a failure."""
    if not queue:
        return
    minutes = run.policy.limits.ship_wait_minutes
    left: Counter[Pool] = Counter(job.pool for job in queue)
    for pool, code in sorted(slots.refused.items()):
        if left[pool]:
            run.failures.append(
                Failure(
                    f"{pool[1]} copies to {pool[0]}",
                    "copy",
                    code,
                    f"AWS refused for all of the {minutes:g}-minute ship window; "
                    f"{left[pool]} copies are left for the next run",
                )
            )
    for job in queue:
        reason = slots.why_not(job.pool, job.gate) or "waiting for a copy slot"
        line = PlanLine(
            "queue",
            job.source.kind,
            job.source.id,
            job.source.place,
            f"left for the next run: {reason}",
        )
        run.emit(line)
    log.warn(f"{len(queue)} copies left for the next ship run after {minutes:g} minutes")


def _link(run: Run, pairs: list[tuple[Engine, Snapshot]]) -> None:
    """Tag sources with the region of their copy, in as few calls as the service allows."""
    groups: dict[tuple[str, Place], list[tuple[Engine, Snapshot]]] = defaultdict(list)
    for engine, src in pairs:
        groups[(engine.family, src.place)].append((engine, src))
    for (_, place), items in groups.items():
        engine = items[0][0]
        sources = [s for _, s in items]
        run.attempt(
            f"{engine.kind} source tags ({place})",
            partial(engine.link_sources, place, sources, run.policy.backup_region, run.dry_run),
        )
