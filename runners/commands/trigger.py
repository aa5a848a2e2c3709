"""``runners trigger JOB``: start a Jenkins build by hand, and follow it to its result."""

from __future__ import annotations

import argparse
import os
import sys

from runners.commands import Command
from runners.commands.common import load_config


class TriggerCommand(Command):
    description = (
        "Queue a build of JOB (a name inside [jenkins] folder; a leading / starts from the "
        "Jenkins root). With --follow: wait for the queue item to become a build, stream its "
        "console, and exit with its result: 0 SUCCESS, 1 FAILURE, 5 UNSTABLE, 6 ABORTED or "
        "cancelled in the queue, 7 NOT_BUILT. 2 bad arguments; 66/67/69/77 Jenkins said "
        "404/401/unreachable/403."
    )

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("job", metavar="JOB", help="e.g. backup-daily, or terraform/production")
        parser.add_argument(
            "-p",
            "--param",
            dest="params",
            action="append",
            default=[],
            metavar="KEY=VALUE",
            help="a build parameter (repeatable)",
        )
        parser.add_argument(
            "--follow",
            action="store_true",
            help="stream the build's console and exit with its result",
        )

    def run(self, args: argparse.Namespace) -> int:
        from runners.jenkins import trigger
        from runners.jenkins.client import connect

        params = trigger.parse_params(args.params)
        cfg = load_config(args)
        client = connect(cfg.jenkins, cfg.path, os.environ)

        def write(text: str) -> None:
            sys.stdout.write(text)
            sys.stdout.flush()

        return trigger.run(
            client,
            cfg.jenkins.full_name(args.job),
            params,
            args.follow,
            cfg.jenkins.poll_seconds,
            write,
        )
