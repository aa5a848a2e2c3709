"""The first moments of ``runners plan``: check the arguments, then start ``terraform init``.

Everything here is light to import. ``init`` of a single stack starts in the
background as soon as the stack, environment and output folder are known, and
the heavier plan machinery (git, the ledger, reports) loads while it runs.
Nothing that can be refused is left until after init has started.
"""

from __future__ import annotations

import argparse
import dataclasses
import subprocess
import tomllib
from dataclasses import dataclass

from runners import log
from runners.commands.common import load_config
from runners.config import Config, Environment
from runners.errors import UsageError
from runners.fsutil import check_out_dir
from runners.stacks import Target, select, workspace
from runners.terraform.workspace import Workspace


@dataclass(frozen=True)
class Started:
    config: Config
    target: Target | None = None  # None with --affected: the stacks come from git
    workspace: Workspace | None = None


def start(args: argparse.Namespace) -> Started:
    cfg = load_config(args)
    if args.affected:
        return Started(cfg)
    if not args.stack or not args.env:
        raise UsageError("plan needs --stack and --env (or --affected --base REF)")
    target = select(cfg, args.stack, args.env)
    if cfg.terraform is not None:
        target = dataclasses.replace(target, config=head_terraform(cfg, target.env))
    if not args.drift:
        if args.out is None:
            raise UsageError("plan needs --out DIR")
        check_out_dir(args.out)
    ws = workspace(target, args.timeout, color=not args.no_color)
    log.step(f"init {target.stack.name} ({target.env.name}) with {ws.tf.binary.source}")
    ws.init_ahead()
    return Started(cfg, target, ws)


def head_terraform(cfg: Config, env: Environment) -> Config:
    """``[runners] terraform`` counts only as committed at the environment branch's head.

    A branch could otherwise name any program as Terraform for its own plan.
    The head is read from the remote-tracking branch when there is one, else
    the local branch, with plain ``git`` (GitPython is slow to load here).
    """
    committed = _committed_terraform(cfg, env.branch)
    if committed == cfg.terraform:
        return cfg
    log.warn(
        f"{cfg.path}: [runners] terraform = {cfg.terraform!r} is not what {env.branch}'s head "
        f"says ({committed!r}); using {env.branch}'s"
    )
    return dataclasses.replace(cfg, terraform=committed)


def _committed_terraform(cfg: Config, branch: str) -> str | None:
    def git(*args: str) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(
            ["git", "-C", str(cfg.path.parent), *args], capture_output=True, check=False
        )

    top = git("rev-parse", "--show-toplevel")
    if top.returncode != 0:
        return None
    root = top.stdout.decode().strip()
    try:
        rel = cfg.path.resolve().relative_to(root).as_posix()
    except ValueError:
        return None
    for ref in (f"refs/remotes/origin/{branch}", f"refs/heads/{branch}"):
        shown = git("show", f"{ref}:{rel}")
        if shown.returncode == 0:
            try:
                runners = tomllib.loads(shown.stdout.decode("utf-8")).get("runners") or {}
            except (UnicodeDecodeError, tomllib.TOMLDecodeError):
                return None
            value = runners.get("terraform") if isinstance(runners, dict) else None
            return value if isinstance(value, str) and value else None
    return None
