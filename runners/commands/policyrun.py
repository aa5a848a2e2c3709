"""What the backup commands share: --policy, --dry-run, building the run, ending it.

Every backup command prints its plan on stdout (one line per resource or
snapshot, with the reason), then what it did. Failures are collected per
resource; the command ends with their list on stderr and exit 1.
"""

from __future__ import annotations

import argparse
import sys

from runners import log
from runners.backup import policy as policy_mod
from runners.backup.context import Run, sessions_for
from runners.backup.policy import Policy
from runners.commands.common import load_config
from runners.config import Config
from runners.errors import ExitCode


def add_policy_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--policy",
        metavar="NAME",
        required=True,
        help="the backup policy, as named in runners.toml [policies.NAME]",
    )


def add_dry_run_argument(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help=f"print the plan ({what}, each with its reason) and change nothing; "
        "EC2 calls are checked with DryRun",
    )


def make_run(args: argparse.Namespace, dry_run: bool = False) -> Run:
    cfg = load_config(args)
    policy = policy_mod.find(cfg.policies, args.policy, cfg.path)
    return Run(
        policy=policy,
        clients=sessions_for(policy),
        dry_run=dry_run,
        root=cfg.root,
        account=own_account(cfg, policy),
    )


def own_account(cfg: Config, policy: Policy) -> str | None:
    """The account the runner's own credentials act in, when runners.toml says which.

    An environment in one of the policy's regions names it; failing that, the one
    account every environment shares. Otherwise the report leaves it out.
    """
    envs = [e for e in cfg.environments.values() if e.account_id]
    local = {e.account_id for e in envs if e.region in policy.selection.regions}
    found = local or {e.account_id for e in envs}
    return found.pop() if len(found) == 1 else None


def header(run: Run, command: str) -> None:
    mode = "dry run, nothing is changed" if run.dry_run else f"run {run.run_id}"
    log.step(f"{command} policy {run.policy.name} ({mode})")


def count(n: int, word: str, plural: str | None = None) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {plural or word + 's'}"


def finish(run: Run, summary: str) -> int:
    """Print the summary and the failures; exit 1 when anything failed."""
    print(f"dry run, nothing changed: {summary}" if run.dry_run else summary, file=run.out)
    if not run.failures:
        return ExitCode.OK
    sys.stdout.flush()
    print(f"{len(run.failures)} failed:", file=sys.stderr)
    for failure in run.failures:
        print(f"  {failure}", file=sys.stderr)
    print("a re-run retries what failed and adopts what was done", file=sys.stderr)
    return ExitCode.FAILED
