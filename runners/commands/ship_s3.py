"""``runners ship-s3``: copy backup objects to the backup region's bucket where S3 does not."""

from __future__ import annotations

import argparse

from runners.commands import Command


class ShipS3Command(Command):
    description = (
        "For each bucket and prefix in [dr.s3.POLICY]: where S3 replication already covers it, "
        "report the objects not replicated yet and the lag; elsewhere copy what the backup "
        "region's bucket lacks or has an older copy of. Never deletes in the destination; a "
        "changed object is overwritten only in a versioned bucket. Exit 0 up to date, 1 "
        "something is missing, failed, or lags beyond max_lag_minutes, 2 bad arguments or config."
    )

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        from runners.commands.policyrun import add_policy_argument

        add_policy_argument(parser)
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="print what would be copied and copy nothing",
        )

    def run(self, args: argparse.Namespace) -> int:
        from runners import log
        from runners.backup import policy as policy_mod
        from runners.backup.context import sessions_for
        from runners.commands.common import load_config
        from runners.dr import s3report
        from runners.dr.s3ship import ShipS3Run, run_ship_s3
        from runners.errors import ConfigError, ExitCode

        cfg = load_config(args)
        cfg.dr.check_policies(cfg.policies, cfg.path)
        policy = policy_mod.find(cfg.policies, args.policy, cfg.path)
        shipping = cfg.dr.s3.get(policy.name)
        if shipping is None:
            raise ConfigError(
                cfg.path, f"dr.s3.{policy.name}", "is required: the buckets ship-s3 copies"
            )
        mode = "dry run, nothing is copied" if args.dry_run else "copying"
        log.step(f"ship-s3 policy {policy.name} to {policy.backup_region} ({mode})")
        run = run_ship_s3(ShipS3Run(shipping, policy, sessions_for(policy), dry_run=args.dry_run))
        for line in s3report.lines(run):
            print(line)
        return ExitCode.OK if run.ok else ExitCode.FAILED
