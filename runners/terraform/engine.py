"""The one way runners runs Terraform.

An argv list, an explicit environment, a working directory and a timeout in;
a result with the exit code and what was captured out. Output streams live to
the console (a Jenkins log must show progress) while it is captured, each
stream read by its own thread so a full stderr pipe can never block stdout.
``show -json`` goes straight to a file instead, so a large plan never sits in
memory twice.

Why not python-terraform: it buffers output until the command ends (no live
progress), its ``destroy()`` passes ``-force`` which Terraform 0.15+ rejects,
and it has been unmaintained since 2019. This module is the small layer it
would have been.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import IO, Any

from runners.errors import RunnersError, TerraformError, plain
from runners.terraform import cliconfig
from runners.terraform.binary import TerraformBinary

_CAPTURE_LIMIT = 4 << 20  # keep at most this much of a stream in memory
_GRACE_SECONDS = 120.0  # time Terraform gets after SIGINT to write state and release locks

Option = bool | str | int | Sequence[str] | Mapping[str, str | int | bool] | None


def build_args(
    command: Sequence[str],
    options: Mapping[str, Option] | None = None,
    positional: Sequence[str] = (),
) -> list[str]:
    """Terraform argv from a declarative table of options.

    ``True`` is a bare flag, ``False``/``None`` are left out, a list repeats the
    flag, a mapping gives ``-flag=key=value`` per item, anything else
    ``-flag=value``. Option names use ``_`` for ``-``.
    """
    argv = list(command)
    for name, value in (options or {}).items():
        flag = "-" + name.replace("_", "-")
        if value is None or value is False:
            continue
        if value is True:
            argv.append(flag)
        elif isinstance(value, Mapping):
            argv.extend(f"{flag}={k}={_scalar(v)}" for k, v in value.items())
        elif isinstance(value, list | tuple):
            argv.extend(f"{flag}={v}" for v in value)
        else:
            argv.append(f"{flag}={_scalar(value)}")
    argv.extend(positional)
    return argv


# The commands that take Terraform's state lock, and so accept -lock-timeout
# (from each command's -help; destroy takes apply's options). init locks only
# to migrate state, which runners never asks for (-reconfigure), but takes the
# flag all the same. Without it a lock held by another run fails at once.
STATE_LOCKING: frozenset[tuple[str, ...]] = frozenset(
    {
        ("init",),
        ("plan",),
        ("apply",),
        ("destroy",),
        ("refresh",),
        ("import",),
        ("taint",),
        ("untaint",),
        ("state", "mv"),
        ("state", "rm"),
        ("state", "push"),
        ("state", "replace-provider"),
        ("workspace", "new"),
        ("workspace", "delete"),
    }
)


def with_lock_timeout(args: Sequence[str], lock_timeout: str | None) -> list[str]:
    """``args`` with ``-lock-timeout`` after the command's words, when the command locks state.

    A ``-lock-timeout`` already in ``args`` is left alone.
    """
    words = list(args)
    if not lock_timeout or any(a.startswith("-lock-timeout") for a in words):
        return words
    for n in (2, 1):
        if tuple(words[:n]) in STATE_LOCKING:
            return [*words[:n], f"-lock-timeout={lock_timeout}", *words[n:]]
    return words


def _scalar(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class Interrupted(RunnersError):
    """SIGINT or SIGTERM arrived while Terraform ran; Terraform was let finish."""

    exit_code = 130


@dataclass
class Result:
    argv: list[str]
    returncode: int
    stdout: str = ""
    stderr: str = ""
    seconds: float = 0.0
    interrupted: bool = False

    def last_error(self) -> str:
        """The most telling error Terraform printed, with where it is, on one line.

        Terraform's summary line (``Error: ...``), never the diagnostic box's
        frame: with colour on (Jenkins' ansiColor) every line is wrapped in
        escape codes, which go first. Terraform often opens with a generic
        error ("encountered problems during initialisation") before the
        specific one, so the last ``Error:`` wins, followed by its ``on FILE
        line N`` location when it has one and a count of the others.
        """
        lines = [ln.strip(" │╷╵\t") for ln in plain(self.stderr).splitlines()]
        lines = [ln for ln in lines if ln]
        errors = [i for i, ln in enumerate(lines) if ln.startswith("Error:")]
        if not errors:
            return lines[-1] if lines else f"exit code {self.returncode}"
        i = errors[-1]
        where = next(
            (ln for ln in lines[i + 1 : i + 3] if ln.startswith("on ") and " line " in ln), ""
        )
        summary = f"{lines[i]} ({where.split(',')[0]})" if where else lines[i]
        others = len(errors) - 1
        return summary + (f" (and {others} more error(s) above)" if others else "")


@dataclass
class Terraform:
    """Runs one binary with one base environment. No I/O until ``run``."""

    binary: TerraformBinary
    env: Mapping[str, str]
    timeout: float | None = None
    # How long a command that locks state waits for a lock another run holds
    # (``[runners] lock_timeout``), as Terraform reads a duration: "5m", "90s".
    lock_timeout: str | None = None
    console_out: IO[bytes] | None = field(default=None)
    console_err: IO[bytes] | None = field(default=None)

    def run(
        self,
        args: Sequence[str],
        cwd: Path,
        *,
        extra_env: Mapping[str, str] | None = None,
        stdout_file: Path | None = None,
        stream: bool = True,
        gate: Gate | None = None,
        ok_codes: Sequence[int] = (0,),
    ) -> Result:
        argv = [*self.binary.argv, *with_lock_timeout(args, self.lock_timeout)]
        env = {**self.env, **(extra_env or {})}
        out_console = self.console_out or sys.stdout.buffer
        err_console = self.console_err or sys.stderr.buffer
        started = time.monotonic()
        with contextlib.ExitStack() as stack:
            target: Any = subprocess.PIPE
            if stdout_file is not None:
                target = stack.enter_context(open(stdout_file, "wb"))
            try:
                proc = subprocess.Popen(
                    argv,
                    cwd=cwd,
                    env=env,
                    stdout=target,
                    stderr=subprocess.PIPE,
                    stdin=subprocess.DEVNULL,
                    # Its own process group: a Ctrl-C at a terminal reaches only the
                    # runner, which forwards exactly one SIGINT. Two would make
                    # Terraform exit at once without writing state.
                    process_group=0,
                )
            except FileNotFoundError:
                raise TerraformError(f"cannot run {argv[0]}: no such file") from None
            except PermissionError:
                raise TerraformError(f"cannot run {argv[0]}: permission denied") from None
            readers = []
            out_buf: list[bytes] = []
            err_buf: list[bytes] = []
            if proc.stdout is not None:
                readers.append(_tee(proc.stdout, out_console if stream else None, out_buf, gate))
            if proc.stderr is not None:
                readers.append(_tee(proc.stderr, err_console if stream else None, err_buf))
            with _forward_signals(proc) as state:
                rc = self._wait(proc, argv)
            for reader in readers:
                reader.join()
        result = Result(
            argv=argv,
            returncode=rc,
            stdout=b"".join(out_buf).decode("utf-8", "replace"),
            stderr=b"".join(err_buf).decode("utf-8", "replace"),
            seconds=time.monotonic() - started,
            interrupted=state.signum is not None,
        )
        if result.interrupted:
            raise Interrupted(
                f"terraform {args[0] if args else ''} interrupted by signal {state.signum}; "
                f"it exited with code {rc}"
            )
        if rc not in ok_codes:
            raise TerraformError(
                f"terraform {' '.join(args[:1])} failed in {cwd} (exit {rc}): {result.last_error()}",
                stderr=plain(result.stderr),
            )
        return result

    def _wait(self, proc: subprocess.Popen[bytes], argv: list[str]) -> int:
        # A blocking wait returns the moment Terraform exits; Popen.wait(timeout)
        # polls with sleeps of up to 50 ms, which every command would pay.
        expired = threading.Event()

        def expire() -> None:
            expired.set()
            _interrupt(proc)
            killer.start()

        def kill() -> None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)

        killer = threading.Timer(_GRACE_SECONDS, kill)
        killer.daemon = True
        timer = None if self.timeout is None else threading.Timer(self.timeout, expire)
        if timer is not None:
            timer.daemon = True
            timer.start()
        try:
            rc = proc.wait()
        finally:
            if timer is not None:
                timer.cancel()
            killer.cancel()
        if expired.is_set():
            raise TerraformError(
                f"terraform {argv[len(self.binary.argv)]} timed out after {self.timeout:.0f}s "
                "and was stopped"
            )
        return rc


def _interrupt(proc: subprocess.Popen[bytes]) -> None:
    """SIGINT to Terraform's process group, as a terminal's Ctrl-C would send it."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGINT)


class Gate:
    """Echo a stream line by line until a line marks the start of what must not be echoed.

    Terraform's plan rendering prints prior values that are not always marked
    sensitive, so the console shows progress live and the planned changes only
    later, from the scrubbed ``plan.txt``. What is held back from the marker
    line on goes to ``keep`` when one is given: that is the rendered plan.
    """

    def __init__(
        self, markers: Sequence[bytes], notice: bytes, keep: IO[bytes] | None = None
    ) -> None:
        self.markers = tuple(markers)
        self.notice = notice
        self.keep = keep
        self.open = True
        self._partial = b""

    def feed(self, chunk: bytes) -> bytes:
        if not self.open:
            self._hold(chunk)
            return b""
        data = self._partial + chunk
        lines = data.split(b"\n")
        self._partial = lines.pop()
        out = []
        for i, line in enumerate(lines):
            if any(m in line for m in self.markers):
                self.open = False
                out.append(self.notice)
                self._hold(b"\n".join(lines[i:]) + b"\n" + self._partial)
                self._partial = b""
                break
            out.append(line + b"\n")
        return b"".join(out)

    def close(self) -> bytes:
        rest, self._partial = self._partial, b""
        return rest if self.open else b""

    def _hold(self, data: bytes) -> None:
        if self.keep is not None and data:
            self.keep.write(data)


def _tee(
    pipe: IO[bytes], console: IO[bytes] | None, sink: list[bytes], gate: Gate | None = None
) -> threading.Thread:
    def echo(data: bytes) -> None:
        if console is not None and data:
            with contextlib.suppress(OSError, ValueError):
                console.write(data)
                console.flush()

    def pump() -> None:
        kept = 0
        fd = pipe.fileno()
        while chunk := os.read(fd, 65536):
            echo(gate.feed(chunk) if gate else chunk)
            if kept < _CAPTURE_LIMIT:
                sink.append(chunk)
                kept += len(chunk)
        if gate:
            echo(gate.close())
        pipe.close()

    thread = threading.Thread(target=pump, daemon=True)
    thread.start()
    return thread


@dataclass
class _SignalState:
    signum: int | None = None


class _Running:
    """Terraform processes started from other threads (plans of several stacks at once).

    Only the main thread receives signals. While ``all_interruptible`` is in
    effect, a SIGINT or SIGTERM reaches every Terraform running from any
    thread, once, as SIGINT; a worker then reports its step as interrupted, and
    no new step starts.
    """

    lock = threading.Lock()
    procs: dict[subprocess.Popen[bytes], _SignalState] = {}
    signum: int | None = None


def stopping() -> int | None:
    """The signal that is stopping a run of several Terraform at once, if one came."""
    with _Running.lock:
        return _Running.signum


@contextlib.contextmanager
def all_interruptible() -> Iterator[_SignalState]:
    """In the main thread: signals go to every Terraform the worker threads run."""
    state = _SignalState()
    if threading.current_thread() is not threading.main_thread():
        yield state  # signals reach only the main thread: nothing to catch here
        return

    def handler(signum: int, _frame: FrameType | None) -> None:
        with _Running.lock:
            first = _Running.signum is None
            _Running.signum = state.signum = signum
            running = list(_Running.procs.items())
        if first:
            for proc, proc_state in running:
                proc_state.signum = signum
                _interrupt(proc)

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield state
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
        with _Running.lock:
            _Running.signum = None


@contextlib.contextmanager
def _forward_signals(proc: subprocess.Popen[bytes]) -> Iterator[_SignalState]:
    """Pass SIGINT/SIGTERM on to Terraform as SIGINT and wait for it to finish.

    Terraform treats SIGINT as "stop gracefully": it finishes the operations in
    flight, writes state and releases its lock. Killing it instead is how
    states get lost, so the runner waits for it and reports the interruption.
    """
    state = _SignalState()
    if threading.current_thread() is not threading.main_thread():
        with _Running.lock:
            _Running.procs[proc] = state
            if _Running.signum is not None:  # the run is stopping: this step stops too
                state.signum = _Running.signum
                _interrupt(proc)
        try:
            yield state
        finally:
            with _Running.lock:
                _Running.procs.pop(proc, None)
        return

    def handler(signum: int, _frame: FrameType | None) -> None:
        first = state.signum is None
        state.signum = signum
        if first:
            _interrupt(proc)

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield state
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def base_environment(
    plugin_cache_dir: Path | None,
    environ: Mapping[str, str] | None = None,
    *,
    provider_mirror: Path | None = None,
    mirror_source: str = "runners.toml",
    quiet: bool = False,
) -> dict[str, str]:
    """The parent environment plus what every automated Terraform run needs.

    The caller's CLI config and argument variables are dropped (with a
    warning) and replaced by a CLI config runners writes (``cliconfig``):
    the providers a mirror holds come from it (``$RUNNERS_PROVIDER_MIRROR``,
    else ``provider_mirror``), the rest from their registries. ``quiet``
    drops them without the warning, for runners' own evaluations of modules.
    """
    env = dict(os.environ if environ is None else environ)
    cliconfig.drop_caller_settings(env, warn=not quiet)
    env["TF_IN_AUTOMATION"] = "1"
    env["TF_INPUT"] = "0"
    home = Path(env.get("HOME") or Path.home())
    runners_cache = Path(env.get("XDG_CACHE_HOME") or home / ".cache") / "runners"
    cache = plugin_cache_dir or runners_cache / "plugins"
    Path(cache).mkdir(parents=True, exist_ok=True)
    env["TF_PLUGIN_CACHE_DIR"] = str(cache)
    mirror = cliconfig.resolve_mirror(provider_mirror, env, mirror_source)
    env["TF_CLI_CONFIG_FILE"] = str(cliconfig.write(runners_cache / "terraform-cli", mirror))
    return env
