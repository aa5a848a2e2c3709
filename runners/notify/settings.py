"""``[environments.NAME.notify]``: which channels an environment notifies, and of what.

Each channel reads its own keys (``Channel.keys``); this module owns only the
shared ones, ``events`` and ``timeout_seconds``. The file holds the names of
the environment variables that carry webhook URLs and the SMTP password,
never the values.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from runners.confread import Table
from runners.notify.channels import CHANNELS, Channel
from runners.notify.event import EventKind

DEFAULT_TIMEOUT = 10.0
SHARED_KEYS = ("events", "timeout_seconds")


@dataclass(frozen=True)
class NotifyConfig:
    channels: tuple[Channel, ...] = ()
    events: frozenset[EventKind] = frozenset(EventKind)
    timeout: float = DEFAULT_TIMEOUT  # seconds, for each network step of each channel

    def wants(self, kind: EventKind) -> bool:
        return bool(self.channels) and kind in self.events


def parse_notify(table: Table) -> NotifyConfig:
    table.only(*SHARED_KEYS, *(key for channel in CHANNELS for key in channel.keys))
    events = _events(table)
    timeout = table.float("timeout_seconds", DEFAULT_TIMEOUT, minimum=1.0)
    if timeout > 120:
        raise table.fail(
            "timeout_seconds", f"expected at most 120 (an apply waits for it), got {timeout:g}"
        )
    channels = tuple(c for c in (cls.from_table(table) for cls in CHANNELS) if c is not None)
    table.check_unknown()
    return NotifyConfig(channels=channels, events=events, timeout=timeout)


def _events(table: Table) -> frozenset[EventKind]:
    names = table.str_list("events", default=[k.value for k in EventKind])
    known = [k.value for k in EventKind]
    for name in names:
        if name not in known:
            close = difflib.get_close_matches(name, known, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise table.fail(
                "events", f"unknown event {name!r}{hint}; expected some of: {', '.join(known)}"
            )
    return frozenset(EventKind(n) for n in names)
