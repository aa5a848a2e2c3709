"""Start a snapshot or a copy once, even when AWS loses the answer.

EBS ``CreateSnapshot``, ``CreateSnapshots`` and ``CopySnapshot`` take no
idempotency token. botocore retries a call whose connection dropped or that
answered 5xx, and such a call may well have been performed: the retry makes
a second snapshot. So these calls go out on clients that send once
(``SessionFactory(..., once=True)``) and this loop decides what happens next:

- throttling or a transient quota before anything ambiguous happened: the
  call was refused and not performed, so back off and send it again;
- an ambiguous failure (connection reset, read timeout, 5xx): back off, look
  the snapshot up by the identity it was tagged with at creation, and adopt
  what is found; only when nothing is found send the call again. Once the
  outcome of one attempt is unknown, every later attempt looks first.

RDS snapshots have deterministic names, so a second create meets
``...AlreadyExists`` and the engine adopts; the same loop serves them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
)

from runners import log
from runners.aws.retry import TRANSIENT, Backoff, error_code

T = TypeVar("T")

# AWS answered, but the request may have been carried out.
SERVER_ERRORS = frozenset(
    {
        "InternalError",
        "InternalFailure",
        "ServiceUnavailable",
        "Unavailable",
        "RequestTimeout",
        "RequestTimeoutException",
    }
)


def ambiguous(exc: Exception) -> bool:
    """Whether the request may have been performed although no good answer came back."""
    if isinstance(exc, ClientError):
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        return error_code(exc) in SERVER_ERRORS or (
            status >= 500 and error_code(exc) not in TRANSIENT
        )
    # Never connected: nothing was sent. Anything else broke after the request went out.
    return isinstance(exc, BotoCoreError) and not isinstance(
        exc, EndpointConnectionError | ConnectTimeoutError
    )


def retryable(exc: Exception) -> bool:
    if isinstance(exc, ClientError):
        return error_code(exc) in TRANSIENT or ambiguous(exc)
    return isinstance(exc, BotoCoreError)


def start_once(
    backoff: Backoff,
    what: str,
    start: Callable[[], T],
    find: Callable[[], T | None],
) -> tuple[T, bool]:
    """``start()`` at most as often as needed; (result, adopted) where adopted means found."""
    unsure = False
    for attempt in range(backoff.attempts):
        if unsure:
            found = find()
            if found:
                log.warn(f"{what}: the earlier attempt was done after all; adopted it")
                return found, True
        try:
            return start(), False
        except (ClientError, BotoCoreError) as exc:
            if not retryable(exc) or attempt + 1 >= backoff.attempts:
                if unsure:  # the last attempt's outcome is unknown too: one more look
                    found = find()
                    if found:
                        return found, True
                raise
            unsure = unsure or ambiguous(exc)
            code = error_code(exc) if isinstance(exc, ClientError) else type(exc).__name__
            wait = backoff.delay(attempt)
            look = "; looking it up before trying again" if unsure else ""
            log.warn(f"{what}: {code}{look}; retrying in {wait:.1f}s")
            backoff.sleep(wait)
    raise AssertionError("unreachable: the loop returns or raises")
