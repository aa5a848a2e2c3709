"""``runners ship``: copy completed snapshots to the policy's backup region."""

from __future__ import annotations

import argparse

from runners.backup.copier import run_ship
from runners.commands import Command
from runners.commands.policyrun import (
    add_dry_run_argument,
    add_policy_argument,
    count,
    finish,
    header,
    make_run,
)


class ShipCommand(Command):
    name = "ship"
    help = "copy a backup policy's snapshots to its backup region"
    description = (
        "Copy each completed snapshot of the policy that has no copy in the backup region yet, "
        "re-encrypted with the backup region's KMS key, within AWS's copy quotas. Resumes from "
        "the tags alone. Copies still queued when the wait window ends are left for the next "
        "run. Exit 0 done, 1 some copies failed (listed at the end), 2 bad arguments or config."
    )

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        add_policy_argument(parser)
        add_dry_run_argument(parser, "copy, wait or skip")

    def run(self, args: argparse.Namespace) -> int:
        run = make_run(args, dry_run=args.dry_run)
        header(run, "ship")
        with run.locked("ship"):
            result = run_ship(run)
        if run.dry_run:
            return finish(run, f"would start {count(result.planned, 'copy', 'copies')}")
        started = count(len(result.started), "copy", "copies")
        return finish(
            run,
            f"started {started}, {result.completed} seen completed, "
            f"{result.deferred} left for the next run",
        )
