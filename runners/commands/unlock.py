"""``runners unlock``: remove a stale runner lock, naming its run id."""

from __future__ import annotations

import argparse

from runners.change.locks import lock_for, unlock
from runners.commands import Command
from runners.commands.common import load_config


class UnlockCommand(Command):
    description = (
        "Remove the runner's lock on a stack when the run that took it is gone. The run id "
        "printed by the locked message (or by the lost run) must be given, so the wrong lock "
        "is never removed. Terraform's own state lock is separate: use terraform force-unlock."
    )

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--stack", required=True, metavar="NAME")
        parser.add_argument("--env", required=True, metavar="ENV")
        parser.add_argument("--run-id", required=True, metavar="ID")

    def run(self, args: argparse.Namespace) -> int:
        cfg = load_config(args)
        stack, env = cfg.stack(args.stack), cfg.environment(args.env)
        lock = lock_for(cfg, stack, env)
        removed = unlock(lock.store, args.run_id)
        print(f"removed the lock on {lock.label}: it was {removed.describe()}")
        return 0
