"""runners jobs sync against the Jenkins REST double: create, update, idempotent, dry run, refusals.

What the zones guarantee (which job may run what, with which credentials) is
tested in tests/test_jenkins_zones.py.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from runners import config
from runners.jenkins import jobs, jobxml
from tests.conftest import run_cli
from tests.jenkins_double import JenkinsDouble
from tests.jenkins_support import JOBS, token_env, write_config

GOLDEN = Path(__file__).parent / "golden" / "jobs"


def sync(double: JenkinsDouble, cfg: Path, *extra: str, user: str = "runner"):  # type: ignore[no-untyped-def]
    return run_cli("jobs", "sync", "--config", str(cfg), *extra, env=token_env(double, user))


def writes(double: JenkinsDouble) -> list[str]:
    return [path for method, path in double.requests if method == "POST"]


def test_dry_run_renders_every_job_as_a_diff_and_writes_nothing(
    jenkins_double: JenkinsDouble, tmp_path: Path
) -> None:
    cfg = write_config(tmp_path, jenkins_double.url)
    result = sync(jenkins_double, cfg, "--dry-run")
    assert result.returncode == 0, result.stderr
    for name in JOBS:
        assert re.search(rf"^create +{re.escape(name)}$", result.stdout, re.M), name
        assert f"--- /dev/null\n+++ runners:{name}\n" in result.stdout
    assert "+    <script>// pipelines/backup.Jenkinsfile of runners" in result.stdout
    assert "+          <name>REASON</name>" in result.stdout
    assert "+          <spec>H 2 * * *</spec>" in result.stdout
    assert "dry run: nothing is written" in result.stderr
    assert result.stdout.splitlines()[-1] == "dry run: 12 create"
    assert writes(jenkins_double) == []
    assert set(jenkins_double.items) == set()


def test_sync_creates_then_a_second_run_changes_nothing(
    jenkins_double: JenkinsDouble, tmp_path: Path
) -> None:
    cfg = write_config(tmp_path, jenkins_double.url)
    first = sync(jenkins_double, cfg)
    assert first.returncode == 0, first.stderr
    assert set(jenkins_double.items) == set(JOBS)
    assert first.stdout.splitlines()[-1] == "12 create"
    assert re.search(
        r"^create +acme/merge-requests/terraform: first scan requested$", first.stdout, re.M
    )
    assert jenkins_double.scans == ["acme/merge-requests/terraform"]
    # Jenkins stored its own serialization (plugin attributes, XML 1.1)...
    stored = jenkins_double.config("acme/production/backup-daily")
    assert 'plugin="workflow-job@' in stored
    # ...and the parameters are declared in the job, before any build.
    backup = jenkins_double.items["acme/production/backup-daily"]
    assert [p["name"] for p in backup.parameters()] == ["POLICY"]
    assert [p["name"] for p in jenkins_double.items["acme/production/dr"].parameters()] == [
        "STACK",
        "ENV",
        "TO_REGION",
        "ALLOW_MISSING",
    ]

    # python-jenkins asked for a crumb once; the double checks any crumb a POST sends.
    assert jenkins_double.requests.count(("GET", "/crumbIssuer/api/json")) == 1
    before = len(writes(jenkins_double))
    second = sync(jenkins_double, cfg)
    assert second.returncode == 0, second.stderr
    assert second.stdout.splitlines()[-1] == "9 unchanged, 3 exists"
    assert len(writes(jenkins_double)) == before, "an idempotent run must not POST"
    assert jenkins_double.scans == ["acme/merge-requests/terraform"], "a scan only on create"


def test_a_changed_config_updates_only_that_job_and_keeps_what_jenkins_added(
    jenkins_double: JenkinsDouble, tmp_path: Path
) -> None:
    cfg = write_config(tmp_path, jenkins_double.url)
    assert sync(jenkins_double, cfg).returncode == 0
    # A run leaves Declarative's options in the job (a property runners does not own).
    jenkins_double.add_property(
        "acme/production/on-demand-backup", "<jenkins.model.BuildDiscarderProperty/>"
    )
    cfg = write_config(tmp_path, jenkins_double.url, policies=("daily", "weekly"))

    dry = sync(jenkins_double, cfg, "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert re.search(r"^update +acme/production/on-demand-backup$", dry.stdout, re.M)
    assert "+              <string>weekly</string>" in dry.stdout
    assert "BuildDiscarderProperty" not in "".join(
        line for line in dry.stdout.splitlines(keepends=True) if line.startswith(("+", "-"))
    ), "the merge must not add or remove a property runners does not own"

    result = sync(jenkins_double, cfg)
    assert result.returncode == 0, result.stderr
    assert re.search(r"^create +acme/production/backup-weekly$", result.stdout, re.M)
    assert re.search(r"^create +acme/production/verify-restore-weekly$", result.stdout, re.M)
    assert re.search(r"^update +acme/production/on-demand-backup$", result.stdout, re.M)
    assert re.search(r"^unchanged +acme/production/drift-app$", result.stdout, re.M)
    stored = jenkins_double.config("acme/production/on-demand-backup")
    assert "<string>weekly</string>" in stored
    assert "BuildDiscarderProperty" in stored
    again = sync(jenkins_double, cfg)
    assert "update" not in again.stdout


def test_a_schedule_changed_in_jenkins_is_restored_though_the_rendering_did_not_change(
    jenkins_double: JenkinsDouble, tmp_path: Path
) -> None:
    cfg = write_config(tmp_path, jenkins_double.url)
    assert sync(jenkins_double, cfg).returncode == 0
    # Someone removes the backup job's schedule and gives the on-demand job one, in Jenkins.
    jenkins_double.edit_config(
        "acme/production/backup-daily", lambda x: x.replace("H 2 * * *", "H 2 * * 0")
    )
    jenkins_double.declarative_run("acme/production/on-demand-backup", "H 3 * * *")
    result = sync(jenkins_double, cfg)
    assert result.returncode == 0, result.stderr
    assert re.search(
        r"^update +acme/production/backup-daily: restores its schedule \(changed in Jenkins\)$",
        result.stdout,
        re.M,
    )
    assert re.search(
        r"^update +acme/production/on-demand-backup: restores its schedule", result.stdout, re.M
    )
    assert "<spec>H 2 * * *</spec>" in jenkins_double.config("acme/production/backup-daily")
    assert jobxml.SCHEDULE_PROPERTY not in jenkins_double.config("acme/production/on-demand-backup")
    assert "update" not in sync(jenkins_double, cfg).stdout


def test_a_job_runners_did_not_make_is_refused_and_left_alone(
    jenkins_double: JenkinsDouble, tmp_path: Path
) -> None:
    jenkins_double.add_folder("acme", "made by hand")
    jenkins_double.add_folder("acme/production", "made by hand too")
    foreign = "<flow-definition><description>Bob's job</description><properties/></flow-definition>"
    jenkins_double.add_item("acme/production/drift-app", foreign)
    before = jenkins_double.config("acme/production/drift-app")
    cfg = write_config(tmp_path, jenkins_double.url)

    result = sync(jenkins_double, cfg)
    assert result.returncode == 3
    assert re.search(
        r"^refused +acme/production/drift-app: exists and was not made by runners",
        result.stdout,
        re.M,
    )
    assert re.search(r"^exists +acme: folder exists", result.stdout, re.M)
    assert re.search(r"^exists +acme/production: folder exists", result.stdout, re.M)
    assert result.stderr.strip().splitlines()[-1] == (
        "refused: 1 job(s) exist but were not made by runners; they were left as they are"
    )
    assert jenkins_double.config("acme/production/drift-app") == before
    assert "made by hand" in jenkins_double.config("acme")
    assert "acme/production/drift-network" in jenkins_double.items


def test_a_managed_job_the_config_dropped_is_reported_never_deleted(
    jenkins_double: JenkinsDouble, tmp_path: Path
) -> None:
    cfg = write_config(tmp_path, jenkins_double.url, policies=("daily", "hourly"))
    assert sync(jenkins_double, cfg).returncode == 0
    cfg = write_config(tmp_path, jenkins_double.url, policies=("daily",))
    result = sync(jenkins_double, cfg)
    assert result.returncode == 0, result.stderr
    for job in ("backup-hourly", "verify-restore-hourly"):
        assert re.search(
            rf"^stale +acme/production/{job}: made by runners but not in runners.toml",
            result.stdout,
            re.M,
        )
        assert f"acme/production/{job}" in jenkins_double.items


def test_jobs_of_the_old_single_folder_layout_are_reported_stale(
    jenkins_double: JenkinsDouble, tmp_path: Path
) -> None:
    """Before the zones, the multibranch job that could apply sat in the client folder."""
    jenkins_double.add_folder("acme")
    jenkins_double.add_item(
        "acme/terraform",
        "<org.jenkinsci.plugins.workflow.multibranch.WorkflowMultiBranchProject><description>"
        f"Terraform\n{jobxml.MARKER}</description>"
        "</org.jenkinsci.plugins.workflow.multibranch.WorkflowMultiBranchProject>",
    )
    result = sync(jenkins_double, write_config(tmp_path, jenkins_double.url))
    assert result.returncode == 0, result.stderr
    assert re.search(r"^stale +acme/terraform: made by runners but not", result.stdout, re.M)


def test_a_folder_that_is_not_a_folder_is_refused() -> None:
    folder = f"<com.cloudbees.hudson.plugins.folder.Folder><description>{jobxml.MARKER}</description></com.cloudbees.hudson.plugins.folder.Folder>"
    action = jobs.decide(
        "acme", "<project><description>Bob</description></project>", folder, folder=True
    )
    assert (action.kind, action.reason) == (
        "refused",
        "is a <project>, not a folder to put the jobs in",
    )
    assert jobs.decide("acme", folder, folder, folder=True).kind == "exists"


def test_a_job_of_another_kind_is_refused(jenkins_double: JenkinsDouble) -> None:
    marked = f"<project><description>{jobxml.MARKER}</description></project>"
    want = f"<flow-definition><description>{jobxml.MARKER}</description></flow-definition>"
    action = jobs.decide("acme/dr", marked, want)
    assert action.kind == "refused"
    assert "is a <project>, runners makes a <flow-definition>" in action.reason


@pytest.mark.parametrize(
    ("user", "token", "code", "message"),
    [
        (
            "runner",
            "wrong-token",
            67,
            "rejected user 'runner': wrong user name or API token in $JENKINS_API_TOKEN (HTTP 401)",
        ),
        (
            "viewer",
            None,
            77,
            "user 'viewer' may not create job acme (HTTP 403: a permission is missing)",
        ),
    ],
)
def test_credential_errors_are_one_line_with_their_exit_code(
    jenkins_double: JenkinsDouble,
    tmp_path: Path,
    user: str,
    token: str | None,
    code: int,
    message: str,
) -> None:
    cfg = write_config(tmp_path, jenkins_double.url, user=user)
    env = {"JENKINS_API_TOKEN": token or jenkins_double.users[user][0]}
    result = run_cli("jobs", "sync", "--config", str(cfg), env=env)
    assert result.returncode == code
    lines = result.stderr.strip().splitlines()
    assert message in lines[-1]
    assert "Traceback" not in result.stderr
    assert env["JENKINS_API_TOKEN"] not in result.stderr + result.stdout


def test_unreachable_jenkins_is_exit_69(tmp_path: Path) -> None:
    from runners.aws.embedded import free_port

    url = f"http://127.0.0.1:{free_port()}/"
    cfg = write_config(tmp_path, url)
    result = run_cli("jobs", "sync", "--config", str(cfg), env={"JENKINS_API_TOKEN": "x"})
    assert result.returncode == 69
    assert result.stderr.strip().splitlines()[-1] == (
        f"error: jenkins: cannot reach {url}: connection refused (is Jenkins running, and is jenkins.url right?)"
    )


def test_missing_token_variable_is_a_usage_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("JENKINS_API_TOKEN", raising=False)
    cfg = write_config(tmp_path, "http://127.0.0.1:9/")
    result = run_cli("jobs", "sync", "--config", str(cfg))
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"error: $JENKINS_API_TOKEN is not set: export the API token of Jenkins user 'runner' in it "
        f"({cfg}: jenkins.token_env names the variable)"
    )


def test_rendered_jobs_match_the_golden_files(tmp_path: Path) -> None:
    """The XML each template renders for a fixed config; UPDATE_GOLDEN=1 rewrites them."""
    cfg = config.load(write_config(tmp_path, "https://jenkins.acme.test/"))
    rendered = jobs.render_all(cfg, jobs.catalog(cfg))
    assert [r.full_name for r in rendered] == list(JOBS)
    for item in rendered:
        golden = GOLDEN / f"{item.full_name.replace('/', '__')}.xml"
        if os.environ.get("UPDATE_GOLDEN"):
            golden.parent.mkdir(parents=True, exist_ok=True)
            golden.write_text(item.xml)
        assert item.xml == golden.read_text(), f"{golden} differs; UPDATE_GOLDEN=1 to accept"


def test_the_first_sync_needs_nothing_from_the_client_repository(tmp_path: Path) -> None:
    """The templates and pipelines come from runners; a client repo has only runners.toml."""
    cfg = config.load(write_config(tmp_path, "https://jenkins.acme.test/"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["runners.toml"]
    assert len(jobs.render_all(cfg, jobs.catalog(cfg))) == len(JOBS)


def test_the_disaster_recovery_schedules_are_in_the_jobs(tmp_path: Path) -> None:
    """docs/dr.md promises verify-restore nightly, ship-s3 hourly, dr prepare weekly: the jobs run them."""
    s3 = '\n[dr.s3.daily]\ndestination_bucket = "acme-backup"\n[dr.s3.daily.buckets."acme-files"]\n'
    path = write_config(tmp_path, "https://jenkins.acme.test/")
    path.write_text(path.read_text() + s3)
    cfg = config.load(path)
    rendered = {r.full_name: r for r in jobs.render_all(cfg, jobs.catalog(cfg))}
    cron = {
        name: jobxml.parse(r.xml, name).findtext(".//hudson.triggers.TimerTrigger/spec")
        for name, r in rendered.items()
    }
    assert cron["acme/production/verify-restore-daily"] == "H 4 * * *"  # nightly, after backup
    assert cron["acme/production/ship-s3-daily"] == "H * * * *"  # hourly
    assert cron["acme/production/dr-prepare"] == "H 6 * * 1"  # weekly
    assert cron["acme/production/backup-daily"] == "H 2 * * *"
    prepare = rendered["acme/production/dr-prepare"]
    script = jobxml.parse(prepare.xml, prepare.full_name).findtext("definition/script") or ""
    assert 'runners dr prepare --to-region "$TO_REGION" --env "$ENV"' in script
    assert "runners-aws-plan" in script and "runners-aws-write" not in script
