"""Slack incoming webhook: mrkdwn text, POSTed to the URL in ``$slack_webhook_env``."""

from __future__ import annotations

from typing import Any, ClassVar

from runners.notify import render
from runners.notify.channels.http import JsonPostChannel
from runners.notify.event import Event


class SlackChannel(JsonPostChannel):
    name: ClassVar[str] = "slack"
    keys: ClassVar[tuple[str, ...]] = ("slack_webhook_env",)
    url_key: ClassVar[str] = "slack_webhook_env"
    what: ClassVar[str] = "Slack incoming-webhook URL"

    def payload(self, event: Event) -> dict[str, Any]:
        # Link previews of the build URL would bury the message.
        return {"text": render.slack_text(event), "unfurl_links": False, "unfurl_media": False}
