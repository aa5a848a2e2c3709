"""``runners jobs sync``: the utility server's Jenkins jobs, made from runners.toml, in two zones.

The merge-request zone is a folder holding the multibranch job: it plans each
merge request with the plan-only keys and posts the report. The production
zone is another folder: the production job (plan, approval, apply), the
backup, on-demand backup, verify-restore and ship-s3 jobs, one drift job per
stack, the weekly DR rehearsal (dr-prepare) and the DR job. Each job is a jinja2 XML template of the runners library
(``pipelines/jobs/``); a production-zone job carries its pipeline inline, the
library's ``pipelines/*.Jenkinsfile`` with the client's values written in
(runners.jenkins.library), and its schedule in its properties.

Sync is plan-then-act: read every job, decide (create, update, unchanged,
refused), print, and only then write. A job without runners' marker is never
written; a job runners made that the config no longer names is reported and
left alone. Nothing is ever deleted. ``runners.jenkins.zonecheck`` reads the
same jobs and reports what deviates from the zones.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import jinja2

from runners.config import Config
from runners.errors import ConfigError, UsageError
from runners.jenkins import jobxml, library
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
MERGE_REQUEST_ZONE = "merge-request"
PRODUCTION_ZONE = "production"
PRODUCTION_JOB = "terraform"
# The multibranch job scans daily, as a backstop for a webhook that never came.
SCAN_SPEC = "H H * * *"
SCAN_INTERVAL_MS = 86_400_000

FOLDER_DESCRIPTIONS = {
    None: "Jobs for this client's infrastructure, made by runners jobs sync.",
    MERGE_REQUEST_ZONE: (
        "Merge-request zone: plans merge requests with the plan-only AWS keys. Credentials "
        "here: runners-aws-plan, runners-mr-token and the checkout credential, nothing else."
    ),
    PRODUCTION_ZONE: (
        "Production zone: plan, approval and apply; backups, drift, disaster recovery. The "
        "write, backup and signing credentials live here and nowhere else; runners-apply agents."
    ),
}


@dataclass(frozen=True)
class JobSpec:
    name: str  # relative to the configured folder; "/a/b" is from the root
    template: str
    context: dict[str, Any] = field(default_factory=dict)
    folder: bool = False
    zone: str | None = None  # MERGE_REQUEST_ZONE, PRODUCTION_ZONE, or None (the client folder)
    pipeline: str | None = None  # a production job's Jenkinsfile in the library
    schedule: str | None = None  # cron spec carried in the job


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
    """Every job the config asks for, each folder before what it holds."""
    settings = cfg.jenkins
    repo = settings.repository
    if repo is None:
        raise ConfigError(
            cfg.path, "jenkins.repository", "is required: the repository the jobs check out"
        )
    env = cfg.environments.get(settings.environment or "")
    if env is None:
        raise ConfigError(
            cfg.path,
            "jenkins.environment",
            "is required: the environment the production zone works on "
            "(no environment is named production)",
        )
    specs: list[JobSpec] = []
    if settings.folder:
        parts = settings.folder.split("/")
        for depth in range(1, len(parts) + 1):
            specs.append(JobSpec("/" + "/".join(parts[:depth]), FOLDER_TEMPLATE, folder=True))
    # Plain git has no merge requests to plan, so no merge-request zone.
    if repo.platform != "git":
        mr = settings.merge_request_folder
        specs.append(JobSpec(mr, FOLDER_TEMPLATE, folder=True, zone=MERGE_REQUEST_ZONE))
        specs.append(
            JobSpec(
                f"{mr}/{settings.multibranch_job}", "multibranch.xml.j2", zone=MERGE_REQUEST_ZONE
            )
        )
    specs.extend(_production(cfg))
    return specs


def _production(cfg: Config) -> list[JobSpec]:
    settings = cfg.jenkins
    prod, when = settings.production_folder, settings.schedules

    def job(
        name: str, template: str, pipeline: str, schedule: str | None = None, **context: Any
    ) -> JobSpec:
        return JobSpec(
            f"{prod}/{name}",
            template,
            context,
            zone=PRODUCTION_ZONE,
            pipeline=pipeline,
            schedule=schedule,
        )

    specs = [JobSpec(prod, FOLDER_TEMPLATE, folder=True, zone=PRODUCTION_ZONE)]
    specs.append(
        job(
            PRODUCTION_JOB,
            "production.xml.j2",
            "production.Jenkinsfile",
            trigger_name=f"{prod}/{PRODUCTION_JOB}",
        )
    )
    for policy in settings.backup_policies:
        specs.append(
            job(
                f"backup-{policy}",
                "backup.xml.j2",
                "backup.Jenkinsfile",
                when.backup,
                policy=policy,
            )
        )
    if settings.backup_policies:
        specs.append(
            job(
                "on-demand-backup",
                "on-demand-backup.xml.j2",
                "on-demand-backup.Jenkinsfile",
                policies=list(settings.backup_policies),
            )
        )
    verify = settings.verify_restore_policies
    for policy in settings.backup_policies if verify is None else verify:
        specs.append(
            job(
                f"verify-restore-{policy}",
                "verify-restore.xml.j2",
                "verify-restore.Jenkinsfile",
                when.verify_restore,
                policy=policy,
            )
        )
    ship = settings.ship_s3_policies
    for policy in sorted(cfg.dr.s3) if ship is None else ship:
        if policy not in cfg.dr.s3:
            raise ConfigError(
                cfg.path, "jenkins.ship_s3_policies", f"{policy!r} has no [dr.s3.{policy}] section"
            )
        specs.append(
            job(
                f"ship-s3-{policy}",
                "ship-s3.xml.j2",
                "ship-s3.Jenkinsfile",
                when.ship_s3,
                policy=policy,
            )
        )
    for stack in settings.drift_stacks:
        specs.append(
            job(f"drift-{stack}", "drift.xml.j2", "drift.Jenkinsfile", when.drift, stack=stack)
        )
    env = cfg.environments[settings.environment or ""]
    rehearsed = [n for n in cfg.dr.stacks if env.name in cfg.stacks[n].environments]
    if rehearsed and env.backup_region:
        # The weekly rehearsal of dr prepare: what a rebuild could not map, seen in time.
        specs.append(
            job(
                "dr-prepare",
                "dr-prepare.xml.j2",
                "dr-prepare.Jenkinsfile",
                when.dr_prepare,
                to_region=env.backup_region,
            )
        )
    if settings.dr_job:
        deployed = [s.name for s in cfg.stacks.values() if env.name in s.environments]
        specs.append(
            job(
                "dr",
                "dr.xml.j2",
                "dr.Jenkinsfile",
                stacks=deployed,
                to_region=env.backup_region or "",
            )
        )
    return specs


def client_values(cfg: Config) -> library.ClientValues:
    settings = cfg.jenkins
    repo = settings.repository
    if repo is None or settings.environment is None:
        raise ConfigError(cfg.path, "jenkins", "has no repository or environment for the jobs")
    needs_mr_token = any(e.require_mr_approvals for e in cfg.environments.values())
    return library.ClientValues(
        repository=repo.url,
        branch=repo.branch,
        git_credentials=repo.credentials_id or "",
        environment=settings.environment,
        jenkins_token_env=settings.token_env,
        mr_token_env=settings.comments.token_env if needs_mr_token else "",
    )


def render_all(cfg: Config, specs: list[JobSpec]) -> list[Rendered]:
    settings = cfg.jenkins
    if settings.repository is None:
        raise ConfigError(cfg.path, "jenkins.repository", "is required to render the jobs")
    templates = library.templates_dir()
    loader = jinja2.Environment(
        loader=jinja2.FileSystemLoader(templates),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )
    owner, project = settings.repository.owner_and_name
    values = client_values(cfg)
    common = {
        "repository": settings.repository,
        "repo_owner": owner,
        "repo_name": project,
        "environment": settings.environment,
        "environments": sorted(cfg.environments, key=lambda n: n != settings.environment),
        "scan_spec": SCAN_SPEC,
        "scan_interval_ms": SCAN_INTERVAL_MS,
    }
    out = []
    for spec in specs:
        full = spec.name.strip("/") if spec.name.startswith("/") else settings.full_name(spec.name)
        try:
            template = loader.get_template(spec.template)
        except jinja2.TemplateNotFound:
            raise UsageError(f"{templates}: no template {spec.template} in runners") from None
        context = {
            **common,
            **spec.context,
            "name": full.rsplit("/", 1)[-1],
            "folder_description": FOLDER_DESCRIPTIONS[spec.zone],
            "schedule": spec.schedule,
            "script": library.pipeline_script(spec.pipeline, values) if spec.pipeline else "",
        }
        bare = template.render(**context, marker=jobxml.MARKER)
        xml = jobxml.stamp(bare, jobxml.fingerprint(bare))
        jobxml.parse(xml, f"{templates / spec.template}")
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
    edited = jobxml.essentials_differ(current, want)
    if owner.fingerprint == jobxml.ownership(want).fingerprint and not edited:
        return Action(name, "unchanged")
    merged = jobxml.merge(current, want)
    reason = f"restores its {', '.join(edited)} (changed in Jenkins)" if edited else ""
    return Action(
        name,
        "update",
        reason,
        xml=jobxml.to_text(merged),
        diff=jobxml.diff(jobxml.canonical(current), jobxml.canonical(merged), name),
    )


def live_configs(
    client: JenkinsClient, rendered: list[Rendered]
) -> Iterator[tuple[Rendered, str | None, JenkinsError | None]]:
    """Each job with its live config (None when absent), or the error reading it."""
    for item in rendered:
        try:
            yield item, client.job_config(item.full_name), None
        except FATAL:
            raise
        except JenkinsError as exc:
            yield item, None, exc


def plan(client: JenkinsClient, rendered: list[Rendered], folders: list[str]) -> list[Action]:
    """Decide every job; then report runners' jobs in ``folders`` the config no longer names."""
    actions: list[Action] = []
    for item, live, error in live_configs(client, rendered):
        if error is not None:
            actions.append(Action(item.full_name, "failed", str(error)))
        else:
            actions.append(decide(item.full_name, live, item.xml, item.spec.folder))
    created = {a.name for a in actions if a.kind == "create"}
    wanted = {r.full_name for r in rendered}
    for folder in folders:
        if folder not in created:
            actions.extend(stale(client, folder, wanted))
    return actions


def stale(client: JenkinsClient, folder: str, wanted: set[str]) -> list[Action]:
    """runners' jobs in ``folder`` that are not among ``wanted``."""
    out = []
    try:
        jobs = client.list_jobs(folder)
    except FATAL:
        raise
    except JenkinsError:
        return []  # the folder is not there yet: nothing in it can be stale
    for job in jobs:
        full = f"{folder}/{job.get('name')}" if folder else str(job.get("name"))
        if full in wanted or not jobxml.marked(str(job.get("description") or "")):
            continue
        out.append(
            Action(
                full,
                "stale",
                "made by runners but not in runners.toml or outside the zones; left in place "
                "(delete it by hand)",
            )
        )
    return out


def zone_folders(cfg: Config) -> list[str]:
    """The folders runners' jobs live in: the client folder and each zone."""
    settings = cfg.jenkins
    folders = [settings.folder]
    if settings.repository is not None and settings.repository.platform != "git":
        folders.append(settings.merge_request_zone)
    folders.append(settings.production_zone)
    return folders


def apply(
    client: JenkinsClient, actions: list[Action], report: Callable[[Action], None]
) -> list[Action]:
    """Write every create and update, in order; report each; return the outcomes.

    A multibranch job that was just created is asked to scan at once, so its
    merge requests build without waiting for the first daily scan.
    """
    done = []
    for action in actions:
        outcome = action
        try:
            if action.kind == "create" and action.xml is not None:
                client.create_job(action.name, action.xml)
                if jobxml.parse(action.xml, action.name).tag == jobxml.MULTIBRANCH:
                    client.request_scan(action.name)
                    outcome = Action(action.name, "create", "first scan requested")
            elif action.kind == "update" and action.xml is not None:
                client.reconfig_job(action.name, action.xml)
        except FATAL:
            raise
        except JenkinsError as exc:
            outcome = Action(action.name, "failed", str(exc))
        report(outcome)
        done.append(outcome)
    return done
