"""The two zones, read from the job XML ``runners jobs sync`` sent to the Jenkins REST double.

Merge-request code may edit the repository's Jenkinsfile, so the merge-request
zone must hold nothing that can change the account; the production zone's
jobs must run runners' own pipelines, pinned, never a branch's. These tests
sync a client into the double, then read back what Jenkins stored.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from runners.jenkins import jobxml, library
from runners.jenkins.settings import (
    MERGE_REQUEST_CREDENTIALS,
    PRODUCTION_ONLY_CREDENTIALS,
)
from tests.conftest import run_cli
from tests.groovy_scan import Source, runners_invocations, sh_steps
from tests.jenkins_double import JenkinsDouble
from tests.jenkins_support import (
    JOBS,
    MERGE_REQUEST_ZONE,
    PRODUCTION_ZONE,
    token_env,
    write_config,
)

ROOT = Path(__file__).parent.parent
# Commands that change the account or delete backups: never in the merge-request zone.
PRODUCTION_COMMANDS = {"apply", "backup", "prune", "ship", "ship-s3", "verify-restore", "unlock"}
GIT_CREDENTIALS = "acme-infra-git"  # tests/jenkins_support.py's checkout credential
SCHEDULES = {
    "backup-daily": "H 2 * * *",
    "verify-restore-daily": "H 4 * * *",
    "dr-prepare": "H 6 * * 1",
    "drift-app": "H 5 * * *",
    "drift-network": "H 5 * * *",
}


def pipeline_of(job: str) -> str:
    """The library Jenkinsfile a production-zone job runs, by the job's name."""
    short = job.rsplit("/", 1)[-1]
    if short == "terraform":
        return "production.Jenkinsfile"
    for prefix in ("backup", "verify-restore", "ship-s3", "drift"):
        if short.startswith(f"{prefix}-"):
            return f"{prefix}.Jenkinsfile"
    return f"{short}.Jenkinsfile"


@pytest.fixture
def synced(jenkins_double: JenkinsDouble, tmp_path: Path) -> JenkinsDouble:
    cfg = write_config(tmp_path, jenkins_double.url)
    result = run_cli("jobs", "sync", "--config", str(cfg), env=token_env(jenkins_double))
    assert result.returncode == 0, result.stderr
    assert set(jenkins_double.items) == set(JOBS)
    return jenkins_double


def stored(double: JenkinsDouble, zone: str) -> dict[str, ET.Element]:
    return {
        name: jobxml.parse(item.config, name)
        for name, item in double.items.items()
        if name.startswith(f"{zone}/")
    }


def what_runs(root: ET.Element) -> str:
    """The Groovy a job runs: its inline script, or the library file its multibranch names."""
    script = root.findtext("definition/script")
    if script is not None:
        return script
    path = root.findtext("factory/scriptPath")
    assert path == "Jenkinsfile", path
    return (ROOT / path).read_text()


def commands(groovy: str) -> set[str]:
    return {
        argv[0] for step in sh_steps(Source(groovy)) for argv in runners_invocations(step.script)
    }


def test_no_job_in_the_merge_request_zone_can_apply_back_up_or_prune(synced: JenkinsDouble) -> None:
    jobs = stored(synced, MERGE_REQUEST_ZONE)
    assert list(jobs) == [f"{MERGE_REQUEST_ZONE}/terraform"]
    for name, root in jobs.items():
        assert root.tag == jobxml.MULTIBRANCH, name
        runs = commands(what_runs(root))
        assert runs == {"affected", "plan", "comment"}, (name, runs)
        assert not runs & PRODUCTION_COMMANDS


def test_nothing_the_merge_request_zone_runs_names_a_production_credential(
    synced: JenkinsDouble,
) -> None:
    for name, root in stored(synced, MERGE_REQUEST_ZONE).items():
        text = synced.config(name) + what_runs(root)
        for credential in PRODUCTION_ONLY_CREDENTIALS:
            assert credential not in text, (name, credential)
        named = set(re.findall(r"credentialsId: '([^']+)'", what_runs(root)))
        named |= {e.text or "" for e in root.iter("credentialsId")}
        assert named <= MERGE_REQUEST_CREDENTIALS | {GIT_CREDENTIALS}, named
    # ...while the production zone's pipelines do bind them, so the check above has teeth.
    production = "".join(what_runs(r) for r in stored(synced, PRODUCTION_ZONE).values())
    assert all(c in production for c in PRODUCTION_ONLY_CREDENTIALS)


def test_the_merge_request_job_discovers_only_merge_requests_from_the_origin(
    synced: JenkinsDouble,
) -> None:
    root = stored(synced, MERGE_REQUEST_ZONE)[f"{MERGE_REQUEST_ZONE}/terraform"]
    traits = [t.tag.rsplit(".", 1)[-1] for t in root.iter() if t.tag.endswith("Trait")]
    assert sorted(traits) == [
        "OriginMergeRequestDiscoveryTrait",
        "RefSpecsSCMSourceTrait",
        "WildcardSCMHeadFilterTrait",
    ]
    assert root.findtext(".//includes") == "MR-*"


def test_every_production_job_runs_runners_pinned_pipeline(synced: JenkinsDouble) -> None:
    values = library.ClientValues(
        "https://gitlab.acme.test/acme/infra.git", "production", GIT_CREDENTIALS, "production"
    )
    jobs = {n: r for n, r in stored(synced, PRODUCTION_ZONE).items() if r.tag == "flow-definition"}
    assert len(jobs) == len(JOBS) - 4  # all but the three folders and the merge-request job
    for name, root in jobs.items():
        definition = root.find("definition")
        assert definition is not None, name
        assert definition.get("class") == jobxml.INLINE_DEFINITION, name
        assert definition.findtext("sandbox") == "true", name
        assert not [e.tag for e in root.iter() if e.tag in ("scm", "scriptPath", "branches")], name
        script = definition.findtext("script")
        assert script == library.pipeline_script(pipeline_of(name), values), name
        # The client's values are in, the library's placeholders are gone.
        assert "repository: 'https://gitlab.acme.test/acme/infra.git'" in script
        assert "repository: ''" not in script
        assert set(re.findall(r"label '([^']+)'|node\('([^']+)'\)", script)) <= {
            ("runners-apply", ""),
            ("", "runners-apply"),
        }


def test_every_schedule_is_in_the_job_configuration(synced: JenkinsDouble) -> None:
    for name, root in stored(synced, PRODUCTION_ZONE).items():
        specs = [s.text for s in root.findall(f"properties/{jobxml.SCHEDULE_PROPERTY}//spec")]
        expected = SCHEDULES.get(name.rsplit("/", 1)[-1])
        assert specs == ([expected] if expected else []), name
    mr = stored(synced, MERGE_REQUEST_ZONE)[f"{MERGE_REQUEST_ZONE}/terraform"]
    assert mr.findtext(f"triggers/{jobxml.SCAN_TRIGGER}/interval") == "86400000"
    # A Declarative triggers {} would only take effect after a first build: none is left.
    for path in [ROOT / "Jenkinsfile", *(ROOT / "pipelines").glob("*.Jenkinsfile")]:
        assert not Source(path.read_text()).blocks("triggers"), path.name


def test_schedules_come_from_the_config(jenkins_double: JenkinsDouble, tmp_path: Path) -> None:
    cfg = write_config(
        tmp_path, jenkins_double.url, extra='[jenkins.schedules]\nbackup = "H 1 * * *"\n'
    )
    assert (
        run_cli("jobs", "sync", "--config", str(cfg), env=token_env(jenkins_double)).returncode == 0
    )
    assert "<spec>H 1 * * *</spec>" in jenkins_double.config(f"{PRODUCTION_ZONE}/backup-daily")


def test_a_production_credential_for_the_checkout_is_refused_in_one_line(
    jenkins_double: JenkinsDouble, tmp_path: Path
) -> None:
    cfg = write_config(tmp_path, jenkins_double.url)
    cfg.write_text(cfg.read_text().replace('"acme-infra-git"', '"runners-aws-write"'))
    result = run_cli("jobs", "sync", "--config", str(cfg), env=token_env(jenkins_double))
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"error: {cfg}: jenkins.repository.credentials_id: 'runners-aws-write' is a "
        "production-only credential; the checkout credential is used by the merge-request "
        "zone as well: give it its own ID"
    ]
    assert jenkins_double.requests == [], "nothing may reach Jenkins"


def test_plain_git_has_no_merge_request_zone(jenkins_double: JenkinsDouble, tmp_path: Path) -> None:
    cfg = write_config(tmp_path, jenkins_double.url)
    cfg.write_text(cfg.read_text().replace('credentials_id = "acme-infra-git"', 'platform = "git"'))
    result = run_cli("jobs", "sync", "--config", str(cfg), env=token_env(jenkins_double))
    assert result.returncode == 0, result.stderr
    assert not [n for n in jenkins_double.items if n.startswith(MERGE_REQUEST_ZONE)]
    assert f"{PRODUCTION_ZONE}/terraform" in jenkins_double.items


# -- jobs sync --check ------------------------------------------------------------


def check(double: JenkinsDouble, tmp_path: Path, user: str = "runner"):  # type: ignore[no-untyped-def]
    cfg = tmp_path / "runners.toml"
    return run_cli("jobs", "sync", "--check", "--config", str(cfg), env=token_env(double, user))


def deviations(stdout: str) -> list[str]:
    return [line.split(None, 1)[1] for line in stdout.splitlines() if line.startswith("deviation")]


def test_check_of_a_fresh_sync_finds_nothing(synced: JenkinsDouble, tmp_path: Path) -> None:
    before = [r for r in synced.requests if r[0] == "POST"]
    result = check(synced, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines()[-1].startswith("no deviations: 12 jobs and folders")
    assert [r for r in synced.requests if r[0] == "POST"] == before, "--check writes nothing"


@pytest.mark.parametrize(
    ("context", "where"),
    [
        ("", "Jenkins (global credentials)"),
        ("acme", "acme"),
        ("acme/merge-requests", "acme/merge-requests"),
        ("acme/merge-requests/terraform", "acme/merge-requests/terraform"),
    ],
)
def test_check_reports_a_production_credential_the_merge_request_zone_can_see(
    synced: JenkinsDouble, tmp_path: Path, context: str, where: str
) -> None:
    synced.add_credentials(context, "runners-aws-plan")
    synced.add_credentials(context, "runners-aws-backup", domain="aws")
    synced.add_credentials("acme/production", "runners-aws-write", "runners-plan-signing-key")
    result = check(synced, tmp_path)
    assert result.returncode == 1
    assert deviations(result.stdout) == [
        f"{where}: holds credential runners-aws-backup, which is then visible outside the "
        "production folder acme/production (to the merge-request zone too)"
    ]
    assert result.stdout.splitlines()[-1] == "1 deviation(s)"


def test_check_reports_jobs_defined_from_a_branch_edited_or_unscheduled(
    synced: JenkinsDouble, tmp_path: Path
) -> None:
    from_branch = (
        '<definition class="org.jenkinsci.plugins.workflow.cps.CpsScmFlowDefinition">'
        '<scm class="hudson.plugins.git.GitSCM"><userRemoteConfigs><hudson.plugins.git.UserRemoteConfig>'
        "<url>https://gitlab.acme.test/acme/infra.git</url></hudson.plugins.git.UserRemoteConfig>"
        "</userRemoteConfigs><branches><hudson.plugins.git.BranchSpec><name>*/production</name>"
        "</hudson.plugins.git.BranchSpec></branches></scm><scriptPath>Jenkinsfile</scriptPath>"
        "</definition>"
    )
    synced.edit_config(
        f"{PRODUCTION_ZONE}/terraform",
        lambda x: re.sub(r"<definition .*</definition>", from_branch, x, flags=re.S),
    )
    synced.edit_config(
        f"{PRODUCTION_ZONE}/dr", lambda x: x.replace("submitter: prepared.approvers,", "")
    )
    synced.edit_config(
        f"{PRODUCTION_ZONE}/backup-daily",
        lambda x: re.sub(r"<org.jenkinsci.plugins.workflow.job.properties.PipelineTriggersJobProperty.*"
                         r"</org.jenkinsci.plugins.workflow.job.properties.PipelineTriggersJobProperty>",
                         "", x, flags=re.S),
    )  # fmt: skip
    synced.edit_config(
        f"{MERGE_REQUEST_ZONE}/terraform",
        lambda x: x.replace(
            "<traits>",
            "<traits><io.jenkins.plugins.gitlabbranchsource.BranchDiscoveryTrait>"
            "<strategyId>1</strategyId></io.jenkins.plugins.gitlabbranchsource.BranchDiscoveryTrait>",
        ),
    )
    result = check(synced, tmp_path)
    assert result.returncode == 1
    found = deviations(result.stdout)
    assert found[0].startswith(
        f"{MERGE_REQUEST_ZONE}/terraform: discovers with "
        "io.jenkins.plugins.gitlabbranchsource.BranchDiscoveryTrait"
    )
    assert found[1:] == [
        f"{PRODUCTION_ZONE}/terraform: defined from https://gitlab.acme.test/acme/infra.git @ "
        "*/production, not runners' pinned pipeline pipelines/production.Jenkinsfile",
        f"{PRODUCTION_ZONE}/backup-daily: schedule missing; expected H 2 * * *",
        f"{PRODUCTION_ZONE}/dr: its pipeline differs from runners' pipelines/dr.Jenkinsfile "
        "(edited in Jenkins, or runners was upgraded since the last sync)",
    ]
    # jobs sync puts back what was changed in Jenkins, and the check passes again.
    cfg = tmp_path / "runners.toml"
    fixed = run_cli("jobs", "sync", "--config", str(cfg), env=token_env(synced))
    assert fixed.returncode == 0, fixed.stderr
    assert len(re.findall(r"^update .*\(changed in Jenkins\)$", fixed.stdout, re.M)) == 4
    assert check(synced, tmp_path).returncode == 0


def test_check_reports_missing_jobs_and_old_layout_jobs(
    jenkins_double: JenkinsDouble, tmp_path: Path
) -> None:
    write_config(tmp_path, jenkins_double.url)
    jenkins_double.add_folder("acme")
    jenkins_double.add_item(
        "acme/backup-daily",
        f"<flow-definition><description>old\n{jobxml.MARKER}</description></flow-definition>",
    )
    result = check(jenkins_double, tmp_path)
    assert result.returncode == 1
    found = deviations(result.stdout)
    assert "acme/production/terraform: missing: run runners jobs sync" in found
    assert any(
        d.startswith("acme/backup-daily: made by runners but not part of the zones") for d in found
    )


def test_check_says_when_it_cannot_read_credentials(synced: JenkinsDouble, tmp_path: Path) -> None:
    synced.users["auditor"] = ("11" + "ab" * 16, frozenset({"read", "configure"}))
    write_config(tmp_path, synced.url, user="auditor")
    result = check(synced, tmp_path, user="auditor")
    assert result.returncode == 1
    assert "Jenkins (global credentials): credentials cannot be read" in result.stdout
