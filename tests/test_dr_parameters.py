"""The SSM public parameter fallback for images, with botocore's Stubber.

Moto has no public parameters (``/aws/service/debian/...`` is reserved), so
the SSM client is a real botocore client with a Stubber that answers
GetParameter as AWS does; every other client is the moto server's.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from runners import config
from runners.aws.embedded import EmbeddedAWS
from runners.aws.session import SessionFactory
from runners.dr import workflow
from tests.conftest import GitRepoHelper
from tests.dr_world import TARGET, DrWorld, build, register_image

PARAMETER = "/aws/service/debian/release/13/latest/amd64"


class StubbedSsm(SessionFactory):
    """The real clients, except SSM, which is the stubbed one."""

    def __init__(self, ssm: Any) -> None:
        super().__init__()
        self.ssm = ssm

    def client(self, service: str, region: str, account: str | None = None) -> Any:
        if service == "ssm":
            assert region == TARGET, "the parameter must be read in the target region"
            return self.ssm
        return super().client(service, region, account)


@pytest.fixture
def world(aws: EmbeddedAWS, git_repo: GitRepoHelper, tmp_path: Path) -> DrWorld:
    world = build(git_repo, tmp_path)
    text = world.config.read_text().replace(
        'kms_key_variable = "database_kms_key_arn"',
        f'kms_key_variable = "database_kms_key_arn"\nimage_parameter = "{PARAMETER}"',
    )
    world.config.write_text(text)
    return world


def run(world: DrWorld, out: Path, ssm: Any) -> workflow.Prepared:
    cfg = config.load(world.config)
    env = cfg.environment("production")
    return workflow.prepare_into(cfg, "client", env, TARGET, out, StubbedSsm(ssm))


def test_an_image_missing_in_the_target_region_falls_back_to_the_parameter(
    world: DrWorld, tmp_path: Path
) -> None:
    latest = register_image(TARGET, "debian-13-amd64-20261120-0400")
    ssm = boto3.client("ssm", region_name=TARGET)
    with Stubber(ssm) as stub:
        stub.add_response(
            "get_parameter",
            {"Parameter": {"Name": PARAMETER, "Type": "String", "Value": latest, "Version": 7}},
            {"Name": PARAMETER},
        )
        done = run(world, tmp_path / "client", ssm)
        stub.assert_no_pending_responses()
    assert done.prep.missing == []
    by_host = {i.slot.key: i for i in done.prep.images}
    assert by_host["web-1"].target_image == world.debian[TARGET]
    assert by_host["web-1"].same_image
    assert by_host["web-2"].target_image == latest
    assert not by_host["web-2"].same_image
    tfvars = json.loads((tmp_path / "client/dr.auto.tfvars.json").read_text())
    assert tfvars["ami_ids"] == {"web-1": world.debian[TARGET], "web-2": latest}
    runbook = (tmp_path / "client/runbook.md").read_text()
    assert f"**parameter {PARAMETER}: not the same image**" in runbook


def test_a_parameter_that_is_not_there_leaves_the_image_unmapped(
    world: DrWorld, tmp_path: Path
) -> None:
    ssm = boto3.client("ssm", region_name=TARGET)
    with Stubber(ssm) as stub:
        stub.add_client_error(
            "get_parameter",
            service_error_code="ParameterNotFound",
            http_status_code=400,
            expected_params={"Name": PARAMETER},
        )
        done = run(world, tmp_path / "client", ssm)
        stub.assert_no_pending_responses()
    (missing,) = done.prep.missing
    assert missing.what == 'ami_ids["web-2"]'
    assert missing.why.endswith(f"parameter {PARAMETER} gives no image in {TARGET}")
