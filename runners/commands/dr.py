"""``runners dr prepare`` and ``runners dr plan``: rebuild a stack in the backup region."""

from __future__ import annotations

import argparse

from runners import ci
from runners.commands import Command, config_flag
from runners.commands.common import minutes, output_path


def _common(parser: argparse.ArgumentParser, stack_required: bool) -> None:
    parser.add_argument(
        "--to-region", required=True, metavar="REGION", help="the region to rebuild in"
    )
    parser.add_argument(
        "--stack",
        metavar="NAME",
        required=stack_required,
        help="the stack" + ("" if stack_required else " (default: every stack with [dr.stacks])"),
    )
    parser.add_argument(
        "--env",
        metavar="ENV",
        required=stack_required,
        help="the environment"
        + ("" if stack_required else " (default: the one whose backup_region is --to-region)"),
    )
    config_flag(parser)


class DrCommand(Command):
    description = (
        "dr prepare maps a stack's images, zones, newest shipped snapshots and KMS key into "
        "the backup region and writes dr.auto.tfvars.json and runbook.md; dr plan plans the "
        "stack there with them, for runners apply; dr drill rehearses the whole rebuild and "
        "measures its RTO. See docs/dr.md."
    )

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        subs = parser.add_subparsers(
            dest="dr_command", metavar="SUBCOMMAND", parser_class=type(parser)
        )
        subs.required = True
        prep = subs.add_parser(
            "prepare",
            help="write the DR variables and the runbook",
            description=(
                "Resolve, in --to-region: each server's image (same name and owner, or the stack's "
                "SSM parameter), the available zones by index, the newest completed shipped copy "
                "of each volume and database in the stack's state, and the backup KMS key. Write "
                "OUT/STACK/dr.auto.tfvars.json, runbook.md and dr.json. Exit 0 all mapped, 1 "
                "something could not be mapped (listed; --allow-missing writes the files and "
                "exits 0), 2 bad arguments or config."
            ),
        )
        _common(prep, stack_required=False)
        prep.add_argument(
            "--out",
            metavar="DIR",
            type=output_path,
            help="where each stack's folder goes (default: dr/REGION)",
        )
        prep.add_argument(
            "--allow-missing",
            action="store_true",
            help="exit 0 even when something could not be mapped (it is listed in the runbook)",
        )
        prep.set_defaults(_dr="prepare")
        plan = subs.add_parser(
            "plan",
            help="plan the stack in the backup region with the DR variables",
            description=(
                "Plan --stack in --to-region with the variables dr prepare wrote (in --out, or in "
                "dr/REGION/STACK, when less than an hour old; otherwise prepare them now) and the "
                "state in [dr.backend]. --out then holds what runners plan makes; apply it with "
                "runners apply --plan-dir. Exit 0 planned, 1 Terraform failed or something could "
                "not be mapped, 2 bad arguments or config."
            ),
        )
        _common(plan, stack_required=True)
        plan.add_argument(
            "--out", metavar="DIR", type=output_path, required=True, help="the plan folder"
        )
        plan.add_argument(
            "--timeout",
            type=minutes,
            default=60.0,
            metavar="MINUTES",
            help="stop a Terraform step that runs longer (default 60)",
        )
        plan.set_defaults(_dr="plan")
        drill = subs.add_parser(
            "drill",
            help="rebuild the stack in the backup region for real, check it, destroy it, time it",
            description=(
                "Rehearse the whole rebuild: dr prepare, the dr plan machinery and runners apply's "
                "contract into a drill state of its own beside [dr.backend]'s (.drill.tfstate), "
                "with [dr.stacks.STACK.drill] variables on top; then check the outputs it names "
                "and run its smoke command; then terraform destroy. Prints and records (audit "
                "record of kind drill, in the rebuild's ledger; --junit) each step's time and "
                "the measured RTO: prepare to a checked rebuild. Exit 0 passed, 1 a step failed "
                "or the destroy left something (named), 2 bad arguments or config, including "
                "--to-region being the environment's own region."
            ),
        )
        _common(drill, stack_required=True)
        drill.add_argument(
            "--out",
            metavar="DIR",
            type=output_path,
            help="the drill's folder (default: dr/REGION/STACK-drill)",
        )
        drill.add_argument("--junit", metavar="FILE", type=output_path, help="write a JUnit report")
        drill.add_argument(
            "--approved-by",
            metavar="USER",
            help="who approved the drill's apply (as for runners apply; default "
            "$RUNNERS_APPROVED_BY)",
        )
        drill.add_argument(
            "--allow-missing",
            action="store_true",
            help="drill even when something could not be mapped (listed in the runbook)",
        )
        drill.add_argument(
            "--timeout",
            type=minutes,
            default=120.0,
            metavar="MINUTES",
            help="stop a Terraform step that runs longer (default 120)",
        )
        ci.add_arguments(drill)
        drill.set_defaults(_dr="drill")

    def run(self, args: argparse.Namespace) -> int:
        from runners.commands.common import load_config
        from runners.dr import actions

        handler = {"prepare": actions.prepare, "plan": actions.plan, "drill": actions.drill}[
            args._dr
        ]
        return handler(load_config(args), args)
