"""``runners jobs sync --check``: what in the live Jenkins deviates from the two zones.

It reads what the Jenkins API shows and nothing is written: each job's
config (a production job's pipeline must be runners' pinned, sandboxed one,
each schedule where runners put it, the merge-request job discovering only
origin merge requests), the credentials stores a job outside the production
folder can resolve (a production-only credential there is visible to the
merge-request zone), and runners' jobs left outside the zones. Who holds
Configure or Replay, agents and branch protection are not in that API.
"""

from __future__ import annotations

from dataclasses import dataclass

from runners.config import Config
from runners.jenkins import jobs, jobxml
from runners.jenkins.client import JenkinsClient
from runners.jenkins.errors import (
    JenkinsError,
    JenkinsUnauthorized,
    JenkinsUnreachable,
)
from runners.jenkins.settings import PRODUCTION_ONLY_CREDENTIALS


@dataclass(frozen=True)
class Deviation:
    where: str
    what: str


def check(cfg: Config, client: JenkinsClient, rendered: list[jobs.Rendered]) -> list[Deviation]:
    """What in the live Jenkins deviates from the zones, as far as its API shows it."""
    found: list[Deviation] = []
    for item, live, error in jobs.live_configs(client, rendered):
        if error is not None:
            found.append(Deviation(item.full_name, f"cannot be read ({error})"))
        else:
            found.extend(job_deviations(item, live))
    found.extend(credential_deviations(cfg, client))
    wanted = {r.full_name for r in rendered}
    for folder in jobs.zone_folders(cfg):
        found.extend(
            Deviation(a.name, "made by runners but not part of the zones: " + a.reason)
            for a in jobs.stale(client, folder, wanted)
        )
    return found


def job_deviations(item: jobs.Rendered, live: str | None) -> list[Deviation]:
    """How one live job differs from what runners renders for it, in what matters. Pure."""
    name = item.full_name
    if live is None:
        return [Deviation(name, "missing: run runners jobs sync")]
    current = jobxml.parse(live, f"jenkins:{name}")
    if item.spec.folder:
        if current.tag not in jobs.FOLDERS:
            return [Deviation(name, f"is a <{current.tag}>, not a folder")]
        return []
    if not jobxml.ownership(current).managed:
        return [Deviation(name, "not made by runners (no [runners:managed] in its description)")]
    have = jobxml.essentials(current)
    want = jobxml.essentials(jobxml.parse(item.xml, f"runners:{name}"))
    out = []
    if item.spec.zone == jobs.PRODUCTION_ZONE:
        if have.get("definition") != jobxml.INLINE_DEFINITION:
            source = have.get("scm") or have.get("definition") or "no definition"
            out.append(
                Deviation(
                    name,
                    f"defined from {source}, not runners' pinned pipeline "
                    f"pipelines/{item.spec.pipeline}",
                )
            )
        elif have.get("script") != want.get("script"):
            out.append(
                Deviation(
                    name,
                    f"its pipeline differs from runners' pipelines/{item.spec.pipeline} (edited in "
                    "Jenkins, or runners was upgraded since the last sync)",
                )
            )
        if have.get("definition") == jobxml.INLINE_DEFINITION and have.get("sandbox") != "true":
            out.append(Deviation(name, "its pipeline runs outside the Groovy sandbox"))
    if have.get("schedule") != want.get("schedule"):
        expected = want.get("schedule")
        out.append(
            Deviation(
                name,
                f"schedule {have.get('schedule') or 'missing'}; expected {expected}"
                if expected
                else f"has a schedule ({have['schedule']}) it should not",
            )
        )
    if "discovery" in want:
        if have.get("discovery") != want["discovery"]:
            out.append(
                Deviation(
                    name,
                    f"discovers with {have.get('discovery') or 'nothing'}; expected only "
                    f"{want['discovery']} (merge requests from the origin, no branches, no forks)",
                )
            )
        if have.get("scan") != want.get("scan"):
            out.append(
                Deviation(
                    name,
                    f"periodic scan {have.get('scan') or 'missing'}; expected every "
                    f"{jobs.SCAN_INTERVAL_MS // 3_600_000} hours",
                )
            )
        if have.get("script_path") != want.get("script_path"):
            out.append(Deviation(name, f"runs {have.get('script_path')}, not Jenkinsfile"))
    return out


def exposed_contexts(cfg: Config) -> list[str]:
    """Every credentials store a job outside the production folder can read, "" = global.

    Jenkins resolves a credential ID from the job's own folders up to the root,
    so the merge-request zone sees its folder, the multibranch job, every
    folder above, and the global store.
    """
    settings = cfg.jenkins
    contexts = [""]
    parts = settings.folder.split("/") if settings.folder else []
    contexts.extend("/".join(parts[: i + 1]) for i in range(len(parts)))
    if settings.repository is not None and settings.repository.platform != "git":
        contexts.append(settings.merge_request_zone)
        contexts.append(f"{settings.merge_request_zone}/{settings.multibranch_job}")
    return contexts


def credential_deviations(cfg: Config, client: JenkinsClient) -> list[Deviation]:
    out = []
    for context in exposed_contexts(cfg):
        where = context or "Jenkins (global credentials)"
        try:
            ids = client.credential_ids(context)
        except (JenkinsUnreachable, JenkinsUnauthorized):
            raise
        except JenkinsError as exc:  # a 403 included: never pass over what was not read
            out.append(
                Deviation(where, f"credentials cannot be read ({exc}); grant Credentials/View")
            )
            continue
        for cred in sorted(set(ids or ()) & PRODUCTION_ONLY_CREDENTIALS):
            out.append(
                Deviation(
                    where,
                    f"holds credential {cred}, which is then visible outside the production "
                    f"folder {cfg.jenkins.production_zone} (to the merge-request zone too)",
                )
            )
    return out
