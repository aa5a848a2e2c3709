"""runners trigger against the Jenkins REST double: queue item, build, console, exit code."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from runners.jenkins import trigger
from runners.jenkins.client import JenkinsClient
from tests.conftest import run_cli
from tests.jenkins_double import JenkinsDouble, Script
from tests.jenkins_support import token_env, write_config

PARAMETERIZED = """<flow-definition><description>backup</description><properties>
<hudson.model.ParametersDefinitionProperty><parameterDefinitions>
<hudson.model.StringParameterDefinition><name>POLICY</name><defaultValue>daily</defaultValue></hudson.model.StringParameterDefinition>
<hudson.model.StringParameterDefinition><name>REASON</name><defaultValue></defaultValue></hudson.model.StringParameterDefinition>
</parameterDefinitions></hudson.model.ParametersDefinitionProperty></properties>
<disabled>false</disabled></flow-definition>"""
PLAIN = "<flow-definition><description>plain</description><properties/></flow-definition>"
CONSOLE = [
    "Started by user runner\n",
    "[Pipeline] sh\n",
    "+ runners backup --policy daily\n",
    "==> 3 snapshots, 0 failed\n",
    "Finished: {result}\n",
]


@pytest.fixture
def jenkins(jenkins_double: JenkinsDouble, tmp_path: Path) -> JenkinsDouble:
    jenkins_double.add_folder("acme")
    jenkins_double.add_item("acme/backup-daily", PARAMETERIZED)
    jenkins_double.add_item("acme/plain", PLAIN)
    write_config(tmp_path, jenkins_double.url)
    return jenkins_double


def follow(double: JenkinsDouble, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The CLI with stderr folded into stdout, so the order of everything it says is kept."""
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "runners",
            "trigger",
            "--config",
            str(tmp_path / "runners.toml"),
            *args,
        ],
        env={**os.environ, **token_env(double)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=60,
    )


def console(result: str) -> list[str]:
    return [line.replace("{result}", result) for line in CONSOLE]


def test_follow_shows_queue_item_then_build_then_console_then_exit_code(
    jenkins: JenkinsDouble, tmp_path: Path
) -> None:
    jenkins.script("acme/backup-daily", Script(console("SUCCESS"), queue_polls=2))
    result = follow(jenkins, tmp_path, "backup-daily", "-p", "POLICY=daily", "--follow")
    assert result.returncode == 0, result.stdout
    out = result.stdout
    queued = out.index("==> queued acme/backup-daily: queue item 413")
    waiting = out.index("queue item 413 waiting: In the quiet period")
    executor = out.index("queue item 413 waiting: Waiting for next available executor")
    started = out.index(
        f"==> build acme/backup-daily #1 started: {jenkins.url}job/acme/job/backup-daily/1/"
    )
    first_line = out.index("Started by user runner\n[Pipeline] sh\n")
    finished = out.index("==> build acme/backup-daily #1 finished: SUCCESS: exit 0")
    assert queued < waiting < executor < started < first_line < finished
    build = jenkins.items["acme/backup-daily"].builds[1]
    assert build.params == {"POLICY": "daily", "REASON": ""}


def test_the_console_is_streamed_whole_and_once(jenkins: JenkinsDouble, tmp_path: Path) -> None:
    """Offsets follow X-Text-Size: nothing repeated, nothing lost, one request per new line."""
    lines = [f"line {i}\n" for i in range(25)]
    jenkins.script("acme/plain", Script(lines, queue_polls=0))
    result = run_cli(
        "trigger",
        "plain",
        "--follow",
        "--config",
        str(tmp_path / "runners.toml"),
        env=token_env(jenkins),
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "".join(lines)
    text_requests = [p for m, p in jenkins.requests if "progressiveText" in p]
    assert len(text_requests) == len(lines)
    assert text_requests[0].endswith("start=0")
    assert text_requests[-1].endswith(f"start={len(''.join(lines[:-1]).encode())}")
    console_text = jenkins.items["acme/plain"].builds[1].text().decode()
    assert result.stdout == console_text


def test_the_build_number_comes_from_the_queue_item_not_next_build_number(
    jenkins: JenkinsDouble, tmp_path: Path
) -> None:
    jenkins.items["acme/plain"].next_build_number = 41
    jenkins.script("acme/plain", Script(["ours\n"], queue_polls=1, interloper=True))
    result = follow(jenkins, tmp_path, "plain", "--follow")
    assert result.returncode == 0, result.stdout
    assert "#42 started" in result.stdout
    assert "ours\n" in result.stdout
    assert "someone else's build" not in result.stdout
    assert not any(p.startswith("/job/acme/job/plain/41/") for _, p in jenkins.requests)


@pytest.mark.parametrize(
    ("result", "code"),
    [("SUCCESS", 0), ("FAILURE", 1), ("UNSTABLE", 5), ("ABORTED", 6), ("NOT_BUILT", 7)],
)
def test_exit_code_is_the_builds_result(
    jenkins: JenkinsDouble, tmp_path: Path, result: str, code: int
) -> None:
    jenkins.script("acme/plain", Script(console(result), result=result, queue_polls=0))
    proc = follow(jenkins, tmp_path, "plain", "--follow")
    assert proc.returncode == code
    assert proc.stdout.rstrip().endswith(f"finished: {result}: exit {code}")


def test_a_build_cancelled_in_the_queue_is_exit_6(jenkins: JenkinsDouble, tmp_path: Path) -> None:
    jenkins.script("acme/plain", Script(["never\n"], queue_polls=1, cancel=True))
    proc = follow(jenkins, tmp_path, "plain", "--follow")
    assert proc.returncode == 6
    assert "queue item 413 was cancelled before it started: exit 6" in proc.stdout
    assert "never" not in proc.stdout
    assert jenkins.items["acme/plain"].builds == {}


def test_without_follow_it_only_queues(jenkins: JenkinsDouble, tmp_path: Path) -> None:
    proc = follow(jenkins, tmp_path, "plain")
    assert proc.returncode == 0
    assert proc.stdout == f"==> queued acme/plain: queue item 413 ({jenkins.url}queue/item/413/)\n"
    assert not any("queue/item" in p for _, p in jenkins.requests)


def test_a_parameterized_job_without_p_runs_with_its_defaults(
    jenkins: JenkinsDouble, tmp_path: Path
) -> None:
    proc = follow(jenkins, tmp_path, "backup-daily", "--follow")
    assert proc.returncode == 0, proc.stdout
    assert ("POST", "/job/acme/job/backup-daily/buildWithParameters") in jenkins.requests
    assert jenkins.items["acme/backup-daily"].builds[1].params == {"POLICY": "daily", "REASON": ""}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("backup-daily", "-p", "POLCY=x"),
            "acme/backup-daily has no parameter POLCY (it declares: POLICY, REASON)",
        ),
        (("backup-daily", "-p", "POLICY"), "-p 'POLICY': expected KEY=VALUE"),
        (
            ("/acme", "--follow"),
            "acme is a folder or multibranch project: trigger a job in it: acme/backup-daily, "
            "acme/plain",
        ),
    ],
)
def test_bad_arguments_are_exit_2(
    jenkins: JenkinsDouble, tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    proc = follow(jenkins, tmp_path, *args)
    assert proc.returncode == 2
    assert message in proc.stdout
    assert not any(m == "POST" for m, _ in jenkins.requests)


def test_a_multibranch_job_suggests_its_branch_jobs_by_the_names_that_exist(
    jenkins: JenkinsDouble, tmp_path: Path
) -> None:
    jenkins.add_item(
        "acme/terraform",
        "<org.jenkinsci.plugins.workflow.multibranch.WorkflowMultiBranchProject><description/>"
        "</org.jenkinsci.plugins.workflow.multibranch.WorkflowMultiBranchProject>",
    )
    empty = follow(jenkins, tmp_path, "terraform")
    assert empty.returncode == 2
    assert "acme/terraform is a folder or multibranch project: it holds no job yet" in empty.stdout
    jenkins.add_item(
        "acme/terraform/feature%2Fdns", "<flow-definition><description/></flow-definition>"
    )
    proc = follow(jenkins, tmp_path, "terraform")
    assert proc.returncode == 2
    suggested = proc.stdout.strip().rsplit(": ", 1)[-1]
    assert suggested == "acme/terraform/feature%2Fdns"
    # The suggestion is a path runners trigger takes: it reaches the branch job.
    started = follow(jenkins, tmp_path, "/" + suggested)
    assert started.returncode == 0, started.stdout
    assert ("POST", "/job/acme/job/terraform/job/feature%252Fdns/build") in jenkins.requests


def test_errors_are_one_line_each_with_its_code(jenkins: JenkinsDouble, tmp_path: Path) -> None:
    cfg = str(tmp_path / "runners.toml")
    missing = run_cli("trigger", "no-such-job", "--config", cfg, env=token_env(jenkins))
    assert missing.returncode == 66
    assert (
        missing.stderr.strip()
        == f"error: jenkins: job acme/no-such-job not found at {jenkins.url} (HTTP 404)"
    )

    bad = run_cli("trigger", "plain", "--config", cfg, env={"JENKINS_API_TOKEN": "nope"})
    assert bad.returncode == 67
    assert bad.stderr.strip() == (
        f"error: jenkins: {jenkins.url} rejected user 'runner': wrong user name or API token "
        "in $JENKINS_API_TOKEN (HTTP 401)"
    )

    write_config(tmp_path, jenkins.url, user="viewer")
    denied = run_cli("trigger", "plain", "--config", cfg, env=token_env(jenkins, "viewer"))
    assert denied.returncode == 77
    assert denied.stderr.strip() == (
        "error: jenkins: user 'viewer' may not start a build of job acme/plain "
        "(HTTP 403: a permission is missing)"
    )


def test_run_in_process_with_an_injected_server_and_no_sleeping(jenkins: JenkinsDouble) -> None:
    """In-process, with the python-jenkins server injected and no sleeping."""
    import jenkins as python_jenkins

    server = python_jenkins.Jenkins(jenkins.url, "runner", jenkins.users["runner"][0])
    client = JenkinsClient(server, user="runner")
    jenkins.script("acme/plain", Script(["a\n", "b\n"], queue_polls=3))
    written: list[str] = []
    pauses: list[float] = []
    code = trigger.run(client, "acme/plain", [], True, 0.5, written.append, sleep=pauses.append)
    assert code == 0
    assert "".join(written) == "a\nb\n"
    assert pauses and set(pauses) == {0.5}
