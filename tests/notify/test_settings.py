"""``[environments.NAME.notify]``: the documented example loads; each mistake is one line."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from runners import config
from runners.errors import ConfigError
from runners.notify import EventKind, NotifyConfig
from runners.notify.channels.email import EmailChannel
from runners.notify.channels.slack import SlackChannel
from runners.notify.channels.webhook import WebhookChannel
from tests.conftest import REPO_ROOT, run_cli

BASE = """\
[environments.production]
branch = "production"
region = "eu-west-1"

[stacks.app]
dir = "terraform/stacks/app"
"""
KEY = "environments.production.notify"


def docs_block(lang: str) -> str:
    text = (REPO_ROOT / "docs" / "notify.md").read_text(encoding="utf-8")
    match = re.search(rf"```{lang}\n(.*?)```", text, re.S)
    assert match, f"docs/notify.md has no {lang} block"
    return match.group(1)


def load(tmp_path: Path, notify: str) -> config.Config:
    path = tmp_path / "runners.toml"
    path.write_text(BASE + "\n[environments.production.notify]\n" + notify)
    return config.load(path)


def test_the_documented_example_loads(tmp_path: Path) -> None:
    path = tmp_path / "runners.toml"
    path.write_text(BASE + "\n" + docs_block("toml"))
    notify = config.load(path).environment("production").notify
    assert notify.channels == (
        SlackChannel("RUNNERS_SLACK_WEBHOOK"),
        EmailChannel(
            to=("ops@example.com", "dba@example.com"),
            sender="runners@example.com",
            host="smtp.example.com",
            port=587,
            starttls=True,
            user="runners@example.com",
            password_env="RUNNERS_SMTP_PASSWORD",
        ),
        WebhookChannel("RUNNERS_WEBHOOK_URL"),
    )
    assert notify.events == frozenset(EventKind)
    assert notify.timeout == 10.0


def test_no_notify_table_sends_nothing(tmp_path: Path) -> None:
    path = tmp_path / "runners.toml"
    path.write_text(BASE)
    notify = config.load(path).environment("production").notify
    assert notify == NotifyConfig()
    assert not any(notify.wants(kind) for kind in EventKind)


def test_events_filter_and_defaults(tmp_path: Path) -> None:
    notify = (
        load(
            tmp_path,
            'events = ["refused", "apply_failed"]\nsmtp_host = "localhost"\n'
            'email_to = ["ops@example.com"]\nemail_from = "r@example.com"\n',
        )
        .environment("production")
        .notify
    )
    assert notify.events == {EventKind.REFUSED, EventKind.APPLY_FAILED}
    assert notify.wants(EventKind.REFUSED)
    assert not notify.wants(EventKind.PLAN_READY)
    [channel] = notify.channels
    assert channel == EmailChannel(("ops@example.com",), "r@example.com", "localhost", 25)


def test_starttls_defaults_to_the_submission_port(tmp_path: Path) -> None:
    cfg = load(
        tmp_path,
        'smtp_host = "m"\nemail_to = ["a@b.c"]\nemail_from = "r@b.c"\nsmtp_starttls = true\n',
    )
    [channel] = cfg.environment("production").notify.channels
    assert isinstance(channel, EmailChannel)
    assert channel.port == 587


MAIL = 'email_to = ["ops@example.com"]\nemail_from = "runners@example.com"\nsmtp_host = "mail"\n'


@pytest.mark.parametrize(
    ("notify", "key", "expected"),
    [
        (
            'events = ["apply_fialed"]',
            "events",
            "unknown event 'apply_fialed' (did you mean 'apply_failed'?); expected some of: "
            "plan_ready, apply_started, apply_succeeded, apply_failed, refused, drift_found",
        ),
        (
            'events = "apply_failed"',
            "events",
            "expected a list of non-empty strings, got 'apply_failed'",
        ),
        (
            'slack_webhok_env = "X"',
            "slack_webhok_env",
            "unknown key (did you mean 'slack_webhook_env'?)",
        ),
        (
            "slack_webhook_env = 3",
            "slack_webhook_env",
            "expected the name of an environment variable",
        ),
        ("timeout_seconds = 0", "timeout_seconds", "expected a number >= 1.0, got 0"),
        (
            "timeout_seconds = 600",
            "timeout_seconds",
            "expected at most 120 (an apply waits for it), got 600",
        ),
        (
            'smtp_host = "mail"',
            "email_to",
            f"is required when {KEY}.smtp_host is set (a list of addresses)",
        ),
        ('email_to = "ops@example.com"', "email_to", "expected a list of non-empty strings"),
        ("email_to = []", "email_to", "expected at least one address"),
        (
            'email_to = ["ops"]',
            "email_to",
            "expected plain addresses such as ops@example.com, got 'ops'",
        ),
        (
            'email_to = ["a@b.c", "Ops <ops@example.com>"]',
            "email_to",
            "got 'Ops <ops@example.com>'",
        ),
        ('email_to = ["ops@example.com"]', "email_from", f"is required when {KEY}.email_to is set"),
        (
            'email_to = ["ops@example.com"]\nemail_from = "r@example.com"',
            "smtp_host",
            "is required when",
        ),
        (MAIL + "smtp_port = 70000", "smtp_port", "expected a TCP port (1-65535), got 70000"),
        (MAIL + 'smtp_port = "587"', "smtp_port", "expected an integer >= 1, got '587'"),
        (MAIL + 'smtp_starttls = "yes"', "smtp_starttls", "expected true or false"),
        (
            MAIL + 'smtp_user = "runners"\nsmtp_password_env = "P"',
            "smtp_starttls",
            "must be true when smtp_user is set, or the password crosses the network in clear",
        ),
        (
            MAIL + 'smtp_user = "runners"\nsmtp_starttls = true',
            "smtp_password_env",
            "is required when smtp_user is set",
        ),
        (
            MAIL + 'smtp_password_env = "P"\nsmtp_starttls = true',
            "smtp_user",
            "is required when smtp_password_env is set",
        ),
    ],
)
def test_mistakes_are_one_line_naming_the_key(
    tmp_path: Path, notify: str, key: str, expected: str
) -> None:
    with pytest.raises(ConfigError) as err:
        load(tmp_path, notify + "\n")
    message = str(err.value)
    assert message.startswith(f"{tmp_path / 'runners.toml'}: {KEY}.{key}: "), message
    assert expected in message
    assert "\n" not in message


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("slack_webhook_env", "https://hooks.slack.com/services/T000/B000/XyZsecret123"),
        ("webhook_url_env", "https://example.com/hook?token=XyZsecret123"),
        ("smtp_password_env", "XyZsecret!pass"),
    ],
)
def test_a_secret_pasted_where_a_variable_name_goes_is_not_echoed(
    tmp_path: Path, key: str, value: str
) -> None:
    extra = MAIL + 'smtp_user = "u"\nsmtp_starttls = true\n' if key.startswith("smtp") else ""
    with pytest.raises(ConfigError) as err:
        load(tmp_path, extra + f'{key} = "{value}"\n')
    message = str(err.value)
    assert f"{KEY}.{key}: expected the name of an environment variable" in message
    assert "not the secret itself; the value is not shown" in message
    assert "XyZsecret" not in message


def test_notify_must_be_a_table(tmp_path: Path) -> None:
    path = tmp_path / "runners.toml"
    path.write_text(
        BASE.replace('region = "eu-west-1"\n', 'region = "eu-west-1"\nnotify = "slack"\n')
    )
    with pytest.raises(
        ConfigError, match=r"environments\.production\.notify: expected a table, got 'slack'"
    ):
        config.load(path)


def test_cli_bad_notify_config_is_exit_2_one_line(tmp_path: Path) -> None:
    path = tmp_path / "runners.toml"
    path.write_text(BASE + '\n[environments.production.notify]\nevents = ["everything"]\n')
    result = run_cli(
        "plan",
        "--config",
        str(path),
        "--stack",
        "app",
        "--env",
        "production",
        "--out",
        str(tmp_path / "o"),
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"error: {path}: {KEY}.events: unknown event 'everything'; expected some of: plan_ready, "
        "apply_started, apply_succeeded, apply_failed, refused, drift_found"
    ]
