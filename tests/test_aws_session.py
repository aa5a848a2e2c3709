"""SessionFactory: lazy, cached, standard configuration, STS only when an account is named."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import EndpointConnectionError

from runners.aws.embedded import EmbeddedAWS
from runners.aws.session import SessionFactory

ACCOUNT = "111111111111"
TEMPLATE = "arn:aws:iam::{account}:role/runners-backup"


def count_requests(session: boto3.Session) -> list[str]:
    sent: list[str] = []
    session.events.register("before-send", lambda request, **_: sent.append(request.url))
    return sent


def test_no_network_until_a_call(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # nothing listens there
    factory = SessionFactory(role_arn_template=TEMPLATE)
    ec2 = factory.ec2("eu-west-1")
    assumed = factory.ec2("eu-west-1", ACCOUNT)  # the role is assumed on first use, not here
    assert ec2.meta.endpoint_url == "http://127.0.0.1:9"
    with pytest.raises(EndpointConnectionError):
        assumed.describe_volumes()


def test_clients_are_cached_per_service_account_and_region() -> None:
    factory = SessionFactory(role_arn_template=TEMPLATE)
    assert factory.ec2("eu-west-1") is factory.ec2("eu-west-1")
    assert factory.ec2("eu-west-1") is not factory.ec2("eu-central-1")
    assert factory.ec2("eu-west-1") is not factory.ec2("eu-west-1", ACCOUNT)
    assert factory.session(ACCOUNT) is factory.session(ACCOUNT)
    assert factory.ec2("eu-west-1").meta.config.retries["mode"] == "standard"


def test_standard_configuration_is_honoured(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "config"
    config.write_text("[profile client-a]\nregion = ap-southeast-2\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_PROFILE", "client-a")
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    factory = SessionFactory()
    assert factory.default_region() == "ap-southeast-2"
    assert factory.rds("eu-west-1").meta.endpoint_url == "http://127.0.0.1:9"


def test_one_account_needs_no_sts(aws: EmbeddedAWS) -> None:
    base = boto3.Session()
    sent = count_requests(base)
    factory = SessionFactory(base=base)
    factory.ec2("eu-west-1").describe_volumes()
    assert len(sent) == 1 and "sts" not in sent[0].lower()


def test_an_account_is_reached_through_an_assumed_role(aws: EmbeddedAWS) -> None:
    base = boto3.Session()
    calls: list[dict[str, Any]] = []
    base.events.register(
        "provide-client-params.sts.AssumeRole", lambda params, **_: calls.append(params)
    )
    factory = SessionFactory(base=base, role_arn_template=TEMPLATE, session_name="runners-daily")
    ec2 = factory.ec2("eu-west-1", ACCOUNT)
    assert calls == []
    ec2.create_volume(AvailabilityZone="eu-west-1a", Size=1)
    factory.rds("eu-west-1", ACCOUNT).describe_db_instances()
    assert [c["RoleArn"] for c in calls] == [f"arn:aws:iam::{ACCOUNT}:role/runners-backup"]
    assert calls[0]["RoleSessionName"] == "runners-daily"
    # Moto keeps accounts apart: the volume lives in the client account, not the runner's.
    assert len(factory.ec2("eu-west-1", ACCOUNT).describe_volumes()["Volumes"]) == 1
    assert factory.ec2("eu-west-1").describe_volumes()["Volumes"] == []


def test_an_assumed_role_session_carries_the_builds_identity(aws: EmbeddedAWS) -> None:
    """SourceIdentity and session tags reach STS (here moto), so CloudTrail would show them."""
    from runners.aws.identity import session_identity

    base = boto3.Session()
    calls: list[dict[str, Any]] = []
    base.events.register(
        "provide-client-params.sts.AssumeRole", lambda params, **_: calls.append(params)
    )
    identity = session_identity(
        "https://jenkins.acme.test/job/acme/job/production/job/x/7/", "dana"
    )
    factory = SessionFactory(base=base, role_arn_template=TEMPLATE, identity=identity)
    factory.ec2("eu-west-1", ACCOUNT).describe_volumes()
    [call] = calls
    assert call["SourceIdentity"] == "dana"
    assert call["Tags"] == [
        {
            "Key": "runners:build-url",
            "Value": "https://jenkins.acme.test/job/acme/job/production/job/x/7/",
        },
        {"Key": "runners:started-by", "Value": "dana"},
    ]
