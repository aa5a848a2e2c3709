"""Guard: no sensitive value reaches any notification, from a real plan that carries two.

The fixture stack ``app`` feeds a ``sensitive = true`` variable into a
resource. It is planned and applied with one secret, then planned again with
another, so the second plan holds the old value (from state) and the new one.
Every event kind is built from that plan's manifest and report, rendered by
every template, and delivered to local servers; neither secret may appear in
anything produced, sent, or logged.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from runners import config
from runners.change import manifest as manifest_mod
from runners.ci import BuildContext
from runners.notify import Event, EventKind, NotifyConfig, dispatch, render
from runners.notify.channels.email import EmailChannel
from runners.notify.channels.slack import SlackChannel
from runners.notify.channels.webhook import WebhookChannel
from runners.stacks import select, workspace
from tests.conftest import GitRepoHelper, run_cli
from tests.notify.conftest import HttpSink, SmtpSink

FIRST = "first-s3cret-Qx81"
SECOND = "second-s3cret-Zp42"
DEFAULT = "s3cr3t-fixture-password"  # the variable's default in the fixture's main.tf


def plan(repo: GitRepoHelper, out: Path, password: str) -> None:
    result = run_cli(
        "plan",
        "--config",
        str(repo.root / "runners.toml"),
        "--stack",
        "app",
        "--env",
        "production",
        "--out",
        str(out),
        "--mr",
        "42",
        "--triggered-by",
        "carol",
        "--no-color",
        cwd=repo.root,
        env={"TF_VAR_db_password": password},
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.slow
def test_no_sensitive_value_in_any_notification(
    client_repo: GitRepoHelper,
    tmp_path: Path,
    http_sink: HttpSink,
    smtp_sink: SmtpSink,
    capsys: pytest.CaptureFixture[str],
) -> None:
    plan(client_repo, tmp_path / "first", FIRST)
    cfg = config.load(client_repo.root / "runners.toml")
    applied = workspace(select(cfg, "app", "production")).apply(tmp_path / "first" / "tfplan")
    assert applied.returncode == 0

    out = tmp_path / "second"
    plan(client_repo, out, SECOND)
    plan_json = (out / "plan.json").read_text(encoding="utf-8")
    assert FIRST in plan_json and SECOND in plan_json, (
        "the fixture no longer puts the secrets in the plan"
    )

    manifest = manifest_mod.load(out / manifest_mod.NAME)
    # report.md marks what Terraform marks sensitive, but Terraform does not mark
    # terraform_data.output, which copies the password: the report can hold it.
    report = (out / "report.md").read_text(encoding="utf-8")
    build = BuildContext(triggered_by="bob", build_url="https://jenkins.example.com/job/apply/1/")
    events = [
        Event.from_manifest(
            kind,
            manifest,
            build,
            approved_by="alice",
            reason=f"{kind} for the test",
            report_excerpt=report,
        )
        for kind in EventKind
    ]
    assert events[0].counts is not None and events[0].counts.change + events[0].counts.replace >= 1

    email = EmailChannel(("ops@example.com",), "runners@example.com", "127.0.0.1", smtp_sink.port)
    channels = NotifyConfig(channels=(SlackChannel("SLACK_URL"), email, WebhookChannel("HOOK_URL")))
    env = {"SLACK_URL": http_sink.url("/slack"), "HOOK_URL": http_sink.url("/hook")}
    produced: list[str] = []
    for event in events:
        subject, body = render.email(event)
        produced += [
            render.slack_text(event),
            subject,
            body,
            json.dumps(render.webhook_payload(event)),
            email.message(event).as_string(),
        ]
        assert dispatch(event, channels, env) == []
    assert len(http_sink.requests) == 2 * len(events)
    assert len(smtp_sink.handler.messages) == len(events)
    produced += [r.body.decode("utf-8") for r in http_sink.requests]
    for envelope, msg in smtp_sink.handler.messages:
        produced += [
            (envelope.original_content or b"").decode("utf-8", "replace"),
            msg.get_content(),
        ]
    produced.append(capsys.readouterr().err)

    for secret in (FIRST, SECOND, DEFAULT):
        leaks = [text[:60] for text in produced if secret in text]
        assert not leaks, f"{secret} leaked into {len(leaks)} messages, such as: {leaks[:3]}"

    # The head of the report went out; the attribute values did not.
    assert sum(
        "**Plan: 0 to add, 1 to change, 0 to destroy.**" in text for text in produced
    ) >= len(events)
    assert any("changed attributes and outputs are not sent" in text for text in produced)
