"""``runners bootstrap --env ENV``: the state bucket and its replica, before Terraform runs."""

from __future__ import annotations

import argparse

from runners.commands import Command
from runners.errors import ExitCode, UsageError


class BootstrapCommand(Command):
    description = (
        "Make what Terraform needs before it can run in ENV, with the caller's own AWS "
        "credentials (an administrator's): the state bucket (versioned, KMS-encrypted, public "
        "access blocked, Object Lock, the runners' record policy) and its key; the replica "
        "bucket and key in the backup region, and the replication into it. Each item is read "
        "first and written only when missing or different, so a second run changes nothing. "
        "Then the bootstrap stack's import blocks hand them to Terraform. --dry-run lists what "
        "would be made. Exit 0 done, 1 an AWS call failed or a bucket name belongs to another "
        "account, 2 bad config, no credentials, or credentials for another account."
    )

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--env", required=True, metavar="ENV", help="the environment")
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="read AWS and list what would be made; write nothing",
        )

    def run(self, args: argparse.Namespace) -> int:
        import os

        from runners import log
        from runners.aws import identity
        from runners.aws.session import SessionFactory
        from runners.client import bootstrap, imports
        from runners.commands.common import load_config

        cfg = load_config(args)
        target = bootstrap.target_for(cfg, args.env)
        factory = SessionFactory(
            session_name="runners-bootstrap", identity=identity.from_environment(os.environ)
        )
        factory.require_credentials()
        log.step(
            f"bootstrap {target.environment} in account {target.account}: state in "
            f"s3://{target.bucket} ({target.region}), replica in {target.backup_region}"
            + (" (dry run: nothing is written)" if args.dry_run else "")
        )

        def report(step: bootstrap.Step) -> None:
            print(f"{step.action:<13} {step.what}", flush=True)

        run = bootstrap.Bootstrap(
            target, bootstrap.clients_for(factory.base, target), args.dry_run, report
        )
        made = run.run()
        changed = sum(s.changed for s in made.steps)
        verb = "would change" if args.dry_run else "changed"
        print(f"{changed} of {len(made.steps)} items {verb}")
        if args.dry_run:
            return ExitCode.OK
        ids = imports.ids_for(target, made)
        settings = cfg.bootstrap
        if settings is None:  # target_for refused that already
            raise UsageError(f"{cfg.path}: [bootstrap] is required")
        stack = settings.stack_dir
        if stack.is_dir():
            for written in imports.write(stack, target.environment, ids):
                rel = written.path.relative_to(cfg.root)
                print(f"{'written' if written.changed else 'unchanged':<13} {rel}")
            print(
                f"next: commit them; an administrator applies {settings.rel_stack} "
                f"({target.environment}.tfvars), which adopts these and creates the runner roles"
            )
        else:
            log.warn(f"{settings.rel_stack} is not a folder: the import blocks follow")
            print(imports.literal_blocks(ids), end="")
        return ExitCode.OK
