"""Several stacks' output on one console: whole lines, each with its stack's name in front.

Each stack writes through its own ``StackConsole``: Terraform's stdout and
stderr (bytes, from the engine's reader threads) and runners' own progress
and plan text (text, through ``runners.log``). Every stream keeps its partial
line until the newline comes, then the whole line goes out under one lock
with the prefix, so no two stacks' lines are ever torn into each other, and
the same line goes to the stack's own log file in its folder.
"""

from __future__ import annotations

import contextlib
import io
import threading
from pathlib import Path
from typing import IO, BinaryIO


class Interleaver:
    """The shared console: the real stdout and stderr, and the lock every line is written under."""

    def __init__(self, stdout: BinaryIO, stderr: BinaryIO, names: list[str]) -> None:
        self.stdout, self.stderr = stdout, stderr
        self.lock = threading.Lock()
        self.width = max((len(n) for n in names), default=0)

    def console(self, name: str, log_file: Path) -> StackConsole:
        return StackConsole(self, name, log_file)

    def emit(self, stream: BinaryIO, prefix: bytes, line: bytes, log: IO[bytes] | None) -> None:
        with self.lock:
            with contextlib.suppress(OSError, ValueError):
                stream.write(prefix + line)
                stream.flush()
            if log is not None:
                with contextlib.suppress(OSError, ValueError):
                    log.write(line)
                    log.flush()


class _Lines(io.RawIOBase):
    """A binary stream that passes on whole lines only; ``close`` ends a last partial one."""

    def __init__(self, owner: StackConsole, stream: BinaryIO) -> None:
        super().__init__()
        self.owner, self.stream = owner, stream
        self.partial = b""
        self.guard = threading.Lock()  # a stream may be written by more than one thread

    def writable(self) -> bool:
        return True

    def write(self, data: bytes | bytearray | memoryview) -> int:  # type: ignore[override]
        chunk = bytes(data)
        with self.guard:
            pending = self.partial + chunk
            *lines, self.partial = pending.split(b"\n")
        for line in lines:
            self.owner.emit(self.stream, line + b"\n")
        return len(chunk)

    def end(self) -> None:
        with self.guard:
            rest, self.partial = self.partial, b""
        if rest:
            self.owner.emit(self.stream, rest + b"\n")


class _Text(io.TextIOBase):
    """The text side of a stream (runners' own lines): encoded and passed to the line stream."""

    def __init__(self, lines: _Lines) -> None:
        super().__init__()
        self.lines = lines

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self.lines.write(text.encode("utf-8", "replace"))
        return len(text)


class StackConsole:
    """One stack's share of the console, and its full log in its folder."""

    def __init__(self, shared: Interleaver, name: str, log_file: Path) -> None:
        self.shared, self.name = shared, name
        self.prefix = f"[{name.ljust(shared.width)}] ".encode()
        log_file.parent.mkdir(parents=True, exist_ok=True)
        self.log: IO[bytes] | None = open(log_file, "wb")  # noqa: SIM115  # closed in close()
        self.out_bytes = _Lines(self, shared.stdout)
        self.err_bytes = _Lines(self, shared.stderr)
        self.out_text = _Text(self.out_bytes)
        self.err_text = _Text(self.err_bytes)

    def emit(self, stream: BinaryIO, line: bytes) -> None:
        self.shared.emit(stream, self.prefix, line, self.log)

    def close(self) -> None:
        self.out_bytes.end()
        self.err_bytes.end()
        with self.shared.lock:
            if self.log is not None:
                self.log.close()
                self.log = None
