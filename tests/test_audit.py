"""The audit ledger: append-only in S3 and locally, nothing lost when S3 fails, listed newest first."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import boto3
import pytest

from runners.audit.ledger import Ledger, LocalLedger, S3Ledger
from runners.audit.record import AuditRecord, now
from runners.aws.embedded import EmbeddedAWS, free_port
from runners.change.stores import s3_client
from tests.conftest import PERSON, SIGNED, GitRepoHelper, run_cli


def record(stack: str = "app", started: str | None = None, result: str = "applied") -> AuditRecord:
    return AuditRecord(
        kind="apply",
        result=result,
        stack=stack,
        environment="production",
        started_at=started or now(),
        triggered_by="bob",
        approved_by="alice",
    )


def test_records_are_one_object_each_and_never_rewritten(state_bucket: str, tmp_path: Path) -> None:
    s3 = s3_client("eu-west-1")
    ledger = Ledger(LocalLedger(tmp_path / "audit.jsonl"), S3Ledger(s3, state_bucket, "runners"))
    first = record()
    assert ledger.append(first) == []
    key = ledger.remote.key(first)  # type: ignore[union-attr]
    assert key.startswith("runners/audit/") and key.endswith(f"/app/production/{first.id}.json")
    original = s3.get_object(Bucket=state_bucket, Key=key)["Body"].read()
    changed = AuditRecord.from_dict({**first.to_dict(), "result": "failed"})
    assert ledger.append(changed) == []  # the conditional write keeps the first version
    assert s3.get_object(Bucket=state_bucket, Key=key)["Body"].read() == original
    assert len((tmp_path / "audit.jsonl").read_text().splitlines()) == 2


def test_s3_outage_loses_nothing(state_bucket: str, tmp_path: Path) -> None:
    from botocore.config import Config

    dead = boto3.client(
        "s3",
        endpoint_url=f"http://127.0.0.1:{free_port()}",
        region_name="eu-west-1",
        config=Config(retries={"max_attempts": 1}, connect_timeout=1),
    )
    local = LocalLedger(tmp_path / "audit.jsonl")
    lost = record(result="applied")
    problems = Ledger(local, S3Ledger(dead, state_bucket, "runners")).append(lost)
    assert len(problems) == 1 and "kept for the next run" in problems[0]
    assert (tmp_path / "audit.pending.jsonl").exists()
    healthy = Ledger(local, S3Ledger(s3_client("eu-west-1"), state_bucket, "runners"))
    later = record(result="refused")
    assert healthy.append(later) == []
    ids = {r.id for r in healthy.remote.records()}  # type: ignore[union-attr]
    assert ids == {lost.id, later.id}
    assert not (tmp_path / "audit.pending.jsonl").exists()


def test_plan_records_and_apply_records_live_under_their_writers_prefixes(
    state_bucket: str, tmp_path: Path
) -> None:
    """IAM tells the prefixes apart: an apply record under the plan prefix is not genuine."""
    s3 = s3_client("eu-west-1")
    ledger = S3Ledger(s3, state_bucket, "runners")
    planned = AuditRecord.from_dict({**record().to_dict(), "kind": "plan", "result": "planned"})
    applied = record()
    ledger.append(planned)
    ledger.append(applied)
    assert ledger.key(planned).startswith("runners/plan-records/")
    assert ledger.key(applied).startswith("runners/audit/")
    # What the plan role could write: an "apply" record under its own prefix.
    forged = AuditRecord.from_dict({**record().to_dict(), "approved_by": "mallory"})
    s3.put_object(
        Bucket=state_bucket,
        Key=f"runners/plan-records/2026/01/01/app/production/{forged.id}.json",
        Body=json.dumps(forged.to_dict()).encode(),
    )
    s3.put_object(Bucket=state_bucket, Key="runners/audit/x.tflock", Body=b"{}")
    assert {r.id for r in ledger.records()} == {planned.id, applied.id}


def test_listing_merges_and_sorts_newest_first(state_bucket: str, tmp_path: Path) -> None:
    s3 = s3_client("eu-west-1")
    only_remote = record(started="2026-11-20T10:00:00+00:00")
    only_local = record(started="2026-11-22T10:00:00+00:00")
    both = record(started="2026-11-21T10:00:00+00:00")
    S3Ledger(s3, state_bucket, "runners").append(only_remote)
    LocalLedger(tmp_path / "a.jsonl").append(only_local)
    Ledger(LocalLedger(tmp_path / "a.jsonl"), S3Ledger(s3, state_bucket, "runners")).append(both)
    listed = Ledger(
        LocalLedger(tmp_path / "a.jsonl"), S3Ledger(s3, state_bucket, "runners")
    ).records()
    assert [r.id for r in listed] == [only_local.id, both.id, only_remote.id]


def test_audit_cli_shows_plan_apply_and_refusal(client_repo: GitRepoHelper, tmp_path: Path) -> None:
    out = tmp_path / "p"
    assert (
        run_cli(
            "plan",
            "--stack",
            "app",
            "--env",
            "production",
            "--out",
            str(out),
            cwd=client_repo.root,
            env={"CHANGE_ID": "12", **SIGNED},
        ).returncode
        == 0
    )
    assert (
        run_cli(
            "apply",
            "--stack",
            "app",
            "--env",
            "production",
            "--plan-dir",
            str(out),
            *PERSON,
            cwd=client_repo.root,
            env=SIGNED,
        ).returncode
        == 3
    )  # no approver
    assert (
        run_cli(
            "apply",
            "--stack",
            "app",
            "--env",
            "production",
            "--plan-dir",
            str(out),
            "--approved-by",
            "alice",
            "--triggered-by",
            "bob",
            *PERSON,
            cwd=client_repo.root,
            env=SIGNED,
        ).returncode
        == 0
    )
    table = run_cli("audit", cwd=client_repo.root)
    assert table.returncode == 0, table.stderr
    lines = table.stdout.splitlines()
    assert lines[0].split()[:4] == ["started", "(UTC)", "kind", "result"]
    results = [ln.split()[3] for ln in lines[1:]]
    assert results == ["applied", "refused", "planned"]
    assert "requires an approver" in lines[2]
    as_json = json.loads(
        run_cli("audit", "--format", "json", "--env", "production", cwd=client_repo.root).stdout
    )
    assert [r["result"] for r in as_json] == ["applied", "refused", "planned"]
    assert as_json[0]["approved_by"] == "alice" and as_json[0]["merge_request"]["id"] == "12"
    # The apply's "started" record is in the ledger, and folded into its outcome here.
    raw = (client_repo.root / ".runners/audit.jsonl").read_text()
    assert '"result": "started"' in raw
    assert (
        run_cli("audit", "--stack", "network", cwd=client_repo.root).stdout.strip()
        == "no audit records match"
    )
    future = run_cli("audit", "--since", "2999-01-01", cwd=client_repo.root)
    assert future.stdout.strip() == "no audit records match"
    bad = run_cli("audit", "--since", "yesterday", cwd=client_repo.root)
    assert bad.returncode == 2 and "expected a date as YYYY-MM-DD" in bad.stderr


def test_state_store_failing_mid_apply(git_repo: GitRepoHelper, tmp_path: Path) -> None:
    """The S3 state store dies while Terraform applies: Terraform's error, the lock reported, a local record."""
    from tests.conftest import FIXTURES

    private = EmbeddedAWS(log_path=tmp_path / "moto.log").start()
    env = {**os.environ, **private.environ()}
    provisioning = tmp_path / "provisioning"  # the provisioner runs: the lock is held
    try:
        boto3.client("s3", endpoint_url=private.endpoint, region_name="eu-west-1").create_bucket(
            Bucket="fragile-state", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
        )
        git_repo.copy(
            FIXTURES / "client" / "terraform" / "stacks" / "network", "terraform/stacks/network"
        )
        main_tf = git_repo.root / "terraform/stacks/network/main.tf"
        main_tf.write_text(
            main_tf.read_text().replace('backend "local" {}', 'backend "s3" {}')
            + """
resource "terraform_data" "slow" {
  provisioner "local-exec" {
    command = "touch PROVISIONING && sleep 6"
  }
}
""".replace("PROVISIONING", str(provisioning))
        )
        git_repo.write(
            "runners.toml",
            """
            [environments.production]
            branch = "production"
            region = "eu-west-1"
            require_approval = false
            [environments.production.backend]
            bucket = "fragile-state"
            key = "network.tfstate"
            region = "eu-west-1"
            use_lockfile = true
            use_path_style = true
            skip_credentials_validation = true
            skip_requesting_account_id = true
            max_retries = 1
            [stacks.network]
            dir = "terraform/stacks/network"
            """,
        )
        git_repo.write(".gitignore", ".runners/\n.terraform/\n")
        git_repo.commit("network on S3")
        out = tmp_path / "p"
        r = run_cli(
            "plan",
            "--stack",
            "network",
            "--env",
            "production",
            "--out",
            str(out),
            cwd=git_repo.root,
            env=env,
        )
        assert r.returncode == 0, r.stderr
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "runners",
                "apply",
                "--stack",
                "network",
                "--env",
                "production",
                "--plan-dir",
                str(out),
                "--no-color",
            ],
            cwd=git_repo.root,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 120
        while not provisioning.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        assert provisioning.exists(), proc.communicate()
        private.stop()
        stdout, stderr = proc.communicate(timeout=240)
    finally:
        private.stop()
    assert proc.returncode == 1, (stdout, stderr)
    last = stderr.strip().splitlines()[-1]
    assert last.startswith("error: terraform apply failed"), stderr
    assert "could not release the runner lock" in stderr and "runners unlock --run-id" in stderr
    assert "Traceback" not in stderr
    # Terraform keeps what it could not save; nothing is lost.
    assert (git_repo.root / "terraform/stacks/network/errored.tfstate").exists()
    records = [
        json.loads(ln) for ln in (git_repo.root / ".runners/audit.jsonl").read_text().splitlines()
    ]
    assert (
        records[-1]["result"] == "failed"
        and "could not release the runner lock" in records[-1]["reason"]
    )
    assert (git_repo.root / ".runners/audit.pending.jsonl").exists()


@pytest.mark.parametrize("fmt", ["table", "json"])
def test_audit_without_records(client_repo: GitRepoHelper, fmt: str) -> None:
    r = run_cli("audit", "--format", fmt, cwd=client_repo.root)
    assert r.returncode == 0
    assert r.stdout.strip() in ("no audit records match", "[]")
