"""The embedded AWS launcher's additions for the real provider: images, policies, certificates, the override."""

from __future__ import annotations

from pathlib import Path

import boto3
import pytest

from runners.aws.embedded import DEBIAN_OWNER, EmbeddedAWS, provider_override


@pytest.fixture(scope="module")
def provider_aws(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    aws = EmbeddedAWS(log_path=tmp_path_factory.mktemp("moto") / "moto.log", for_provider=True)
    aws.start()
    yield aws
    aws.stop()


def _client(aws: EmbeddedAWS, service: str, region: str = "eu-west-1"):  # type: ignore[no-untyped-def]
    return boto3.client(service, region_name=region, endpoint_url=aws.endpoint)


@pytest.mark.parametrize("region", ["eu-west-1", "eu-central-1"])
def test_debian_images_under_their_real_owner_in_every_region(
    provider_aws: EmbeddedAWS, region: str
) -> None:
    images = _client(provider_aws, "ec2", region).describe_images(
        Owners=[DEBIAN_OWNER], Filters=[{"Name": "name", "Values": ["debian-13-amd64-*"]}]
    )["Images"]
    assert [i["Name"] for i in images] == ["debian-13-amd64-20261101-1900"]
    assert images[0]["Architecture"] == "x86_64" and images[0]["VirtualizationType"] == "hvm"


def test_managed_policies_are_loaded(provider_aws: EmbeddedAWS) -> None:
    iam = _client(provider_aws, "iam")
    for name in ("AWSBillingReadOnlyAccess", "ReadOnlyAccess", "AdministratorAccess"):
        assert (
            iam.get_policy(PolicyArn=f"arn:aws:iam::aws:policy/{name}")["Policy"]["PolicyName"]
            == name
        )


def test_certificates_are_seeded_per_region(provider_aws: EmbeddedAWS) -> None:
    arns = provider_aws.seed_certificates("eu-central-1", ["www.acme.example"])
    arn = arns["www.acme.example"]
    assert arn.startswith("arn:aws:acm:eu-central-1:")
    got = _client(provider_aws, "acm", "eu-central-1").describe_certificate(CertificateArn=arn)
    assert got["Certificate"]["DomainName"] == "www.acme.example"


def test_override_covers_every_aws_provider_of_a_stack(tmp_path: Path) -> None:
    (tmp_path / "providers.tf").write_text(
        'provider "aws" {\n  region = var.region\n}\n\n'
        'provider "aws" {\n  alias  = "backup"\n  region = var.backup_region\n}\n'
    )
    text = provider_override(tmp_path)
    assert text.count('provider "aws" {') == 2 and 'alias                      = "backup"' in text
    for setting in (
        "max_retries                = 2",
        "skip_requesting_account_id = false",
        "s3_use_path_style          = true",
    ):
        assert text.count(setting) == 2
    assert "endpoint" not in text  # AWS_ENDPOINT_URL gives it
