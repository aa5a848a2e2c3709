"""``runners backup``: snapshot every resource a policy selects, once per period."""

from __future__ import annotations

import argparse
import os

from runners.backup.creator import OnDemand, run_backup
from runners.commands import Command
from runners.commands.policyrun import (
    add_dry_run_argument,
    add_policy_argument,
    count,
    finish,
    header,
    make_run,
)
from runners.errors import UsageError


class BackupCommand(Command):
    name = "backup"
    help = "snapshot the resources a backup policy selects"
    description = (
        "Snapshot every EBS volume, EC2 instance (all volumes at once), RDS instance and Aurora "
        "cluster the policy selects, tagged with the policy and period. A second run in the same "
        "period adopts the existing snapshot instead of making another. --on-demand makes an "
        "extra backup kept for the policy's on_demand_days. Exit 0 done, 1 some resources "
        "failed (listed at the end), 2 bad arguments or config."
    )

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        add_policy_argument(parser)
        add_dry_run_argument(parser, "create, adopt or skip")
        parser.add_argument(
            "--on-demand",
            action="store_true",
            help="an extra backup outside the schedule; needs --reason",
        )
        parser.add_argument("--reason", metavar="TEXT", help="why the on-demand backup is taken")
        parser.add_argument(
            "--requested-by",
            metavar="USER",
            help="who asked for it (default: $BUILD_USER_ID, else $USER)",
        )

    def run(self, args: argparse.Namespace) -> int:
        on_demand = None
        if args.on_demand:
            if not (args.reason or "").strip():
                raise UsageError("--on-demand needs --reason TEXT (it is kept on the snapshot)")
            who = args.requested_by or os.environ.get("BUILD_USER_ID") or os.environ.get("USER")
            on_demand = OnDemand(args.reason.strip(), who)
        elif args.reason or args.requested_by:
            raise UsageError("--reason and --requested-by go with --on-demand")
        run = make_run(args, dry_run=args.dry_run)
        header(run, "backup")
        with run.locked("backup"):
            result = run_backup(run, on_demand)
        rest = f"adopted {result.adopted}, skipped {result.skipped}"
        if run.dry_run:
            return finish(run, f"would snapshot {count(result.planned, 'resource')}; {rest}")
        made = count(len(result.created), "snapshot")
        return finish(run, f"created {made} of {count(result.planned, 'resource')}; {rest}")
