"""Progress lines for the Jenkins log: short, prefixed, on stderr so stdout stays data."""

from __future__ import annotations

import sys


def step(message: str) -> None:
    sys.stdout.flush()
    sys.stderr.write(f"==> {message}\n")
    sys.stderr.flush()


def warn(message: str) -> None:
    sys.stdout.flush()
    sys.stderr.write(f"warning: {message}\n")
    sys.stderr.flush()
