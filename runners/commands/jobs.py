"""``runners jobs``: the Jenkins jobs runners.toml describes, and what the pipelines ask of it.

``sync`` creates or updates the jobs; ``approvers`` and ``stacks`` answer the
two questions the production and DR pipelines put to the config (who may
approve an apply, which stacks to plan), so no Jenkinsfile parses TOML.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

from runners import log
from runners.commands import Command, config_flag
from runners.commands.common import load_config
from runners.errors import ExitCode, OperationFailed, Refused, UsageError

if TYPE_CHECKING:
    from runners.config import Config
    from runners.jenkins.client import JenkinsClient
    from runners.jenkins.jobs import Rendered


def _sync(cfg: Config, args: argparse.Namespace) -> int:
    from runners.jenkins import jobs
    from runners.jenkins.client import connect

    if args.check and args.dry_run:
        raise UsageError(
            "jobs sync: --check and --dry-run exclude each other (--check writes nothing)"
        )
    rendered = jobs.render_all(cfg, jobs.catalog(cfg))
    client = connect(cfg.jenkins, cfg.path, os.environ)
    if args.check:
        return _check(cfg, client, rendered)
    log.step(
        f"jenkins {client.url} as {client.user}"
        + (" (dry run: nothing is written)" if args.dry_run else "")
    )
    actions = jobs.plan(client, rendered, jobs.zone_folders(cfg))

    def report(action: jobs.Action) -> None:
        detail = f": {action.reason}" if action.reason else ""
        print(f"{action.kind:<10} {action.name}{detail}", flush=True)
        if args.dry_run and action.diff:
            sys.stdout.write(action.diff)

    if args.dry_run:
        outcomes = actions
        for action in outcomes:
            report(action)
    else:  # each line as its job is written, so a failure part-way shows what was done
        outcomes = jobs.apply(client, actions, report)
    counts = {
        kind: sum(a.kind == kind for a in outcomes)
        for kind in ("create", "update", "unchanged", "exists", "refused", "stale", "failed")
    }
    summary = ", ".join(f"{n} {k}" for k, n in counts.items() if n)
    print(f"dry run: {summary}" if args.dry_run else summary)
    if counts["failed"]:
        raise OperationFailed(
            f"{counts['failed']} job(s) could not be read or written (listed above)"
        )
    if counts["refused"]:
        raise Refused(
            f"{counts['refused']} job(s) exist but were not made by runners; they were left as they are"
        )
    return ExitCode.OK


def _check(cfg: Config, client: JenkinsClient, rendered: list[Rendered]) -> int:
    from runners.jenkins import zonecheck

    log.step(f"jenkins {client.url} as {client.user} (check: nothing is written)")
    deviations = zonecheck.check(cfg, client, rendered)
    for deviation in deviations:
        print(f"deviation  {deviation.where}: {deviation.what}", flush=True)
    if deviations:
        print(f"{len(deviations)} deviation(s)")
        return ExitCode.FAILED
    print(f"no deviations: {len(rendered)} jobs and folders as runners makes them")
    return ExitCode.OK


def _approvers(cfg: Config, args: argparse.Namespace) -> int:
    env = cfg.environment(args.env)
    if not env.approvers:
        raise UsageError(
            f"{cfg.path}: environments.{env.name}.approvers: is empty, so no one could approve an apply"
        )
    print(",".join(env.approvers))
    return ExitCode.OK


def _stacks(cfg: Config, args: argparse.Namespace) -> int:
    env = cfg.environment(args.env)
    for stack in cfg.stacks.values():
        if env.name in stack.environments:
            print(stack.name)
    return ExitCode.OK


ACTIONS: dict[str, Callable[[Config, argparse.Namespace], int]] = {
    "sync": _sync,
    "approvers": _approvers,
    "stacks": _stacks,
}


class JobsCommand(Command):
    description = (
        "sync: create or update the two zones' folders and jobs (merge-request: the multibranch "
        "job; production: production, backup, on-demand, verify-restore, ship-s3, drift and DR) "
        "from runners' own templates and pipelines. Jobs runners did not make are never touched, "
        "and none is deleted. --check reads Jenkins and reports what deviates from the zones. "
        "Exit 0 done (no deviation), 1 a job could not be written (--check: a deviation), 2 bad "
        "config, 3 a job was refused (not made by runners), 66/67/69/77 Jenkins said "
        "404/401/unreachable/403."
    )

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        subs = parser.add_subparsers(dest="jobs_action", metavar="ACTION")
        subs.required = True
        sync = subs.add_parser(
            "sync",
            help="create or update the jobs (idempotent)",
            description="Create or update the jobs; --dry-run prints a diff per job; --check "
            "reports deviations from the zones without writing.",
        )
        sync.add_argument(
            "--dry-run",
            action="store_true",
            help="read Jenkins and print a unified diff per job; write nothing",
        )
        sync.add_argument(
            "--check",
            action="store_true",
            help="read Jenkins and report what deviates from the zones (credentials visible in "
            "the wrong folder, pipelines not pinned, missing schedules); exit 1 if anything does",
        )
        approvers = subs.add_parser(
            "approvers",
            help="print the environment's approvers, comma-separated",
            description="For the pipelines' input step (its submitter list). "
            "Exit 2 when the environment has none.",
        )
        approvers.add_argument("--env", required=True, metavar="ENV")
        stacks = subs.add_parser(
            "stacks", help="print the stacks deployed to an environment, one per line"
        )
        stacks.add_argument("--env", required=True, metavar="ENV")
        for sub in (sync, approvers, stacks):
            config_flag(sub)

    def run(self, args: argparse.Namespace) -> int:
        return ACTIONS[args.jobs_action](load_config(args), args)
