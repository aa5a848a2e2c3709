"""``runners dr prepare`` and ``runners dr plan``: rebuild a stack in the backup region."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

from runners import ci, log
from runners.commands import Command
from runners.commands.common import load_config
from runners.commands.plan import _planned
from runners.config import Config
from runners.dr import drplan, outputs, workflow
from runners.dr.model import Preparation
from runners.errors import ExitCode
from runners.gitrepo import GitRepo
from runners.planner import check_out_dir, plan_stack
from runners.stacks import select


def _config_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config",
        metavar="FILE",
        default=argparse.SUPPRESS,
        help="the runners.toml to use (default: $RUNNERS_CONFIG, else runners.toml here or above)",
    )


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
    _config_flag(parser)


class DrCommand(Command):
    name = "dr"
    help = "disaster recovery: prepare the variables and plan a stack in the backup region"
    description = (
        "dr prepare maps a stack's images, zones, newest shipped snapshots and KMS key into "
        "the backup region and writes dr.auto.tfvars.json and runbook.md; dr plan plans the "
        "stack there with them, for runners apply. See docs/dr.md."
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
            type=Path,
            help="where each stack's folder goes (default: dr/REGION)",
        )
        prep.add_argument(
            "--allow-missing",
            action="store_true",
            help="exit 0 even when something could not be mapped (it is listed in the runbook)",
        )
        prep.set_defaults(_dr=_prepare)
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
        plan.add_argument("--out", metavar="DIR", type=Path, required=True, help="the plan folder")
        plan.add_argument(
            "--timeout",
            type=float,
            default=60.0,
            metavar="MINUTES",
            help="stop a Terraform step that runs longer (default 60)",
        )
        plan.set_defaults(_dr=_plan)

    def run(self, args: argparse.Namespace) -> int:
        handler: Callable[[Config, argparse.Namespace], int] = args._dr
        return handler(load_config(args), args)


def _prepare(cfg: Config, args: argparse.Namespace) -> int:
    env = workflow.environment_for(cfg, args.env, args.to_region)
    names = workflow.stacks_for(cfg, args.stack, env)
    base = args.out if args.out is not None else Path("dr") / args.to_region
    clients = workflow.clients_for(workflow.policy_for(cfg))
    missing = 0
    for name in names:
        done = workflow.prepare_into(cfg, name, env, args.to_region, base / name, clients)
        _print_summary(done.prep, done.folder)
        missing += len(done.prep.missing)
    if missing and not args.allow_missing:
        print(
            f"{missing} thing(s) could not be mapped (listed above and in the runbook); "
            "give --allow-missing to go on without them",
            file=sys.stderr,
        )
        return ExitCode.FAILED
    return ExitCode.OK


def _plan(cfg: Config, args: argparse.Namespace) -> int:
    target = select(cfg, args.stack, args.env)
    check_out_dir(args.out)
    drplan.dr_backend(cfg, target, args.to_region)  # a missing [dr.backend] fails before any work
    now = datetime.now(UTC)
    prepared = None
    for folder in (args.out, drplan.prepare_folder(args.to_region, args.stack)):
        prepared = drplan.usable(folder, args.stack, args.env, args.to_region, now)
        if prepared is not None:
            break
    if prepared is None:
        clients = workflow.clients_for(workflow.policy_for(cfg))
        done = workflow.prepare_into(cfg, args.stack, target.env, args.to_region, args.out, clients)
        _print_summary(done.prep, done.folder)
        if done.prep.missing:
            print(
                f"{len(done.prep.missing)} thing(s) could not be mapped; not planning. Run dr "
                f"prepare --allow-missing --out {args.out} to plan without them",
                file=sys.stderr,
            )
            return ExitCode.FAILED
        tfvars = args.out / outputs.TFVARS
    else:
        log.step(
            f"using the variables prepared {prepared.prepared_at:%H:%M} UTC in {prepared.tfvars.parent}"
        )
        if prepared.edited:
            log.warn(
                f"{prepared.tfvars} was edited after dr prepare wrote it; planning with the edits"
            )
        if prepared.missing:
            log.warn(f"{prepared.missing} thing(s) were not mapped (see the runbook)")
        tfvars = drplan.adopt(prepared, args.out)
    ws = drplan.dr_workspace(target, args.to_region, tfvars, args.timeout)
    build = ci.from_args(args)
    outcome = _planned(
        target, build, partial(plan_stack, target, ws, args.out, build, GitRepo(cfg.root))
    )
    print(
        f"{target.stack.name} ({target.env.name}) in {args.to_region}: {outcome.summary.plan_line()}"
    )
    print(f"  runbook: {args.out / outputs.RUNBOOK}")
    print(f"  report: {args.out / 'report.md'}")
    print(
        f"  apply: runners apply --stack {target.stack.name} --env {target.env.name} "
        f"--plan-dir {args.out} --approved-by USER"
    )
    return ExitCode.OK


def _print_summary(prep: Preparation, folder: Path) -> None:
    rpo = prep.rpo_achieved()
    print(f"{prep.stack} ({prep.environment}) -> {prep.target_region}:")
    print(
        f"  {len(prep.restores)} restore(s), {len(prep.images)} image(s), "
        f"{len(prep.target_zones)} zone(s), KMS key {'found' if prep.kms_key else 'NOT found'}"
    )
    if rpo is not None:
        met = "within" if prep.rpo_met() else "BREACHES"
        hours = rpo.total_seconds() / 3600
        print(f"  RPO achieved: {hours:.1f} h ({met} the policy's {prep.rpo_hours:g} h)")
    for missing in prep.missing:
        print(f"  NOT MAPPED {missing}")
    print(f"  variables: {folder / outputs.TFVARS}")
    print(f"  runbook: {folder / outputs.RUNBOOK}")
