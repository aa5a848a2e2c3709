"""One run of a backup command: the policy, the clients, the clock, and what went wrong.

Every AWS call that concerns one resource goes through ``attempt``, which
turns an AWS error into a recorded ``Failure`` and lets the run go on with
the other resources. The command prints the failures at the end and exits 1.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO, TypeVar

from botocore.exceptions import BotoCoreError, ClientError

from runners.aws import identity
from runners.aws.retry import HARD_QUOTAS, Backoff, error_code
from runners.aws.session import SessionFactory
from runners.backup.engines import ENGINES, Clients, Engine
from runners.backup.model import Failure, Place, PlanLine
from runners.backup.policy import Policy
from runners.backup.tags import new_run_id
from runners.errors import UsageError

T = TypeVar("T")


def sessions_for(policy: Policy) -> SessionFactory:
    """The clients a command uses, once credentials are known to exist; tests replace this."""
    factory = SessionFactory(
        role_arn_template=policy.role_arn,
        session_name=f"runners-{policy.name}",
        identity=identity.from_environment(os.environ),
    )
    factory.require_credentials()
    return factory


@dataclass
class Run:
    policy: Policy
    clients: Clients
    dry_run: bool = False
    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    run_id: str = ""
    out: TextIO = field(default_factory=lambda: sys.stdout)
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    default_region: str | None = None
    failures: list[Failure] = field(default_factory=list)
    engines: dict[str, Engine] = field(default_factory=dict)
    root: Path | None = None  # beside runners.toml: where the run lock lives
    account: str | None = None  # the runner's own account id, as runners.toml declares it

    def locked(self, command: str) -> contextlib.AbstractContextManager[None]:
        """One real run of this command and policy at a time (``runners.backup.runlock``)."""
        if self.dry_run or self.root is None:
            return contextlib.nullcontext()
        from runners.backup import runlock

        return runlock.held(self.root, command, self.policy.name)

    def __post_init__(self) -> None:
        self.run_id = self.run_id or new_run_id(self.now)
        if not self.engines:
            self.engines = {k: ENGINES[k](self.clients) for k in self.policy.selection.kinds}
        if self.default_region is None:
            self.default_region = self.clients.default_region()

    @property
    def backoff(self) -> Backoff:
        return Backoff(attempts=self.policy.limits.retries, sleep=self.sleep)

    def places(self) -> list[Place]:
        """Where the policy's resources live: each account in each region."""
        regions = self.policy.selection.regions or (
            (self.default_region,) if self.default_region else ()
        )
        if not regions:
            raise UsageError(
                f"policy {self.policy.name}: no region; set select.regions in runners.toml "
                "or AWS_DEFAULT_REGION / the profile's region"
            )
        return [Place(a, r) for a in self.policy.selection.accounts for r in regions]

    def dest(self, account: str | None) -> Place:
        return Place(account, self.policy.backup_region)

    def dests(self) -> list[Place]:
        return [self.dest(a) for a in self.policy.selection.accounts]

    def emit(self, line: PlanLine) -> None:
        print(str(line), file=self.out)

    def say(self, text: str) -> None:
        print(text, file=self.out)

    def attempt(self, what: str, fn: Callable[[], T]) -> T | None:
        """``fn()``; an AWS error becomes a Failure for ``what`` and None."""
        try:
            return fn()
        except ClientError as exc:
            message = str(exc.response.get("Error", {}).get("Message", ""))
            quota = HARD_QUOTAS.get(error_code(exc))
            if quota:
                message = f"quota {quota} reached ({message}); not retried in this run"
            self.failures.append(Failure(what, exc.operation_name, error_code(exc), message))
        except BotoCoreError as exc:
            self.failures.append(Failure(what, "request", type(exc).__name__, str(exc)))
        return None

    def succeeded(self, what: str, fn: Callable[[], object]) -> bool:
        """``fn()``; False (and a recorded Failure) when AWS refused."""
        before = len(self.failures)
        self.attempt(what, fn)
        return len(self.failures) == before
