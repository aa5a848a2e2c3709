"""The contract every notification channel meets.

A channel is a frozen dataclass built from its keys in
``[environments.NAME.notify]``. It holds the *names* of the environment
variables that carry its secrets, never the secrets: they are read at send
time, so a config file can be shown, committed and logged.
"""

from __future__ import annotations

import abc
import re
from collections.abc import Mapping
from typing import ClassVar

from runners.confread import Table
from runners.notify.event import Event

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class DeliveryError(Exception):
    """A message was not delivered. The text is one line and holds no secret."""


class Channel(abc.ABC):
    name: ClassVar[str]  # in logs, failures and the audit record
    keys: ClassVar[tuple[str, ...]]  # the keys it reads from the notify table

    @classmethod
    @abc.abstractmethod
    def from_table(cls, table: Table) -> Channel | None:
        """The channel as configured, or None when none of its keys is set."""

    @abc.abstractmethod
    def send(self, event: Event, environ: Mapping[str, str], timeout: float) -> None:
        """Deliver one event or raise DeliveryError; ``timeout`` bounds each network step."""

    @abc.abstractmethod
    def secrets(self, environ: Mapping[str, str]) -> tuple[str, ...]:
        """The secret values this channel uses, so any error text can be scrubbed of them."""


def env_name(table: Table, key: str, what: str) -> str | None:
    """A key whose value names an environment variable; never echo a value that is not one.

    Someone will paste the webhook URL itself here; the error must not print it.
    """
    if not table.has(key):
        return None
    value = table.data[key]
    if not isinstance(value, str) or not _ENV_NAME.match(value):
        raise table.fail(
            key,
            f"expected the name of an environment variable (letters, digits, _) holding {what}, "
            "not the secret itself; the value is not shown",
        )
    return value


def secret(environ: Mapping[str, str], var: str, what: str) -> str:
    value = environ.get(var, "")
    if not value.strip():
        raise DeliveryError(f"${var} is not set or empty, so there is no {what} to use")
    return value.strip()
