"""Notifications: tell people, in real time, about plans, applies, refusals and drift.

The plan and apply code builds an ``Event`` and calls ``dispatch(event,
env.notify)``; what comes back goes into the audit record. Nothing here raises
into the caller, and nothing here ever sees a plan value.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from runners.notify.delivery import NotifyFailure, dispatch
    from runners.notify.event import Counts, Event, EventKind
    from runners.notify.settings import NotifyConfig, parse_notify

# Loading the config reads notify settings; it must not pay for the delivery
# code (channels, sockets, templates) that only a notification needs.
_EXPORTS = {
    "Counts": "runners.notify.event",
    "Event": "runners.notify.event",
    "EventKind": "runners.notify.event",
    "NotifyConfig": "runners.notify.settings",
    "NotifyFailure": "runners.notify.delivery",
    "dispatch": "runners.notify.delivery",
    "parse_notify": "runners.notify.settings",
}

__all__ = [
    "Counts",
    "Event",
    "EventKind",
    "NotifyConfig",
    "NotifyFailure",
    "dispatch",
    "parse_notify",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'runners.notify' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
