"""The disaster-recovery part of ``make demo``: prepare a rebuild in the embedded AWS's second region.

``run(aws, out)`` makes a small client of its own in the embedded AWS, so it
depends on nothing the rest of the demo did:

- in the first region, two servers' data volumes and a database, tagged for
  a backup policy of its own (``dr-demo``), and two machine images, one of
  which was never copied to the second region;
- ``runners backup`` and ``runners ship``, exactly as Jenkins runs them, so
  the second region holds copies tagged by the real backup code;
- the stack's Terraform state in the backup region's bucket, as the
  backup-region module's replication leaves it (written here by hand: the
  AWS provider cannot be downloaded, so no real apply can make it);
- then ``runners dr prepare`` for the second region: first as Jenkins would
  run it (exit 1: an image is missing there), then with ``--allow-missing``,
  and the runbook it wrote is printed.
"""

from __future__ import annotations

import json
import os
import shlex
import sys
from pathlib import Path
from typing import Any

import boto3

from runners import cli
from runners.aws.embedded import EmbeddedAWS
from runners.backup.demo import pointed_at

AWS_OPERATIONS: dict[str, frozenset[str]] = {
    "ec2": frozenset({"RegisterImage", "CreateVolume", "RunInstances"}),
    "rds": frozenset({"CreateDBInstance"}),
    "kms": frozenset({"CreateKey", "CreateAlias"}),
    "s3": frozenset({"CreateBucket", "PutObject"}),
}

POLICY = "dr-demo"
STATE_KEY = "client/production.tfstate"
DEBIAN = "debian-13-amd64-20261101-1900"
APP_IMAGE = "acme-app-20261020"

CONFIG = """\
# The disaster-recovery demo's own client: one environment, one stack, one policy.
[environments.production]
branch = "production"
region = "{source}"
backup_region = "{backup}"

[environments.production.backend]
path = "{root}/state/{{stack}}-production.tfstate"

[stacks.client]
dir = "terraform/stacks/client"

[policies.{policy}]
backup_region = "{backup}"
kms_key_alias = "alias/{policy}"
rpo_hours = 26

[policies.{policy}.select]
tags = {{ dr-demo = "yes" }}
regions = ["{source}"]
kinds = ["ebs-volume", "ec2-instance", "rds-instance"]

[dr]
policy = "{policy}"

# The state is read from the backup region's copy of the state bucket.
[dr.state]
bucket = "{bucket}"
key = "{{stack}}/{{env}}.tfstate"
region = "{backup}"

# The rebuilt stack keeps a state of its own.
[dr.backend]
path = "{root}/state/dr/{{stack}}-{{env}}-{{region}}.tfstate"

[dr.stacks.client]
region_variable = "region"
zones_variable = "availability_zones"
manual_steps = ["Point www.acme.example at the new load balancer (zone acme.example)."]

[dr.stacks.client.snapshots]
snapshot_ids = 'module.server["*"].aws_ebs_volume.data[0]'
snapshot_identifier = "module.database.aws_db_instance.this"

[dr.stacks.client.images]
ami_ids = 'module.server["*"].aws_instance.this'
"""

STACK = """\
terraform {
  backend "local" {}
}

variable "region" {
  type = string
}

variable "availability_zones" {
  type = list(string)
}

variable "snapshot_ids" {
  type    = map(string)
  default = {}
}

variable "snapshot_identifier" {
  type    = string
  default = null
}

variable "ami_ids" {
  type    = map(string)
  default = {}
}
"""


# -- a version-4 Terraform state, as the AWS provider writes these resources -------------------


def state_resource(
    module: str | None,
    rtype: str,
    name: str,
    instances: list[dict[str, Any]],
    mode: str = "managed",
) -> dict[str, Any]:
    found: dict[str, Any] = {
        "mode": mode,
        "type": rtype,
        "name": name,
        "provider": 'provider["registry.terraform.io/hashicorp/aws"]',
        "instances": instances,
    }
    if module:
        found["module"] = module
    return found


def state_document(resources: list[dict[str, Any]], serial: int = 1) -> dict[str, Any]:
    return {
        "version": 4,
        "terraform_version": "1.15.5",
        "serial": serial,
        "lineage": "0d4b7a9e-0000-4000-8000-00000000d3e0",
        "outputs": {},
        "resources": resources,
    }


def server_resources(host: str, image: str, volume: str, zone: str) -> list[dict[str, Any]]:
    """One ec2-server module instance: the instance and its data volume."""
    module = f'module.server["{host}"]'
    return [
        state_resource(
            module,
            "aws_instance",
            "this",
            [{"attributes": {"id": f"i-{host}", "ami": image, "availability_zone": zone}}],
        ),
        state_resource(
            module,
            "aws_ebs_volume",
            "data",
            [{"index_key": 0, "attributes": {"id": volume, "availability_zone": zone}}],
        ),
    ]


# -- the demo ------------------------------------------------------------------------------------


def _say(text: str) -> None:
    print(f"\n\033[1m## {text}\033[0m", flush=True)


def _runners(*args: str) -> int:
    print(f"$ runners {shlex.join(args)}", flush=True)
    code = cli.main(list(args))
    sys.stdout.flush()
    print(f"(exit {code})", flush=True)
    return code


def register_image(region: str, name: str) -> str:
    """An image in the embedded AWS (owned by its one account), by name."""
    made = boto3.client("ec2", region_name=region).register_image(
        Name=name,
        Architecture="x86_64",
        VirtualizationType="hvm",
        RootDeviceName="/dev/xvda",
        BlockDeviceMappings=[{"DeviceName": "/dev/xvda", "Ebs": {"VolumeSize": 8}}],
    )
    return str(made["ImageId"])


def _seed(source: str, backup: str) -> dict[str, Any]:
    tags: list[Any] = [{"Key": "dr-demo", "Value": "yes"}]
    kms = boto3.client("kms", region_name=backup)
    key = kms.create_key(Description="dr demo: backup region key")["KeyMetadata"]["KeyId"]
    kms.create_alias(AliasName=f"alias/{POLICY}", TargetKeyId=key)
    debian = register_image(source, DEBIAN)
    register_image(backup, DEBIAN)
    app = register_image(source, APP_IMAGE)
    ec2 = boto3.client("ec2", region_name=source)
    # web-1's server, backed up as an instance: its snapshots record its image's name and owner.
    ec2.run_instances(
        ImageId=debian,
        MinCount=1,
        MaxCount=1,
        TagSpecifications=[{"ResourceType": "instance", "Tags": tags}],
    )
    servers = []
    for host, image, zone, size in (("web-1", debian, "a", 10), ("app-1", app, "b", 30)):
        volume = ec2.create_volume(
            AvailabilityZone=f"{source}{zone}",
            Size=size,
            Encrypted=True,
            TagSpecifications=[
                {
                    "ResourceType": "volume",
                    "Tags": [*tags, {"Key": "Name", "Value": f"{host}-data"}],
                }
            ],
        )["VolumeId"]
        servers.append((host, image, volume, f"{source}{zone}"))
    boto3.client("rds", region_name=source).create_db_instance(
        DBInstanceIdentifier="acme-db",
        Engine="postgres",
        DBInstanceClass="db.t3.micro",
        AllocatedStorage=20,
        MasterUsername="acme",
        MasterUserPassword=os.urandom(12).hex(),  # a throwaway; never printed or stored
        StorageEncrypted=True,
        Tags=tags,
    )
    print(f"{source}: volumes {', '.join(s[2] for s in servers)} and database acme-db")
    print(f"images: {DEBIAN} in both regions; {APP_IMAGE} only in {source}")
    return {"servers": servers}


def _volume_tags(tags: list[Any], name: str) -> Any:
    return {"ResourceType": "volume", "Tags": [*tags, {"Key": "Name", "Value": name}]}


def _state(seeded: dict[str, Any], source: str) -> dict[str, Any]:
    resources = [
        state_resource(
            "module.network",
            "aws_subnet",
            "private",
            [
                {
                    "index_key": f"{source}{z}",
                    "attributes": {"id": f"subnet-{z}", "availability_zone": f"{source}{z}"},
                }
                for z in "abc"
            ],
        ),
        state_resource(
            "module.database",
            "aws_db_instance",
            "this",
            [{"attributes": {"id": "db-DEMO", "identifier": "acme-db"}}],
        ),
    ]
    for host, image, volume, zone in seeded["servers"]:
        resources += server_resources(host, image, volume, zone)
    return state_document(resources, serial=7)


def run(
    aws: EmbeddedAWS, out: Path, source: str = "eu-west-1", backup: str = "eu-central-1"
) -> int:
    """Prepare a rebuild of a demo client in ``backup``; print the runbook. 0 when it went as shown."""
    root = out.resolve()
    (root / "state" / "dr").mkdir(parents=True, exist_ok=True)
    stack_dir = root / "terraform" / "stacks" / "client"
    stack_dir.mkdir(parents=True, exist_ok=True)
    (stack_dir / "main.tf").write_text(STACK)
    bucket = f"{POLICY}-backup-{backup}"
    config = root / "runners.toml"
    config.write_text(
        CONFIG.format(source=source, backup=backup, root=root, policy=POLICY, bucket=bucket)
    )
    with pointed_at(aws):
        _say(f"Disaster recovery: a client in {source}, backed up and shipped to {backup}")
        seeded = _seed(source, backup)
        for command in ("backup", "ship"):
            if _runners(command, "--policy", POLICY, "--config", str(config)) != 0:
                return 1
        s3 = boto3.client("s3", region_name=backup)
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": backup})  # type: ignore[typeddict-item]
        s3.put_object(
            Bucket=bucket, Key=STATE_KEY, Body=json.dumps(_state(seeded, source)).encode()
        )
        print(f"the stack's state, as replication left it: s3://{bucket}/{STATE_KEY}")

        _say(f"{source} is lost. On call runs dr prepare, as the dr job does")
        dr_out = root / "dr" / backup
        prepare = (
            "dr",
            "prepare",
            "--to-region",
            backup,
            "--config",
            str(config),
            "--out",
            str(dr_out),
        )
        if _runners(*prepare) != 1:
            return 1
        _say(f"{APP_IMAGE} is not in {backup}: the person decides to go on without it")
        if _runners(*prepare, "--allow-missing") != 0:
            return 1
        runbook = dr_out / "client" / "runbook.md"
        _say(f"The runbook: {runbook}")
        print(runbook.read_text())
        print(f"The variables for dr plan: {dr_out / 'client' / 'dr.auto.tfvars.json'}")
    return 0
