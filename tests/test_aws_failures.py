"""AWS environments that cannot work, and AWS that does not answer: one line and an exit code.

Each case runs the real CLI in process (``main(argv)``) against the moto server,
or against a loopback port where nothing listens, or against a loopback
endpoint that answers every request with AWS's throttling error, so botocore's
own retries run before the command gives up.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from runners import cli
from runners.aws.embedded import EmbeddedAWS, free_port
from tests.conftest import PERSON, SIGNED, GitRepoHelper, run_cli, use_s3_state

CONFIG = """\
[environments.production]
branch = "production"
region = "eu-west-1"
backup_region = "eu-central-1"

[environments.production.backend]
bucket = "acme-state"
key = "{stack}/production.tfstate"
region = "eu-west-1"

[stacks.app]
dir = "app"

[policies.daily]
backup_region = "eu-central-1"
kms_key_alias = "alias/runners-backup"
rpo_hours = 26
select = { tags = { backup = "daily" }, regions = ["eu-west-1"], kinds = ["ebs-volume"] }

[policies.daily.limits]
retries = 1
"""


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "app").mkdir()
    path = tmp_path / "runners.toml"
    path.write_text(CONFIG)
    monkeypatch.setenv("RUNNERS_CONFIG", str(path))
    monkeypatch.chdir(tmp_path)
    return path


def run(capsys: Any, *argv: str) -> tuple[int, str]:
    code = cli.main(list(argv))
    return code, capsys.readouterr().err


def one_error_line(err: str) -> str:
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err and "internal error" not in err
    return lines[0]


def test_a_key_id_without_its_secret(
    aws: EmbeddedAWS, config: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    monkeypatch.delenv("AWS_SESSION_TOKEN")
    code, err = run(capsys, "prune", "--policy", "daily", "--dry-run")
    assert code == 2
    line = one_error_line(err)
    assert line.startswith("error: AWS configuration: Partial credentials found in env")
    assert "AWS_SECRET_ACCESS_KEY" in line


@pytest.mark.parametrize(
    ("variable", "command"),
    [("AWS_CONFIG_FILE", "report"), ("AWS_SHARED_CREDENTIALS_FILE", "backup")],
)
def test_an_unparseable_aws_file(
    aws: EmbeddedAWS,
    config: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: Any,
    variable: str,
    command: str,
) -> None:
    broken = tmp_path / "aws-file"
    broken.write_text("[default\naws_access_key_id = AKIA\n")
    monkeypatch.setenv(variable, str(broken))
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(key)
    code, err = run(capsys, command, "--policy", "daily")
    assert code == 2
    assert one_error_line(err) == (
        f"error: cannot parse the AWS config or credentials file {broken} "
        "(AWS_CONFIG_FILE, AWS_SHARED_CREDENTIALS_FILE)"
    )


@pytest.mark.parametrize("url", ["not a url", "ftp://127.0.0.1:9", "http://"])
def test_an_endpoint_that_is_not_a_url(
    config: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any, url: str
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", url)
    code, err = run(capsys, "report", "--policy", "daily")
    assert code == 2
    assert one_error_line(err) == (
        f"error: AWS_ENDPOINT_URL={url!r} is not a URL such as https://s3.eu-west-1.amazonaws.com"
    )


@pytest.mark.parametrize(
    "argv",
    [["audit"], ["unlock", "--stack", "app", "--env", "production", "--run-id", "r1"]],
)
def test_no_credentials_for_the_ledger_or_the_lock(
    aws: EmbeddedAWS,
    config: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: Any,
    argv: list[str],
) -> None:
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(key)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "absent"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "absent"))
    code, err = run(capsys, *argv)
    assert code == 2
    # unlock records its attempt first: the ledger may warn that it kept it locally.
    *warnings, last = err.splitlines()
    assert all(line.startswith("warning: audit record") for line in warnings), err
    assert one_error_line(last).startswith("error: no AWS credentials found: bind them")


def test_an_unreachable_endpoint_names_service_region_and_operation(
    config: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    nothing = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    monkeypatch.setenv("AWS_ENDPOINT_URL", nothing)
    code, err = run(capsys, "audit")
    assert code == 1
    line = one_error_line(err)
    # The bucket is named, and the records that could be read would still be shown.
    assert line.startswith(
        "error: audit records not read from s3://acme-state/runners (eu-west-1): "
        f"AWS s3 ListObjectsV2 in eu-west-1: no answer from {nothing} after retries "
        "(EndpointConnectionError: Could not connect to the endpoint URL:"
    )


class _Throttling(BaseHTTPRequestHandler):
    """Every request: S3's 503 SlowDown, as S3 answers a request rate it will not take."""

    calls = 0

    def _answer(self) -> None:
        type(self).calls += 1
        body = (
            b'<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code>'
            b"<Message>Please reduce your request rate.</Message></Error>"
        )
        self.send_response(503)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = _answer

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def throttling() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Throttling)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_throttling_that_outlasts_the_retries(
    config: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any, throttling: str
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", throttling)
    _Throttling.calls = 0
    code, err = run(capsys, "audit")
    assert code == 1
    assert _Throttling.calls > 1  # botocore retried before the command gave up
    assert one_error_line(err) == (
        "error: audit records not read from s3://acme-state/runners (eu-west-1): "
        f"AWS s3 ListObjectsV2 in eu-west-1 failed after {_Throttling.calls} attempts: "
        "SlowDown: Please reduce your request rate."
    )


def test_apply_without_aws_stops_at_the_lock(
    client_repo: GitRepoHelper, state_bucket: str, tmp_path: Path
) -> None:
    """The plan is made against the moto server; the apply then finds S3 gone, and
    then finds no credentials. Each ends at the first S3 call, the ledger's read of
    the stack's last apply, before the lock and before Terraform runs."""
    use_s3_state(client_repo, state_bucket, ("app",))
    out = tmp_path / "plan"
    planned = run_cli(
        "plan", "--stack", "app", "--env", "production", "--out", str(out), cwd=client_repo.root,
        env=SIGNED,
    )  # fmt: skip
    assert planned.returncode == 0, planned.stderr
    argv = ["apply", "--stack", "app", "--env", "production", "--plan-dir", str(out)]
    nothing = f"http://127.0.0.1:{free_port()}"
    no_credentials = {
        "AWS_ACCESS_KEY_ID": "",
        "AWS_SECRET_ACCESS_KEY": "",
        "AWS_SESSION_TOKEN": "",
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "absent"),
        "AWS_CONFIG_FILE": str(tmp_path / "absent"),
    }
    cases = [
        (
            {"AWS_ENDPOINT_URL": nothing},
            1,
            f"error: AWS s3 ListObjectsV2 in eu-west-1: no answer from {nothing}",
        ),
        (no_credentials, 2, "error: no AWS credentials found: bind them in the Jenkins job"),
    ]
    for env, code, start in cases:
        result = run_cli(
            *argv, "--approved-by", "alice", *PERSON, cwd=client_repo.root, env={**SIGNED, **env}
        )
        assert result.returncode == code, result.stderr
        assert "Traceback" not in result.stderr and "internal error" not in result.stderr
        # Progress lines, the ledger's warning that it kept the record locally, then the error.
        lines = result.stderr.splitlines()
        assert all(line.startswith(("==> ", "warning: ")) for line in lines[:-1]), lines
        assert lines[-1].startswith(start), lines[-1]
        assert "s3 ListObjectsV2 in eu-west-1" in lines[-1]  # the ledger's last apply


def test_a_waiter_that_gives_up_is_an_aws_failure() -> None:
    from botocore.exceptions import WaiterError

    from runners.aws.failures import as_runners_error

    exc = WaiterError(name="SnapshotCompleted", reason="Max attempts exceeded", last_response={})
    found = as_runners_error(exc)
    assert found is not None and found.exit_code == 1
    assert str(found) == "AWS Waiter SnapshotCompleted failed: Max attempts exceeded"


def test_a_bug_while_handling_an_aws_error_is_still_a_bug() -> None:
    import boto3
    from botocore.config import Config
    from botocore.exceptions import EndpointConnectionError

    from runners.aws.failures import as_runners_error

    s3 = boto3.client(
        "s3",
        region_name="eu-west-1",
        endpoint_url=f"http://127.0.0.1:{free_port()}",
        config=Config(retries={"mode": "standard", "max_attempts": 1}),
    )
    with pytest.raises(EndpointConnectionError) as unreachable:
        s3.list_buckets()
    assert str(as_runners_error(unreachable.value)).startswith("AWS s3 ListBuckets in eu-west-1")
    try:
        try:
            s3.list_buckets()
        except EndpointConnectionError:
            {}["missing"]  # the bug
    except KeyError as bug:
        assert as_runners_error(bug) is None
