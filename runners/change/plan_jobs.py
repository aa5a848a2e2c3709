"""The plan command's jobs: one stack, every affected stack, or a drift check.

Each job plans through ``runners.change.planner``, appends its audit record and
sends its notification, whatever the result.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import traceback
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from functools import partial
from pathlib import Path

from runners import ci, log
from runners.audit.ledger import Ledger, open_ledger
from runners.audit.record import AuditRecord, now, summary_counts
from runners.change import combine, parallel
from runners.change.affected_stacks import find_affected
from runners.change.console import StackConsole
from runners.change.fingerprint import Fingerprint
from runners.change.plan_start import Started
from runners.change.planner import PlanOutcome, drift_check, plan_stack
from runners.change.reviewed import Review
from runners.config import Config, Environment
from runners.errors import ExitCode, RunnersError, UsageError, one_line, plain
from runners.fsutil import check_out_dir
from runners.gitrepo import GitRepo
from runners.notify.ledger_hook import notify_record
from runners.stacks import Target, select, workspace
from runners.terraform.engine import Interrupted, stopping


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
    review_of = None
    if not build.merge_request:  # the environment's own plan: is it the one reviewed?
        review_of = _reviewer(target, repo)
    outcome = planned(
        target,
        build,
        partial(plan_stack, target, ws, args.out, build, repo, review_of=review_of),
    )
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
        a.stack
        for a in find_affected(cfg, repo, args.base, args.head)
        if env.name in cfg.stacks[a.stack].environments
    ]
    only = list(dict.fromkeys(args.only or ()))
    for name in only:
        if name not in found:
            raise UsageError(
                f"--only {name}: the change between {args.base} and {args.head} does not touch "
                f"stack {name!r} in {env.name} (affected: {', '.join(found) or 'none'})"
            )
    stacks = only or found
    if not stacks:
        log.step(f"no stack deployed to {env.name} is touched between {args.base} and {args.head}")
    jobs = args.jobs or max(1, min(DEFAULT_JOBS, len(stacks)))
    if len(stacks) > 1:
        log.step(f"planning {len(stacks)} stacks, {min(jobs, len(stacks))} at a time")

    def one(stack: str, console: StackConsole) -> None:
        _plan_one(cfg, env, stack, args, build, repo, console)

    interrupted = parallel.run_all(
        stacks, jobs, one, args.out, log_name=LOG_NAME, stdout=sys.stdout, stderr=sys.stderr
    )
    combined = combine.combine(
        [args.out / s for s in stacks],
        args.out,
        cfg.report_max_chars,
        env.name,
        args.base,
        args.head,
    )
    if interrupted is not None:
        raise Interrupted(f"interrupted by signal {interrupted}; the stacks not planned are named")
    return _combined_exit(combined, args.out, args.detailed_exitcode)


DEFAULT_JOBS = 4
LOG_NAME = "plan.log"


def _plan_one(
    cfg: Config,
    env: Environment,
    stack: str,
    args: argparse.Namespace,
    build: ci.BuildContext,
    repo: GitRepo,
    console: StackConsole,
) -> None:
    """Plan one stack of a merge request; its outcome goes to its folder whatever happens."""
    out = args.out / stack
    with contextlib.suppress(FileNotFoundError):
        (out / combine.OUTCOME).unlink()  # an earlier run's outcome says nothing of this one
    common = {"stack": stack, "environment": env.name, "base": args.base, "head": args.head}
    try:
        if stopping() is not None:
            raise Interrupted("not planned: the run was interrupted first")
        target = select(cfg, stack, env.name)
        ws = workspace(target, args.timeout, not args.no_color)
        ws.tf.console_out, ws.tf.console_err = console.out_bytes, console.err_bytes  # type: ignore[assignment]
        # A GitRepo of its own: GitPython's persistent git processes are not for two threads.
        own = GitRepo(repo.path)
        with log.routed(console.out_text, console.err_text):  # type: ignore[arg-type]
            outcome = planned(target, build, partial(plan_stack, target, ws, out, build, own))
    except RunnersError as exc:
        reason = one_line(plain(str(exc)))  # Terraform's reason, without its colour
        console.err_text.write(f"error: {reason}\n")
        combine.write(out, {**common, "result": "failed", "error": reason})
        return
    except Exception as exc:  # one stack's bug or AWS failure never stops the others
        reason = _failure(exc)
        console.err_text.write(f"error: {reason}\n{traceback.format_exc()}")
        combine.write(out, {**common, "result": "failed", "error": reason})
        return
    combine.write(
        out,
        {
            **common,
            "result": "planned",
            "has_changes": outcome.has_changes,
            "summary": outcome.summary.to_dict(),
        },
    )
    protected = len(outcome.summary.protected)
    console.out_text.write(
        f"{stack} ({env.name}): {outcome.summary.plan_line()}"
        + ("" if outcome.has_changes else " No changes.")
        + (
            f" {protected} protected: apply needs --confirm-destroy {protected}."
            if protected
            else ""
        )
        + "\n"
    )


def _failure(exc: Exception) -> str:
    """The one line the CLI would print for an exception that is not runners' own."""
    if "botocore" in sys.modules:
        from runners.aws.failures import as_runners_error

        translated = as_runners_error(exc)
        if translated is not None:
            return str(translated)
    return f"internal error: {type(exc).__name__}: {one_line(str(exc))}"


def _combined_exit(combined: combine.Combined, out: Path, detailed: bool) -> int:
    for o in combined.outcomes:
        if o.result == "planned":
            print(
                f"{o.stack}: planned"
                + ("" if o.has_changes else ", no changes")
                + f"; report {o.folder / 'report.md'}"
            )
    print(f"report for the merge request: {out / 'report.md'}")
    failures = combined.failures
    if failures:
        print(f"{len(failures)} of {len(combined.outcomes)} stack plans failed:", file=sys.stderr)
        for o in failures:
            print(f"  {o.stack}: {o.error}", file=sys.stderr)
        return ExitCode.FAILED
    if detailed and combined.any_changes:
        return ExitCode.CHANGES
    return ExitCode.OK


def combine_folders(args: argparse.Namespace, limit: int) -> int:
    """``runners plan --combine DIR... --out DIR``: after Jenkins' parallel branches."""
    if args.out is None:
        raise UsageError("--combine needs --out DIR (where affected.json and report.md go)")
    check_out_dir(args.out)
    combined = combine.combine(args.combine, args.out, limit, args.env, args.base, None)
    return _combined_exit(combined, args.out, args.detailed_exitcode)


def _reviewer(target: Target, repo: GitRepo) -> Callable[[Fingerprint], Review | None]:
    """Compares with the merge requests' reviewed plans; a comparison that fails is a warning."""
    import os

    from runners.change import manifest as manifest_mod
    from runners.change import reviewed

    def run(fingerprint: Fingerprint) -> Review | None:
        try:
            ledger = open_ledger(target.config, target.stack, target.env)
            key = os.environ.get(manifest_mod.SIGNING_KEY_ENV) or None
            return reviewed.for_target(target, repo, ledger, repo.head(), key)(fingerprint)
        except RunnersError as exc:
            log.warn(f"cannot compare the plan with the reviewed ones: {exc}")
        except Exception as exc:  # an S3 failure reading the ledger: the plan goes on
            log.warn(f"cannot compare the plan with the reviewed ones: {type(exc).__name__}")
        return None

    return run


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
    if outcome.fingerprint is not None:
        record.fingerprint = outcome.fingerprint.to_dict()
    if outcome.review is not None:
        record.review = outcome.review.to_record()
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
