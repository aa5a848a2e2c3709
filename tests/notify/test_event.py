"""Events take only whitelisted summary keys and one-line metadata; renderings hold for any text."""

from __future__ import annotations

import json
from email.message import EmailMessage
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from runners.change import manifest as manifest_mod
from runners.ci import BuildContext
from runners.notify import Counts, Event, EventKind, render
from runners.notify.channels.email import EmailChannel
from runners.notify.event import EXCERPT_MAX, excerpt, one_line
from runners.terraform.summary import Summary

SUMMARY = Summary(
    "1.2",
    "1.15.5",
    add=2,
    change=1,
    destroy=1,
    replace=1,
    import_=3,
    forget=1,
    drift=4,
    destroys=["aws_s3_bucket.logs"],
    replaces=["aws_db_instance.main"],
    protected=["aws_db_instance.main"],
    sensitive_redacted=2,
).to_dict()


def test_from_summary_reads_the_counts_and_protected_addresses() -> None:
    event = Event.from_summary(
        EventKind.PLAN_READY, stack="app", environment="production", summary=SUMMARY
    )
    assert event.counts == Counts(
        add=2, change=1, destroy=1, replace=1, import_=3, forget=1, drift=4
    )
    assert event.protected == ("aws_db_instance.main",)
    assert render.webhook_payload(event)["summary"] == {
        "add": 2,
        "change": 1,
        "destroy": 1,
        "replace": 1,
        "import": 3,
        "forget": 1,
        "drift": 4,
        "protected": ["aws_db_instance.main"],
    }


def test_from_summary_ignores_every_other_key() -> None:
    """Whatever else a summary dict carries never reaches a message."""
    tainted = {
        **SUMMARY,
        "variables": {"db_password": "leaked-value"},
        "add": "leaked-count",
        "change": True,
        "protected": "leaked-string",
    }
    event = Event.from_summary(
        EventKind.PLAN_READY, stack="app", environment="production", summary=tainted
    )
    assert event.counts is not None
    assert (event.counts.add, event.counts.change) == (0, 0)
    assert event.protected == ()
    rendered = (
        render.slack_text(event)
        + "".join(render.email(event))
        + json.dumps(render.webhook_payload(event))
    )
    assert "leaked" not in rendered


def test_no_summary_means_no_plan_line() -> None:
    event = Event.from_summary(
        EventKind.REFUSED, stack="app", environment="production", reason="no manifest"
    )
    assert event.counts is None
    assert "Plan:" not in render.slack_text(event)
    assert "Plan:" not in render.email(event)[1]
    assert render.webhook_payload(event)["summary"] is None


def test_from_manifest_takes_the_plan_from_the_manifest_and_the_people_from_the_build(
    tmp_path: Path,
) -> None:
    path = tmp_path / "manifest.json"
    path.write_text(
        json.dumps(
            {
                "schema": 2,
                "stack": "app",
                "environment": "production",
                "tfplan_sha256": "a" * 64,
                "plan_json_sha256": "b" * 64,
                "terraform_version": "1.15.5",
                "git": {"commit": "c0ffee" * 6},
                "merge_request": {"id": "42", "url": "https://git/mr/42"},
                "build": {"triggered_by": "planner"},
                "summary": SUMMARY,
            }
        )
    )
    build = BuildContext(
        build_url="https://jenkins/job/apply/9/", triggered_by="bob", merge_request="7"
    )
    event = Event.from_manifest(
        EventKind.APPLY_STARTED, manifest_mod.load(path), build, approved_by="alice"
    )
    assert (event.stack, event.environment, event.commit) == ("app", "production", "c0ffee" * 6)
    assert (event.merge_request, event.merge_request_url) == ("42", "https://git/mr/42")
    assert (event.triggered_by, event.approved_by, event.build_url) == (
        "bob",
        "alice",
        "https://jenkins/job/apply/9/",
    )
    assert event.counts is not None and event.counts.add == 2


def test_free_text_is_one_line_and_bounded() -> None:
    event = Event(
        EventKind.APPLY_FAILED,
        "app\n",
        "prod",
        reason="line one\r\nline two\x1b[31m" + "x" * 600,
        triggered_by="  ",
        commit="",
    )
    assert event.stack == "app"
    # A colour code goes whole, not just its escape byte (Terraform's errors carry them).
    assert event.reason is not None and event.reason.startswith("line one line twoxxx")
    assert len(event.reason) == 500 and event.reason.endswith("…")
    assert event.triggered_by is None and event.commit is None


HEAD = (
    "### Terraform plan: `app` in `production`\n\n**Plan: 1 to add, 0 to change, 0 to destroy.**\n"
)


def test_excerpt_is_cut_at_a_line_and_says_so() -> None:
    text = HEAD + "\n".join(f"- `aws_s3_bucket.b{i:04d}`" for i in range(1000))
    cut = excerpt(text)
    assert cut is not None
    assert len(cut) <= EXCERPT_MAX + 60
    assert cut.endswith("\n… (cut; the full report is in the build)")
    assert cut.splitlines()[-2].startswith("- `aws_s3_bucket.b")
    assert excerpt(HEAD) == HEAD.strip()


def test_excerpt_stops_before_any_value() -> None:
    for section in (
        "#### Changes\n",
        "<details><summary>x</summary>\n",
        "#### Outputs\n",
        "```diff\n",
    ):
        cut = excerpt(HEAD + "\n" + section + '! output: {"password": "leak"}\n')
        assert (
            cut
            == HEAD.strip()
            + "\n\n(changed attributes and outputs are not sent; see the report in the build)"
        )


def test_excerpt_is_only_taken_from_a_report() -> None:
    assert excerpt('  # terraform_data.db will be updated\n  - password = "leak"\n') is None
    assert excerpt("  \n") is None
    assert excerpt(None) is None


text = st.text(alphabet=st.characters(codec="utf-8"), max_size=80)


@given(text)
def test_one_line_never_holds_a_line_break(value: str) -> None:
    line = one_line(value)
    assert line is None or ("\n" not in line and "\r" not in line and len(line) <= 300)


@settings(max_examples=60)  # six kinds, three renderings each per example
@given(stack=text, env=text, user=text, reason=text, mr=text)
def test_any_text_renders_and_makes_a_valid_email(
    stack: str, env: str, user: str, reason: str, mr: str
) -> None:
    """No value can break a header, the JSON, or the Slack markup."""
    for kind in EventKind:
        event = Event(
            kind,
            stack,
            env,
            counts=Counts(add=1),
            protected=(user,),
            triggered_by=user,
            approved_by=user,
            merge_request=mr,
            merge_request_url=mr,
            reason=reason,
        )
        msg = EmailChannel(("a@example.com",), "r@example.com", "localhost", 25).message(event)
        assert isinstance(msg, EmailMessage)
        assert "\n" not in str(msg["Subject"])
        payload = render.webhook_payload(event)
        assert json.loads(json.dumps(payload)) == payload
        assert payload["reason"] == one_line(reason, 500)
        slack = render.slack_text(event)
        # The only < and > in Slack text are the link runners writes, never the user's.
        links = 1 if event.merge_request and event.merge_request_url else 0
        assert slack.count("<") == slack.count(">") == links
