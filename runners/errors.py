"""Errors that end a command with a documented exit code and one line of text.

Every failure a user can cause or meet in operation is one of these; the CLI
prints ``str(error)`` on one line and exits with ``error.exit_code``. Anything
else is a bug and is reported as such.
"""

from __future__ import annotations


class ExitCode:
    OK = 0
    FAILED = 1  # Terraform or an AWS operation failed; a report breached its target
    USAGE = 2  # bad arguments, bad config, bad input file
    CHANGES = 2  # plan --detailed-exitcode / --drift: there are changes
    REFUSED = 3  # the plan contract refused an apply
    LOCKED = 4  # another run holds the stack lock
    INTERRUPTED = 130


class RunnersError(Exception):
    """Base class: a message for the operator and the exit code to end with."""

    exit_code = ExitCode.FAILED

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class UsageError(RunnersError):
    exit_code = ExitCode.USAGE


class ConfigError(UsageError):
    """The config file is missing, unreadable or invalid."""

    def __init__(self, path: object, key: str, expected: str) -> None:
        where = f"{path}: {key}: " if key else f"{path}: "
        super().__init__(f"{where}{expected}")
        self.path = path
        self.key = key


class InputError(UsageError):
    """An input file (plan JSON, manifest, ...) is not what it should be."""


class TerraformError(RunnersError):
    exit_code = ExitCode.FAILED

    def __init__(self, message: str, stderr: str = "") -> None:
        super().__init__(message)
        self.stderr = stderr


class TerraformNotFound(UsageError):
    pass


class Refused(RunnersError):
    exit_code = ExitCode.REFUSED

    def __str__(self) -> str:
        return f"refused: {self.message}"


class Locked(RunnersError):
    exit_code = ExitCode.LOCKED


class OperationFailed(RunnersError):
    """A run finished but some of its per-resource work failed."""

    exit_code = ExitCode.FAILED
