"""The first moments of ``runners plan``: check the arguments, then start ``terraform init``.

Everything here is light to import. ``init`` of a single stack starts in the
background as soon as the stack, environment and output folder are known, and
the heavier plan machinery (git, the ledger, reports) loads while it runs.
Nothing that can be refused is left until after init has started.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass

from runners import log
from runners.commands.common import load_config
from runners.config import Config
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
    if not args.drift:
        if args.out is None:
            raise UsageError("plan needs --out DIR")
        check_out_dir(args.out)
    ws = workspace(target, args.timeout, color=not args.no_color)
    log.step(f"init {target.stack.name} ({target.env.name}) with {ws.tf.binary.source}")
    ws.init_ahead()
    return Started(cfg, target, ws)
