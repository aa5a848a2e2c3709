"""``runners affected``: the stacks a merge request touches."""

from __future__ import annotations

import argparse
import json

from runners.commands import Command
from runners.commands.common import load_config


class AffectedCommand(Command):
    description = (
        "Compare two git refs and print, one per line, every stack whose directory or local "
        "modules (followed transitively) changed. A change to runners.toml affects every stack. "
        "With --env or --target, only the stacks deployed to that environment."
    )

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "--base", required=True, metavar="REF", help="the target branch or commit"
        )
        parser.add_argument(
            "--head", default="HEAD", metavar="REF", help="the change (default HEAD)"
        )
        parser.add_argument("--format", choices=("text", "json"), default="text")
        where = parser.add_mutually_exclusive_group()
        where.add_argument(
            "--env", metavar="ENV", help="only the stacks deployed to this environment"
        )
        where.add_argument(
            "--target",
            metavar="BRANCH",
            help="only the stacks deployed to the environment whose branch this is "
            "(a merge request's target)",
        )

    def run(self, args: argparse.Namespace) -> int:
        from runners.change.affected_stacks import find_affected
        from runners.errors import UsageError
        from runners.gitrepo import GitRepo

        cfg = load_config(args)
        found = find_affected(cfg, GitRepo(cfg.root), args.base, args.head)
        env = cfg.environment(args.env) if args.env else None
        if args.target:
            env = cfg.environment_for_branch(args.target)
            if env is None:
                raise UsageError(f"{cfg.path}: no environment has branch {args.target!r}")
        if env is not None:
            found = [a for a in found if env.name in cfg.stacks[a.stack].environments]
        if args.format == "json":
            print(
                json.dumps(
                    [{"stack": a.stack, "reasons": list(a.reasons)} for a in found], indent=2
                )
            )
        else:
            for a in found:
                print(a.stack)
        return 0
