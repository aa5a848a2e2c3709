"""The ``runners`` command line: parse, dispatch, and turn errors into exit codes.

No logic lives here. Each subcommand is a ``Command`` class registered in
``COMMANDS`` under its name; errors a user can cause are ``RunnersError`` and
end as one line on stderr with the documented exit code, never a traceback.

A command's module is imported only when that command runs (or for
``--help``), so ``runners summarize`` does not pay for boto3, git and SMTP.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import traceback
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NoReturn

from runners import __version__
from runners.commands import Command, config_flag
from runners.errors import ExitCode, Locked, Refused, RunnersError, one_line


@dataclass(frozen=True)
class Registered:
    """Where a subcommand's class lives, and its one-line help for the command list."""

    module: str
    cls: str
    help: str

    def load(self) -> type[Command]:
        command: type[Command] = getattr(importlib.import_module(self.module), self.cls)
        return command


COMMANDS: dict[str, Registered] = {
    "init": Registered(
        "runners.commands.init",
        "InitCommand",
        "make a new client's infrastructure repository from a template set",
    ),
    "bootstrap": Registered(
        "runners.commands.bootstrap",
        "BootstrapCommand",
        "make the state bucket and its replica before Terraform runs; print their import blocks",
    ),
    "doctor": Registered(
        "runners.commands.doctor",
        "DoctorCommand",
        "check a client's repository, account and Jenkins: one line per check, ok or the fix",
    ),
    "plan": Registered(
        "runners.commands.plan",
        "PlanCommand",
        "plan a stack into a directory of reviewable artifacts",
    ),
    "summarize": Registered(
        "runners.commands.summarize",
        "SummarizeCommand",
        "summarize a plan JSON file (from terraform show -json)",
    ),
    "affected": Registered(
        "runners.commands.affected", "AffectedCommand", "list the stacks a merge request touches"
    ),
    "apply": Registered(
        "runners.commands.apply", "ApplyCommand", "apply a reviewed plan (never a fresh one)"
    ),
    "audit": Registered(
        "runners.commands.audit", "AuditCommand", "list the audit ledger, newest first"
    ),
    "unlock": Registered(
        "runners.commands.unlock",
        "UnlockCommand",
        "remove a stale runner lock (after checking nothing is running)",
    ),
    "backup": Registered(
        "runners.commands.backup", "BackupCommand", "snapshot the resources a backup policy selects"
    ),
    "ship": Registered(
        "runners.commands.ship",
        "ShipCommand",
        "copy a backup policy's snapshots to its backup region",
    ),
    "prune": Registered(
        "runners.commands.prune",
        "PruneCommand",
        "delete a backup policy's expired snapshots in both regions",
    ),
    "report": Registered(
        "runners.commands.report",
        "ReportCommand",
        "check a backup policy's RPO in every region; Markdown and JUnit XML",
    ),
    "dr": Registered(
        "runners.commands.dr",
        "DrCommand",
        "disaster recovery: prepare the variables and plan a stack in the backup region",
    ),
    "verify-restore": Registered(
        "runners.commands.verify_restore",
        "VerifyRestoreCommand",
        "restore a policy's newest shipped copies to throwaways, check them, delete them",
    ),
    "ship-s3": Registered(
        "runners.commands.ship_s3",
        "ShipS3Command",
        "copy objects under configured buckets and prefixes to the backup region's bucket",
    ),
    "jobs": Registered(
        "runners.commands.jobs",
        "JobsCommand",
        "create or update the Jenkins jobs runners.toml describes",
    ),
    "trigger": Registered(
        "runners.commands.trigger",
        "TriggerCommand",
        "start a Jenkins build (and with --follow, stream it and exit with its result)",
    ),
    "comment": Registered(
        "runners.commands.comment",
        "CommentCommand",
        "post a report as a merge-request comment (GitLab or GitHub)",
    ),
}

EXIT_INTERNAL = 70


class _Parser(argparse.ArgumentParser):
    """argparse that reports a usage error on one line, exit code 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(
            ExitCode.USAGE,
            one_line(f"{self.prog}: error: {message} (see {self.prog} --help)") + "\n",
        )


def _config_flag(default: object) -> _Parser:
    """--config, accepted before or after the subcommand."""
    holder = _Parser(add_help=False)
    config_flag(holder, default)
    return holder


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The whole parser; with ``only``, other subcommands are listed but not loaded."""
    parser = _Parser(
        prog="runners",
        description="Plan, apply, back up and recover a client's AWS account from Jenkins.",
        epilog="Exit codes: 0 ok, 1 failed, 2 usage/config error, 3 refused, 4 locked, "
        "130 interrupted. With --detailed-exitcode or --drift, 2 means changes and every "
        "error is 1.",
    )
    parser.add_argument("--version", action="version", version=f"runners {__version__}")
    parser._add_container_actions(_config_flag(None))
    subs = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    subs.required = True
    for name, entry in COMMANDS.items():
        if only is not None and name != only:
            subs.add_parser(name, help=entry.help, add_help=False)
            continue
        command = entry.load()()
        sub = subs.add_parser(
            name,
            help=entry.help,
            description=command.description or entry.help,
            parents=[_config_flag(argparse.SUPPRESS)],
        )
        command.add_arguments(sub)
        sub.set_defaults(_command=command)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    _escape_unencodable_output()
    code, failed = _main(args_list)
    if failed and code == ExitCode.USAGE and reports_changes(args_list):
        # With --detailed-exitcode or --drift, 2 means "there are changes" and
        # nothing else: a pipeline must never take a broken config for changes
        # and go on to ask for approval, or call it drift. Every error is 1
        # there, as with Terraform's own -detailed-exitcode.
        return ExitCode.FAILED
    return code


CHANGES_FLAGS = ("--detailed-exitcode", "--drift")


def reports_changes(argv: Sequence[str]) -> bool:
    """The command line asks for exit 2 on changes (a flag, or an abbreviation argparse takes)."""
    for word in argv:
        if word == "--":
            break
        flag = word.split("=", 1)[0]
        if (
            len(flag) > 2
            and flag.startswith("--")
            and any(f.startswith(flag) for f in CHANGES_FLAGS)
        ):
            return True
    return False


def _main(args_list: list[str]) -> tuple[int, bool]:
    """The exit code, and whether it ends an error (not a result the command returned)."""
    parser = build_parser(_chosen(args_list))
    try:
        args = parser.parse_args(args_list)
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else ExitCode.USAGE
        return code, code != ExitCode.OK
    command: Command = args._command
    try:
        return command.run(args), False
    except Refused as exc:
        _say(str(exc))
        return exc.exit_code, True
    except Locked as exc:
        _say(f"locked: {exc}")
        return exc.exit_code, True
    except RunnersError as exc:
        _say(f"error: {exc}")
        return exc.exit_code, True
    except KeyboardInterrupt:
        _say("interrupted")
        return ExitCode.INTERRUPTED, True
    except BrokenPipeError:
        return ExitCode.OK, False
    except OSError as exc:
        if exc.filename is None:
            return _internal(exc), True
        # A file or folder the operator named (or the machine's disk) said no:
        # that is input, not a bug.
        _say(f"error: {exc.filename}: {exc.strerror or type(exc).__name__}")
        return ExitCode.USAGE, True
    except Exception as exc:
        expected = _expected_failure(exc)
        if expected is None:
            return _internal(exc), True
        _say(f"error: {expected}")
        return expected.exit_code, True


def _expected_failure(exc: Exception) -> RunnersError | None:
    """An AWS failure met in operation (credentials, endpoints, throttling), as one line.

    Only when botocore is loaded: ``runners summarize`` never imports it.
    """
    if "botocore" not in sys.modules:
        return None
    from runners.aws.failures import as_runners_error

    return as_runners_error(exc)


def _escape_unencodable_output() -> None:
    """Text the terminal's encoding cannot hold (a lone surrogate from a JSON
    file, say) is printed escaped rather than ending the command mid-output."""
    reconfigure = getattr(sys.stdout, "reconfigure", None)
    if reconfigure is not None:
        reconfigure(errors="backslashreplace")


def _internal(exc: BaseException) -> int:
    if os.environ.get("RUNNERS_DEBUG"):
        traceback.print_exc()
    _say(
        f"internal error: {type(exc).__name__}: {exc} "
        "(a bug in runners; set RUNNERS_DEBUG=1 for the traceback)"
    )
    return EXIT_INTERNAL


def _chosen(argv: list[str]) -> str | None:
    """The subcommand named on the command line, if it is a known one (else load them all)."""
    rest = iter(argv)
    for arg in rest:
        if arg == "--config":
            next(rest, None)
        elif arg.startswith("-"):
            continue
        else:
            return arg if arg in COMMANDS else None
    return None


def _say(line: str) -> None:
    sys.stdout.flush()
    sys.stderr.write(one_line(line) + "\n")
    sys.stderr.flush()
