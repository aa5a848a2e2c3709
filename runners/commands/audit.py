"""``runners audit``: the ledger of plans, applies and refusals, newest first."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys

from runners.audit.ledger import all_records
from runners.audit.record import AuditRecord
from runners.commands import Command
from runners.commands.common import load_config
from runners.errors import ExitCode, one_line


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date as YYYY-MM-DD, got {text!r}") from None


def _counts(r: AuditRecord) -> str:
    s = r.summary
    if not s:
        return ""
    text = f"+{s.get('add', 0)} ~{s.get('change', 0)} -{s.get('destroy', 0)}"
    if s.get("replace"):
        text += f" ±{s['replace']}"
    return text


def outcomes(records: list[AuditRecord]) -> list[AuditRecord]:
    """One line per run: an apply's "started" record only when the run left no outcome.

    A started record without an outcome is an apply that was killed (or whose
    outcome could not be written anywhere): exactly what a reader must see.
    """
    finished = {r.run_id for r in records if r.run_id and r.result != "started"}
    return [r for r in records if r.result != "started" or r.run_id not in finished]


class AuditCommand(Command):
    description = (
        "Read every audit record from the state buckets (each environment's, and each "
        "rebuild's in the backup region), and the local ledger, filter and print them newest "
        'first as a table or as JSON (one object per record). An apply\'s "started" record '
        "is listed only when its run left no outcome (it was killed). A bucket that cannot be "
        "read is named after the records that could be, and the exit code is 1."
    )

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--stack", metavar="S")
        parser.add_argument("--env", metavar="E")
        parser.add_argument("--since", type=_date, metavar="DATE", help="YYYY-MM-DD, inclusive")
        parser.add_argument("--format", choices=("table", "json"), default="table")

    def run(self, args: argparse.Namespace) -> int:
        cfg = load_config(args)
        if args.stack:
            cfg.stack(args.stack)
        if args.env:
            cfg.environment(args.env)
        unread: list[str] = []
        records = outcomes(
            [
                r
                for r in all_records(cfg, args.since, unread)
                if (not args.stack or r.stack == args.stack)
                and (not args.env or r.environment == args.env)
                and (not args.since or r.started_at[:10] >= args.since.isoformat())
            ]
        )
        if args.format == "json":
            json.dump([r.to_dict() for r in records], sys.stdout, indent=2, sort_keys=True)
            sys.stdout.write("\n")
            return _incomplete(unread)
        if not records:
            print("no audit records match")
            return _incomplete(unread)
        rows = [
            (
                "started (UTC)",
                "kind",
                "result",
                "stack",
                "env",
                "by",
                "approved",
                "MR",
                "commit",
                "changes",
                "reason",
            )
        ]
        for r in records:
            rows.append(
                (
                    r.started_at[:19].replace("T", " "),
                    r.kind,
                    r.result,
                    r.stack,
                    r.environment,
                    r.triggered_by or "-",
                    r.approved_by or "-",
                    str(r.merge_request.get("id") or "-"),
                    (r.commit or "-")[:10],
                    _counts(r) or "-",
                    (r.reason or "")[:70],
                )
            )
        widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
        for row in rows:
            print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
        return _incomplete(unread)


def _incomplete(unread: list[str]) -> int:
    """What could not be read, one line each, and exit 1: the history shown is incomplete.

    During an outage the records in the lost region's bucket cannot be read;
    those in the backup region (a rebuild's) and the local ledger still are.
    """
    for line in unread:
        print(one_line(f"error: audit records not read from {line}"), file=sys.stderr)
    return ExitCode.FAILED if unread else ExitCode.OK
