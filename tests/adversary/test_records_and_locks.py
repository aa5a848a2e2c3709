"""The record and the lock: a trace before Terraform runs, and a lock that is the state's.

An apply writes a "started" record before Terraform runs and its outcome
after, so a killed apply still leaves a trace (tests/test_apply.py kills one);
``runners unlock`` writes a record; releasing a lock deletes it only if it is
still the version this run read (``If-Match`` on its ETag).
"""

from __future__ import annotations

import json

from runners.change.locks import LockInfo, S3LockStore, StackLock
from runners.change.stores import s3_client
from tests.adversary.world import Attempt

LOCK = "runners/locks/app/production.tfstate.lock"


def _held(run_id: str) -> bytes:
    info = LockInfo(run_id, "carol", "2026-11-30T10:00:00+00:00", None, "elsewhere", 1, "apply")
    return json.dumps(info.__dict__).encode()


def test_unlock_is_recorded_and_needs_the_run_id(attempt: Attempt) -> None:
    world = attempt.world
    world.s3.put_object(Bucket=world.bucket, Key=LOCK, Body=_held("abc123abc123"))
    wrong = attempt.run("unlock", "--stack", "app", "--env", "production", "--run-id", "nope")
    assert wrong.returncode == 1
    assert "the lock's run id is abc123abc123, not nope; nothing removed" in wrong.stderr
    ok = attempt.run("unlock", "--stack", "app", "--env", "production", "--run-id", "abc123abc123")
    assert ok.returncode == 0, ok.stderr
    records = [r for r in attempt.new_records() if r["kind"] == "unlock"]
    assert [(r["result"], r["run_id"]) for r in records] == [
        ("failed", "nope"),
        ("unlocked", "abc123abc123"),
    ]
    assert records[-1]["state"] == f"s3://{world.bucket}/{LOCK}"
    assert "held by carol" in records[-1]["reason"]


def test_a_lock_replaced_meanwhile_is_not_released(attempt: Attempt) -> None:
    world = attempt.world
    store = S3LockStore(s3_client("eu-west-1"), world.bucket, LOCK)
    lock = StackLock(store, "stack app (production)")
    mine = LockInfo.new("alice", None, "apply")
    lock.acquire(mine)
    # The object is replaced between this run's read and its delete: If-Match fails.
    held = store.read()
    assert held is not None and held.info == mine
    world.s3.put_object(Bucket=world.bucket, Key=LOCK, Body=_held(mine.run_id))
    assert store.delete(held.tag) is False
    assert world.s3.get_object(Bucket=world.bucket, Key=LOCK)["Body"].read() == _held(mine.run_id)
    world.s3.delete_object(Bucket=world.bucket, Key=LOCK)


def test_someone_elses_lock_is_left_alone_on_release(attempt: Attempt) -> None:
    world = attempt.world
    store = S3LockStore(s3_client("eu-west-1"), world.bucket, LOCK)
    lock = StackLock(store, "stack app (production)")
    lock.acquire(LockInfo.new("alice", None, "apply"))
    world.s3.put_object(Bucket=world.bucket, Key=LOCK, Body=_held("someoneelse0"))
    lock.release()
    assert (
        json.loads(world.s3.get_object(Bucket=world.bucket, Key=LOCK)["Body"].read())["run_id"]
        == "someoneelse0"
    )
    world.s3.delete_object(Bucket=world.bucket, Key=LOCK)
