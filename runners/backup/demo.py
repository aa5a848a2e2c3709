"""The backup part of ``make demo``: seed the embedded AWS, then back up, ship, prune and report.

``run_demo(aws, config_path)`` creates what the policy selects (tagged EBS
volumes, one of them encrypted, an instance with a data volume, an encrypted
RDS database) and the backup region's KMS key alias, then runs the four
commands exactly as Jenkins would, through the CLI, and prints their output.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import boto3
from botocore.exceptions import ClientError

from runners import cli
from runners import config as config_mod
from runners.aws.behaviour import Behaviour, Settings, in_front_of
from runners.aws.embedded import EmbeddedAWS
from runners.backup import policy as policy_mod
from runners.backup.policy import Policy
from runners.backup.selection import ANY_VALUE

if TYPE_CHECKING:
    from mypy_boto3_ec2.literals import ResourceTypeType
    from mypy_boto3_ec2.type_defs import TagSpecificationTypeDef, TagTypeDef

AWS_OPERATIONS: dict[str, frozenset[str]] = {
    "ec2": frozenset({"CreateVolume", "RunInstances", "AttachVolume"}),
    "rds": frozenset({"CreateDBInstance"}),
    "kms": frozenset({"DescribeKey", "CreateKey", "CreateAlias"}),
}


@contextlib.contextmanager
def pointed_at(aws: EmbeddedAWS, layer: Behaviour | None = None) -> Iterator[None]:
    """This process's boto3 talks to the embedded AWS (through ``layer``), for the duration."""
    saved = dict(os.environ)
    aws.apply_to(os.environ)
    if layer is not None:
        os.environ.update(layer.environ())
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def seed(policy: Policy, region: str) -> None:
    """Resources the policy selects, in ``region``, and its KMS key alias in the backup region."""
    tags: list[TagTypeDef] = [
        {"Key": k, "Value": "yes" if v == ANY_VALUE else v}
        for k, v in policy.selection.tags.items()
    ]
    kms = boto3.client("kms", region_name=policy.backup_region)
    try:
        kms.describe_key(KeyId=policy.kms_key_alias)  # the demo may have made it already
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "NotFoundException":
            raise
        key = kms.create_key(Description="runners demo backup key")["KeyMetadata"]["KeyId"]
        kms.create_alias(AliasName=policy.kms_key_alias, TargetKeyId=key)
    ec2 = boto3.client("ec2", region_name=region)
    zone = f"{region}a"
    for index, encrypted in enumerate((False, False, True), 1):
        ec2.create_volume(
            AvailabilityZone=zone,
            Size=8 * index,
            Encrypted=encrypted,
            TagSpecifications=[_named("volume", tags, f"demo-data-{index}")],
        )
    instance = ec2.run_instances(
        ImageId="ami-12c6146b",
        MinCount=1,
        MaxCount=1,
        InstanceType="t3.micro",
        Placement={"AvailabilityZone": zone},
        TagSpecifications=[_named("instance", tags, "demo-app")],
    )["Instances"][0]["InstanceId"]
    data = ec2.create_volume(AvailabilityZone=zone, Size=20)["VolumeId"]
    ec2.attach_volume(VolumeId=data, InstanceId=instance, Device="/dev/sdf")
    boto3.client("rds", region_name=region).create_db_instance(
        DBInstanceIdentifier="demo-db",
        Engine="postgres",
        DBInstanceClass="db.t3.micro",
        AllocatedStorage=20,
        MasterUsername="demo",
        StorageEncrypted=True,
        MasterUserPassword=os.urandom(12).hex(),  # a throwaway; never printed or stored
        Tags=tags,
    )
    print(
        f"seeded {region}: 3 volumes (1 encrypted), instance {instance} with 2 volumes, "
        f"RDS demo-db (encrypted); KMS {policy.kms_key_alias} in {policy.backup_region}"
    )


def _named(kind: ResourceTypeType, tags: list[TagTypeDef], name: str) -> TagSpecificationTypeDef:
    return {"ResourceType": kind, "Tags": [*tags, {"Key": "Name", "Value": name}]}


def run_demo(aws: EmbeddedAWS, config_path: Path, policy_name: str = "daily") -> int:
    """Seed, then backup, ship, prune --dry-run and report; the worst exit code of the four."""
    cfg = config_mod.load(config_path)
    policy = policy_mod.find(cfg.policies, policy_name, cfg.path)
    worst = 0
    # AWS as it behaves: its token buckets, and one lost answer the backup must adopt.
    with in_front_of(aws.endpoint, Settings(buckets=True)) as layer, pointed_at(aws, layer):
        seed(policy, (policy.selection.regions or (aws.region,))[0])
        layer.lose("CreateSnapshot")
        print(
            "the behaviour layer (runners.aws.behaviour) will perform the first CreateSnapshot "
            "and lose its answer; backup looks the snapshot up and adopts it"
        )
        for argv in (["backup"], ["ship"], ["prune", "--dry-run"], ["report"]):
            command = [*argv, "--policy", policy.name, "--config", str(config_path)]
            print(f"\n$ runners {' '.join(command)}", flush=True)
            worst = max(worst, cli.main(command))
            sys.stdout.flush()
    return worst
