"""Build backup scenarios in the moto server: policies, tagged resources, runs with a fake clock."""

from __future__ import annotations

import io
import os
import tomllib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3

from runners.aws.session import SessionFactory
from runners.backup.context import Run
from runners.backup.policy import Policy, parse_policies
from runners.confread import Table

REGION = "eu-west-1"
REGION2 = "eu-west-2"
BACKUP = "eu-central-1"
ALIAS = "alias/runners-backup"
TAGS = {"backup": "daily"}
NOW = datetime(2026, 3, 10, 2, 0, tzinfo=UTC)

POLICY_TOML = """\
[policies.daily]
schedule = "daily"
backup_region = "{backup}"
kms_key_alias = "{alias}"
rpo_hours = 26
max_deletions = {max_deletions}

[policies.daily.select]
tags = {{ backup = "daily" }}
regions = {regions}
kinds = {kinds}

[policies.daily.retention]
daily = 3
weekly = 2
monthly = 1
yearly = 0
on_demand_days = 5

[policies.daily.limits]
ebs_copies = {ebs_copies}
rds_copies = 20
pending_per_volume = {pending_per_volume}
ship_wait_minutes = 5
poll_seconds = 30
retries = 4
"""

ALL_KINDS = ["ebs-volume", "ec2-instance", "rds-instance", "aurora-cluster"]


def policy_text(
    regions: list[str] | None = None,
    kinds: list[str] | None = None,
    ebs_copies: int = 20,
    pending_per_volume: int = 5,
    max_deletions: int = 500,
) -> str:
    return POLICY_TOML.format(
        backup=BACKUP,
        alias=ALIAS,
        regions=_toml_list(regions or [REGION]),
        kinds=_toml_list(kinds or ALL_KINDS),
        ebs_copies=ebs_copies,
        pending_per_volume=pending_per_volume,
        max_deletions=max_deletions,
    )


def _toml_list(items: list[str]) -> str:
    return "[" + ", ".join(f'"{i}"' for i in items) + "]"


def make_policy(text: str | None = None, **kw: Any) -> Policy:
    data = tomllib.loads(text or policy_text(**kw))
    return parse_policies(Table(Path("runners.toml"), "policies", data["policies"]))["daily"]


def write_config(tmp: Path, **kw: Any) -> Path:
    path = tmp / "runners.toml"
    path.write_text(
        '[environments.production]\nbranch = "production"\nregion = "eu-west-1"\n\n'
        '[stacks.app]\ndir = "."\n\n' + policy_text(**kw)
    )
    return path


@dataclass
class Clock:
    """A monotonic clock that only moves when the code under test sleeps."""

    t: float = 1000.0
    slept: list[float] = field(default_factory=list)
    on_sleep: list[Any] = field(default_factory=list)

    def __call__(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.t += seconds
        for hook in self.on_sleep:
            hook()


_SHARED: dict[str, SessionFactory] = {}


def clients() -> SessionFactory:
    """One SessionFactory per endpoint (moto, or the behaviour layer) for the test session.

    Making boto3 clients costs a second or so for EC2's service model, and the
    moto server and the layer keep their ports for the session, so clients are shared.
    """
    endpoint = os.environ.get("AWS_ENDPOINT_URL", "")
    if endpoint not in _SHARED:
        _SHARED[endpoint] = SessionFactory()
    return _SHARED[endpoint]


def make_run(
    policy: Policy,
    clients_: SessionFactory | None = None,
    now: datetime = NOW,
    dry_run: bool = False,
    clock: Clock | None = None,
) -> Run:
    clock = clock or Clock()
    return Run(
        policy=policy,
        clients=clients_ or clients(),
        dry_run=dry_run,
        now=now,
        out=io.StringIO(),
        sleep=clock.sleep,
        clock=clock,
    )


def output(run: Run) -> str:
    return run.out.getvalue()  # type: ignore[attr-defined, no-any-return]


def lines(run: Run, verb: str) -> list[str]:
    return [line for line in output(run).splitlines() if line.startswith(verb + " ")]


# -- resources in moto ---------------------------------------------------------------------
def tag_list(tags: dict[str, str]) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in tags.items()]


def kms_alias(region: str = BACKUP, alias: str = ALIAS) -> str:
    kms = boto3.client("kms", region_name=region)
    key = kms.create_key(Description="backup key")["KeyMetadata"]
    kms.create_alias(AliasName=alias, TargetKeyId=key["KeyId"])
    return str(key["Arn"])


def volume(
    region: str = REGION, tags: dict[str, str] | None = None, encrypted: bool = False
) -> str:
    ec2 = boto3.client("ec2", region_name=region)
    made = ec2.create_volume(
        AvailabilityZone=f"{region}a",
        Size=1,
        Encrypted=encrypted,
        TagSpecifications=[
            {"ResourceType": "volume", "Tags": tag_list(TAGS if tags is None else tags)}
        ],
    )
    return str(made["VolumeId"])


def image(name: str = "acme-app-20261020", region: str = REGION) -> str:
    """A private image of the account's own, made from a throwaway instance."""
    ec2 = boto3.client("ec2", region_name=region)
    base = ec2.run_instances(ImageId="ami-12c6146b", MinCount=1, MaxCount=1)["Instances"][0]
    made = ec2.create_image(InstanceId=base["InstanceId"], Name=name)["ImageId"]
    ec2.terminate_instances(InstanceIds=[base["InstanceId"]])
    return str(made)


def instance(
    region: str = REGION,
    tags: dict[str, str] | None = None,
    data_volume: str | None = None,
    image_id: str = "ami-12c6146b",
) -> str:
    ec2 = boto3.client("ec2", region_name=region)
    made = ec2.run_instances(
        ImageId=image_id,
        MinCount=1,
        MaxCount=1,
        Placement={"AvailabilityZone": f"{region}a"},
        TagSpecifications=[
            {"ResourceType": "instance", "Tags": tag_list(TAGS if tags is None else tags)}
        ],
    )["Instances"][0]["InstanceId"]
    if data_volume:
        ec2.attach_volume(VolumeId=data_volume, InstanceId=made, Device="/dev/sdf")
    return str(made)


def database(name: str, region: str = REGION, encrypted: bool = True) -> str:
    boto3.client("rds", region_name=region).create_db_instance(
        DBInstanceIdentifier=name,
        Engine="postgres",
        DBInstanceClass="db.t3.micro",
        AllocatedStorage=20,
        MasterUsername="admin1",
        MasterUserPassword="not-a-secret-1",
        StorageEncrypted=encrypted,
        Tags=tag_list(TAGS),
    )
    return name


def cluster(name: str, region: str = REGION, encrypted: bool = True) -> str:
    boto3.client("rds", region_name=region).create_db_cluster(
        DBClusterIdentifier=name,
        Engine="aurora-postgresql",
        MasterUsername="admin1",
        MasterUserPassword="not-a-secret-1",
        StorageEncrypted=encrypted,
        Tags=tag_list(TAGS),
    )
    return name


def ebs_snapshots(region: str, **filters: str) -> list[dict[str, Any]]:
    flt = [{"Name": f"tag:{k}", "Values": [v]} for k, v in filters.items()]
    pages = (
        boto3.client("ec2", region_name=region)
        .get_paginator("describe_snapshots")
        .paginate(OwnerIds=["self"], Filters=flt)
    )
    return [s for p in pages for s in p["Snapshots"]]


def db_snapshots(region: str) -> list[dict[str, Any]]:
    return boto3.client("rds", region_name=region).describe_db_snapshots(SnapshotType="manual")[
        "DBSnapshots"
    ]


def cluster_snapshots(region: str) -> list[dict[str, Any]]:
    rds = boto3.client("rds", region_name=region)
    return rds.describe_db_cluster_snapshots(SnapshotType="manual")["DBClusterSnapshots"]


def tags_of(item: dict[str, Any]) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in item.get("Tags", item.get("TagList", []))}
