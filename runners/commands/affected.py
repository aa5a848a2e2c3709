"""``runners affected``: the stacks a merge request touches."""

from __future__ import annotations

import argparse
import json

from runners.commands import Command
from runners.commands.common import load_config


class AffectedCommand(Command):
    description = (
        "Compare two git refs and print, one per line, every stack whose directory or local "
        "modules (followed transitively) changed. A change to runners.toml affects every stack."
    )

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "--base", required=True, metavar="REF", help="the target branch or commit"
        )
        parser.add_argument(
            "--head", default="HEAD", metavar="REF", help="the change (default HEAD)"
        )
        parser.add_argument("--format", choices=("text", "json"), default="text")

    def run(self, args: argparse.Namespace) -> int:
        from runners.change.affected_stacks import find_affected
        from runners.gitrepo import GitRepo

        cfg = load_config(args)
        found = find_affected(cfg, GitRepo(cfg.root), args.base, args.head)
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
