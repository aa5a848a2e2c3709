"""The plan command's jobs: one stack, every affected stack, or a drift check.

Each job plans through ``runners.change.planner``, appends its audit record and
sends its notification, whatever the result.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from functools import partial
from pathlib import Path

from runners import ci, log
from runners.audit.ledger import Ledger, open_ledger
from runners.audit.record import AuditRecord, now, summary_counts
from runners.change.affected_stacks import find_affected
from runners.change.plan_start import Started
from runners.change.planner import PlanOutcome, drift_check, plan_stack
from runners.config import Config, Environment
from runners.errors import ExitCode, RunnersError, UsageError
from runners.fsutil import atomic_write_text, check_out_dir
from runners.gitrepo import GitRepo
from runners.notify.ledger_hook import notify_record
from runners.stacks import Target, select, workspace


def run(args: argparse.Namespace, started: Started) -> int:
    cfg, target, ws = started.config, started.target, started.workspace
    build = ci.from_args(args)
    if target is None or ws is None:  # plan_start leaves them out only for --affected
        return _affected(cfg, args, build)
    if args.drift:
        record = _record(target, build, "drift")
        try:
            summary, drifted, _ = drift_check(target, ws, args.out)
        except RunnersError as exc:
            _finish(target, record.finish("failed", exc.message))
            raise
        record.summary = summary_counts(summary.to_dict())
        record.finish("drifted" if drifted else "in-sync")
        if drifted:
            record.notifications_failed = notify_record(target.env.notify, "drift_found", record)
        _finish(target, record)
        print(
            f"{target.stack.name} ({target.env.name}): {summary.plan_line()}"
            + (f" Drift: {summary.drift}." if summary.drift else "")
        )
        if drifted:
            print(
                f"DRIFT: {target.env.name} no longer matches the code for stack {target.stack.name}"
            )
            return ExitCode.CHANGES
        print("no drift")
        return ExitCode.OK
    repo = GitRepo(cfg.root)
    outcome = planned(target, build, partial(plan_stack, target, ws, args.out, build, repo))
    _print_outcome(
        target.stack.name,
        target.env.name,
        outcome.summary.plan_line(),
        outcome.has_changes,
        args.out,
        len(outcome.summary.protected),
    )
    if args.detailed_exitcode and outcome.has_changes:
        return ExitCode.CHANGES
    return ExitCode.OK


def _affected(cfg: Config, args: argparse.Namespace, build: ci.BuildContext) -> int:
    if not args.base:
        raise UsageError("--affected needs --base REF (the merge request's target)")
    if args.out is None:
        raise UsageError("plan needs --out DIR")
    check_out_dir(args.out)
    env = _env_for(cfg, args.env, build.target_branch)
    if cfg.terraform is not None:
        from runners.change.plan_start import head_terraform

        cfg = head_terraform(cfg, env)
    repo = GitRepo(cfg.root)
    found = [
        a
        for a in find_affected(cfg, repo, args.base, args.head)
        if env.name in cfg.stacks[a.stack].environments
    ]
    if not found:
        log.step(f"no stack deployed to {env.name} is touched between {args.base} and {args.head}")
    results: list[dict[str, object]] = []
    failures = []
    any_changes = False
    for item in found:
        target = select(cfg, item.stack, env.name)
        out = args.out / item.stack
        ws = workspace(target, args.timeout, not args.no_color)
        try:
            outcome = planned(target, build, partial(plan_stack, target, ws, out, build, repo))
        except RunnersError as exc:
            failures.append(f"{item.stack}: {exc}")
            log.warn(f"{item.stack}: {exc}")
            results.append({"stack": item.stack, "result": "failed", "error": str(exc)})
            continue
        any_changes |= outcome.has_changes
        results.append(
            {
                "stack": item.stack,
                "result": "planned",
                "has_changes": outcome.has_changes,
                "summary": outcome.summary.to_dict(),
                "dir": item.stack,
            }
        )
        _print_outcome(
            item.stack,
            env.name,
            outcome.summary.plan_line(),
            outcome.has_changes,
            out,
            len(outcome.summary.protected),
        )
    args.out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(
        args.out / "affected.json",
        json.dumps(
            {"environment": env.name, "base": args.base, "head": args.head, "stacks": results},
            indent=2,
            sort_keys=True,
        )
        + "\n",
    )
    atomic_write_text(
        args.out / "report.md", _combined_report(args.out, results, cfg.report_max_chars)
    )
    if failures:
        print(f"{len(failures)} of {len(found)} stack plans failed:", file=sys.stderr)
        for line in failures:
            print(f"  {line}", file=sys.stderr)
        return ExitCode.FAILED
    if args.detailed_exitcode and any_changes:
        return ExitCode.CHANGES
    return ExitCode.OK


def _record(target: Target, build: ci.BuildContext, kind: str) -> AuditRecord:
    return AuditRecord(
        kind=kind,
        result="started",
        stack=target.stack.name,
        environment=target.env.name,
        started_at=now(),
        triggered_by=build.triggered_by,
        build_cause=build.build_cause,
        build_url=build.build_url,
        merge_request={
            "id": build.merge_request,
            "source": build.source_branch,
            "target": build.target_branch,
            "url": build.merge_request_url,
        },
    )


def _finish(target: Target, record: AuditRecord, ledger: Future[Ledger] | None = None) -> None:
    (ledger.result() if ledger else open_ledger(target.config, target.stack, target.env)).append(
        record
    )


def _ledger_ahead(target: Target, dr_region: str | None = None) -> Future[Ledger]:
    """Open the ledger (boto3 and its S3 client are slow to load) while Terraform runs."""
    pool = ThreadPoolExecutor(max_workers=1)
    future = pool.submit(open_ledger, target.config, target.stack, target.env, dr_region)
    pool.shutdown(wait=False)
    return future


def planned(
    target: Target,
    build: ci.BuildContext,
    work: Callable[[], PlanOutcome],
    dr_region: str | None = None,
) -> PlanOutcome:
    """Run one plan and put its record in the ledger, whatever the result.

    A disaster-recovery plan into ``dr_region`` records beside its state, in
    that region (``open_ledger``).
    """
    record = _record(target, build, "plan")
    ledger = _ledger_ahead(target, dr_region)
    try:
        outcome = work()
    except RunnersError as exc:
        _finish(target, record.finish("failed", exc.message), ledger)
        raise
    record.commit = outcome.manifest["git"]["commit"]
    record.branch = outcome.manifest["git"]["branch"]
    record.plan_sha256 = outcome.manifest["tfplan_sha256"]
    record.summary = summary_counts(outcome.summary.to_dict())
    record.finish("planned" if outcome.has_changes else "no-changes")
    record.notifications_failed = notify_record(
        target.env.notify, "plan_ready", record, report_excerpt=outcome.report
    )
    _finish(target, record, ledger)
    return outcome


def _env_for(cfg: Config, name: str | None, target_branch: str | None) -> Environment:
    if name:
        return cfg.environment(name)
    if target_branch:
        env = cfg.environment_for_branch(target_branch)
        if env:
            return env
        raise UsageError(
            f"{cfg.path}: no environment has branch {target_branch!r} (the merge request target)"
        )
    raise UsageError("give --env, or --target / $CHANGE_TARGET so the environment can be found")


def _combined_report(out: Path, results: list[dict[str, object]], limit: int) -> str:
    """One comment for the whole merge request: each stack's report, cut to fit."""
    if not results:
        return "### Terraform plan\n\nNo stack is affected by this change.\n"
    parts = []
    for r in results:
        if r["result"] == "failed":
            parts.append(
                f"### Terraform plan: `{r['stack']}`\n\n**Planning failed:** {r['error']}\n"
            )
        else:
            parts.append((out / str(r["stack"]) / "report.md").read_text(encoding="utf-8"))
    text = "\n".join(parts)
    if len(text) <= limit:
        return text
    note = (
        "\n\n> **This comment is cut to fit:** each stack's full report is in its "
        "folder's `report.md`, the full plan in its `plan.txt`.\n"
    )
    return text[: limit - len(note)] + note


def _print_outcome(
    stack: str, env: str, line: str, changes: bool, out: Path, protected: int
) -> None:
    print(f"{stack} ({env}): {line}" + ("" if changes else " No changes."))
    if protected:
        print(
            f"  {protected} protected resource(s) destroyed or replaced; apply will need --confirm-destroy {protected}"
        )
    print(f"  report: {out / 'report.md'}")
    print(f"  manifest: {out / 'manifest.json'}")
