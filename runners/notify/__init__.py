"""Notifications: tell people, in real time, about plans, applies, refusals and drift.

The plan and apply code builds an ``Event`` and calls ``dispatch(event,
env.notify)``; what comes back goes into the audit record. Nothing here raises
into the caller, and nothing here ever sees a plan value.
"""

from __future__ import annotations

from runners.notify.dispatch import NotifyFailure, dispatch
from runners.notify.event import Counts, Event, EventKind
from runners.notify.settings import NotifyConfig, parse_notify

__all__ = [
    "Counts",
    "Event",
    "EventKind",
    "NotifyConfig",
    "NotifyFailure",
    "dispatch",
    "parse_notify",
]
