"""A small client over python-jenkins: the calls runners makes, and one-line errors.

The python-jenkins server object is injected (``JenkinsClient(server)``), so
tests can point it anywhere; ``connect`` builds one from the ``[jenkins]``
settings and the API token in the environment. Neither does any network I/O.

python-jenkins folds 401, 403 and 500 into one ``JenkinsException`` whose text
is Jenkins' HTML page; the status is still on the ``requests.HTTPError`` it was
raised from, so ``_translate`` walks the exception chain for it.
"""

from __future__ import annotations

import contextlib
import json
import socket
import ssl
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import requests

from runners.errors import ConfigError, UsageError
from runners.jenkins import buildcheck
from runners.jenkins.errors import (
    JenkinsError,
    JenkinsForbidden,
    JenkinsNotFound,
    JenkinsUnauthorized,
    JenkinsUnreachable,
)
from runners.jenkins.settings import JenkinsSettings


def job_path(name: str) -> str:
    """``a/b`` -> ``job/a/job/b/``: where a (possibly foldered) job lives under the root URL."""
    parts = [p for p in name.split("/") if p]
    return "".join(f"job/{quote(p, safe='')}/" for p in parts)


@dataclass(frozen=True)
class LogChunk:
    text: str
    next_start: int  # X-Text-Size: the offset to ask for next
    more: bool  # X-More-Data: the build is still writing


class JenkinsClient:
    """The Jenkins calls runners makes, each turning failures into a JenkinsError."""

    def __init__(self, server: Any, user: str | None = None, token_env: str | None = None) -> None:
        self._server = server
        self.url: str = server.server
        self.user = user
        self.token_env = token_env

    # -- jobs -------------------------------------------------------------

    def job_config(self, name: str) -> str | None:
        """The job's config.xml, or None when there is no such job."""
        import jenkins

        with self._call("read the configuration of", f"job {name}"):
            try:
                return str(self._server.get_job_config(name))
            except jenkins.NotFoundException:
                return None

    def create_job(self, name: str, config_xml: str) -> None:
        with self._call("create", f"job {name}"):
            self._server.create_job(name, config_xml)

    def reconfig_job(self, name: str, config_xml: str) -> None:
        with self._call("reconfigure", f"job {name}"):
            self._server.reconfig_job(name, config_xml)

    def job_info(self, name: str) -> dict[str, Any]:
        with self._call("read", f"job {name}"):
            return dict(self._server.get_job_info(name))

    def list_jobs(self, folder: str) -> list[dict[str, Any]]:
        """Name, description and class of each item directly inside ``folder`` ("" = top)."""
        url = f"{self.url}{job_path(folder)}api/json?tree=jobs[name,description]"
        with self._call("list the jobs in", f"folder {folder or '/'}"):
            data = json.loads(self._get(url).text)
        return list(data.get("jobs") or [])

    def request_scan(self, name: str) -> None:
        """Ask a multibranch job to scan its repository now (what "Scan Now" does)."""
        url = f"{self.url}{job_path(name)}build?delay=0"
        with self._call("start a scan of", f"job {name}"):
            self._server.jenkins_request(requests.Request("POST", url))

    # -- credentials --------------------------------------------------------

    def credential_ids(self, context: str) -> list[str] | None:
        """The IDs of the credentials stored in a folder ("" = Jenkins' global store).

        None when the item has no credentials store (not a folder, or the
        Folders plugin's credentials property is absent). Every domain is read:
        a pipeline binds a credential by ID whatever its domain.
        """
        import jenkins

        store = "system" if not context else "folder"
        base = f"{self.url}{job_path(context)}credentials/store/{store}/"
        subject = f"the credentials of {context or 'Jenkins (global)'}"
        with self._call("read", subject):
            try:
                domains = json.loads(self._get(f"{base}api/json?tree=domains[urlName]").text)
            except jenkins.NotFoundException:
                return None
            ids: list[str] = []
            for domain in sorted(domains.get("domains") or {}):
                url = f"{base}domain/{quote(domain, safe='')}/api/json?tree=credentials[id]"
                listed = json.loads(self._get(url).text)
                ids.extend(str(c.get("id")) for c in listed.get("credentials") or [])
        return ids

    # -- builds -----------------------------------------------------------

    def queue_build(self, name: str, params: list[tuple[str, str]], parameterized: bool) -> int:
        """Queue a build; return the queue item number from the ``Location`` header.

        A parameterized job is always queued through ``buildWithParameters``,
        so that with no ``-p`` it runs with its defaults (plain ``build``
        answers 400 for such a job).
        """
        url = self._server.build_job_url(name, params or None)
        if parameterized and not params:
            url = url[: -len("build")] + "buildWithParameters"
        with self._call("start a build of", f"job {name}"):
            response = self._server.jenkins_request(requests.Request("POST", url))
        location = response.headers.get("Location", "")
        number = location.rstrip("/").rsplit("/", 1)[-1]
        if "/queue/item/" not in location or not number.isdigit():
            raise JenkinsError(
                f"jenkins: starting {name} returned no queue item (Location: {location or 'none'})"
            )
        return int(number)

    def queue_item(self, number: int) -> dict[str, Any]:
        with self._call("read", f"queue item {number}"):
            return dict(self._server.get_queue_item(number))

    def build_info(self, name: str, number: int) -> dict[str, Any]:
        with self._call("read", f"build {name} #{number}"):
            return dict(self._server.get_build_info(name, number))

    def build_at(self, build_url: str) -> buildcheck.BuildRecord | None:
        """The build at ``build_url`` (one on this Jenkins), or None when Jenkins has no such build."""
        where = buildcheck.locate(build_url, self.url)
        if where is None:  # the token goes to this Jenkins only
            raise JenkinsError(f"jenkins: {build_url} is not a build URL on {self.url}")
        job, number = where
        url = f"{self.url}{job_path(job)}{number}/"
        try:
            with self._call("read", f"build {job} #{number}"):
                text = self._get(f"{url}api/json?tree={buildcheck.TREE}").text
        except JenkinsNotFound:
            return None
        try:
            return buildcheck.parse(url, job, json.loads(text))
        except (ValueError, RecursionError):
            raise JenkinsError(f"jenkins: {url}api/json is not a build's JSON") from None

    def progressive_text(self, name: str, number: int, start: int) -> LogChunk:
        """The console from byte ``start`` on, as Jenkins' log streaming API serves it."""
        url = f"{self.url}{job_path(name)}{number}/logText/progressiveText?start={start}"
        with self._call("read the console of", f"build {name} #{number}"):
            response = self._get(url)
        size = response.headers.get("X-Text-Size", "")
        return LogChunk(
            text=response.content.decode("utf-8", errors="replace"),
            next_start=int(size) if size.isdigit() else start + len(response.content),
            more=response.headers.get("X-More-Data", "").lower() == "true",
        )

    # -- plumbing ---------------------------------------------------------

    def _get(self, url: str) -> requests.Response:
        response: requests.Response = self._server.jenkins_request(
            requests.Request("GET", url), add_crumb=False
        )
        return response

    @contextlib.contextmanager
    def _call(self, action: str, subject: str) -> Iterator[None]:
        import jenkins

        try:
            yield
        except JenkinsError:
            raise
        except (jenkins.JenkinsException, requests.RequestException, OSError) as exc:
            raise self._translate(exc, action, subject) from None

    def _translate(self, exc: BaseException, action: str, subject: str) -> JenkinsError:
        chain = list(_chain(exc))
        status = _status(chain)
        who = f"user {self.user!r}" if self.user else "anonymous"
        if status == 401:
            hint = f" in ${self.token_env}" if self.token_env else ""
            return JenkinsUnauthorized(
                f"jenkins: {self.url} rejected {who}: wrong user name or API token{hint} (HTTP 401)"
            )
        if status == 403:
            return JenkinsForbidden(
                f"jenkins: {who} may not {action} {subject} (HTTP 403: a permission is missing)"
            )
        if status == 404:
            return JenkinsNotFound(f"jenkins: {subject} not found at {self.url} (HTTP 404)")
        if status is not None:
            return JenkinsError(f"jenkins: could not {action} {subject}: HTTP {status}")
        reason = _unreachable_reason(chain)
        if reason:
            return JenkinsUnreachable(f"jenkins: cannot reach {self.url}: {reason}")
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return JenkinsError(f"jenkins: could not {action} {subject}: {first}")


def connect(
    settings: JenkinsSettings, config_path: Path, environ: Mapping[str, str]
) -> JenkinsClient:
    """A client for the configured Jenkins, authenticated with the user's API token.

    An API token needs no CSRF crumb (Jenkins 2.96 and later exempt token
    requests); python-jenkins still asks for one once and sends it, which is
    harmless, so crumb errors behind a proxy cannot happen.
    """
    import jenkins

    if not settings.url:
        raise ConfigError(config_path, "jenkins.url", "is required to reach Jenkins")
    if not settings.user:
        raise ConfigError(
            config_path, "jenkins.user", "is required: the Jenkins user the API token belongs to"
        )
    token = environ.get(settings.token_env, "")
    if not token:
        raise UsageError(
            f"${settings.token_env} is not set: export the API token of Jenkins user "
            f"{settings.user!r} in it ({config_path}: jenkins.token_env names the variable)"
        )
    server = jenkins.Jenkins(
        settings.url, username=settings.user, password=token, timeout=settings.request_timeout
    )
    return JenkinsClient(server, user=settings.user, token_env=settings.token_env)


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """The exception, its causes and contexts, and urllib3's ``reason`` wrappers."""
    seen: set[int] = set()
    todo: list[BaseException] = [exc]
    while todo:
        current = todo.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        for nxt in (current.__cause__, current.__context__, getattr(current, "reason", None)):
            if isinstance(nxt, BaseException):
                todo.append(nxt)
        todo.extend(arg for arg in current.args if isinstance(arg, BaseException))


def _status(chain: list[BaseException]) -> int | None:
    import jenkins

    for exc in chain:
        response = getattr(exc, "response", None)
        if isinstance(exc, requests.HTTPError) and response is not None:
            return int(response.status_code)
    if any(isinstance(e, jenkins.NotFoundException) for e in chain):
        return 404
    return None


def _unreachable_reason(chain: list[BaseException]) -> str | None:
    import jenkins

    kinds = tuple(chain)
    if any(
        isinstance(e, requests.Timeout | jenkins.TimeoutException | TimeoutError) for e in kinds
    ):
        return "no answer in time (jenkins.request_timeout)"
    if any(isinstance(e, ssl.SSLError | requests.exceptions.SSLError) for e in kinds):
        return "TLS handshake failed (certificate or protocol)"
    if any(isinstance(e, ConnectionRefusedError) for e in kinds):
        return "connection refused (is Jenkins running, and is jenkins.url right?)"
    if any(isinstance(e, socket.gaierror) for e in kinds):
        return "the host name does not resolve"
    if any(isinstance(e, requests.ConnectionError | ConnectionError) for e in kinds):
        return "the connection failed"
    return None
