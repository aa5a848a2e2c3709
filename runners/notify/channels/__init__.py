"""The notification channels. A new one is a module here and one line in ``CHANNELS``."""

from __future__ import annotations

from runners.notify.channels.base import Channel, DeliveryError
from runners.notify.channels.email import EmailChannel
from runners.notify.channels.slack import SlackChannel
from runners.notify.channels.webhook import WebhookChannel

# Order is the order of delivery logs and of failures in the audit record.
CHANNELS: tuple[type[Channel], ...] = (
    SlackChannel,
    EmailChannel,
    WebhookChannel,
)

__all__ = ["CHANNELS", "Channel", "DeliveryError"]
