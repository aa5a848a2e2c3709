"""``runners doctor``: one line per check, ok or the fix; exit 1 when any fails."""

from __future__ import annotations

import argparse
import contextlib

from runners.commands import Command
from runners.errors import ExitCode


class DoctorCommand(Command):
    description = (
        "Check that a client is ready for its first merge request, one line per check with ok "
        "or the fix: runners.toml is valid; every stack initialises with its backend and lock "
        "file; the state bucket exists, versioned, encrypted, under Object Lock; its replica "
        "exists and is replicated into; each runner role trusts its own principal and no "
        "other; the Jenkins jobs are as jobs sync makes them and no production credential is "
        "where the merge-request zone can read it; the environments' branches exist and are "
        "protected; each backup policy selects something and its newest backups are within "
        "the RPO. Needs read access to the account, the Jenkins token and (for branch "
        "protection) the platform token. Exit 0 all ok (or skipped, saying why), 1 a check "
        "failed, 2 bad arguments."
    )

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "--env",
            action="append",
            default=[],
            metavar="ENV",
            help="only this environment (repeat)",
        )
        parser.add_argument(
            "--check",
            action="append",
            default=[],
            metavar="NAME",
            help="only this check (repeat); names as the lines print them",
        )

    def run(self, args: argparse.Namespace) -> int:
        from runners.client import doctor
        from runners.client.doctor.base import Context, Status, Unavailable
        from runners.confpath import find_config
        from runners.errors import UsageError

        known = {c.name for c in doctor.CHECKS}
        for name in args.check:
            if name not in known:
                raise UsageError(f"--check: no check {name!r}; known: {', '.join(sorted(known))}")
        ctx = Context(find_config(getattr(args, "config", None)), environments=tuple(args.env))
        with contextlib.suppress(Unavailable):  # an invalid config is the first finding
            for name in args.env:
                ctx.config.environment(name)  # an unknown one is a usage error
        findings = doctor.run(ctx, frozenset(args.check) if args.check else None)
        for finding in findings:
            print(finding.line(), flush=True)
        counts = {s: sum(f.status is s for f in findings) for s in Status}
        print(
            f"{counts[Status.OK]} ok, {counts[Status.FAIL]} failed, {counts[Status.SKIP]} skipped"
        )
        return ExitCode.FAILED if counts[Status.FAIL] else ExitCode.OK
