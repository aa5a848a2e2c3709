"""``runners verify-restore``: restore the newest shipped copies to throwaways, check, delete, time."""

from __future__ import annotations

import argparse

from runners.commands import Command
from runners.commands.common import output_path


class VerifyRestoreCommand(Command):
    description = (
        "In the policy's backup region, restore the newest shipped copy of each resource to a "
        "throwaway volume, DB instance or cluster, wait until usable, check state, size, "
        "encryption, engine and tags, delete it, and report the time taken (RTO evidence). "
        "Throwaways are deleted even when a check fails; ones an earlier run left are removed "
        "first. Prints Markdown; --markdown and --junit also write files. Exit 0 all restored, "
        "checked and deleted, 1 anything failed or was left, 2 bad arguments or config."
    )

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        from runners.commands.policyrun import add_policy_argument

        add_policy_argument(parser)
        parser.add_argument(
            "--markdown", metavar="FILE", type=output_path, help="write the report here"
        )
        parser.add_argument(
            "--junit", metavar="FILE", type=output_path, help="write JUnit XML here for Jenkins"
        )

    def run(self, args: argparse.Namespace) -> int:
        from runners import log
        from runners.backup import policy as policy_mod
        from runners.backup.context import sessions_for
        from runners.commands.common import load_config
        from runners.dr import verify_report
        from runners.dr.verify import VerifyRun, run_verify
        from runners.errors import ExitCode
        from runners.fsutil import atomic_write_text

        cfg = load_config(args)
        policy = policy_mod.find(cfg.policies, args.policy, cfg.path)
        run = VerifyRun(policy, sessions_for(policy), cfg.dr.verify)
        log.step(
            f"verify-restore policy {policy.name} in {policy.backup_region} (run {run.run_id})"
        )
        run_verify(run)
        text = verify_report.markdown(run)
        print(text, end="")
        if args.markdown:
            atomic_write_text(args.markdown, text)
        if args.junit:
            atomic_write_text(args.junit, verify_report.junit(run))
        return ExitCode.OK if run.passed else ExitCode.FAILED
