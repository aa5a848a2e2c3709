"""Who started a build and who approved it, as Jenkins itself records them.

The apply reads the build it runs in (``$BUILD_URL``) through Jenkins' REST
API with runners' own token, instead of trusting ``--approved-by`` and
``--build-cause``, which are strings the pipeline passes in. Where Jenkins
keeps these facts, in the JSON of ``<build>/api/json``:

- the causes: Jenkins core exports a run's actions as ``actions``
  (``hudson.model.Actionable#getAllActions``, ``@Exported(name = "actions")``);
  a ``hudson.model.CauseAction`` exports ``causes`` (``getCauses``,
  ``@Exported(visibility = 2)``), and a person's ``hudson.model.Cause$UserIdCause``
  its ``userId`` (``@Exported(visibility = 3)``). A replayed run also carries
  ``org.jenkinsci.plugins.workflow.cps.replay.ReplayCause`` (workflow-cps).
- the approver: the pipeline-input-step plugin, when someone submits an
  ``input`` step, adds to the run an
  ``org.jenkinsci.plugins.workflow.support.steps.input.ApproverAction``
  (``InputStepExecution#proceed``: ``getRun().addAction(new
  ApproverAction(approverId))``), an ``@ExportedBean`` whose ``userId`` is
  ``@Exported`` (``ApproverAction.java``). One per approved ``input``, in the
  order they were approved; the apply follows its stack's ``input`` at once,
  so the last one is its approval.

Nested properties below visibility 1 are pruned from a plain ``api/json``,
so the request names every field it needs with ``tree=``. The token is only
ever sent to the configured Jenkins: a build URL anywhere else is refused
before any request.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

USER_CAUSE = "hudson.model.Cause$UserIdCause"
REPLAY_CAUSE = "org.jenkinsci.plugins.workflow.cps.replay.ReplayCause"
APPROVER_ACTION = "org.jenkinsci.plugins.workflow.support.steps.input.ApproverAction"
CAUSE_ACTION = "hudson.model.CauseAction"
TREE = (
    "number,url,building,result,"
    "actions[_class,userId,causes[_class,userId,userName,shortDescription]]"
)


@dataclass(frozen=True)
class BuildRecord:
    url: str
    job: str  # full name, "folder/terraform/production"
    number: int
    building: bool
    starters: tuple[str, ...]  # userId of each UserIdCause
    causes: tuple[str, ...]  # every cause's class
    approvers: tuple[str, ...]  # userId of each ApproverAction, in order


def locate(build_url: str, jenkins_url: str) -> tuple[str, int] | None:
    """(job full name, build number) of a build URL on this Jenkins; None when it is not one."""
    base, url = urlsplit(jenkins_url), urlsplit(build_url)
    if (url.scheme, url.netloc) != (base.scheme, base.netloc):
        return None
    root = base.path.rstrip("/") + "/"
    if not url.path.startswith(root) or url.query or url.fragment:
        return None
    parts = [p for p in url.path[len(root) :].split("/") if p]
    names: list[str] = []
    while len(parts) >= 2 and parts[0] == "job":
        names.append(unquote(parts[1]))
        parts = parts[2:]
    if not names or len(parts) != 1 or not parts[0].isdigit():
        return None
    return "/".join(names), int(parts[0])


def parse(url: str, job: str, data: Any) -> BuildRecord:
    """The facts of a build's ``api/json``; ValueError when it is not a build's JSON."""
    if not isinstance(data, dict) or not isinstance(data.get("number"), int):
        raise ValueError("not a build")
    starters: list[str] = []
    causes: list[str] = []
    approvers: list[str] = []
    for action in data.get("actions") or []:
        if not isinstance(action, dict):
            continue
        kind = action.get("_class")
        if kind == APPROVER_ACTION and isinstance(action.get("userId"), str):
            approvers.append(action["userId"])
        for cause in action.get("causes") or [] if kind == CAUSE_ACTION else []:
            if not isinstance(cause, dict) or not isinstance(cause.get("_class"), str):
                continue
            causes.append(cause["_class"])
            user = cause.get("userId")
            if cause["_class"] == USER_CAUSE and isinstance(user, str) and user:
                starters.append(user)
    return BuildRecord(
        url=url,
        job=job,
        number=int(data["number"]),
        building=data.get("building") is True,
        starters=tuple(starters),
        causes=tuple(causes),
        approvers=tuple(approvers),
    )


def problems(record: BuildRecord, expected_jobs: tuple[str, ...]) -> list[str]:
    """What makes this build no evidence for this apply."""
    out = []
    if record.job not in expected_jobs:
        out.append(
            f"the build {record.url} is in job {record.job}, not in {' or '.join(expected_jobs)}"
        )
    if not record.building:
        out.append(
            f"the build {record.url} has finished; an apply runs inside the build that approved it"
        )
    if REPLAY_CAUSE in record.causes:
        out.append(f"the build {record.url} is a replay (its pipeline script may have been edited)")
    return out
