"""``runners apply``: apply the reviewed plan, after the plan contract allows it."""

from __future__ import annotations

import argparse
import os

from runners import ci
from runners.change.applier import Applier, ApplyRequest
from runners.commands import Command
from runners.commands.common import count, input_path, load_config, minutes
from runners.gitrepo import GitRepo
from runners.notify.ledger_hook import notify_record
from runners.stacks import select


class ApplyCommand(Command):
    description = (
        "Apply the saved tfplan from a plan directory, after checking the plan contract against "
        "each fact's system of record: the plan file's own configuration, backend, state and "
        "tools against a clean copy of the environment branch's head; the rules of runners.toml "
        "as committed there; the change's authors from git; the approver and the build cause "
        "from Jenkins; merge-request approvals from the Git platform; the signature. "
        "Exit 0 applied, 1 Terraform or a system of record failed, 2 bad input or setup, "
        "3 refused, 4 locked, 130 interrupted. See docs/security.md."
    )

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--stack", required=True, metavar="NAME")
        parser.add_argument("--env", required=True, metavar="ENV")
        parser.add_argument(
            "--plan-dir",
            required=True,
            metavar="DIR",
            type=input_path,
            help="the directory `runners plan --out` wrote",
        )
        parser.add_argument(
            "--approved-by",
            metavar="USER",
            help="who approved this apply (the input step's submitter; default $RUNNERS_APPROVED_BY). "
            "Where the build is verified, Jenkins' own record decides and this must agree with it",
        )
        parser.add_argument(
            "--confirm-destroy",
            type=count,
            metavar="N",
            help="the number of protected resources the plan destroys or replaces",
        )
        parser.add_argument(
            "--accept-difference",
            action="store_true",
            help="the approver accepts a plan that is not the one reviewed on the merge request "
            "(needed where require_reviewed_plan is set and the plans differ)",
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
            timeout_minutes=args.timeout,
            color=not args.no_color,
            accept_difference=args.accept_difference,
        )
        applier = Applier(target, GitRepo(cfg.root), on_event=notify_record)
        record = applier.run(request)
        print(
            f"applied {target.stack.name} ({target.env.name}) from plan {record.plan_sha256 or ''}"[
                :120
            ]
        )
        return 0
