"""Progress lines for the Jenkins log: short, prefixed, on stderr so stdout stays data."""

from __future__ import annotations

import sys

from runners.errors import one_line


def step(message: str) -> None:
    sys.stdout.flush()
    sys.stderr.write(one_line(f"==> {message}") + "\n")
    sys.stderr.flush()


def warn(message: str) -> None:
    sys.stdout.flush()
    sys.stderr.write(one_line(f"warning: {message}") + "\n")
    sys.stderr.flush()
