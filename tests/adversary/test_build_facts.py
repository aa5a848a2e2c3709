"""Class 5: facts the pipeline used to assert, now read from Jenkins and git.

``--approved-by``, ``--build-cause`` and ``BRANCH_NAME`` were strings passed
in. With ``[jenkins]`` configured, the apply reads the build at ``$BUILD_URL``
through Jenkins' REST API with runners' own token (the Jenkins double serves
the JSON shapes Jenkins and the pipeline-input-step plugin write); the branch
head comes from origin, fetched.
"""

from __future__ import annotations

import socket
from pathlib import Path

from tests.adversary.conftest import refused
from tests.adversary.world import Attempt
from tests.jenkins_double import BRANCH_INDEXING, REPLAY, JenkinsDouble, user_cause

CONFIRM = ("--confirm-destroy", "1")
JOB = "production/terraform"


def _build(attempt: Attempt, **kw: object) -> dict[str, str]:
    url = attempt.world.jenkins.running_build(kw.pop("job", JOB), **kw)  # type: ignore[arg-type]
    return attempt.world.env(BUILD_URL=url)


def test_branch_name_says_production_from_an_unmerged_checkout(
    attempt: Attempt, tmp_path: Path
) -> None:
    attempt.git("checkout", "-q", "-b", "mallory")
    attempt.write("terraform/stacks/app/extra.tf", 'resource "terraform_data" "backdoor" {}\n')
    attempt.git("add", "-A")
    attempt.git("commit", "-q", "-m", "nothing to see")
    attempt.git("branch", "-f", "production", "mallory")  # even the local branch moved
    env = attempt.world.env(BRANCH_NAME="production", RUNNERS_PLAN_SIGNING_KEY=None)
    out = attempt.plan_into(tmp_path / "p", env=env)
    refused(attempt, attempt.apply(*CONFIRM, plan=out), "signature is missing or wrong")
    refused(attempt, attempt.apply(*CONFIRM, plan=out, env=env), "its plans must be signed")


def test_the_code_check_reads_origin_not_the_local_branch(attempt: Attempt, tmp_path: Path) -> None:
    """A key holder plans a local-only commit; production's head is origin's, fetched."""
    attempt.write("terraform/stacks/app/extra.tf", 'resource "terraform_data" "backdoor" {}\n')
    attempt.git("add", "-A")
    attempt.git("commit", "-q", "-m", "local only")
    attempt.git("update-ref", "refs/remotes/origin/production", "HEAD")  # and the tracking ref
    out = attempt.plan_into(tmp_path / "p", env=attempt.world.env(BRANCH_NAME="production"))
    refused(
        attempt,
        attempt.apply(*CONFIRM, plan=out),
        "terraform/stacks/app/extra.tf is in the plan but not in the reviewed code",
    )


def test_approved_by_says_one_name_jenkins_another(attempt: Attempt) -> None:
    refused(
        attempt,
        attempt.apply(*CONFIRM, "--approved-by", "bob"),
        f"--approved-by says bob, but Jenkins (build {attempt.world.build_url}) records alice",
    )


def test_nobody_approved_in_jenkins(attempt: Attempt) -> None:
    env = _build(attempt, started_by="olivia", approvals=[])
    refused(attempt, attempt.apply(*CONFIRM, "--approved-by", "alice", env=env), "names none")


def test_a_build_cause_that_is_not_a_person(attempt: Attempt) -> None:
    env = _build(attempt, started_by=None, approvals=["alice"], causes=[BRANCH_INDEXING])
    refused(
        attempt,
        attempt.apply(*CONFIRM, "--build-cause", "hudson.model.Cause$UserIdCause", env=env),
        "Jenkins records no hudson.model.Cause$UserIdCause for this build",
    )


def test_a_user_id_cause_spoof(attempt: Attempt) -> None:
    spoof = {**user_cause("olivia"), "_class": "hudson.model.Cause$UserIdCauseX"}
    env = _build(attempt, started_by=None, approvals=["alice"], causes=[spoof])
    refused(attempt, attempt.apply(*CONFIRM, env=env), "records no hudson.model.Cause$UserIdCause")


def test_a_replayed_build(attempt: Attempt) -> None:
    env = _build(
        attempt, started_by=None, approvals=["alice"], causes=[user_cause("olivia"), REPLAY]
    )
    refused(attempt, attempt.apply(*CONFIRM, env=env), "is a replay")


def test_a_finished_build(attempt: Attempt) -> None:
    env = _build(attempt, started_by="olivia", approvals=["alice"], running=False)
    refused(attempt, attempt.apply(*CONFIRM, env=env), "has finished")


def test_a_build_of_another_job(attempt: Attempt) -> None:
    env = _build(
        attempt, job="merge-requests/terraform/mallory", started_by="mallory", approvals=["alice"]
    )
    refused(attempt, attempt.apply(*CONFIRM, env=env), "is in job merge-requests/terraform/mallory")


def test_a_build_that_does_not_exist(attempt: Attempt) -> None:
    env = attempt.world.env(
        BUILD_URL=f"{attempt.world.jenkins.url}job/production/job/terraform/999/"
    )
    refused(attempt, attempt.apply(*CONFIRM, env=env), "Jenkins has no build at")


def test_a_build_url_elsewhere_gets_no_token(attempt: Attempt) -> None:
    """A look-alike Jenkins records an approval: it is never asked, and never sees the token."""
    fake = JenkinsDouble().start()
    try:
        url = fake.running_build(JOB, "olivia", ["alice"])
        refused(
            attempt,
            attempt.apply(*CONFIRM, env=attempt.world.env(BUILD_URL=url)),
            f"is not a build URL on {attempt.world.jenkins.url}",
        )
        assert fake.requests == []
    finally:
        fake.stop()


def test_no_build_url(attempt: Attempt) -> None:
    refused(
        attempt,
        attempt.apply(*CONFIRM, env=attempt.world.env(BUILD_URL=None)),
        "no build URL ($BUILD_URL)",
    )


def test_no_jenkins_token_is_a_setup_error(attempt: Attempt) -> None:
    r = attempt.apply(*CONFIRM, env=attempt.world.env(JENKINS_API_TOKEN=None))
    assert r.returncode == 2, r.stderr
    assert r.stderr.strip().splitlines()[-1].startswith("error: $JENKINS_API_TOKEN is not set")
    assert attempt.world.state() == attempt.world.objects["app/production.tfstate"]
    assert attempt.new_records()[-1]["result"] == "failed"


def test_jenkins_unreachable_is_exit_1_naming_it(attempt: Attempt) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    cfg = attempt.repo / "runners.toml"
    cfg.write_text(cfg.read_text().replace(attempt.world.jenkins.url, f"http://127.0.0.1:{port}/"))
    attempt.git("commit", "-q", "-am", "move Jenkins", author="Carol C <carol@example.com>")
    attempt.git("push", "-q", "origin", "production")
    env = attempt.world.env(BUILD_URL=f"http://127.0.0.1:{port}/job/production/job/terraform/2/")
    r = attempt.apply(*CONFIRM, env=env)
    assert r.returncode == 1, r.stderr
    last = r.stderr.strip().splitlines()[-1]
    assert last.startswith(
        f"error: cannot verify the build: jenkins: cannot reach http://127.0.0.1:{port}/"
    )
    assert attempt.world.state() == attempt.world.objects["app/production.tfstate"]
