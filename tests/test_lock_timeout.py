"""``[runners] lock_timeout``: Terraform waits for a state lock another run holds.

Without it an apply approved after hours failed at once because a drift check
held the lock for a minute (issue 19). The table of commands is tested in
tests/test_engine.py; here, the setting and a real wait on the S3 lock file.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import boto3
import pytest

from runners import config
from runners.errors import ConfigError
from tests.conftest import GitRepoHelper, run_cli, use_s3_state

LOCK_INFO = {
    "ID": "5b7e2f4c-0000-4000-8000-000000000001",
    "Operation": "OperationTypePlan",
    "Info": "",
    "Who": "drift-check@agent-2",
    "Version": "1.15.0",
    "Created": "2026-03-10T02:00:00Z",
    "Path": "",
}


def settings(tmp_path: Path, line: str) -> config.Config:
    path = tmp_path / "runners.toml"
    path.write_text(f"[runners]\n{line}\n\n[policies.daily]\nbackup_region = \"eu-central-1\"\n"
                    "kms_key_alias = \"alias/b\"\nrpo_hours = 26\nselect = { tags = { b = \"d\" } }\n")  # fmt: skip
    return config.load(path)


def test_the_default_is_five_minutes(tmp_path: Path) -> None:
    assert settings(tmp_path, "").lock_timeout == "5m"


@pytest.mark.parametrize("value", ["0s", "90s", "10m", "1h30m", "500ms", "24h"])
def test_a_duration_as_terraform_reads_it(tmp_path: Path, value: str) -> None:
    assert settings(tmp_path, f'lock_timeout = "{value}"').lock_timeout == value


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('"5"', "expected a duration such as 5m"),
        ('"5 m"', "expected a duration such as 5m"),
        ('"-5m"', "expected a duration such as 5m"),
        ('"1d"', "expected a duration such as 5m"),
        ('"25h"', "expected at most 24h"),
        ('""', "expected a non-empty string"),
        ("300", "expected a non-empty string"),
    ],
)
def test_anything_else_is_one_line_naming_the_key(
    tmp_path: Path, value: str, expected: str
) -> None:
    with pytest.raises(ConfigError, match=rf"runners\.lock_timeout: {expected}"):
        settings(tmp_path, f"lock_timeout = {value}")


def hold_the_lock(bucket: str, key: str) -> None:
    boto3.client("s3").put_object(Bucket=bucket, Key=key, Body=json.dumps(LOCK_INFO).encode())


def plan(repo: GitRepoHelper, out: Path) -> object:
    return run_cli(
        *("plan", "--stack", "network", "--env", "production", "--out", str(out), "--no-color"),
        cwd=repo.root,
        env=dict(os.environ),
        timeout=240,
    )


def with_lock_timeout(repo: GitRepoHelper, value: str) -> None:
    path = repo.root / "runners.toml"
    text = re.sub(r'(?m)^lock_timeout = ".*"\n', "", path.read_text())
    path.write_text(text.replace("[runners]\n", f'[runners]\nlock_timeout = "{value}"\n'))
    repo.commit(f"lock_timeout {value}")


@pytest.mark.slow
def test_a_plan_waits_for_the_lock_another_run_holds(
    client_repo: GitRepoHelper, state_bucket: str, tmp_path: Path
) -> None:
    use_s3_state(client_repo, state_bucket, ("network",))
    lock_key = "network/production.tfstate.tflock"

    # Not waiting: Terraform gives up at once and says who holds it.
    with_lock_timeout(client_repo, "0s")
    hold_the_lock(state_bucket, lock_key)
    refused = plan(client_repo, tmp_path / "first")
    assert refused.returncode == 1, refused.stderr  # type: ignore[attr-defined]
    assert "Error acquiring the state lock" in refused.stderr  # type: ignore[attr-defined]

    # Waiting: the other run lets go while Terraform waits, and the plan goes on. The lock
    # is let go only after Terraform has met it (it says so), so without the wait this fails.
    with_lock_timeout(client_repo, "2m")
    proc = subprocess.Popen(
        [
            *(sys.executable, "-m", "runners", "plan", "--stack", "network", "--env"),
            *("production", "--out", str(tmp_path / "second"), "--no-color"),
        ],
        cwd=client_repo.root,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert proc.stdout is not None
    log = []
    for line in proc.stdout:
        log.append(line)
        if "Acquiring state lock" in line and any("plan network" in x for x in log):
            time.sleep(2)  # Terraform has met the lock and is retrying
            boto3.client("s3").delete_object(Bucket=state_bucket, Key=lock_key)
            break
    log.extend(proc.stdout)
    assert proc.wait(timeout=240) == 0, "".join(log)
    assert (tmp_path / "second" / "manifest.json").is_file()
