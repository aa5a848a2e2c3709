"""``runners jobs sync``: the utility server's Jenkins jobs, made from runners.toml.

The jobs are the multibranch job (every merge request, and the production
branch) plus one backup job per policy, the on-demand backup job, one drift
job per stack and the DR job. Each is a jinja2 XML template under
``pipelines/jobs/`` rendered with values from the config; parameters are
declared there, so they exist before the first build.

Sync is plan-then-act: read every job, decide (create, update, unchanged,
refused), print, and only then write. A job without runners' marker is never
written; a job runners made that the config no longer names is reported and
left alone. Nothing is ever deleted.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import jinja2

from runners.config import Config
from runners.errors import ConfigError
from runners.jenkins import jobxml
from runners.jenkins.client import JenkinsClient
from runners.jenkins.errors import (
    JenkinsError,
    JenkinsForbidden,
    JenkinsUnauthorized,
    JenkinsUnreachable,
)

# Setup problems: every job would fail the same way, so the sync stops at the first.
FATAL = (JenkinsUnreachable, JenkinsUnauthorized, JenkinsForbidden)

FOLDER_TEMPLATE = "folder.xml.j2"
FOLDERS = frozenset(
    {
        "com.cloudbees.hudson.plugins.folder.Folder",
        "jenkins.branch.OrganizationFolder",
    }
)


@dataclass(frozen=True)
class JobSpec:
    name: str  # relative to the configured folder
    template: str
    context: dict[str, Any] = field(default_factory=dict)
    folder: bool = False


@dataclass(frozen=True)
class Rendered:
    spec: JobSpec
    full_name: str
    xml: str  # as posted on create, fingerprint stamped in


@dataclass(frozen=True)
class Action:
    name: str
    kind: str  # create | update | unchanged | exists | refused | stale | failed
    reason: str = ""
    xml: str | None = None
    diff: str = ""

    @property
    def writes(self) -> bool:
        return self.kind in ("create", "update")


def catalog(cfg: Config) -> list[JobSpec]:
    """Every job the config asks for, folders first."""
    settings = cfg.jenkins
    repo = settings.repository
    if repo is None:
        raise ConfigError(
            cfg.path, "jenkins.repository", "is required: the repository the jobs check out"
        )
    specs: list[JobSpec] = []
    if settings.folder:
        parts = settings.folder.split("/")
        for depth in range(1, len(parts) + 1):
            specs.append(JobSpec("/" + "/".join(parts[:depth]), FOLDER_TEMPLATE, folder=True))
    specs.append(JobSpec(settings.multibranch_job, "multibranch.xml.j2"))
    env = cfg.environments.get(settings.environment or "")
    for policy in settings.backup_policies:
        specs.append(JobSpec(f"backup-{policy}", "backup.xml.j2", {"policy": policy}))
    if settings.backup_policies:
        specs.append(
            JobSpec(
                "on-demand-backup",
                "on-demand-backup.xml.j2",
                {"policies": list(settings.backup_policies)},
            )
        )
    if (settings.drift_stacks or settings.dr_job) and env is None:
        raise ConfigError(
            cfg.path,
            "jenkins.environment",
            "is required for the drift and DR jobs (no environment is named production)",
        )
    for stack in settings.drift_stacks:
        specs.append(JobSpec(f"drift-{stack}", "drift.xml.j2", {"stack": stack}))
    if settings.dr_job and env is not None:
        deployed = [s.name for s in cfg.stacks.values() if env.name in s.environments]
        specs.append(
            JobSpec("dr", "dr.xml.j2", {"stacks": deployed, "to_region": env.backup_region or ""})
        )
    return specs


def render_all(cfg: Config, specs: list[JobSpec]) -> list[Rendered]:
    settings = cfg.jenkins
    if settings.templates is None or settings.repository is None:
        raise ConfigError(cfg.path, "jenkins", "has no repository or templates to render jobs from")
    loader = jinja2.Environment(
        loader=jinja2.FileSystemLoader(settings.templates),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )
    owner, project = settings.repository.owner_and_name
    common = {
        "repository": settings.repository,
        "repo_owner": owner,
        "repo_name": project,
        "environment": settings.environment,
        "environments": sorted(cfg.environments, key=lambda n: n != settings.environment),
    }
    out = []
    for spec in specs:
        full = spec.name.strip("/") if spec.name.startswith("/") else settings.full_name(spec.name)
        try:
            template = loader.get_template(spec.template)
        except jinja2.TemplateNotFound:
            raise ConfigError(
                cfg.path, "jenkins.templates", f"{settings.templates}: no template {spec.template}"
            ) from None
        context = {**common, **spec.context, "name": full.rsplit("/", 1)[-1]}
        bare = template.render(**context, marker=jobxml.MARKER)
        xml = jobxml.stamp(bare, jobxml.fingerprint(bare))
        jobxml.parse(xml, f"{settings.templates / spec.template}")
        out.append(Rendered(spec, full, xml))
    return out


def decide(name: str, live: str | None, desired: str, folder: bool = False) -> Action:
    """What to do with one job, from its live config (None when absent). Pure."""
    want = jobxml.parse(desired, f"runners:{name}")
    if live is None:
        return Action(
            name, "create", xml=desired, diff=jobxml.diff(None, jobxml.canonical(want), name)
        )
    current = jobxml.parse(live, f"jenkins:{name}")
    if folder:
        if current.tag not in FOLDERS:
            return Action(name, "refused", f"is a <{current.tag}>, not a folder to put the jobs in")
        return Action(name, "exists", "folder exists; runners only creates folders")
    owner = jobxml.ownership(current)
    if not owner.managed:
        return Action(
            name,
            "refused",
            f"exists and was not made by runners (no {jobxml.MARKER} in its description)",
        )
    if current.tag != want.tag:
        return Action(
            name,
            "refused",
            f"is a <{current.tag}>, runners makes a <{want.tag}>: delete it by hand to replace it",
        )
    if owner.fingerprint == jobxml.ownership(want).fingerprint:
        return Action(name, "unchanged")
    merged = jobxml.merge(current, want)
    return Action(
        name,
        "update",
        xml=jobxml.to_text(merged),
        diff=jobxml.diff(jobxml.canonical(current), jobxml.canonical(merged), name),
    )


def plan(client: JenkinsClient, rendered: list[Rendered], folder: str) -> list[Action]:
    actions: list[Action] = []
    for item in rendered:
        try:
            live = client.job_config(item.full_name)
        except FATAL:
            raise
        except JenkinsError as exc:
            actions.append(Action(item.full_name, "failed", str(exc)))
            continue
        actions.append(decide(item.full_name, live, item.xml, item.spec.folder))
    folder_new = any(a.kind == "create" and a.name == folder for a in actions)
    if not folder_new:
        actions.extend(_stale(client, folder, {r.full_name for r in rendered}))
    return actions


def _stale(client: JenkinsClient, folder: str, wanted: set[str]) -> list[Action]:
    out = []
    for job in client.list_jobs(folder):
        full = f"{folder}/{job.get('name')}" if folder else str(job.get("name"))
        if full in wanted or not jobxml.marked(str(job.get("description") or "")):
            continue
        out.append(
            Action(
                full,
                "stale",
                "made by runners but no longer in runners.toml; left in place (delete it by hand)",
            )
        )
    return out


def apply(
    client: JenkinsClient, actions: list[Action], report: Callable[[Action], None]
) -> list[Action]:
    """Write every create and update, in order; report each; return the outcomes."""
    done = []
    for action in actions:
        outcome = action
        try:
            if action.kind == "create" and action.xml is not None:
                client.create_job(action.name, action.xml)
            elif action.kind == "update" and action.xml is not None:
                client.reconfig_job(action.name, action.xml)
        except FATAL:
            raise
        except JenkinsError as exc:
            outcome = Action(action.name, "failed", str(exc))
        report(outcome)
        done.append(outcome)
    return done
