"""The ledger and the lock when S3 cannot be reached: nothing lost, nothing left unsaid.

tests/test_aws_failures.py checks the one line the CLI prints for an S3
failure of ``runners audit`` and ``runners unlock`` (exit 2 without
credentials, exit 1 naming service, region and operation otherwise). Here:
a record that cannot reach S3 goes to the pending file, whatever botocore
raised (even a ``ClientError`` without a response); an unlock that fails is
recorded; a lock that cannot be released says which command frees it.
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
from runners.change.stores import failure_code, s3_client
from runners.errors import RunnersError
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


def test_a_failed_unlock_is_recorded_and_said_in_one_line(
    s3_repo: GitRepoHelper, monkeypatch: pytest.MonkeyPatch
) -> None:
    _dead_endpoint(monkeypatch)
    r = run_cli(
        "unlock", "--stack", "app", "--env", "production", "--run-id", "x", cwd=s3_repo.root
    )
    assert r.returncode == 1, r.stderr
    *warnings, line = r.stderr.strip().splitlines()
    assert [w.split(" not written to ")[-1] for w in warnings] == [
        "s3://somewhere-state/runners/audit/ (EndpointConnectionError); kept for the next run"
    ]
    assert line.startswith("error: AWS s3 GetObject in eu-west-1: no answer from"), line
    # The attempt is still recorded, locally and in the pending file.
    local = s3_repo.root / ".runners" / "audit.jsonl"
    record = json.loads(local.read_text().splitlines()[-1])
    assert (record["kind"], record["result"], record["run_id"]) == ("unlock", "failed", "x")
    pending = s3_repo.root / ".runners" / "audit.pending.jsonl"
    assert json.loads(pending.read_text().splitlines()[-1])["id"] == record["id"]


def test_a_lock_that_cannot_be_released_names_the_command(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _dead_endpoint(monkeypatch)
    lock = StackLock(S3LockStore(s3_client("eu-west-1"), "b", "runners/locks/k.lock"), "x")
    lock.info = LockInfo.new("alice", None, "apply")
    lock_id = lock.info.run_id
    with pytest.raises(RunnersError) as released:
        lock.release()
    message = str(released.value)
    assert message.startswith(
        "could not release the runner lock s3://b/runners/locks/k.lock "
        "(AWS s3 GetObject in eu-west-1: no answer from"
    )
    assert message.endswith(f"once the state is checked, run: runners unlock --run-id {lock_id}")


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
    ledger = Ledger(LocalLedger(tmp_path / "audit.jsonl"), S3Ledger(_Broken(exc), "b", "runners"))
    record = AuditRecord(
        kind="apply", result="refused", stack="app", environment="e", started_at=now()
    )
    problems = ledger.append(record)
    assert problems == [f"s3://b/runners/audit/ ({code}); kept for the next run"]
    assert ledger.recorded_somewhere(problems)
    pending = (tmp_path / "audit.pending.jsonl").read_text()
    assert json.loads(pending)["id"] == record.id


def test_a_record_kept_nowhere_is_known(tmp_path: Path) -> None:
    exc = EndpointConnectionError(endpoint_url="http://x")
    ledger = Ledger(None, S3Ledger(_Broken(exc), "b", "runners"))
    record = AuditRecord(
        kind="apply", result="started", stack="a", environment="e", started_at=now()
    )
    assert not ledger.recorded_somewhere(ledger.append(record))


def test_failure_code_survives_an_exception_whose_response_is_none() -> None:
    exc = ClientError({"Error": {"Code": "SlowDown"}}, "PutObject")
    assert failure_code(exc) == "SlowDown"
    exc.response = None  # type: ignore[assignment]
    assert failure_code(exc) == "ClientError"
