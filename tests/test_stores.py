"""The ledger and the lock when S3 cannot be reached: one line, a documented exit code, nothing lost.

No credentials at all is a setup problem (exit 2); anything else that keeps
the call from S3 is exit 1, naming the service, the region and the
operation; never an internal error. A record that cannot reach S3 is kept in
the pending file for the next run.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from runners.audit.ledger import Ledger, LocalLedger, S3Ledger
from runners.audit.record import AuditRecord, now
from runners.aws.embedded import free_port
from runners.change.locks import LockInfo, S3LockStore, StackLock
from runners.change.stores import aws_failure, failure_code, s3_client
from runners.errors import RunnersError, UsageError
from tests.conftest import GitRepoHelper, run_cli

S3_CONFIG = """\
[environments.production]
branch = "production"
region = "eu-west-1"
require_approval = false

[environments.production.backend]
bucket = "somewhere-state"
key = "{stack}/production.tfstate"
region = "eu-west-1"

[stacks.app]
dir = "app"
"""


@pytest.fixture
def s3_repo(git_repo: GitRepoHelper) -> GitRepoHelper:
    git_repo.write("runners.toml", S3_CONFIG)
    git_repo.write("app/main.tf", 'terraform {\n  backend "s3" {}\n}\n')
    git_repo.commit("app")
    return git_repo


def _dead_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{free_port()}")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")


def _no_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))


def test_audit_with_s3_unreachable_is_one_line_exit_1(
    s3_repo: GitRepoHelper, monkeypatch: pytest.MonkeyPatch
) -> None:
    _dead_endpoint(monkeypatch)
    r = run_cli("audit", cwd=s3_repo.root)
    assert r.returncode == 1, r.stderr
    assert r.stderr.strip() == (
        "error: cannot reach S3 in eu-west-1 (ListObjectsV2 on "
        "s3://somewhere-state/runners/audit/): EndpointConnectionError"
    )


def test_audit_without_credentials_is_exit_2(
    s3_repo: GitRepoHelper, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _no_credentials(monkeypatch, tmp_path)
    r = run_cli("audit", cwd=s3_repo.root)
    assert r.returncode == 2, r.stderr
    last = r.stderr.strip()
    assert last.startswith(
        "error: no usable AWS credentials for S3 (ListObjectsV2 on s3://somewhere-state"
    )
    assert "\n" not in last and "Traceback" not in r.stderr


def test_unlock_with_s3_unreachable_and_without_credentials(
    s3_repo: GitRepoHelper, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _dead_endpoint(monkeypatch)
    r = run_cli(
        "unlock", "--stack", "app", "--env", "production", "--run-id", "x", cwd=s3_repo.root
    )
    assert r.returncode == 1, r.stderr
    assert r.stderr.strip().splitlines()[-1] == (
        "error: cannot reach S3 in eu-west-1 (GetObject on "
        "s3://somewhere-state/runners/locks/app/production.tfstate.lock): EndpointConnectionError"
    )
    # The attempt is still recorded, locally and in the pending file.
    pending = s3_repo.root / ".runners" / "audit.pending.jsonl"
    assert json.loads(pending.read_text().splitlines()[-1])["kind"] == "unlock"
    _no_credentials(monkeypatch, tmp_path)
    r = run_cli(
        "unlock", "--stack", "app", "--env", "production", "--run-id", "x", cwd=s3_repo.root
    )
    assert r.returncode == 2 and "no usable AWS credentials" in r.stderr, r.stderr


def test_a_lock_that_cannot_be_taken_or_released(monkeypatch: pytest.MonkeyPatch) -> None:
    _dead_endpoint(monkeypatch)
    lock = StackLock(
        S3LockStore(s3_client("eu-west-1"), "b", "runners/locks/k.lock", "eu-west-1"), "x"
    )
    with pytest.raises(RunnersError) as taken:
        lock.acquire(LockInfo.new("alice", None, "apply"))
    assert str(taken.value) == (
        "cannot reach S3 in eu-west-1 (PutObject on s3://b/runners/locks/k.lock): EndpointConnectionError"
    )
    lock.info = LockInfo.new("alice", None, "apply")
    with pytest.raises(RunnersError) as released:
        lock.release()
    assert "could not release the runner lock s3://b/runners/locks/k.lock (cannot reach S3" in str(
        released.value
    )
    assert "once the state is checked, run: runners unlock --run-id" in str(released.value)


class _Broken:
    """An S3 client whose every call fails with ``exc``: the shapes botocore really raises."""

    def __init__(self, exc: BaseException) -> None:
        self.exc = exc

    def put_object(self, **_: Any) -> None:
        raise self.exc


@pytest.mark.parametrize(
    ("exc", "code"),
    [
        (EndpointConnectionError(endpoint_url="http://x"), "EndpointConnectionError"),
        (ClientError({"Error": {"Code": "AccessDenied"}}, "PutObject"), "AccessDenied"),
        (ClientError({}, "PutObject"), "ClientError"),
    ],
)
def test_a_failed_ledger_write_goes_to_the_pending_file(
    tmp_path: Path, exc: BaseException, code: str
) -> None:
    ledger = Ledger(
        LocalLedger(tmp_path / "audit.jsonl"), S3Ledger(_Broken(exc), "b", "runners", "eu-west-1")
    )
    record = AuditRecord(
        kind="apply", result="refused", stack="app", environment="e", started_at=now()
    )
    problems = ledger.append(record)
    assert problems == [f"s3://b/runners/audit/ ({code}); kept for the next run"]
    assert ledger.recorded_somewhere(problems)
    pending = (tmp_path / "audit.pending.jsonl").read_text()
    assert json.loads(pending)["id"] == record.id


def test_failure_code_survives_an_exception_whose_response_is_none() -> None:
    exc = ClientError({"Error": {"Code": "SlowDown"}}, "PutObject")
    assert failure_code(exc) == "SlowDown"
    exc.response = None  # type: ignore[assignment]
    assert failure_code(exc) == "ClientError"
    assert str(aws_failure(exc, "PutObject", "s3://b/k", "eu-west-1")) == (
        "S3 PutObject on s3://b/k in eu-west-1 failed: an error"
    )


def test_no_credentials_is_a_usage_error() -> None:
    from botocore.exceptions import NoCredentialsError

    err = aws_failure(NoCredentialsError(), "GetObject", "s3://b/k", "eu-west-1")
    assert isinstance(err, UsageError) and err.exit_code == 2
