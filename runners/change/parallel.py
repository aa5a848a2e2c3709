"""Plan several stacks at once: a pool of worker threads, each stack with its own console.

Terraform does the waiting (API round trips), in its own processes, so a few
threads keep several plans going. Each stack's output goes through its
``StackConsole`` (prefixed, whole lines, a full log in its folder). A signal
reaches every Terraform running (runners.terraform.engine.all_interruptible);
stacks not started yet are not started, and the run ends as interrupted once
every Terraform has stopped.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TextIO

from runners.change.console import Interleaver, StackConsole
from runners.terraform.engine import all_interruptible


def run_all(
    stacks: list[str],
    jobs: int,
    work: Callable[[str, StackConsole], None],
    out: Path,
    *,
    log_name: str,
    stdout: TextIO,
    stderr: TextIO,
) -> int | None:
    """Run ``work`` for every stack, ``jobs`` at a time; the signal that stopped it, if any.

    ``work`` must not raise: a stack's failure is its outcome, not the run's.
    """
    if not stacks:
        return None
    stdout.flush()
    stderr.flush()
    shared = Interleaver(stdout.buffer, stderr.buffer, stacks)

    def one(stack: str) -> None:
        console = shared.console(stack, out / stack / log_name)
        try:
            work(stack, console)
        finally:
            console.close()

    with (
        all_interruptible() as state,
        ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="plan") as pool,
    ):
        for future in [pool.submit(one, s) for s in stacks]:
            future.result()
    return state.signum
