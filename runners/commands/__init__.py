"""Subcommands. Each is one class with a name, its arguments and ``run``.

The CLI builds its parser from ``runners.cli.COMMANDS`` and dispatches on the
registered name; a new subcommand is one module here and one line there.
"""

from __future__ import annotations

import abc
import argparse
from typing import ClassVar


class Command(abc.ABC):
    name: ClassVar[str]
    help: ClassVar[str]
    description: ClassVar[str | None] = None

    @abc.abstractmethod
    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        """Declare this command's flags on its subparser."""

    @abc.abstractmethod
    def run(self, args: argparse.Namespace) -> int:
        """Do the work; return the exit code or raise a RunnersError."""
