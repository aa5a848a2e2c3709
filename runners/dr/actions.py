"""What ``runners dr prepare`` and ``runners dr plan`` do once their arguments are parsed."""

from __future__ import annotations

import argparse
import os
import sys
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

from runners import ci, log
from runners.change.plan_jobs import planned
from runners.change.planner import plan_stack
from runners.config import Config
from runners.dr import drplan, outputs, workflow
from runners.dr.model import Preparation
from runners.dr.stackcode import declared_variables
from runners.dr.statefile import StateUnreadable
from runners.errors import ConfigError, ExitCode, UsageError, one_line
from runners.fsutil import atomic_write_text, check_out_dir
from runners.gitrepo import GitRepo
from runners.stacks import select


def prepare(cfg: Config, args: argparse.Namespace) -> int:
    env = workflow.environment_for(cfg, args.env, args.to_region)
    names = workflow.stacks_for(cfg, args.stack, env)
    base = args.out if args.out is not None else Path.cwd() / "dr" / args.to_region
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


def drill(cfg: Config, args: argparse.Namespace) -> int:
    from runners.dr import drill as drill_mod

    target = select(cfg, args.stack, args.env)
    if args.to_region == target.env.region:
        raise UsageError(
            f"--to-region {args.to_region} is {target.env.name}'s own region; "
            "give the region to rehearse the rebuild in"
        )
    recovery = cfg.dr.stack(target.stack.name, cfg.path)
    drplan.drill_backend(cfg, target, args.to_region)  # a missing [dr.backend] fails first
    out = (args.out or Path("dr") / args.to_region / f"{target.stack.name}-drill").resolve()
    check_out_dir(out)
    if args.junit is not None:
        check_out_dir(args.junit.parent)
    declared = declared_variables(target.stack.dir)
    unknown = sorted(set(recovery.drill.variables) - declared)
    if unknown:
        raise ConfigError(
            cfg.path,
            f"dr.stacks.{target.stack.name}.drill.variables",
            f"stack {target.stack.name} declares no variable {', '.join(map(repr, unknown))}",
        )
    request = drill_mod.DrillRequest(
        target=target,
        region=args.to_region,
        out=out,
        approver=args.approved_by or os.environ.get("RUNNERS_APPROVED_BY") or None,
        build=ci.from_args(args),
        allow_missing=args.allow_missing,
        timeout_minutes=args.timeout,
    )
    clients = workflow.clients_for(workflow.policy_for(cfg))
    report = drill_mod.Drill(request, clients, GitRepo(cfg.root)).run()
    record = drill_mod.save_record(report, request)
    if args.junit is not None:
        atomic_write_text(args.junit, drill_mod.junit(report))
    _print_drill(report, record.id)
    if report.left:
        print(
            one_line(
                f"error: the drill left {len(report.left)} resource(s) in its state "
                f"{report.state} ({', '.join(report.left)}): destroy them before the next drill "
                "(the destroy step above says why it failed)"
            ),
            file=sys.stderr,
        )
    return ExitCode.OK if report.passed else ExitCode.FAILED


def _print_drill(report: Any, record_id: str) -> None:
    from runners.dr.runbook import seconds

    print(
        f"drill of {report.stack} ({report.environment}) from {report.source_region} "
        f"into {report.target_region}:"
    )
    for step in report.steps:
        state = "ok" if step.ok else "FAILED"
        detail = f"  {step.detail}" if step.detail else ""
        print(one_line(f"  {step.name:<8} {state:<6} {seconds(step.seconds):>12}{detail}"))
    verdict = "passed" if report.passed else "FAILED"
    rpo = f", RPO {seconds(report.rpo_seconds)}" if report.rpo_seconds is not None else ""
    print(f"  measured RTO {seconds(report.rto_seconds)} (prepare to a checked rebuild){rpo}")
    print(f"  {verdict}; audit record {record_id}")
