"""``runners unlock``: remove a stale runner lock, naming its run id; the ledger records it."""

from __future__ import annotations

import argparse
import os

from runners.audit.ledger import open_ledger
from runners.audit.record import AuditRecord, now
from runners.change.locks import lock_for, unlock
from runners.commands import Command
from runners.commands.common import load_config
from runners.errors import RunnersError


class UnlockCommand(Command):
    description = (
        "Remove the runner's lock on a stack's state when the run that took it is gone. The run "
        "id printed by the locked message (or by the lost run) must be given, so the wrong lock "
        "is never removed; the removal (or the refusal) is an audit record. Terraform's own "
        "state lock is separate: use terraform force-unlock."
    )

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--stack", required=True, metavar="NAME")
        parser.add_argument("--env", required=True, metavar="ENV")
        parser.add_argument("--run-id", required=True, metavar="ID")
        parser.add_argument(
            "--to-region",
            metavar="REGION",
            help="the lock of a disaster-recovery apply into REGION (its state is [dr.backend])",
        )

    def run(self, args: argparse.Namespace) -> int:
        cfg = load_config(args)
        stack, env = cfg.stack(args.stack), cfg.environment(args.env)
        backend = None
        if args.to_region:
            from runners.dr.drplan import dr_backend
            from runners.stacks import Target

            backend = dr_backend(cfg, Target(cfg, stack, env), args.to_region)
        lock = lock_for(cfg, stack, env, backend)
        record = AuditRecord(
            kind="unlock",
            result="unlocked",
            stack=stack.name,
            environment=env.name,
            started_at=now(),
            triggered_by=os.environ.get("BUILD_USER_ID") or os.environ.get("USER") or None,
            build_url=os.environ.get("BUILD_URL") or None,
            run_id=args.run_id,
            state=lock.store.name,
        )
        ledger = open_ledger(cfg, stack, env, args.to_region)
        try:
            removed = unlock(lock.store, args.run_id)
        except RunnersError as exc:
            ledger.append(record.finish("failed", exc.message))
            raise
        except Exception as exc:  # S3 said no: the CLI prints it in one line; recorded first
            ledger.append(record.finish("failed", f"{type(exc).__name__} reading the lock"))
            raise
        ledger.append(record.finish("unlocked", f"removed the lock: it was {removed.describe()}"))
        print(f"removed the lock on {lock.label}: it was {removed.describe()}")
        return 0
