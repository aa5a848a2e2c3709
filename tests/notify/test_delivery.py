"""Each channel delivers the right content to a local server; failures are reported, not raised."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping

import pytest

from runners.confread import Table
from runners.notify import EventKind, NotifyConfig, NotifyFailure, dispatch, render
from runners.notify.channels import Channel
from runners.notify.channels.email import EmailChannel
from runners.notify.channels.slack import SlackChannel
from runners.notify.channels.webhook import WebhookChannel
from runners.notify.event import Event
from tests.notify.conftest import SMTP_PASSWORD, SMTP_USER, Certificate, HttpSink, SmtpSink
from tests.notify.samples import SAMPLES

# The path of a Slack webhook URL is its credential; it must never be printed.
TOKEN = "xoxTOKEN7s3cret"
SECRET_PATH = f"/services/T0001/B0002/{TOKEN}"
SLACK = SlackChannel("TEST_SLACK_URL")
WEBHOOK = WebhookChannel("TEST_HOOK_URL")
EVENT = SAMPLES["apply_failed"]


def settings(
    *channels: Channel, timeout: float = 5.0, events: frozenset[EventKind] | None = None
) -> NotifyConfig:
    return NotifyConfig(channels=channels, timeout=timeout, events=events or frozenset(EventKind))


def mail(port: int, **kw: object) -> EmailChannel:
    values: dict[str, object] = {
        "to": ("ops@example.com", "dba@example.com"),
        "sender": "runners@example.com",
        "host": "127.0.0.1",
        "port": port,
        **kw,
    }
    return EmailChannel(**values)  # type: ignore[arg-type]


def one_warning(stderr: str) -> str:
    warnings = [line for line in stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1, stderr
    return warnings[0]


def test_slack_posts_the_mrkdwn_text(
    http_sink: HttpSink, capsys: pytest.CaptureFixture[str]
) -> None:
    env = {"TEST_SLACK_URL": http_sink.url(SECRET_PATH)}
    assert dispatch(EVENT, settings(SLACK), env) == []
    [request] = http_sink.requests
    assert request.path == SECRET_PATH
    assert request.headers["Content-Type"] == "application/json; charset=utf-8"
    body = json.loads(request.body)
    assert body == {"text": render.slack_text(EVENT), "unfurl_links": False, "unfurl_media": False}
    assert body["text"].startswith(":x: *Apply FAILED for app in production*\n")
    assert "notified apply_failed via slack" in capsys.readouterr().err


def test_webhook_posts_the_payload(http_sink: HttpSink) -> None:
    event = SAMPLES["plan_ready"]
    assert (
        dispatch(event, settings(WEBHOOK), {"TEST_HOOK_URL": http_sink.url("/runners?key=abc")})
        == []
    )
    [request] = http_sink.requests
    assert request.path == "/runners?key=abc"
    payload = json.loads(request.body)
    assert payload == render.webhook_payload(event)
    assert payload["event"] == "plan_ready"
    assert payload["summary"]["protected"] == ["aws_db_instance.main"]
    assert payload["report_excerpt"].startswith("### Terraform plan")


def test_email_through_a_plain_relay(smtp_sink: SmtpSink) -> None:
    assert dispatch(EVENT, settings(mail(smtp_sink.port)), {}) == []
    [(envelope, msg)] = smtp_sink.handler.messages
    assert envelope.mail_from == "runners@example.com"
    assert envelope.rcpt_tos == ["ops@example.com", "dba@example.com"]
    subject, body = render.email(EVENT)
    assert msg["Subject"] == subject == "[runners] Apply FAILED for app in production"
    assert msg["To"] == "ops@example.com, dba@example.com"
    assert msg["Message-ID"].endswith("@example.com>")
    assert msg.get_content().replace("\r\n", "\n") == body


def test_email_over_starttls_with_login(
    smtp_tls_sink: SmtpSink,
    loopback_cert: Certificate,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv(
        "SSL_CERT_FILE", str(loopback_cert.cert)
    )  # trust the test CA, as the system store would
    channel = mail(
        smtp_tls_sink.port, starttls=True, user=SMTP_USER, password_env="TEST_SMTP_PASSWORD"
    )
    assert dispatch(EVENT, settings(channel), {"TEST_SMTP_PASSWORD": SMTP_PASSWORD}) == []
    assert smtp_tls_sink.handler.logins == [SMTP_USER]
    assert len(smtp_tls_sink.handler.messages) == 1
    assert SMTP_PASSWORD not in capsys.readouterr().err


def test_email_wrong_password_is_reported_without_it(
    smtp_tls_sink: SmtpSink,
    loopback_cert: Certificate,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(loopback_cert.cert))
    channel = mail(
        smtp_tls_sink.port, starttls=True, user=SMTP_USER, password_env="TEST_SMTP_PASSWORD"
    )
    [failure] = dispatch(EVENT, settings(channel), {"TEST_SMTP_PASSWORD": "wrong-pa55-xyz"})
    assert failure.error.startswith(
        f"127.0.0.1:{smtp_tls_sink.port} refused the login of runners: 535"
    )
    assert "wrong-pa55-xyz" not in failure.error
    assert not smtp_tls_sink.handler.messages


def test_email_untrusted_certificate_is_reported(
    smtp_tls_sink: SmtpSink,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    channel = mail(
        smtp_tls_sink.port, starttls=True, user=SMTP_USER, password_env="TEST_SMTP_PASSWORD"
    )
    [failure] = dispatch(EVENT, settings(channel), {"TEST_SMTP_PASSWORD": SMTP_PASSWORD})
    assert (
        failure.error
        == f"TLS with 127.0.0.1:{smtp_tls_sink.port} failed: CERTIFICATE_VERIFY_FAILED"
    )
    assert not smtp_tls_sink.handler.logins


def test_starttls_required_but_not_offered(smtp_sink: SmtpSink) -> None:
    [failure] = dispatch(EVENT, settings(mail(smtp_sink.port, starttls=True)), {})
    assert (
        failure.error == f"127.0.0.1:{smtp_sink.port}: STARTTLS extension not supported by server."
    )


@pytest.mark.parametrize(
    ("status", "reply", "expected"),
    [
        (
            500,
            b"internal error",
            "HTTP 500 from {where} (URL from $TEST_SLACK_URL): internal error",
        ),
        (404, b"no_service", "HTTP 404 from {where} (URL from $TEST_SLACK_URL): no_service"),
        (
            410,
            b"channel_is_archived\n",
            "HTTP 410 from {where} (URL from $TEST_SLACK_URL): channel_is_archived",
        ),
    ],
)
def test_http_error_is_one_line_without_the_url(
    http_sink: HttpSink,
    capsys: pytest.CaptureFixture[str],
    status: int,
    reply: bytes,
    expected: str,
) -> None:
    http_sink.status, http_sink.reply = status, reply
    failures = dispatch(EVENT, settings(SLACK), {"TEST_SLACK_URL": http_sink.url(SECRET_PATH)})
    message = expected.format(where=f"127.0.0.1:{http_sink.port}")
    assert failures == [NotifyFailure("slack", "apply_failed", message)]
    assert (
        one_warning(capsys.readouterr().err)
        == f"warning: notify apply_failed via slack failed: {message}"
    )


def test_redirect_is_not_followed(http_sink: HttpSink) -> None:
    http_sink.status, http_sink.reply = 302, b""
    http_sink.location = http_sink.url("/elsewhere")
    [failure] = dispatch(EVENT, settings(WEBHOOK), {"TEST_HOOK_URL": http_sink.url(SECRET_PATH)})
    assert failure.error.startswith(f"HTTP 302 from 127.0.0.1:{http_sink.port}")
    assert [r.path for r in http_sink.requests] == [SECRET_PATH]


def test_connection_refused(closed_port: int, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"http://127.0.0.1:{closed_port}{SECRET_PATH}"
    [failure] = dispatch(EVENT, settings(SLACK), {"TEST_SLACK_URL": url})
    assert failure.error == (
        f"cannot reach 127.0.0.1:{closed_port} (URL from $TEST_SLACK_URL): Connection refused"
    )
    assert TOKEN not in capsys.readouterr().err


def test_http_timeout(http_sink: HttpSink) -> None:
    http_sink.hang = True
    started = time.monotonic()
    [failure] = dispatch(
        EVENT, settings(WEBHOOK, timeout=0.5), {"TEST_HOOK_URL": http_sink.url(SECRET_PATH)}
    )
    assert time.monotonic() - started < 5
    assert (
        failure.error
        == f"no answer from 127.0.0.1:{http_sink.port} within 0.5s (URL from $TEST_HOOK_URL)"
    )


def test_smtp_timeout(silent_port: int) -> None:
    [failure] = dispatch(EVENT, settings(mail(silent_port), timeout=0.5), {})
    assert failure.error == f"no answer from 127.0.0.1:{silent_port} within 0.5s"


def test_smtp_connection_refused(closed_port: int) -> None:
    [failure] = dispatch(EVENT, settings(mail(closed_port)), {})
    assert failure.error == f"cannot send through 127.0.0.1:{closed_port}: Connection refused"


def test_smtp_data_rejected(smtp_sink: SmtpSink) -> None:
    smtp_sink.handler.refuse_data = "554 5.7.1 message rejected by policy"
    [failure] = dispatch(EVENT, settings(mail(smtp_sink.port)), {})
    assert failure == NotifyFailure(
        "email",
        "apply_failed",
        f"127.0.0.1:{smtp_sink.port} answered 554 5.7.1 message rejected by policy",
    )


def test_smtp_every_recipient_refused(smtp_sink: SmtpSink) -> None:
    smtp_sink.handler.refuse_rcpt = {"ops@example.com", "dba@example.com"}
    [failure] = dispatch(EVENT, settings(mail(smtp_sink.port)), {})
    assert failure.error == (
        f"127.0.0.1:{smtp_sink.port} refused every recipient: "
        "dba@example.com: 550 5.1.1 no such mailbox here; "
        "ops@example.com: 550 5.1.1 no such mailbox here"
    )


def test_smtp_some_recipients_refused_is_a_failure_but_the_rest_get_it(smtp_sink: SmtpSink) -> None:
    smtp_sink.handler.refuse_rcpt = {"dba@example.com"}
    [failure] = dispatch(EVENT, settings(mail(smtp_sink.port)), {})
    assert failure.error == (
        f"127.0.0.1:{smtp_sink.port} refused some recipients: "
        "dba@example.com: 550 5.1.1 no such mailbox here"
    )
    [(envelope, _)] = smtp_sink.handler.messages
    assert envelope.rcpt_tos == ["ops@example.com"]


@pytest.mark.parametrize("value", [None, "", "   "])
def test_unset_secret_variable_is_a_failure_naming_it(
    http_sink: HttpSink, value: str | None
) -> None:
    env = {} if value is None else {"TEST_SLACK_URL": value}
    [failure] = dispatch(EVENT, settings(SLACK), env)
    assert (
        failure.error
        == "$TEST_SLACK_URL is not set or empty, so there is no Slack incoming-webhook URL to use"
    )
    assert not http_sink.requests


@pytest.mark.parametrize(
    "value",
    [f"hooks.slack.com{SECRET_PATH}", f"ftp://x{SECRET_PATH}", f"http://h:port{SECRET_PATH}"],
)
def test_a_variable_holding_no_url_is_reported_without_its_value(value: str) -> None:
    [failure] = dispatch(EVENT, settings(SLACK), {"TEST_SLACK_URL": value})
    assert failure.error.startswith("$TEST_SLACK_URL does not hold")
    assert TOKEN not in failure.error


def test_smtp_password_variable_unset(smtp_sink: SmtpSink) -> None:
    channel = mail(smtp_sink.port, starttls=True, user=SMTP_USER, password_env="TEST_SMTP_PASSWORD")
    [failure] = dispatch(EVENT, settings(channel), {})
    assert (
        failure.error
        == "$TEST_SMTP_PASSWORD is not set or empty, so there is no SMTP password to use"
    )
    assert not smtp_sink.handler.messages


def test_one_channel_failing_does_not_stop_the_others(
    http_sink: HttpSink, smtp_sink: SmtpSink, closed_port: int
) -> None:
    env = {
        "TEST_SLACK_URL": f"http://127.0.0.1:{closed_port}/x",
        "TEST_HOOK_URL": http_sink.url("/hook"),
    }
    failures = dispatch(EVENT, settings(SLACK, mail(smtp_sink.port), WEBHOOK), env)
    assert [f.channel for f in failures] == ["slack"]
    assert len(http_sink.requests) == 1
    assert len(smtp_sink.handler.messages) == 1


def test_channels_are_sent_to_side_by_side(http_sink: HttpSink, silent_port: int) -> None:
    """Three hung services cost one timeout, not three: an apply waits for the slowest only."""
    http_sink.hang = True
    env = {"TEST_SLACK_URL": http_sink.url("/a"), "TEST_HOOK_URL": http_sink.url("/b")}
    started = time.monotonic()
    failures = dispatch(EVENT, settings(SLACK, mail(silent_port), WEBHOOK, timeout=1.0), env)
    elapsed = time.monotonic() - started
    assert [f.channel for f in failures] == ["slack", "email", "webhook"]
    assert elapsed < 2.5, f"took {elapsed:.1f}s; sequential sends would take 3s"


def test_events_filter(http_sink: HttpSink) -> None:
    only_failures = settings(WEBHOOK, events=frozenset({EventKind.APPLY_FAILED, EventKind.REFUSED}))
    env = {"TEST_HOOK_URL": http_sink.url("/hook")}
    assert dispatch(SAMPLES["plan_ready"], only_failures, env) == []
    assert dispatch(SAMPLES["apply_succeeded"], only_failures, env) == []
    assert http_sink.requests == []
    assert dispatch(SAMPLES["apply_failed"], only_failures, env) == []
    assert dispatch(SAMPLES["refused"], only_failures, env) == []
    assert [json.loads(r.body)["event"] for r in http_sink.requests] == ["apply_failed", "refused"]


def test_no_channels_sends_nothing_and_says_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    assert dispatch(EVENT, NotifyConfig(), {}) == []
    assert capsys.readouterr().err == ""


class _BrokenChannel(Channel):
    """Fault injection: a channel with a bug that quotes its secret in the exception."""

    name = "broken"
    keys = ()

    @classmethod
    def from_table(cls, table: Table) -> None:
        return None

    def send(self, event: Event, environ: Mapping[str, str], timeout: float) -> None:
        raise RuntimeError(f"bug while posting to {environ['TEST_SLACK_URL']}\nsecond line")

    def secrets(self, environ: Mapping[str, str]) -> tuple[str, ...]:
        return (environ["TEST_SLACK_URL"],)


def test_an_unexpected_error_is_a_failure_scrubbed_of_secrets(
    capsys: pytest.CaptureFixture[str],
) -> None:
    url = f"https://hooks.slack.com{SECRET_PATH}"
    [failure] = dispatch(EVENT, settings(_BrokenChannel()), {"TEST_SLACK_URL": url})
    assert failure.error == "unexpected RuntimeError: bug while posting to *** second line"
    assert TOKEN not in capsys.readouterr().err
