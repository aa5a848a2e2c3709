"""runners.toml: valid files load; each kind of bad file is one line naming file and key."""

from __future__ import annotations

import errno
from pathlib import Path
from typing import Any

import pytest

from runners import config, confpath
from runners.errors import ConfigError, UsageError
from tests.conftest import run_cli

GOOD = """\
[environments.production]
branch = "production"
account_id = "123456789012"
region = "eu-west-1"
backup_region = "eu-central-1"
approvers = ["alice"]
require_approval = true

[environments.production.backend]
bucket = "acme-state"
key = "{stack}/{env}.tfstate"
use_lockfile = true

[stacks.app]
dir = "terraform/stacks/app"

[stacks.app.backend.production]
key = "custom/app.tfstate"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "runners.toml"
    path.write_text(text)
    return path


def test_good_config_loads_with_merged_backend(tmp_path: Path) -> None:
    cfg = config.load(write(tmp_path, GOOD))
    env = cfg.environment("production")
    stack = cfg.stack("app")
    assert env.approvers == ("alice",)
    assert stack.dir == (tmp_path / "terraform/stacks/app").resolve()
    assert cfg.backend_for(stack, env) == {
        "bucket": "acme-state",
        "key": "custom/app.tfstate",
        "use_lockfile": True,
    }
    assert "aws_db_instance" in cfg.protection.types


def test_placeholders_fill_stack_and_env(tmp_path: Path) -> None:
    cfg = config.load(write(tmp_path, GOOD.replace('key = "custom/app.tfstate"\n', "")))
    assert (
        cfg.backend_for(cfg.stack("app"), cfg.environment("production"))["key"]
        == "app/production.tfstate"
    )


@pytest.mark.parametrize(
    ("edit", "key", "expected"),
    [
        (
            ('region = "eu-west-1"', "region = 42"),
            "environments.production.region",
            "expected a non-empty string, got 42",
        ),
        (
            ('region = "eu-west-1"', 'region = "Europe"'),
            "environments.production.region",
            "expected an AWS region",
        ),
        (
            ('account_id = "123456789012"', 'account_id = "12345"'),
            "environments.production.account_id",
            "12-digit",
        ),
        (
            ('backup_region = "eu-central-1"', 'backup_region = "eu-west-1"'),
            "environments.production.backup_region",
            "must differ",
        ),
        (
            ('approvers = ["alice"]', "approvers = []"),
            "environments.production.approvers",
            "at least one approver",
        ),
        (
            ("require_approval = true", 'require_approval = "yes"'),
            "environments.production.require_approval",
            "expected true or false",
        ),
        (
            ('branch = "production"', 'brnch = "production"'),
            "environments.production.brnch",
            "unknown key (did you mean 'branch'?)",
        ),
        (('branch = "production"\n', ""), "environments.production.branch", "is required"),
        (
            ('dir = "terraform/stacks/app"', 'dir = "../elsewhere"'),
            "stacks.app.dir",
            "inside the repository",
        ),
        (
            ("[stacks.app.backend.production]", "[stacks.app.backend.staging]"),
            "stacks.app.backend.staging",
            "name of an environment",
        ),
        (
            ("use_lockfile = true", "use_lockfile = 1.5"),
            "environments.production.backend.use_lockfile",
            "expected true or false, got 1.5",
        ),
    ],
)
def test_bad_values_name_file_and_key(
    tmp_path: Path, edit: tuple[str, str], key: str, expected: str
) -> None:
    path = write(tmp_path, GOOD.replace(*edit))
    with pytest.raises(ConfigError) as err:
        config.load(path)
    message = str(err.value)
    assert message.startswith(f"{path}: {key}: "), message
    assert expected in message
    assert "\n" not in message


# Values that used to load and then fail later (or never work): each is refused
# when the file loads, naming the key.
FULL = (
    GOOD.replace("use_lockfile = true", 'region = "eu-west-1"\nuse_lockfile = true')
    + """
[runners]
terraform = "embedded"
ledger = ".runners/audit.jsonl"

[policies.daily]
schedule = "daily"
backup_region = "eu-central-1"
kms_key_alias = "alias/runners-backup"
rpo_hours = 26
select = { tags = { backup = "daily" }, regions = ["eu-west-1"] }

[dr.verify]
poll_seconds = 30

[dr.state]
bucket = "acme-state"
region = "eu-west-1"

[jenkins]
token_env = "JENKINS_API_TOKEN"
backup_policies = ["daily"]
poll_seconds = 2
request_timeout = 30
"""
)


@pytest.mark.parametrize(
    ("old", "new", "key", "expected"),
    [
        (
            'region = "eu-west-1"\nuse',
            'region = "eu-west-1 "\nuse',
            "environments.production.backend.region",
            "expected an AWS region such as eu-west-1, got 'eu-west-1 '",
        ),
        (
            'region = "eu-west-1"\nuse',
            "region = 5\nuse",
            "environments.production.backend.region",
            "got 5",
        ),
        (
            'region = "eu-west-1"\nuse',
            "region = true\nuse",
            "environments.production.backend.region",
            "got true (a boolean)",
        ),
        (
            'region = "eu-west-1"\nbackup',
            f'region = "eu-west-{"1" * 70}"\nbackup',
            "environments.production.region",
            "expected an AWS region",
        ),
        (
            'regions = ["eu-west-1"]',
            'regions = ["eu-west-1", "eu-west-123"]',
            "policies.daily.select.regions",
            "expected AWS regions",
        ),
        (
            'bucket = "acme-state"\nkey',
            'bucket = ""\nkey',
            "environments.production.backend.bucket",
            "expected a non-empty string, got ''",
        ),
        (
            'bucket = "acme-state"\nkey',
            'bucket = "Acme_State"\nkey',
            "environments.production.backend.bucket",
            "expected an S3 bucket name",
        ),
        (
            'bucket = "acme-state"\nkey',
            'buckt = "acme-state"\nkey',
            "environments.production.backend.buckt",
            "unknown key (did you mean 'bucket'?)",
        ),
        (
            'bucket = "acme-state"\nkey',
            'bucket = "acme-state"\nsecret_key = "abc"\nkey',
            "environments.production.backend.secret_key",
            "never put credentials in runners.toml",
        ),
        (
            'bucket = "acme-state"\nregion = "eu-west-1"\n\n[jenkins]',
            'bucket = "acme-state"\nregion = "eu-west-1 "\n\n[jenkins]',
            "dr.state.region",
            "expected an AWS region",
        ),
        ("rpo_hours = 26", "rpo_hours = nan", "policies.daily.rpo_hours", "finite number"),
        ("poll_seconds = 30", "poll_seconds = nan", "dr.verify.poll_seconds", "finite number"),
        ("poll_seconds = 2", "poll_seconds = inf", "jenkins.poll_seconds", "finite number"),
        ("request_timeout = 30", "request_timeout = nan", "jenkins.request_timeout", "finite"),
        ("request_timeout = 30", "request_timeout = 1e300", "jenkins.request_timeout", "to 1e+06"),
        ('schedule = "daily"', 'schedule = ""', "policies.daily.schedule", "non-empty string"),
        ('token_env = "JENKINS_API_TOKEN"', 'token_env = ""', "jenkins.token_env", "non-empty"),
        ('terraform = "embedded"', 'terraform = ""', "runners.terraform", "non-empty string"),
        ('ledger = ".runners/audit.jsonl"', 'ledger = ""', "runners.ledger", "non-empty string"),
        (
            'backup_policies = ["daily"]',
            'backup_policies = ["daily", "weekly"]',
            "jenkins.backup_policies",
            "'weekly' is not a backup policy ([policies.NAME]); known: daily",
        ),
        (
            'branch = "production"',
            'branch = "prod\\u0000uction"',
            "environments.production.branch",
            "expected text without control characters, got 'prod\\x00uction'",
        ),
        (
            'dir = "terraform/stacks/app"',
            'dir = "terraform/stacks/a\\u0000pp"',
            "stacks.app.dir",
            "without control characters",
        ),
        (
            'approvers = ["alice"]',
            'approvers = ["alice\\u001b[31m"]',
            "environments.production.approvers",
            "without control characters",
        ),
    ],
)
def test_values_that_could_never_work_are_refused_at_load(
    tmp_path: Path, old: str, new: str, key: str, expected: str
) -> None:
    assert config.load(write(tmp_path, FULL))  # the unedited file loads
    assert old in FULL, old
    path = write(tmp_path, FULL.replace(old, new, 1))
    with pytest.raises(ConfigError) as err:
        config.load(path)
    message = str(err.value)
    assert message.startswith(f"{path}: {key}: "), message
    assert expected in message


def test_unknown_key_suggests_the_close_one(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace("approvers =", "aprovers ="))
    with pytest.raises(
        ConfigError,
        match=r"environments\.production\.aprovers: unknown key \(did you mean 'approvers'\?\)",
    ):
        config.load(path)


def test_unknown_top_level_section(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"runners\.toml: stackz: unknown key"):
        config.load(write(tmp_path, GOOD + "\n[stackz.x]\ndir='a'\n"))


def test_duplicate_branch_is_rejected(tmp_path: Path) -> None:
    extra = '\n[environments.staging]\nbranch = "production"\nregion = "eu-west-1"\n'
    with pytest.raises(
        ConfigError, match=r"environments\.staging\.branch: branch 'production' is already used"
    ):
        config.load(write(tmp_path, GOOD + extra))


def test_not_toml_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not valid TOML"):
        config.load(write(tmp_path, "[environments\n"))
    with pytest.raises(ConfigError, match=r"runners\.toml: a number has more than 4300 digits"):
        config.load(write(tmp_path, GOOD + "\n[runners]\nreport_max_chars = " + "9" * 5000))
    with pytest.raises(ConfigError, match=r"runners\.toml: arrays or tables nested too deeply"):
        config.load(write(tmp_path, "x = " + "[" * 100_000 + "]" * 100_000))
    with pytest.raises(ConfigError, match="no such file"):
        config.load(tmp_path / "absent.toml")


def test_unknown_stack_and_environment_list_the_known_ones(tmp_path: Path) -> None:
    cfg = config.load(write(tmp_path, GOOD))
    with pytest.raises(UsageError, match="unknown stack 'ap'; known stacks: app"):
        cfg.stack("ap")
    with pytest.raises(
        UsageError, match="unknown environment 'prod'; known environments: production"
    ):
        cfg.environment("prod")


def test_find_config_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    nested = tmp_path / "a" / "b"
    nested.mkdir(parents=True)
    write(tmp_path, GOOD)
    assert confpath.find_config(None, nested) == tmp_path / "runners.toml"
    monkeypatch.setenv("RUNNERS_CONFIG", str(tmp_path / "other.toml"))
    assert confpath.find_config(None, nested) == tmp_path / "other.toml"
    assert confpath.find_config(str(tmp_path / "x.toml"), nested) == tmp_path / "x.toml"


def test_cli_bad_config_is_exit_2_one_line_no_traceback(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace('region = "eu-west-1"', "region = 42"))
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
    lines = result.stderr.strip().splitlines()
    assert lines == [
        f"error: {path}: environments.production.region: expected a non-empty string, got 42"
    ]
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize(
    ("error", "code", "line"),
    [
        (
            OSError(errno.ENOSPC, "No space left on device", "/var/lib/jenkins/out/report.md"),
            2,
            "error: /var/lib/jenkins/out/report.md: No space left on device",
        ),
        (OSError(errno.EIO, "Input/output error"), 70, "internal error: OSError: [Errno 5]"),
    ],
)
def test_a_file_the_machine_refuses_is_one_line_not_a_bug(
    error: OSError, code: int, line: str, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    from runners import cli
    from runners.commands.summarize import SummarizeCommand

    def refuse(self: object, args: object) -> int:
        raise error

    monkeypatch.setattr(SummarizeCommand, "run", refuse)
    assert cli.main(["summarize", "plan.json"]) == code
    err = capsys.readouterr().err
    assert err.startswith(line) and err.count("\n") == 1, err


def test_an_empty_string_where_it_means_something(tmp_path: Path) -> None:
    """Empty is refused where a value is required, not where the docs give it a meaning."""
    extra = '\n[jenkins]\nfolder = ""\n\n[dr.s3.daily]\ndestination_bucket = "acme-offsite"\n'
    extra += '[dr.s3.daily.buckets."acme-data"]\ndestination_prefix = ""\n'
    policy = (
        '\n[policies.daily]\nbackup_region = "eu-central-1"\nkms_key_alias = "alias/b"\n'
        'rpo_hours = 26\nselect = { tags = { backup = "daily" } }\n'
    )
    cfg = config.load(write(tmp_path, GOOD + extra + policy))
    assert cfg.jenkins.folder == ""  # the top level
    assert cfg.dr.s3["daily"].sources[0].destination_prefix == ""  # the bucket's root
