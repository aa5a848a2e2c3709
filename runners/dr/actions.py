"""What ``runners dr prepare`` and ``runners dr plan`` do once their arguments are parsed."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

from runners import ci, log
from runners.change.plan_jobs import planned
from runners.change.planner import plan_stack
from runners.config import Config
from runners.dr import drplan, outputs, workflow
from runners.dr.model import Preparation
from runners.dr.statefile import StateUnreadable
from runners.errors import ExitCode, one_line
from runners.fsutil import check_out_dir
from runners.gitrepo import GitRepo
from runners.stacks import select


def prepare(cfg: Config, args: argparse.Namespace) -> int:
    env = workflow.environment_for(cfg, args.env, args.to_region)
    names = workflow.stacks_for(cfg, args.stack, env)
    base = args.out if args.out is not None else Path("dr") / args.to_region
    clients = workflow.clients_for(workflow.policy_for(cfg))
    missing = unreadable = 0
    for name in names:
        try:
            done = workflow.prepare_into(cfg, name, env, args.to_region, base / name, clients)
        except StateUnreadable as exc:  # the other stacks are still prepared
            print(one_line(f"error: {exc}"), file=sys.stderr)
            unreadable += 1
            continue
        _print_summary(done.prep, done.folder)
        missing += len(done.prep.missing)
    if unreadable:
        return ExitCode.FAILED
    if missing and not args.allow_missing:
        print(
            f"{missing} thing(s) could not be mapped (listed above and in the runbook); "
            "give --allow-missing to go on without them",
            file=sys.stderr,
        )
        return ExitCode.FAILED
    return ExitCode.OK


def plan(cfg: Config, args: argparse.Namespace) -> int:
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
    outcome = planned(
        target,
        build,
        partial(
            plan_stack,
            target,
            ws,
            args.out,
            build,
            GitRepo(cfg.root),
            dr=(args.to_region, tfvars),
        ),
        dr_region=args.to_region,
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
    accepted = [u for u in prep.unrestored if u.accepted]
    if accepted:
        print(f"  starts empty, as start_empty says: {', '.join(u.address for u in accepted)}")
    mapped = [lit for lit in prep.literals if lit.mapped_by]
    if mapped:
        print(f"  {len(mapped)} regional literal(s) replaced (listed in the runbook)")
    if rpo is not None:
        met = "within" if prep.rpo_met() else "BREACHES"
        hours = rpo.total_seconds() / 3600
        print(f"  RPO achieved: {hours:.1f} h ({met} the policy's {prep.rpo_hours:g} h)")
    for missing in prep.missing:
        print(f"  NOT MAPPED {missing}")
    print(f"  variables: {folder / outputs.TFVARS}")
    print(f"  runbook: {folder / outputs.RUNBOOK}")
