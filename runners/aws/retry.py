"""Back off and retry the API errors that mean "not now" rather than "no".

botocore's standard retry mode already retries throttling a few times inside
one call. This covers what it does not: quota errors specific to snapshots
(too many copies in flight, the manual-snapshot quota, the per-volume rate)
and throttling that outlasts botocore's own attempts. Errors are matched on
``response["Error"]["Code"]`` only.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from botocore.exceptions import ClientError

from runners import log

T = TypeVar("T")

THROTTLING = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "RequestLimitExceeded",
        "TooManyRequestsException",
        "RequestThrottled",
        "RequestThrottledException",
        "SlowDown",
    }
)
SNAPSHOT_QUOTAS = frozenset(
    {
        "ResourceLimitExceeded",  # EC2: too many snapshot copies in flight to one region
        "SnapshotCreationPerVolumeRateExceeded",  # EC2: snapshots of one volume too fast
    }
)
# Quotas that no wait within one run frees: the resource fails at once, naming the quota.
HARD_QUOTAS = {
    "SnapshotQuotaExceeded": "RDS manual snapshots per region",
    "ConcurrentSnapshotLimitExceeded": "EBS pending snapshots per volume",
}
TRANSIENT = THROTTLING | SNAPSHOT_QUOTAS


def error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff with full jitter; ``sleep`` and ``jitter`` are injectable for tests."""

    attempts: int = 6
    base: float = 2.0
    cap: float = 60.0
    sleep: Callable[[float], None] = field(default=time.sleep, compare=False)
    jitter: Callable[[], float] = field(default=random.random, compare=False)  # not crypto

    def delay(self, attempt: int) -> float:
        return min(self.cap, self.base * 2.0**attempt) * (0.5 + self.jitter() / 2)

    def call(self, what: str, fn: Callable[[], T], codes: frozenset[str] = TRANSIENT) -> T:
        """``fn()``, tried up to ``attempts`` times while it fails with ``codes``."""
        for attempt in range(self.attempts):
            try:
                return fn()
            except ClientError as exc:
                code = error_code(exc)
                if code not in codes or attempt + 1 >= self.attempts:
                    raise
                wait = self.delay(attempt)
                attempt_no = f"attempt {attempt + 2} of {self.attempts}"
                log.warn(f"{what}: {code}; retrying in {wait:.1f}s ({attempt_no})")
                self.sleep(wait)
        raise AssertionError("unreachable: the loop returns or raises")
