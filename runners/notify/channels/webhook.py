"""A generic JSON webhook: ``render.webhook_payload``, POSTed to the URL in ``$webhook_url_env``."""

from __future__ import annotations

from typing import Any, ClassVar

from runners.notify import render
from runners.notify.channels.http import JsonPostChannel
from runners.notify.event import Event


class WebhookChannel(JsonPostChannel):
    name: ClassVar[str] = "webhook"
    keys: ClassVar[tuple[str, ...]] = ("webhook_url_env",)
    url_key: ClassVar[str] = "webhook_url_env"
    what: ClassVar[str] = "webhook URL"

    def payload(self, event: Event) -> dict[str, Any]:
        return render.webhook_payload(event)
