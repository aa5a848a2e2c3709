"""Subcommands. Each is one class with its arguments and ``run``.

The CLI registers each class under its name in ``runners.cli.COMMANDS`` and
dispatches on that name; a new subcommand is one module here and one line
there. Keep module-level imports light (argparse and this base): the work's
imports belong inside ``run``, since only the chosen command's module loads.
"""

from __future__ import annotations

import abc
import argparse
from typing import ClassVar


class Command(abc.ABC):
    description: ClassVar[str | None] = None

    @abc.abstractmethod
    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        """Declare this command's flags on its subparser."""

    @abc.abstractmethod
    def run(self, args: argparse.Namespace) -> int:
        """Do the work; return the exit code or raise a RunnersError."""


def config_flag(parser: argparse.ArgumentParser, default: object = argparse.SUPPRESS) -> None:
    """``--config FILE``. Every subcommand and nested subcommand takes it, so it works
    before or after the command's words (``runners jobs sync --config FILE``)."""
    parser.add_argument(
        "--config",
        metavar="FILE",
        default=default,
        help="the runners.toml to use (default: $RUNNERS_CONFIG, else runners.toml here or above)",
    )
