"""Errors that end a command with a documented exit code and one line of text.

Every failure a user can cause or meet in operation is one of these; the CLI
prints ``str(error)`` on one line (``one_line``) and exits with
``error.exit_code``. Anything else is a bug and is reported as such.
"""

from __future__ import annotations

import re

# C0 and C1 controls, DEL, lone surrogates, and the bidirectional overrides
# that make text display in another order than it is read.
CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff\u202a-\u202e\u2066-\u2069]")

# Terminal escape sequences: CSI (colours, cursor: ESC [ ... final byte), OSC
# (ESC ] ... BEL or ESC \\) and the two-byte ones. Jenkins turns colour on
# (ansiColor), so Terraform's messages arrive with them.
ANSI = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[@-Z\\-_])")

MAX_QUOTED = 80  # characters of a quoted value an error line shows
MAX_LINE = 1_000

# A value quoted in a message: 'text' or "text" as repr() writes them (escapes
# included), not an apostrophe inside a word ("stack's").
_QUOTED = re.compile(r"""(?<![\w'"])(?:'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")(?![\w'"])""")
_BREAKS = re.compile(r"[ \t]*(?:\r\n|\r|\n)[ \t]*|\t")


def _escape(match: re.Match[str]) -> str:
    return match.group().encode("unicode_escape").decode("ascii")


def _shorten(match: re.Match[str]) -> str:
    # The middle goes, not the end: a long value is most often a path, and its
    # last part (the file) is what the reader needs.
    quoted = match.group()
    if len(quoted) <= MAX_QUOTED + 2:
        return quoted
    half = MAX_QUOTED // 2
    return f"{quoted[: half + 1]}…{quoted[-half - 1 :]}"


def plain(text: str) -> str:
    """``text`` without terminal colour and other escape sequences.

    For what Terraform printed, before it becomes a reason (an error line, an
    audit record, a notification, a report). ``one_line`` does not strip them:
    there a control character in a value the operator gave is shown escaped,
    so a bad value reads as what it is.
    """
    return ANSI.sub("", text)


def one_line(text: str) -> str:
    """``text`` as one short, safe line for a terminal or a Jenkins log.

    Line breaks become spaces, every other control character is escaped
    (``\\x1b``, ``\\x00``, ``\\ud800``), each quoted value is cut to about
    80 characters, its middle replaced by an ellipsis, and the whole line to 1,000.
    """
    text = CONTROL.sub(_escape, _BREAKS.sub(" ", text))
    text = _QUOTED.sub(_shorten, text)
    return text if len(text) <= MAX_LINE else text[: MAX_LINE - 1] + "…"


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
