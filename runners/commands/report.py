"""``runners report``: the RPO of every resource in both regions, as Markdown and JUnit XML."""

from __future__ import annotations

import argparse

from runners.backup import report as report_mod
from runners.backup.context import Run
from runners.commands import Command
from runners.commands.common import output_path
from runners.commands.policyrun import add_policy_argument, header, make_run
from runners.errors import ExitCode, UsageError
from runners.fsutil import atomic_write_text


class ReportCommand(Command):
    name = "report"
    help = "check a backup policy's RPO in every region; Markdown and JUnit XML"
    description = (
        "For every resource the policy selects, the age of its newest completed backup in its "
        "region and in the backup region, against the policy's RPO; also orphans (source gone) "
        "and snapshots owned by AWS Backup or DLM. Prints the Markdown; --markdown and --junit "
        "also write it to files. Exit 0 all within the RPO, 1 a breach or a failure, 2 bad "
        "arguments or config."
    )

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        add_policy_argument(parser)
        parser.add_argument(
            "--markdown", metavar="FILE", type=output_path, help="write the Markdown report here"
        )
        parser.add_argument(
            "--junit", metavar="FILE", type=output_path, help="write JUnit XML here for Jenkins"
        )
        parser.add_argument(
            "--jobs",
            action="store_true",
            help="the job report of one run instead: each resource's snapshot and copy, "
            "status, times, size, expiry and key",
        )
        parser.add_argument(
            "--run-id", metavar="ID", help="with --jobs: this run (default: the newest)"
        )

    def run(self, args: argparse.Namespace) -> int:
        run = make_run(args)
        header(run, "report")
        if args.run_id and not args.jobs:
            raise UsageError("--run-id goes with --jobs")
        if args.jobs:
            return self._jobs(run, args)
        report = report_mod.build(run)
        text = report_mod.markdown(report)
        print(text, end="", file=run.out)
        if args.markdown:
            atomic_write_text(args.markdown, text)
        if args.junit:
            atomic_write_text(args.junit, report_mod.junit(report))
        bad = report.breaches or report.failures
        return ExitCode.FAILED if bad else ExitCode.OK

    def _jobs(self, run: Run, args: argparse.Namespace) -> int:
        from runners.backup import jobs

        report = jobs.build(run, args.run_id)
        text = jobs.markdown(report)
        print(text, end="", file=run.out)
        if args.markdown:
            atomic_write_text(args.markdown, text)
        if args.junit:
            atomic_write_text(args.junit, jobs.junit(report))
        failed = run.failures or any(j.status == "failed" for j in report.jobs)
        return ExitCode.FAILED if failed else ExitCode.OK
