"""``runners report``: is every resource recoverable within the RPO, in both regions?

For each selected resource, the age of its newest completed backup in its own
region and in the backup region, against the policy's RPO. A resource with
no completed backup, or whose snapshots could not be listed, is a breach: the
report never says "fine" about what it could not see. It also lists orphans
(runners snapshots whose source is gone, kept until retention and the rails
let them go) and snapshots owned by AWS Backup or DLM, which runners never
touches. Output: Markdown for people, JUnit XML for Jenkins.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial

from runners.backup import inventory, quotas
from runners.backup import tags as T
from runners.backup.context import Run
from runners.backup.creator import headroom
from runners.backup.inventory import Inventory
from runners.backup.model import Failure, Place, Resource, Snapshot

AWS_OPERATIONS: dict[str, frozenset[str]] = {}  # every call goes through an engine


@dataclass(frozen=True)
class Row:
    kind: str
    resource: str
    place: Place  # where the backup is checked: the resource's region or the backup region
    newest: Snapshot | None
    age_hours: float | None
    ok: bool
    note: str = ""


@dataclass
class Report:
    policy: str
    generated: datetime
    rpo_hours: float
    backup_region: str
    rows: list[Row] = field(default_factory=list)
    covered: dict[str, str] = field(default_factory=dict)  # volume -> instance whose rows cover it
    orphans: list[Snapshot] = field(default_factory=list)
    foreign: list[Snapshot] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    account: str | None = None  # the runner's own account, when runners.toml declares it
    headroom: list[quotas.Headroom] = field(default_factory=list)
    kept: int = 0

    def account_of(self, place: Place) -> str:
        return place.account or self.account or "-"

    @property
    def breaches(self) -> list[Row]:
        return [r for r in self.rows if not r.ok]


def build(run: Run) -> Report:
    places = run.places()
    found = inventory.resources(run, places)
    inv = inventory.snapshots(run, [*places, *run.dests()])
    covered = inventory.covered_volumes(run, found)
    report = Report(
        run.policy.name,
        run.now,
        run.policy.rpo_hours,
        run.policy.backup_region,
        account=run.account,
    )
    newest = _newest(inv)
    for res in sorted(found, key=lambda r: (r.kind, r.place, r.id)):
        if (res.place, res.id) in covered:
            report.covered[res.id] = covered[(res.place, res.id)]
            continue
        for place in (res.place, run.dest(res.place.account)):
            report.rows.append(_row(run, res, place, inv, newest))
    report.headroom = headroom(run, found, inv)
    report.kept = quotas.kept_per_resource(run.policy.schedule, run.policy.retention)
    report.orphans = _orphans(run, found, inv)
    report.foreign = _foreign(run, found)
    report.failures = run.failures
    return report


def _newest(inv: Inventory) -> dict[tuple[str, ...], Snapshot]:
    """The newest whole recovery point of each resource in each place, by one of its members.

    A point is whole when every member is completed and, for a copy of an instance's
    snapshot set, when every member of the source set has its completed copy: an
    instance restored without one of its volumes is not a backup.
    """
    points: dict[tuple[str, ...], list[Snapshot]] = defaultdict(list)
    for snap in inv.snapshots:
        if snap.managed and snap.foreign_owner is None and snap.state != "error":
            points[snap.point].append(snap)
    best: dict[tuple[str, ...], Snapshot] = {}
    for key, members in points.items():
        if not whole(key, members, points):
            continue
        newest = max(members, key=lambda s: s.taken_at)
        rkey = newest.resource_key
        if rkey not in best or newest.taken_at > best[rkey].taken_at:
            best[rkey] = newest
    return best


def whole(
    key: tuple[str, ...], members: list[Snapshot], points: dict[tuple[str, ...], list[Snapshot]]
) -> bool:
    if any(s.state != "completed" for s in members):
        return False
    copy_of_region = members[0].tags.get(T.COPY_OF_REGION)
    if not copy_of_region:
        return True
    source = points.get((key[0], copy_of_region, *key[2:]))
    return source is None or len({m.copy_of for m in members}) >= len(source)


def _row(
    run: Run, res: Resource, place: Place, inv: Inventory, newest: dict[tuple[str, ...], Snapshot]
) -> Row:
    if (res.kind, place) not in inv.listed:
        return Row(res.kind, res.id, place, None, None, False, "snapshots could not be listed")
    snap = newest.get((place.account or "", place.region, res.kind, res.id))
    if snap is None:
        return Row(res.kind, res.id, place, None, None, False, "no completed backup")
    age = (run.now - snap.taken_at).total_seconds() / 3600
    ok = age <= run.policy.rpo_hours
    return Row(
        res.kind,
        res.id,
        place,
        snap,
        age,
        ok,
        "" if ok else f"older than {run.policy.rpo_hours:g} h",
    )


def _orphans(run: Run, found: list[Resource], inv: Inventory) -> list[Snapshot]:
    """Runners snapshots (sources and copies) whose resource no longer exists."""
    selected = {(r.kind, r.place, r.id) for r in found}
    unknown: dict[tuple[str, Place], list[Snapshot]] = defaultdict(list)
    for snap in inv.snapshots:
        if not snap.managed or snap.kind not in run.engines:
            continue
        home = Place(snap.place.account, snap.tags.get(T.COPY_OF_REGION, snap.place.region))
        if (snap.kind, home, snap.source_id) not in selected:
            unknown[(snap.kind, home)].append(snap)
    orphans = []
    for (kind, home), snaps in unknown.items():
        engine = run.engines[kind]
        ids = {s.source_id for s in snaps}
        alive = run.attempt(f"{kind} lookup ({home})", partial(engine.existing, home, ids))
        if alive is not None:
            orphans += [s for s in snaps if s.source_id not in alive]
    return sorted(orphans, key=lambda s: (s.kind, s.source_id, s.place, s.taken_at))


def _foreign(run: Run, found: list[Resource]) -> list[Snapshot]:
    by_place: dict[tuple[str, Place], list[Resource]] = defaultdict(list)
    for res in found:
        by_place[(res.kind, res.place)].append(res)
    out: list[Snapshot] = []
    for (kind, place), resources in sorted(by_place.items()):
        engine = run.engines[kind]
        got = run.attempt(
            f"{kind} other owners ({place})", partial(engine.foreign_snapshots, place, resources)
        )
        out += got or []
    return out


def _when(snap: Snapshot) -> str:
    return f"{snap.taken_at.astimezone(UTC):%Y-%m-%d %H:%M}Z"


def markdown(report: Report) -> str:
    lines = [
        f"# Backup report: policy `{report.policy}`",
        "",
        f"Generated {report.generated.astimezone(UTC):%Y-%m-%d %H:%M} UTC. "
        f"RPO {report.rpo_hours:g} h. Backup region {report.backup_region}.",
        "",
    ]
    if report.breaches or report.failures:
        lines.append(
            f"**{len(report.breaches)} RPO breaches** in {len(report.rows)} checks; "
            f"{len(report.failures)} failures."
        )
    else:
        lines.append(f"All {len(report.rows)} checks are within the RPO.")
    lines += [
        "",
        "| Status | Kind | Resource | Account | Region | Newest completed | Age (h) | Note |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in sorted(report.rows, key=lambda r: (r.ok, r.kind, r.resource, r.place)):
        newest = f"{row.newest.id} ({_when(row.newest)})" if row.newest else "none"
        age = f"{row.age_hours:.1f}" if row.age_hours is not None else "-"
        lines.append(
            f"| {'ok' if row.ok else '**BREACH**'} | {row.kind} | {row.resource} | "
            f"{report.account_of(row.place)} | {row.place.region} | {newest} | {age} | {row.note} |"
        )
    if report.covered:
        lines += [
            "",
            "Volumes backed up with their instance (see the instance's rows): "
            + ", ".join(f"{v} ({i})" for v, i in sorted(report.covered.items()))
            + ".",
        ]
    lines += _headroom(report)
    lines += ["", "## Orphans: snapshots whose source is gone", ""]
    lines += _snapshot_table(
        report, report.orphans, "Kept until retention and the safety rails let them go."
    )
    lines += ["", "## Owned by AWS Backup or Data Lifecycle Manager (never touched)", ""]
    lines += _snapshot_table(report, report.foreign, "")
    if report.failures:
        lines += ["", "## Failures", ""] + [f"- {f}" for f in report.failures]
    return "\n".join(lines) + "\n"


def _headroom(report: Report) -> list[str]:
    if not report.headroom:
        return []
    lines = [
        "",
        "## RDS manual snapshot quota",
        "",
        f"Retention keeps about {report.kept} scheduled backups per database.",
        "",
        "| Where | Snapshots | Used | Policy's | Databases | Needed in time | Quota | Headroom |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for room in report.headroom:
        lines.append(
            f"| {room.place} | {room.family} | {room.used} | {room.mine} | {room.databases} | "
            f"{room.needed} | {room.quota} | {room.quota - room.used} |"
        )
    for room in report.headroom:
        if room.exceeded:
            lines += ["", f"**Warning:** {room.warning_text}"]
    return lines


def _snapshot_table(report: Report, snaps: list[Snapshot], intro: str) -> list[str]:
    if not snaps:
        return ["None."]
    out = [intro, ""] if intro else []
    out += [
        "| Snapshot | Kind | Source | Account | Region | Taken | Owner |",
        "|---|---|---|---|---|---|---|",
    ]
    for s in snaps:
        owner = s.foreign_owner or "runners"
        out.append(
            f"| {s.id} | {s.kind} | {s.source_id} | {report.account_of(s.place)} | "
            f"{s.place.region} | "
            f"{_when(s)} | {owner} |"
        )
    return out


def junit(report: Report) -> str:
    """One test case per resource and region, failing on a breach; failures are errors."""
    suite = ET.Element(
        "testsuite",
        {
            "name": f"backup-rpo.{report.policy}",
            "tests": str(len(report.rows) + len(report.failures)),
            "failures": str(len(report.breaches)),
            "errors": str(len(report.failures)),
            "timestamp": report.generated.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S"),
        },
    )
    for row in report.rows:
        case = ET.SubElement(
            suite,
            "testcase",
            {
                "classname": f"backup.{report.policy}.{row.place.region}",
                "name": f"{row.kind} {row.resource} ({report.account_of(row.place)})",
            },
        )
        if not row.ok:
            age = f"{row.age_hours:.1f} h old" if row.age_hours is not None else row.note
            failure = ET.SubElement(
                case, "failure", {"message": f"RPO {report.rpo_hours:g} h breached: {age}"}
            )
            failure.text = row.note
    for index, fail in enumerate(report.failures, 1):
        case = ET.SubElement(
            suite,
            "testcase",
            {
                "classname": f"backup.{report.policy}.errors",
                "name": f"failure {index}: {fail.what}",
            },
        )
        ET.SubElement(
            case, "error", {"message": f"{fail.operation}: {fail.code}"}
        ).text = fail.message
    out = ET.SubElement(suite, "system-out")
    out.text = (
        f"{len(report.orphans)} orphan snapshots; "
        f"{len(report.foreign)} snapshots owned by AWS Backup or DLM"
    )
    root = ET.Element("testsuites")
    root.append(suite)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
