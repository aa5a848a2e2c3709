"""``runners affected``: the stacks a merge request touches."""

from __future__ import annotations

import argparse
import json

from runners.commands import Command
from runners.commands.common import load_config
from runners.config import Config
from runners.gitrepo import GitRepo
from runners.stacks import code_closure
from runners.terraform.affected import Affected, affected_stacks


def find_affected(cfg: Config, repo: GitRepo, base: str, head: str) -> list[Affected]:
    changed = repo.changed_files(base, head)
    closures = {
        name: code_closure(repo, stack.dir) if stack.dir.is_dir() else [repo.relpath(stack.dir)]
        for name, stack in cfg.stacks.items()
    }
    config_rel = repo.relpath(cfg.path) if cfg.path.is_relative_to(repo.root) else None
    return affected_stacks(changed, closures, config_rel)


class AffectedCommand(Command):
    name = "affected"
    help = "list the stacks a merge request touches"
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
