"""``runners trigger JOB``: start a build by hand and, with ``--follow``, watch it to the end.

Following goes the way Jenkins documents it: the ``Location`` of the build
request is a queue item; the queue item gets an ``executable`` (the build's
number and URL) when an executor takes it, or ``cancelled`` when someone
cancels it, and says ``why`` it waits meanwhile. The build number is never
guessed from ``nextBuildNumber``: another build can take that number first.
The console is streamed through ``logText/progressiveText``, asking from the
``X-Text-Size`` offset until ``X-More-Data`` disappears.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from runners import log
from runners.errors import UsageError
from runners.jenkins.client import JenkinsClient


class BuildExit:
    SUCCESS = 0
    FAILURE = 1
    UNSTABLE = 5
    ABORTED = 6  # also: cancelled while still in the queue
    NOT_BUILT = 7


RESULT_EXIT = {
    "SUCCESS": BuildExit.SUCCESS,
    "FAILURE": BuildExit.FAILURE,
    "UNSTABLE": BuildExit.UNSTABLE,
    "ABORTED": BuildExit.ABORTED,
    "NOT_BUILT": BuildExit.NOT_BUILT,
}

_CONTAINERS = ("Folder", "MultiBranchProject", "OrganizationFolder")


@dataclass(frozen=True)
class Build:
    number: int
    url: str


def parse_params(items: Iterable[str]) -> list[tuple[str, str]]:
    """``KEY=VALUE`` strings into pairs; a repeated key is kept (multi-value parameters)."""
    out = []
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"-p {item!r}: expected KEY=VALUE")
        out.append((key.strip(), value))
    return out


def declared_parameters(info: dict[str, Any]) -> list[str]:
    names = []
    for prop in info.get("property") or []:
        for definition in prop.get("parameterDefinitions") or []:
            names.append(str(definition.get("name")))
    return names


def _suggest(job: str, info: dict[str, Any]) -> str:
    """Jobs that exist in the container, as ``runners trigger`` takes them.

    Jenkins names a multibranch job's branch jobs with ``/`` encoded
    (``feature%2Fdns`` for branch ``feature/dns``); the name is given as the
    API lists it, which is what the job's URL is built from.
    """
    names = [str(child.get("name")) for child in info.get("jobs") or [] if child.get("name")]
    if not names:
        return "it holds no job yet (a multibranch job gets one per branch or merge request after a scan)"
    shown = ", ".join(f"{job}/{name}" for name in names[:5])
    more = f" and {len(names) - 5} more" if len(names) > 5 else ""
    return f"trigger a job in it: {shown}{more}"


def start(client: JenkinsClient, job: str, params: list[tuple[str, str]]) -> int:
    """Queue a build of ``job`` after checking it can take these parameters."""
    info = client.job_info(job)
    kind = str(info.get("_class", ""))
    if any(c in kind for c in _CONTAINERS) or "jobs" in info:
        raise UsageError(f"{job} is a folder or multibranch project: {_suggest(job, info)}")
    if info.get("buildable") is False:
        raise UsageError(f"{job} is disabled in Jenkins: enable it first")
    declared = declared_parameters(info)
    unknown = sorted({k for k, _ in params} - set(declared))
    if unknown:
        known = ", ".join(declared) or "none"
        raise UsageError(f"{job} has no parameter {', '.join(unknown)} (it declares: {known})")
    return client.queue_build(job, params, parameterized=bool(declared))


def wait_for_build(
    client: JenkinsClient, number: int, pause: Callable[[], None], say: Callable[[str], None]
) -> Build | None:
    """Poll the queue item until it has a build (returned) or was cancelled (None)."""
    last_why = None
    while True:
        item = client.queue_item(number)
        executable = item.get("executable")
        if executable:
            return Build(int(executable["number"]), str(executable.get("url", "")))
        if item.get("cancelled"):
            return None
        why = item.get("why")
        if why and why != last_why:
            say(f"queue item {number} waiting: {why}")
            last_why = why
        pause()


def stream_console(
    client: JenkinsClient,
    job: str,
    build: Build,
    write: Callable[[str], None],
    pause: Callable[[], None],
) -> None:
    start_at = 0
    while True:
        chunk = client.progressive_text(job, build.number, start_at)
        if chunk.text:
            write(chunk.text)
        start_at = chunk.next_start
        if not chunk.more:
            return
        pause()


def wait_for_result(
    client: JenkinsClient, job: str, build: Build, pause: Callable[[], None]
) -> str:
    """The result, once Jenkins has recorded it (a moment after the log ends)."""
    while True:
        info = client.build_info(job, build.number)
        if not info.get("building") and info.get("result"):
            return str(info["result"])
        pause()


def run(
    client: JenkinsClient,
    job: str,
    params: list[tuple[str, str]],
    follow: bool,
    poll_seconds: float,
    write: Callable[[str], None],
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    def pause() -> None:
        sleep(poll_seconds)

    number = start(client, job, params)
    queue_url = f"{client.url}queue/item/{number}/"
    log.step(f"queued {job}: queue item {number} ({queue_url})")
    if not follow:
        return BuildExit.SUCCESS
    build = None
    try:
        build = wait_for_build(client, number, pause, log.step)
        if build is None:
            log.step(
                f"queue item {number} was cancelled before it started: exit {BuildExit.ABORTED}"
            )
            return BuildExit.ABORTED
        log.step(f"build {job} #{build.number} started: {build.url}")
        stream_console(client, job, build, write, pause)
        result = wait_for_result(client, job, build, pause)
    except KeyboardInterrupt:
        where = (
            f"build #{build.number} goes on at {build.url}"
            if build
            else f"queue item {number} is still queued"
        )
        log.warn(f"stopped following; {where}")
        raise
    code = RESULT_EXIT.get(result, BuildExit.FAILURE)
    log.step(f"build {job} #{build.number} finished: {result}: exit {code}")
    return code
