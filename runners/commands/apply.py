"""``runners apply``: apply the reviewed plan, after the plan contract allows it."""

from __future__ import annotations

import argparse
import os
from functools import partial
from pathlib import Path

from runners import ci
from runners.audit.ledger import open_ledger
from runners.change.applier import Applier, ApplyRequest
from runners.change.locks import lock_for
from runners.commands import Command
from runners.commands.common import count, load_config, minutes
from runners.gitrepo import GitRepo
from runners.notify.ledger_hook import notify_record
from runners.stacks import select, workspace


class ApplyCommand(Command):
    description = (
        "Apply the saved tfplan from a plan directory, after checking the plan contract: the "
        "bytes match the manifest, the commit is the environment branch's head (or the stack's "
        "code is identical), the tools match, the approver may approve, protected destroys are "
        "confirmed, and a person started the build where that is required. Exit 0 applied, "
        "1 Terraform failed, 3 refused, 4 locked, 130 interrupted."
    )

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--stack", required=True, metavar="NAME")
        parser.add_argument("--env", required=True, metavar="ENV")
        parser.add_argument(
            "--plan-dir",
            required=True,
            metavar="DIR",
            type=Path,
            help="the directory `runners plan --out` wrote",
        )
        parser.add_argument(
            "--approved-by",
            metavar="USER",
            help="who approved this apply (Jenkins input's submitter; default $RUNNERS_APPROVED_BY)",
        )
        parser.add_argument(
            "--confirm-destroy",
            type=count,
            metavar="N",
            help="the number of protected resources the plan destroys or replaces",
        )
        parser.add_argument(
            "--timeout",
            type=minutes,
            default=120.0,
            metavar="MINUTES",
            help="stop Terraform gracefully after this long (default 120)",
        )
        parser.add_argument("--no-color", action="store_true")
        ci.add_arguments(parser)

    def run(self, args: argparse.Namespace) -> int:
        cfg = load_config(args)
        target = select(cfg, args.stack, args.env)
        request = ApplyRequest(
            plan_dir=args.plan_dir,
            approver=args.approved_by or os.environ.get("RUNNERS_APPROVED_BY") or None,
            confirm_destroy=args.confirm_destroy,
            build=ci.from_args(args),
        )
        applier = Applier(
            target,
            workspace(target, args.timeout, color=not args.no_color),
            GitRepo(cfg.root),
            lock_for(cfg, target.stack, target.env),
            open_ledger(cfg, target.stack, target.env),
            on_event=partial(notify_record, target.env.notify),
        )
        record = applier.run(request)
        print(
            f"applied {target.stack.name} ({target.env.name}) from plan {record.plan_sha256 or ''}"[
                :120
            ]
        )
        return 0
