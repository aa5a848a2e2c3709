"""Send one event to every configured channel; report failures, never raise them.

Channels are sent to side by side, so a dead SMTP server costs an apply one
timeout, not one per channel. A failure becomes a ``NotifyFailure`` (logged on
one line, returned for the audit record) and never stops the caller: a
notification that did not go out must not fail, or block, a change to
production.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass

from runners import log
from runners.notify.channels import Channel, DeliveryError
from runners.notify.event import Event, one_line
from runners.notify.settings import NotifyConfig

_MESSAGE_MAX = 400
_REDACTED = "***"


@dataclass(frozen=True)
class NotifyFailure:
    channel: str  # a name from runners.notify.channels.CHANNELS
    event: str  # an EventKind value
    error: str  # one line, scrubbed of the channel's secrets

    def __str__(self) -> str:
        return f"notify {self.event} via {self.channel} failed: {self.error}"

    def to_dict(self) -> dict[str, str]:
        return asdict(self)


def dispatch(
    event: Event, channels_config: NotifyConfig, environ: Mapping[str, str] | None = None
) -> list[NotifyFailure]:
    """Deliver ``event`` to every channel that wants it; return what failed, in channel order.

    ``environ`` is where the channels find their secrets (default: this process's).
    """
    if not channels_config.wants(event.kind):
        return []
    env = dict(os.environ if environ is None else environ)
    channels = channels_config.channels
    with ThreadPoolExecutor(max_workers=len(channels), thread_name_prefix="notify") as pool:
        futures = [
            pool.submit(_deliver, ch, event, env, channels_config.timeout) for ch in channels
        ]
        results = [f.result() for f in futures]
    failures = [r for r in results if r is not None]
    for failure in failures:
        log.warn(str(failure))
    sent = [ch.name for ch, r in zip(channels, results, strict=True) if r is None]
    if sent:
        log.step(f"notified {event.kind.value} via {', '.join(sent)}")
    return failures


def _deliver(
    channel: Channel, event: Event, environ: Mapping[str, str], timeout: float
) -> NotifyFailure | None:
    try:
        channel.send(event, environ, timeout)
    except DeliveryError as exc:
        return _failure(channel, event, str(exc), environ)
    # A bug in a channel, or a library error no channel foresaw, is still only a
    # failed notification: it is reported like one, never raised into an apply.
    except Exception as exc:
        return _failure(channel, event, f"unexpected {type(exc).__name__}: {exc}", environ)
    return None


def _failure(
    channel: Channel, event: Event, text: str, environ: Mapping[str, str]
) -> NotifyFailure:
    try:
        secrets = channel.secrets(environ)
    except Exception:  # a channel that cannot even list its secrets gets no free text
        secrets, text = (), "failed (details withheld)"
    for value in sorted(secrets, key=len, reverse=True):
        text = text.replace(value, _REDACTED)
    return NotifyFailure(channel.name, event.kind.value, one_line(text, _MESSAGE_MAX) or "failed")
