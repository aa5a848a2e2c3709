"""``runners prune``: delete what retention no longer wants, behind the safety rails."""

from __future__ import annotations

import argparse

from runners.backup.prune import run_prune
from runners.commands import Command
from runners.commands.common import count
from runners.commands.policyrun import (
    add_dry_run_argument,
    add_policy_argument,
    finish,
    header,
    make_run,
)


class PruneCommand(Command):
    name = "prune"
    help = "delete a backup policy's expired snapshots in both regions"
    description = (
        "Apply the policy's grandfather-father-son retention to its snapshots in every region "
        "and the backup region. Never deletes a snapshot runners did not make, the newest "
        "completed backup of a resource, a source whose copy is not completed, a snapshot behind "
        "an AMI or under a legal-hold tag, or more than --max-deletions in one run. Exit 0 done, "
        "1 some deletions failed (listed at the end), 2 bad arguments or config."
    )

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        add_policy_argument(parser)
        add_dry_run_argument(parser, "delete or keep")
        parser.add_argument(
            "--max-deletions",
            type=count,
            metavar="N",
            help="delete at most N snapshots in this run (default: the policy's max_deletions)",
        )

    def run(self, args: argparse.Namespace) -> int:
        run = make_run(args, dry_run=args.dry_run)
        header(run, "prune")
        result = run_prune(run, args.max_deletions)
        wanted = sum(v.delete for v in result.verdicts)
        kept = len(result.verdicts) - wanted
        if run.dry_run:
            return finish(
                run, f"would delete {wanted} of {len(result.verdicts)} snapshots, keep {kept}"
            )
        return finish(run, f"deleted {result.deleted} of {wanted} due; kept {kept} snapshots")
