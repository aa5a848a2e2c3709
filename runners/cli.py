"""The ``runners`` command line: parse, dispatch, and turn errors into exit codes.

No logic lives here. Each subcommand is a ``Command`` registered in
``COMMANDS``; errors a user can cause are ``RunnersError`` and end as one line
on stderr with the documented exit code, never a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Sequence
from typing import NoReturn

from runners import __version__
from runners.commands import Command
from runners.commands.affected import AffectedCommand
from runners.commands.apply import ApplyCommand
from runners.commands.audit import AuditCommand
from runners.commands.backup import BackupCommand
from runners.commands.dr import DrCommand
from runners.commands.plan import PlanCommand
from runners.commands.prune import PruneCommand
from runners.commands.report import ReportCommand
from runners.commands.ship import ShipCommand
from runners.commands.ship_s3 import ShipS3Command
from runners.commands.summarize import SummarizeCommand
from runners.commands.unlock import UnlockCommand
from runners.commands.verify_restore import VerifyRestoreCommand
from runners.errors import ExitCode, Locked, Refused, RunnersError

COMMANDS: tuple[type[Command], ...] = (
    PlanCommand,
    SummarizeCommand,
    AffectedCommand,
    ApplyCommand,
    AuditCommand,
    UnlockCommand,
    BackupCommand,
    ShipCommand,
    PruneCommand,
    ReportCommand,
    DrCommand,
    VerifyRestoreCommand,
    ShipS3Command,
)

EXIT_INTERNAL = 70


class _Parser(argparse.ArgumentParser):
    """argparse that reports a usage error on one line, exit code 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(ExitCode.USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _config_flag(default: object) -> _Parser:
    """--config, accepted before or after the subcommand."""
    holder = _Parser(add_help=False)
    holder.add_argument(
        "--config",
        metavar="FILE",
        default=default,
        help="the runners.toml to use (default: $RUNNERS_CONFIG, else runners.toml here or above)",
    )
    return holder


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="runners",
        description="Plan, apply, back up and recover a client's AWS account from Jenkins.",
        epilog="Exit codes: 0 ok, 1 failed, 2 usage/config error (or changes with "
        "--detailed-exitcode), 3 refused, 4 locked, 130 interrupted.",
    )
    parser.add_argument("--version", action="version", version=f"runners {__version__}")
    parser._add_container_actions(_config_flag(None))
    subs = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    subs.required = True
    for cls in COMMANDS:
        command = cls()
        sub = subs.add_parser(
            cls.name,
            help=cls.help,
            description=cls.description or cls.help,
            parents=[_config_flag(argparse.SUPPRESS)],
        )
        command.add_arguments(sub)
        sub.set_defaults(_command=command)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    command: Command = args._command
    try:
        return command.run(args)
    except Refused as exc:
        _say(str(exc))
        return exc.exit_code
    except Locked as exc:
        _say(f"locked: {exc}")
        return exc.exit_code
    except RunnersError as exc:
        _say(f"error: {exc}")
        return exc.exit_code
    except KeyboardInterrupt:
        _say("interrupted")
        return ExitCode.INTERRUPTED
    except BrokenPipeError:
        return ExitCode.OK
    except Exception as exc:
        if os.environ.get("RUNNERS_DEBUG"):
            traceback.print_exc()
        _say(
            f"internal error: {type(exc).__name__}: {exc} "
            "(a bug in runners; set RUNNERS_DEBUG=1 for the traceback)"
        )
        return EXIT_INTERNAL


def _say(line: str) -> None:
    sys.stdout.flush()
    sys.stderr.write(line.replace("\n", " ") + "\n")
    sys.stderr.flush()
