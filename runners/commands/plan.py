"""``runners plan``: plan a stack (or every stack a merge request touches) for review."""

from __future__ import annotations

import argparse

from runners import ci
from runners.commands import Command
from runners.commands.common import input_path, jobs, minutes, output_path


class PlanCommand(Command):
    description = (
        "Run terraform init, plan -out and show for one stack in one environment and write "
        "tfplan, plan.json, plan.txt, report.md and manifest.json into --out. Exit 0 whether "
        "or not there are changes (the manifest says which); with --detailed-exitcode, 2 when "
        "there are changes; 1 when Terraform fails; 2 for bad arguments or config."
    )

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--stack", metavar="NAME", help="the stack, as named in runners.toml")
        parser.add_argument(
            "--env",
            metavar="ENV",
            help="the environment (with --affected, defaults to the one whose branch is the MR target)",
        )
        parser.add_argument("--out", metavar="DIR", type=output_path, help="where the artifacts go")
        parser.add_argument(
            "--detailed-exitcode", action="store_true", help="exit 2 when there are changes"
        )
        mode = parser.add_mutually_exclusive_group()
        mode.add_argument(
            "--affected", action="store_true", help="plan every stack the change touches"
        )
        mode.add_argument(
            "--drift",
            action="store_true",
            help="plan without keeping the plan; exit 2 when the environment no longer matches the code",
        )
        mode.add_argument(
            "--combine",
            nargs="+",
            type=input_path,
            metavar="DIR",
            help="write --out's affected.json and report.md from stacks' plan folders (each "
            "planned by `--affected --only STACK`, e.g. in Jenkins parallel branches); exit 1 "
            "naming each stack that failed",
        )
        parser.add_argument(
            "--base", metavar="REF", help="with --affected: the merge request's target ref"
        )
        parser.add_argument(
            "--head", metavar="REF", default="HEAD", help="with --affected: its head (default HEAD)"
        )
        parser.add_argument(
            "--jobs",
            type=jobs,
            metavar="N",
            help="with --affected: plan N stacks at once (default: 4, or fewer when fewer are "
            "affected)",
        )
        parser.add_argument(
            "--only",
            action="append",
            metavar="STACK",
            help="with --affected: plan only this affected stack (repeatable); its folder "
            "is then combined with the others' by --combine",
        )
        parser.add_argument(
            "--timeout",
            type=minutes,
            default=60.0,
            metavar="MINUTES",
            help="stop a Terraform step that runs longer (default 60)",
        )
        parser.add_argument("--no-color", action="store_true", help="plain Terraform output")
        ci.add_arguments(parser)

    def run(self, args: argparse.Namespace) -> int:
        _refuse_mixed_modes(args)
        if args.combine:
            from runners.change import plan_jobs
            from runners.commands.common import optional_config

            cfg = optional_config(args)
            return plan_jobs.combine_folders(args, cfg.report_max_chars if cfg else 60_000)
        from runners.change import plan_start

        # Terraform init starts before the plan machinery is even imported.
        started = plan_start.start(args)
        from runners.change import plan_jobs

        return plan_jobs.run(args, started)


def _refuse_mixed_modes(args: argparse.Namespace) -> None:
    """--affected picks its stacks from git; a flag of the other mode would be ignored."""
    from runners.errors import UsageError

    if args.affected and args.stack:
        raise UsageError(
            "--affected plans every stack the change touches and takes no --stack; drop one of them"
        )
    if args.base and not (args.affected or args.combine):
        raise UsageError("--base goes with --affected (the stacks a change touches)")
    if (args.jobs or args.only) and not args.affected:
        flag = "--jobs" if args.jobs else "--only"
        raise UsageError(f"{flag} goes with --affected (the stacks a change touches)")
    if args.combine and args.stack:
        raise UsageError("--combine reads the stacks from the folders it is given; drop --stack")
