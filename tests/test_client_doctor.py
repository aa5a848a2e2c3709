"""runners doctor: every check says ok on a ready client, and each failure it looks for is
reported, with its fix, in a test of its own (the client is made ready step by step in
tests/doctor_world.py, and one thing is then broken)."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from runners.aws.embedded import EmbeddedAWS
from runners.client import trust as trust_mod
from runners.client.doctor import CHECKS
from runners.jenkins.double import JenkinsDouble
from runners.jenkins.platform_double import Platform
from tests.doctor_world import PRINCIPALS, DoctorWorld, trust_documents

STATE = "acme-production-terraform-state"
REPLICA = "acme-production-backup-eu-central-1"


pytestmark = pytest.mark.usefixtures("with_lock_mirror")  # init's lock files, never the registry


@pytest.fixture(scope="module")
def trust(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    return trust_documents(tmp_path_factory.mktemp("trust"))


@pytest.fixture
def platform() -> Iterator[Platform]:
    double = Platform()
    yield double
    double.stop()


@pytest.fixture
def world(
    tmp_path: Path,
    aws: EmbeddedAWS,
    jenkins_double: JenkinsDouble,
    platform: Platform,
    trust: dict[str, dict[str, Any]],
    lock_mirror: Path,
) -> DoctorWorld:
    return DoctorWorld(tmp_path, aws, jenkins_double, platform, trust, lock_mirror).init()


def findings(done: subprocess.CompletedProcess[str]) -> list[str]:
    return [ln for ln in done.stdout.splitlines() if ln.startswith(("ok ", "FAIL ", "skip "))]


def failed(done: subprocess.CompletedProcess[str], check: str) -> list[str]:
    return [ln for ln in findings(done) if ln.startswith(f"FAIL  {check}: ")]


def test_a_ready_client_is_all_ok(world: DoctorWorld, provider_mirror: Path) -> None:
    world.ready()
    done = world.doctor()
    assert done.returncode == 0, done.stdout + done.stderr
    lines = findings(done)
    assert lines and all(ln.startswith("ok ") for ln in lines), "\n".join(lines)
    assert {ln.split(":", 1)[0][6:] for ln in lines} == {c.name for c in CHECKS}
    text = done.stdout
    assert (
        f"ok    state bucket: {STATE}: in eu-west-1, versioned, encrypted (aws:kms), Object Lock"
        in text
    )
    assert "ok    runner roles: acme-production-runners-apply: assumable by " in text
    assert "environments, " in text and "backup policy\n" in text  # counted, singular for one
    assert "the embedded AWS has no IAM simulator" in text  # what moto cannot tell, said
    assert "ok    branches: production (production): exists and protected on gitlab" in text
    assert "ok    plan-signing key" not in text and "ok    apply needs: plan-signing key" in text
    assert text.strip().splitlines()[-1].endswith("0 failed, 0 skipped")


def test_an_invalid_config_is_one_failure_and_stops_the_rest(world: DoctorWorld) -> None:
    world.edit(lambda t: t.replace("[bootstrap]\n", "[bootstrap]\nclinet = 1\n"))
    done = world.doctor()
    assert done.returncode == 1
    assert findings(done) == [
        f"FAIL  config: {world.repo / 'runners.toml'}: {world.repo / 'runners.toml'}: bootstrap.clinet: "
        "unknown key (did you mean 'client'?); expected one of: client, stack; "
        "fix: correct it; every other check needs it"
    ]


def test_a_stack_without_its_lock_file(world: DoctorWorld, provider_mirror: Path) -> None:
    world.bootstrap()
    (world.repo / "terraform/stacks/edge/.terraform.lock.hcl").unlink()
    done = world.doctor("--check", "stack init")
    assert failed(done, "stack init") == [
        "FAIL  stack init: edge (production): terraform/stacks/edge/.terraform.lock.hcl is "
        "missing or lacks a provider the stack needs: its plan would change the file, and a "
        "plan from a dirty tree cannot be applied; fix: terraform -chdir=terraform/stacks/edge "
        "init -backend=false, then commit the lock file"
    ]
    assert done.returncode == 1


def test_a_stack_that_cannot_initialise_its_backend(
    world: DoctorWorld, provider_mirror: Path
) -> None:
    done = world.doctor("--check", "stack init")  # not bootstrapped: no state bucket
    lines = failed(done, "stack init")
    assert len(lines) == 7, done.stdout
    assert all(
        "fix: runners bootstrap --env production if the bucket is missing" in ln for ln in lines
    )
    assert all("terraform init failed" in ln for ln in lines)


def test_a_missing_state_bucket(world: DoctorWorld) -> None:
    done = world.doctor("--check", "state bucket")
    assert failed(done, "state bucket") == [
        f"FAIL  state bucket: {STATE}: does not exist; fix: runners bootstrap --env production"
    ]
    assert done.returncode == 1


def test_a_state_bucket_without_versioning_or_encryption(world: DoctorWorld) -> None:
    world.bootstrap()
    s3 = boto3.client("s3", region_name="eu-west-1")
    s3.put_bucket_versioning(Bucket=STATE, VersioningConfiguration={"Status": "Suspended"})
    s3.delete_bucket_encryption(Bucket=STATE)
    [line] = failed(world.doctor("--check", "state bucket"), "state bucket")
    assert "versioning is suspended; no default encryption" in line


def test_a_missing_replica(world: DoctorWorld) -> None:
    world.bootstrap()
    s3 = boto3.client("s3", region_name="eu-west-1")
    s3.delete_bucket_replication(Bucket=STATE)
    boto3.client("s3", region_name="eu-central-1").delete_bucket(Bucket=REPLICA)
    [line] = failed(world.doctor("--check", "replica"), "replica")
    assert (
        line == f"FAIL  replica: {REPLICA}: does not exist; fix: runners bootstrap --env production"
    )


def test_a_replica_nothing_replicates_into(world: DoctorWorld) -> None:
    world.bootstrap()
    boto3.client("s3", region_name="eu-west-1").delete_bucket_replication(Bucket=STATE)
    [line] = failed(world.doctor("--check", "replica"), "replica")
    assert f"{STATE} does not replicate into it" in line


def test_runner_roles_that_do_not_exist(world: DoctorWorld) -> None:
    world.bootstrap()
    lines = failed(world.doctor("--check", "runner roles"), "runner roles")
    assert [ln.split(":")[1].strip() for ln in lines] == [
        "acme-production-runners-plan",
        "acme-production-runners-apply",
        "acme-production-runners-backup",
    ]
    assert all(
        "fix: apply terraform/stacks/bootstrap (production.tfvars) as an administrator" in ln
        for ln in lines
    )


def test_a_role_that_trusts_another_duty_s_principal(world: DoctorWorld) -> None:
    world.bootstrap().roles()
    widened = json.loads(json.dumps(world.trust["apply"]))
    widened["Statement"][0]["Principal"]["AWS"] = [PRINCIPALS["apply"], PRINCIPALS["plan"]]
    boto3.client("iam").update_assume_role_policy(
        RoleName="acme-production-runners-apply", PolicyDocument=json.dumps(widened)
    )
    done = world.doctor("--check", "runner roles")
    [line] = failed(done, "runner roles")
    assert line.startswith("FAIL  runner roles: acme-production-runners-apply: also trusts ")
    assert PRINCIPALS["plan"] in line
    assert len([ln for ln in findings(done) if ln.startswith("ok    runner roles")]) == 2


def test_a_missing_and_an_edited_jenkins_job(world: DoctorWorld) -> None:
    world.jobs()
    del world.jenkins.items["acme/production/drift-servers"]
    world.jenkins.edit_config(
        "acme/production/terraform", lambda xml: xml.replace("runners apply", "runners  apply")
    )
    lines = failed(world.doctor("--check", "jenkins jobs"), "jenkins jobs")
    assert (
        "FAIL  jenkins jobs: acme/production/drift-servers: missing; fix: runners jobs sync"
        in lines
    )
    assert any(
        ln.startswith(
            "FAIL  jenkins jobs: acme/production/terraform: differs from what runners makes"
        )
        for ln in lines
    ), lines


def test_jenkins_without_its_token(world: DoctorWorld) -> None:
    world.env["JENKINS_API_TOKEN"] = ""
    done = world.doctor("--check", "jenkins jobs")
    [line] = failed(done, "jenkins jobs")
    assert "not checked: $JENKINS_API_TOKEN is not set" in line


def test_a_production_credential_the_merge_request_zone_can_read(world: DoctorWorld) -> None:
    world.jobs()
    world.jenkins.add_credentials("acme/merge-requests", "runners-aws-write")
    [line] = failed(world.doctor("--check", "jenkins credentials"), "jenkins credentials")
    assert line.startswith(
        "FAIL  jenkins credentials: acme/merge-requests: holds credential runners-aws-write"
    )
    assert "fix: move it into the production folder acme/production" in line


def test_no_signing_key_in_the_production_folder(world: DoctorWorld) -> None:
    world.cli("jobs", "sync")
    lines = failed(world.doctor("--check", "apply needs"), "apply needs")
    assert lines == [
        "FAIL  apply needs: plan-signing key: no runners-plan-signing-key in acme/production: "
        "production plans go unsigned and every apply is refused; fix: create "
        "runners-plan-signing-key (secret text, a long random value) in acme/production"
    ]


def test_production_without_approvers(world: DoctorWorld) -> None:
    world.jobs()
    world.edit(lambda t: t.replace('approvers = ["alice", "bob"]', "approvers = []"))
    [line] = failed(world.doctor("--check", "apply needs"), "apply needs")
    assert "production approvers: approval is required (it is named production) and no one" in line


def test_an_apply_that_cannot_read_its_build(world: DoctorWorld) -> None:
    world.jobs()
    del world.jenkins.items["acme/production/terraform"]
    [line] = failed(world.doctor("--check", "apply needs"), "apply needs")
    assert line.startswith("FAIL  apply needs: build verification: the apply reads its build")


def test_an_unprotected_branch(world: DoctorWorld) -> None:
    world.branches(development=False)
    done = world.doctor("--check", "branches", "--env", "development")
    [line] = failed(done, "branches")
    assert line.startswith("FAIL  branches: development (development): not protected")
    assert "fix: protect development on gitlab" in line


def test_a_branch_missing_on_the_remote(world: DoctorWorld) -> None:
    world.branches()
    subprocess.run(
        ["git", "branch", "-D", "development"], cwd=world.remote, check=True, capture_output=True
    )
    done = world.doctor("--check", "branches", "--env", "development")
    [line] = failed(done, "branches")
    assert line == (
        f"FAIL  branches: development (development): not on {world.remote}; "
        "fix: git push origin development"
    )


def test_branch_protection_the_platform_cannot_be_asked_about_is_skipped(
    world: DoctorWorld,
) -> None:
    world.env["RUNNERS_MR_TOKEN"] = ""
    done = world.doctor("--check", "branches")
    assert done.returncode == 0
    assert findings(done)[1:] == [
        "skip  branches: production (production): on the remote; protection not checked: "
        "$RUNNERS_MR_TOKEN is not set"
    ]


def test_a_backup_policy_that_selects_nothing(world: DoctorWorld) -> None:
    world.bootstrap()
    [line] = failed(world.doctor("--check", "backup selection"), "backup selection")
    assert line.startswith(
        "FAIL  backup selection: daily: selects nothing (runners:backup=daily in eu-west-1)"
    )


def test_resources_never_backed_up_breach_the_rpo(world: DoctorWorld) -> None:
    world.bootstrap().servers()
    done = world.doctor("--check", "backup RPO", "--check", "backup selection")
    assert [ln for ln in findings(done) if ln.startswith("ok    backup")] == [
        "ok    backup selection: daily: selects 1 (ebs-volume)"
    ]
    [line] = failed(done, "backup RPO")
    assert "beyond the RPO of 26 h" in line and "never backed up" in line
    assert line.endswith("fix: runners backup --policy daily && runners ship --policy daily")


def test_without_aws_credentials_the_aws_checks_fail_saying_so(world: DoctorWorld) -> None:
    for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        world.env[var] = ""
    world.env["AWS_SHARED_CREDENTIALS_FILE"] = str(world.root / "none")
    world.env["AWS_CONFIG_FILE"] = str(world.root / "none")
    done = world.doctor("--check", "state bucket", "--check", "replica")
    lines = findings(done)[1:]
    assert len(lines) == 2 and all("not checked: no AWS credentials found" in ln for ln in lines)
    assert done.returncode == 1


def test_an_unknown_check_or_environment_is_exit_2(world: DoctorWorld) -> None:
    done = world.doctor("--check", "everything")
    assert done.returncode == 2 and "--check: no check 'everything'" in done.stderr
    done = world.cli("doctor", "--env", "staging")
    assert done.returncode == 2 and "unknown environment 'staging'" in done.stderr


@pytest.mark.parametrize(
    ("principal", "problem"),
    [
        ("*", 'trusts "*"'),
        ("123456789012", "trusts all of account 123456789012"),
        ("arn:aws:iam::123456789012:root", "trusts all of account 123456789012"),
        (
            "arn:aws:iam::123456789012:user/someone",
            "trusts arn:aws:iam::123456789012:user/someone besides",
        ),
    ],
)
def test_the_trust_reading_names_who_else_may_assume(principal: str, problem: str) -> None:
    own = PRINCIPALS["plan"]
    doc = {
        "Statement": [
            {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"AWS": [own, principal]}}
        ]
    }
    found = trust_mod.problems(doc, own, [PRINCIPALS["apply"]])
    assert any(problem in p for p in found), found


def test_a_deny_takes_a_principal_away() -> None:
    own = PRINCIPALS["plan"]
    doc = {
        "Statement": [
            {"Effect": "Allow", "Action": "sts:*", "Principal": {"AWS": "*"}},
            {"Effect": "Deny", "Action": "sts:AssumeRole", "Principal": {"AWS": own}},
        ]
    }
    assert "does not trust its own principal" in trust_mod.problems(doc, own, [])[0]
