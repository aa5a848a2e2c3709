"""``runners report --jobs``: what one backup run did, job by job, as AWS Backup lists jobs.

A job is one resource's backup in one run: the snapshot (an instance's set counts
as one) and its copy in the backup region. Its status is the worse of the two:
failed (a snapshot or copy in state error), pending, expired (retention no longer
wants it), or completed. Expiry is the retention's own reason, so the job report
and ``prune`` never disagree. AWS reports no completion time for EBS or RDS
snapshots, so "completed" is when this report saw it completed.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from runners.backup import inventory, retention
from runners.backup import tags as T
from runners.backup.context import Run
from runners.backup.model import Snapshot


@dataclass(frozen=True)
class Job:
    kind: str
    resource: str
    account: str
    region: str
    status: str  # completed | pending | failed | expired
    snapshots: tuple[Snapshot, ...]
    copies: tuple[Snapshot, ...]
    started: datetime
    seen_completed: datetime | None
    size_gib: int
    expiry: str
    key: str


@dataclass(frozen=True)
class JobReport:
    policy: str
    run_id: str
    generated: datetime
    jobs: tuple[Job, ...]


def build(run: Run, run_id: str | None = None) -> JobReport:
    inv = inventory.snapshots(run, [*run.places(), *run.dests()])
    sources = [s for s in inv.snapshots if s.managed and s.copy_of is None]
    wanted = run_id or max((s.tags.get(T.RUN_ID, "") for s in sources), default="")
    decisions = retention.decide(inv.snapshots, run.now, run.policy.retention)
    copies: dict[str, list[Snapshot]] = defaultdict(list)
    for snap in inv.snapshots:
        if snap.copy_of:
            copies[snap.copy_of].append(snap)
    points: dict[tuple[str, ...], list[Snapshot]] = defaultdict(list)
    for snap in sources:
        if snap.tags.get(T.RUN_ID) == wanted:
            points[snap.point].append(snap)
    jobs = []
    for members in points.values():
        first = members[0]
        copied = [c for m in members for c in copies.get(m.ref, [])]
        both = [*members, *copied]
        decision = decisions.get(first.key)
        jobs.append(
            Job(
                kind=first.kind,
                resource=first.source_id,
                account=first.place.account or run.account or "-",
                region=first.place.region,
                status=_status(both, len(members), len(copied), decision),
                snapshots=tuple(sorted(members, key=lambda s: s.id)),
                copies=tuple(sorted(copied, key=lambda s: s.id)),
                started=min(s.started for s in members),
                seen_completed=run.now if all(s.state == "completed" for s in both) else None,
                size_gib=sum(s.size_gib for s in members),
                expiry=_expiry(first, decision, run),
                key=", ".join(sorted({c.kms_key for c in copied if c.kms_key})) or "-",
            )
        )
    jobs.sort(key=lambda j: (j.kind, j.resource, j.region))
    return JobReport(run.policy.name, wanted, run.now, tuple(jobs))


def _status(
    both: list[Snapshot], sources: int, copies: int, decision: retention.Decision | None
) -> str:
    if any(s.state == "error" for s in both):
        return "failed"
    if any(s.state == "pending" for s in both) or copies < sources:
        return "pending"
    return "expired" if decision is not None and decision.delete else "completed"


def _expiry(snap: Snapshot, decision: retention.Decision | None, run: Run) -> str:
    if snap.retention_class == T.ON_DEMAND:
        until = snap.taken_at + timedelta(days=run.policy.retention.on_demand_days)
        return f"{until.astimezone(UTC):%Y-%m-%d}"
    if decision is None:
        return "-"
    return ("due now: " if decision.delete else "kept: ") + decision.reason


def _when(when: datetime | None) -> str:
    return f"{when.astimezone(UTC):%Y-%m-%d %H:%M}Z" if when else "-"


def markdown(report: JobReport) -> str:
    counts: dict[str, int] = defaultdict(int)
    for job in report.jobs:
        counts[job.status] += 1
    summary = ", ".join(f"{n} {status}" for status, n in sorted(counts.items())) or "no jobs"
    lines = [
        f"# Backup jobs: policy `{report.policy}`, run `{report.run_id or '-'}`",
        "",
        f"Generated {report.generated.astimezone(UTC):%Y-%m-%d %H:%M} UTC: {summary}.",
        "",
        "| Status | Kind | Resource | Account | Region | Snapshot | Copy | Started | Completed "
        "| Size (GiB) | Expiry | Key |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for job in report.jobs:
        lines.append(
            f"| {job.status} | {job.kind} | {job.resource} | {job.account} | {job.region} | "
            f"{' '.join(s.id for s in job.snapshots)} | "
            f"{' '.join(c.id for c in job.copies) or '-'} | {_when(job.started)} | "
            f"{_when(job.seen_completed)} | {job.size_gib} | {job.expiry} | {job.key} |"
        )
    return "\n".join(lines) + "\n"


def junit(report: JobReport) -> str:
    """A test case per job: failed jobs fail, pending ones are skipped."""
    failed = sum(j.status == "failed" for j in report.jobs)
    pending = sum(j.status == "pending" for j in report.jobs)
    suite = ET.Element(
        "testsuite",
        {
            "name": f"backup-jobs.{report.policy}",
            "tests": str(len(report.jobs)),
            "failures": str(failed),
            "skipped": str(pending),
            "timestamp": report.generated.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S"),
        },
    )
    for job in report.jobs:
        case = ET.SubElement(
            suite,
            "testcase",
            {
                "classname": f"backup.{report.policy}.{job.region}",
                "name": f"{job.kind} {job.resource} ({job.account})",
            },
        )
        detail = (
            f"snapshot {' '.join(s.id for s in job.snapshots)}; "
            f"copy {' '.join(c.id for c in job.copies) or '-'}; expiry {job.expiry}"
        )
        if job.status == "failed":
            ET.SubElement(
                case, "failure", {"message": "a snapshot or its copy failed"}
            ).text = detail
        elif job.status == "pending":
            ET.SubElement(case, "skipped", {"message": "still pending"}).text = detail
        else:
            ET.SubElement(case, "system-out").text = f"{job.status}: {detail}"
    root = ET.Element("testsuites")
    root.append(suite)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
