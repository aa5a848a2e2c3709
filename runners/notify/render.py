"""Turn an event into each channel's message: Slack mrkdwn, e-mail, a JSON document.

Slack and e-mail text come from ``runners/templates/notify/``. The JSON
payload is built as a dict: its consumers are programs that read fields, so it
is a schema rather than prose, and ``json.dumps`` quotes every value correctly
where a template would need an escape filter on each one and would produce
invalid JSON the day one is forgotten. Its ``text`` field reuses the template
headline so chat tools that show ``text`` read the same as Slack and e-mail.
"""

from __future__ import annotations

import dataclasses
from functools import cache
from typing import TYPE_CHECKING, Any

from runners.notify.event import Event

if TYPE_CHECKING:
    import jinja2

PAYLOAD_SCHEMA = 1


@cache
def _env() -> jinja2.Environment:
    from runners.templating import environment

    # Plain text and mrkdwn, never HTML; Slack escaping is applied to the values.
    return environment(
        "templates/notify",
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def _macro(template: str, name: str) -> Any:
    return getattr(_env().get_template(template).module, name)


def headline(event: Event) -> str:
    return str(_macro("_common.j2", "headline")(event))


def slack_escape(text: str) -> str:
    """The three characters Slack reserves for its own markup."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _slack_safe(event: Event) -> Event:
    def esc(value: str | None) -> str | None:
        return None if value is None else slack_escape(value)

    return dataclasses.replace(
        event,
        stack=slack_escape(event.stack),
        environment=slack_escape(event.environment),
        protected=tuple(slack_escape(a) for a in event.protected),
        triggered_by=esc(event.triggered_by),
        approved_by=esc(event.approved_by),
        merge_request=esc(event.merge_request),
        merge_request_url=esc(event.merge_request_url),
        commit=esc(event.commit),
        build_url=esc(event.build_url),
        reason=esc(event.reason),
        report_excerpt=None,
    )


def slack_text(event: Event) -> str:
    return _env().get_template("slack.mrkdwn.j2").render(e=_slack_safe(event))


def email(event: Event) -> tuple[str, str]:
    """The subject (one line) and the plain-text body."""
    return str(_macro("email.txt.j2", "subject")(event)), str(_macro("email.txt.j2", "body")(event))


def webhook_payload(event: Event) -> dict[str, Any]:
    summary: dict[str, Any] | None = None
    if event.counts is not None:
        summary = {**event.counts.to_dict(), "protected": list(event.protected)}
    return {
        "schema": PAYLOAD_SCHEMA,
        "event": event.kind.value,
        "text": headline(event),
        "stack": event.stack,
        "environment": event.environment,
        "summary": summary,
        "triggered_by": event.triggered_by,
        "approved_by": event.approved_by,
        "merge_request": {"id": event.merge_request, "url": event.merge_request_url},
        "commit": event.commit,
        "build_url": event.build_url,
        "reason": event.reason,
        "report_excerpt": event.report_excerpt,
        "occurred_at": event.occurred_at,
    }
