"""Notify from an audit record: the plan and apply code report events through this one call.

The record already holds what an event may carry (counts, protected
addresses, who, which merge request, which commit, the reason) and nothing
else, so building the event from it keeps plan values out by construction.
"""

from __future__ import annotations

from runners.audit.record import AuditRecord
from runners.notify.delivery import dispatch
from runners.notify.event import Event, EventKind
from runners.notify.settings import NotifyConfig


def notify_record(
    channels: NotifyConfig, kind: str, record: AuditRecord, report_excerpt: str | None = None
) -> list[str]:
    """Send one event about this record; return the failures as lines for the record itself."""
    mr = record.merge_request or {}
    event = Event.from_summary(
        EventKind(kind),
        stack=record.stack,
        environment=record.environment,
        summary=record.summary or None,
        triggered_by=record.triggered_by,
        approved_by=record.approved_by,
        merge_request=str(mr["id"]) if mr.get("id") else None,
        merge_request_url=mr.get("url"),
        commit=record.commit,
        build_url=record.build_url,
        reason=record.reason,
        report_excerpt=report_excerpt,
    )
    return [str(failure) for failure in dispatch(event, channels)]
