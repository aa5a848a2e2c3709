"""The verify-restore report: what was restored, how long it took (RTO evidence), what failed.

Markdown for people and the build page; JUnit XML so Jenkins shows each
restore as a test, failing when a check failed or a throwaway was left.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET  # writing XML, not parsing untrusted input
from datetime import UTC

from runners.dr.runbook import duration, when
from runners.dr.verify import Outcome, VerifyRun


def _seconds(value: float | None) -> str:
    if value is None:
        return "—"
    minutes, seconds = divmod(round(value), 60)
    return f"{minutes} min {seconds:02d} s" if minutes else f"{seconds} s"


def _result(out: Outcome) -> str:
    if out.error:
        return f"**failed**: {out.error}"
    if out.problems:
        return "**check failed**: " + "; ".join(out.problems)
    return "ok"


def markdown(run: VerifyRun) -> str:
    lines = [
        f"### Restore check: policy `{run.policy.name}` in {run.policy.backup_region}",
        "",
        f"Run `{run.run_id}`, {when(run.now)}. Each resource's newest shipped copy was restored "
        "to a throwaway, checked, and deleted.",
        "",
    ]
    timed = [o.seconds_to_usable for o in run.outcomes if o.seconds_to_usable is not None]
    if timed:
        lines += [
            f"**RTO evidence:** the slowest restore took {_seconds(max(timed))} to become usable; "
            f"all {len(timed)} one after the other would take {_seconds(sum(timed))}.",
            "",
        ]
    if run.outcomes:
        lines += [
            "| Resource | Snapshot (taken, UTC) | Restored as | Usable after | Check | Deleted |",
            "|---|---|---|---|---|---|",
        ]
        for o in run.outcomes:
            place = f" ({o.place.account})" if o.place.account else ""
            age = duration(run.now - o.taken_at)
            lines.append(
                f"| {o.kind} `{o.source_id}`{place} | `{o.snapshot_id}` ({when(o.taken_at)}, {age} old) "
                f"| {o.label} `{o.restored_as or '—'}` | {_seconds(o.seconds_to_usable)} "
                f"| {_result(o)} | {o.cleanup} |"
            )
        lines.append("")
    else:
        lines += ["No shipped copy was found to restore.", ""]
    if run.sweeps:
        lines += ["Left by earlier runs, now removed:", ""]
        lines += [f"- {s.label} `{s.throwaway.id}`: {s.result}" for s in run.sweeps]
        lines.append("")
    if run.failures:
        lines += ["**Not verified:**", ""]
        lines += [f"- {f}" for f in run.failures]
        lines.append("")
    verdict = "passed" if run.passed else "FAILED"
    lines.append(f"Result: **{verdict}**.")
    return "\n".join(lines) + "\n"


def junit(run: VerifyRun) -> str:
    cases = len(run.outcomes) + len(run.sweeps) + len(run.failures)
    failed = [o for o in run.outcomes if not o.passed]
    suite = ET.Element(
        "testsuite",
        {
            "name": f"verify-restore.{run.policy.name}",
            "tests": str(cases),
            "failures": str(len(failed) + sum(not s.deleted for s in run.sweeps)),
            "errors": str(len(run.failures)),
            "timestamp": run.now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S"),
        },
    )
    for o in run.outcomes:
        case = ET.SubElement(
            suite,
            "testcase",
            {
                "classname": f"verify-restore.{run.policy.name}.{o.kind}",
                "name": f"{o.source_id} from {o.snapshot_id}",
                "time": f"{o.seconds_total or 0:.1f}",
            },
        )
        if not o.passed:
            reasons = ([o.error] if o.error else []) + o.problems
            if not o.deleted:
                reasons.append(f"throwaway {o.restored_as}: {o.cleanup}")
            ET.SubElement(case, "failure", {"message": reasons[0]}).text = "\n".join(reasons)
    for s in run.sweeps:
        case = ET.SubElement(
            suite,
            "testcase",
            {"classname": f"verify-restore.{run.policy.name}.leftovers", "name": s.throwaway.id},
        )
        if not s.deleted:
            ET.SubElement(case, "failure", {"message": s.result})
    for index, text in enumerate(run.failures, 1):
        case = ET.SubElement(
            suite,
            "testcase",
            {"classname": f"verify-restore.{run.policy.name}.errors", "name": f"error {index}"},
        )
        ET.SubElement(case, "error", {"message": text})
    ET.indent(suite)
    return ET.tostring(suite, encoding="unicode") + "\n"
