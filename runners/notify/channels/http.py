"""POST a JSON document to a URL that is itself a secret.

Errors name the host and the environment variable the URL came from, never
the URL: for Slack and most webhooks the path is the credential. Redirects
are not followed, so the payload never goes somewhere the operator did not
configure; a 3xx is reported like any other failure.
"""

from __future__ import annotations

import abc
import json
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any, ClassVar, Self
from urllib.parse import urlsplit

from runners import __version__
from runners.confread import Table
from runners.notify.channels.base import Channel, DeliveryError, env_name, secret
from runners.notify.event import Event

if TYPE_CHECKING:
    import urllib.error
    import urllib.request

_SNIPPET = 120


@cache
def _opener() -> urllib.request.OpenerDirector:
    """The default opener stack, so HTTP(S)_PROXY and NO_PROXY are honoured as
    everywhere else on the utility server, minus redirects.

    Built on first use: config loading imports this module on every command,
    and urllib with http.client would otherwise load before Terraform starts.
    """
    import urllib.request

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any, **kwargs: Any) -> None:
            return None  # urllib then raises HTTPError with the 3xx status

    return urllib.request.build_opener(NoRedirect)


def post_json(url: str, payload: dict[str, Any], timeout: float, source: str) -> None:
    """Send ``payload``; return on any 2xx, raise DeliveryError otherwise."""
    import http.client
    import urllib.error
    import urllib.request

    where = _host(url, source)
    request = urllib.request.Request(  # noqa: S310  # _host allows only http(s)
        url,
        data=json.dumps(payload).encode("utf-8"),
        method="POST",
        headers={
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": f"runners/{__version__}",
        },
    )
    try:
        with _opener().open(request, timeout=timeout) as response:
            response.read(_SNIPPET)
    except urllib.error.HTTPError as exc:
        detail = _snippet(exc)
        raise DeliveryError(
            f"HTTP {exc.code} from {where} (URL from {source})" + (f": {detail}" if detail else "")
        ) from None
    except urllib.error.URLError as exc:
        raise DeliveryError(_network_error(exc.reason, where, source, timeout)) from None
    except (OSError, http.client.HTTPException) as exc:
        raise DeliveryError(_network_error(exc, where, source, timeout)) from None


def _host(url: str, source: str) -> str:
    """``host[:port]`` of the URL, the only part of it fit to print."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise DeliveryError(f"{source} does not hold a valid URL") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise DeliveryError(f"{source} does not hold an http(s) URL")
    return parts.hostname + (f":{port}" if port else "")


def secret_parts(url: str) -> tuple[str, ...]:
    """The URL and its path and query: error text from lower layers may quote either."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return (url,)
    tail = parts.path + (f"?{parts.query}" if parts.query else "")
    return tuple(p for p in (url, tail, parts.query) if len(p) > 1)


def _network_error(reason: object, where: str, source: str, timeout: float) -> str:
    if isinstance(reason, TimeoutError | socket.timeout):
        return f"no answer from {where} within {timeout:g}s (URL from {source})"
    # Only an OS error's own text is printed: http.client's messages can quote the path.
    text = (
        reason.strerror
        if isinstance(reason, OSError) and reason.strerror
        else type(reason).__name__
    )
    return f"cannot reach {where} (URL from {source}): {text}"


def _snippet(exc: urllib.error.HTTPError) -> str:
    """The start of an error body: Slack explains itself there (``no_service``, ...)."""
    import http.client

    try:
        raw = exc.read(_SNIPPET)
    except (OSError, http.client.HTTPException):
        return ""
    return " ".join(raw.decode("utf-8", errors="replace").split())[:_SNIPPET]


@dataclass(frozen=True)
class JsonPostChannel(Channel):
    """A channel that POSTs one JSON document to a URL held in an environment variable."""

    url_key: ClassVar[str]  # the config key naming the variable
    what: ClassVar[str]  # what the URL is, for messages

    url_env: str

    @classmethod
    def from_table(cls, table: Table) -> Self | None:
        var = env_name(table, cls.url_key, f"the {cls.what}")
        return cls(var) if var else None

    @abc.abstractmethod
    def payload(self, event: Event) -> dict[str, Any]:
        """The JSON document for one event."""

    def send(self, event: Event, environ: Mapping[str, str], timeout: float) -> None:
        url = secret(environ, self.url_env, self.what)
        post_json(url, self.payload(event), timeout, f"${self.url_env}")

    def secrets(self, environ: Mapping[str, str]) -> tuple[str, ...]:
        return secret_parts(environ.get(self.url_env, "").strip())
