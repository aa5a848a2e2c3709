"""Progress lines for the Jenkins log: short, prefixed, on stderr so stdout stays data.

When several stacks are planned at once, each worker thread's lines go to that
stack's console (``routed``), which prefixes them with the stack's name and
keeps them in the stack's own log.
"""

from __future__ import annotations

import contextlib
import sys
import threading
from collections.abc import Iterator
from typing import TextIO

from runners.errors import one_line

_local = threading.local()


def out() -> TextIO:
    """Where this thread's data goes: stdout, or its stack's console."""
    stream: TextIO | None = getattr(_local, "out", None)
    return stream if stream is not None else sys.stdout


def err() -> TextIO:
    """Where this thread's progress goes: stderr, or its stack's console."""
    stream: TextIO | None = getattr(_local, "err", None)
    return stream if stream is not None else sys.stderr


@contextlib.contextmanager
def routed(stdout: TextIO, stderr: TextIO) -> Iterator[None]:
    """This thread's output to ``stdout`` and ``stderr`` until the block ends."""
    saved = getattr(_local, "out", None), getattr(_local, "err", None)
    _local.out, _local.err = stdout, stderr
    try:
        yield
    finally:
        _local.out, _local.err = saved


def step(message: str) -> None:
    out().flush()
    stream = err()
    stream.write(one_line(f"==> {message}") + "\n")
    stream.flush()


def warn(message: str) -> None:
    out().flush()
    stream = err()
    stream.write(one_line(f"warning: {message}") + "\n")
    stream.flush()
