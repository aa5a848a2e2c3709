"""One backup (or ship) run of a policy at a time on this machine.

EBS gives ``CreateSnapshot`` and ``CopySnapshot`` no idempotency token, so two
runs that list the same empty period at the same moment would each make a
snapshot. Runs of one policy and command therefore take an exclusive
``flock`` on ``.runners/locks/COMMAND-POLICY.lock`` beside ``runners.toml``; a
second run waits for the first and then adopts what it made. The kernel
releases the lock when its process ends, however it ends, so a lock is never
stale. RDS needs no lock (its snapshot names are deterministic), but takes
it all the same: one rule for every kind.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from runners import log
from runners.errors import Locked

WAIT_SECONDS = 3600.0


@contextlib.contextmanager
def held(
    root: Path,
    command: str,
    policy: str,
    wait: float = WAIT_SECONDS,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[None]:
    path = root / ".runners" / "locks" / f"{command}-{policy}.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as fh:
        deadline = time.monotonic() + wait
        told = False
        while True:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                fh.seek(0)
                holder = fh.read().strip() or "another process"
                if time.monotonic() >= deadline:
                    raise Locked(
                        f"{command} of policy {policy} is still running ({holder}); "
                        f"waited {wait:g} s"
                    ) from None
                if not told:
                    log.warn(f"waiting for the {command} of policy {policy} in {holder}")
                    told = True
                sleep(0.2)
        fh.seek(0)
        fh.truncate()
        fh.write(f"pid {os.getpid()}\n")
        fh.flush()
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)
