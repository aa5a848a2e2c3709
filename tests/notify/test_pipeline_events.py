"""Plan and apply send their events through the configured channels; a dead channel fails nothing."""

from __future__ import annotations

import json
from pathlib import Path

from runners.aws.embedded import free_port
from tests.conftest import PERSON, SIGNED, GitRepoHelper, run_cli
from tests.notify.conftest import HttpSink


def _with_webhook(repo: GitRepoHelper) -> None:
    cfg = repo.root / "runners.toml"
    cfg.write_text(
        cfg.read_text().replace(
            "[environments.production.backend]",
            '[environments.production.notify]\nwebhook_url_env = "TEST_WEBHOOK_URL"\n\n[environments.production.backend]',
        )
    )
    repo.commit("notify production changes")


def _events(sink: HttpSink) -> list[dict]:  # type: ignore[type-arg]
    return [json.loads(r.body) for r in sink.requests]


def test_plan_refusal_and_apply_are_announced(
    client_repo: GitRepoHelper, http_sink: HttpSink, tmp_path: Path
) -> None:
    _with_webhook(client_repo)
    env = {"TEST_WEBHOOK_URL": http_sink.url(), "CHANGE_ID": "5", **SIGNED}
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
            env=env,
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
            "--approved-by",
            "mallory",
            *PERSON,
            cwd=client_repo.root,
            env=env,
        ).returncode
        == 3
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
            "--approved-by",
            "alice",
            *PERSON,
            cwd=client_repo.root,
            env=env,
        ).returncode
        == 0
    )
    events = _events(http_sink)
    assert [e["event"] for e in events] == [
        "plan_ready",
        "refused",
        "apply_started",
        "apply_succeeded",
    ]
    assert "mallory is not an approver" in events[1]["reason"]
    assert events[3]["approved_by"] == "alice"
    assert all("s3cr3t-fixture-password" not in r.body.decode() for r in http_sink.requests)


def test_dead_channel_never_fails_the_apply(client_repo: GitRepoHelper, tmp_path: Path) -> None:
    _with_webhook(client_repo)
    env = {"TEST_WEBHOOK_URL": f"http://127.0.0.1:{free_port()}/hook", **SIGNED}
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
            env=env,
        ).returncode
        == 0
    )
    r = run_cli(
        "apply",
        "--stack",
        "app",
        "--env",
        "production",
        "--plan-dir",
        str(out),
        "--approved-by",
        "alice",
        *PERSON,
        cwd=client_repo.root,
        env=env,
    )
    assert r.returncode == 0, r.stderr
    assert "warning: notify apply_succeeded via webhook failed" in r.stderr
    record = json.loads((client_repo.root / ".runners/audit.jsonl").read_text().splitlines()[-1])
    assert record["result"] == "applied"
    assert any("apply_started" in f for f in record["notifications_failed"])
