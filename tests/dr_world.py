"""A client to rebuild, in the moto server's two regions, for the disaster-recovery tests.

What is real: the volumes, the database and the images in moto; backups and
copies made by the real ``runners backup`` and ``runners ship`` code (so the
tags are the backup code's own); a git repository; a stack the embedded
Terraform plans. What is made by hand: the stack's Terraform state, because
the AWS provider cannot be downloaded here. It is a version-4 state with the
addresses and attributes the AWS provider writes for these resource types.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3

from runners.backup.copier import run_ship
from runners.backup.creator import run_backup
from runners.dr.demo import register_image, state_document, state_resource
from tests.backup_world import database, kms_alias, make_policy, make_run, tag_list
from tests.conftest import GitRepoHelper

SOURCE = "eu-west-1"
TARGET = "eu-central-1"
DEBIAN = "debian-13-amd64-20261101-1900"
CUSTOM = "acme-app-20261020"  # a private image that was never copied to the backup region
DB = "acme-db"
SECRET = "hunter2-not-for-logs"  # a secret attribute in the state; must never leave it

STACK_TF = """\
terraform {
  backend "local" {}
}

variable "region" {
  type    = string
  default = "eu-west-1"
}

variable "availability_zones" {
  type    = list(string)
  default = ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
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

variable "backup_kms_key_arn" {
  type    = string
  default = null
}

resource "terraform_data" "rebuild" {
  input = {
    region    = var.region
    zones     = var.availability_zones
    volumes   = var.snapshot_ids
    database  = var.snapshot_identifier
    images    = var.ami_ids
    data_key  = var.backup_kms_key_arn
  }
}
"""

DR_TOML = """\
[runners]
terraform = "embedded"

[environments.production]
branch = "production"
region = "{source}"
backup_region = "{target}"
approvers = ["alice"]
verify_build = false

[environments.production.backend]
path = "{state_dir}/{{stack}}-production.tfstate"

[stacks.client]
dir = "terraform/stacks/client"

[policies.daily]
schedule = "daily"
backup_region = "{target}"
kms_key_alias = "alias/runners-backup"
rpo_hours = 26

[policies.daily.select]
tags = {{ backup = "daily" }}
regions = ["{source}"]
kinds = ["ebs-volume", "rds-instance"]

[dr]
policy = "daily"

[dr.backend]
path = "{state_dir}/dr/{{stack}}-{{env}}-{{region}}.tfstate"

[dr.stacks.client]
region_variable = "region"
zones_variable = "availability_zones"
kms_key_variable = "backup_kms_key_arn"
manual_steps = ["Point www.acme.example at the new load balancer (Route 53, zone acme.example)."]

[dr.stacks.client.snapshots]
snapshot_ids = 'module.server["*"].aws_ebs_volume.data[0]'
snapshot_identifier = "module.database.aws_db_instance.this"

[dr.stacks.client.images]
ami_ids = 'module.server["*"].aws_instance.this'
"""


def data_volume(host: str, zone: str, size: int) -> str:
    ec2 = boto3.client("ec2", region_name=SOURCE)
    made = ec2.create_volume(
        AvailabilityZone=zone,
        Size=size,
        Encrypted=True,
        TagSpecifications=[
            {
                "ResourceType": "volume",
                "Tags": tag_list({"backup": "daily", "Name": f"{host}-data"}),
            }
        ],
    )
    return str(made["VolumeId"])


def backup_and_ship(when: datetime) -> None:
    """One scheduled backup at ``when``, then ship it: the real backup code, as Jenkins runs it."""
    policy = make_policy(kinds=["ebs-volume", "rds-instance"])
    for step in (run_backup, run_ship):
        run = make_run(policy, now=when)
        step(run)
        assert run.failures == [], run.failures


@dataclass
class Server:
    host: str
    zone: str
    image: str
    volume: str


@dataclass
class DrWorld:
    repo: GitRepoHelper
    state_dir: Path
    key_arn: str
    servers: list[Server] = field(default_factory=list)
    debian: dict[str, str] = field(default_factory=dict)  # region -> image id
    custom: str = ""
    db: str = DB

    @property
    def config(self) -> Path:
        return self.repo.root / "runners.toml"

    @property
    def state_file(self) -> Path:
        return self.state_dir / "client-production.tfstate"

    def state(self, *, debian_lookup: bool = False) -> dict[str, Any]:
        """The state a real apply of the client stack would have left, in the primary region."""
        resources = [
            state_resource(
                "module.network",
                "aws_subnet",
                "private",
                [
                    {"index_key": z, "attributes": {"id": f"subnet-{i}", "availability_zone": z}}
                    for i, z in enumerate(f"{SOURCE}{c}" for c in "abc")
                ],
            ),
            state_resource(
                "module.database",
                "aws_db_instance",
                "this",
                [
                    {
                        "attributes": {
                            "id": "db-ABCDEFGHIJKLMNOP",
                            "identifier": self.db,
                            "password": SECRET,
                            "availability_zone": f"{SOURCE}a",
                        }
                    }
                ],
            ),
        ]
        for s in self.servers:
            module = f'module.server["{s.host}"]'
            resources.append(
                state_resource(
                    module,
                    "aws_instance",
                    "this",
                    [
                        {
                            "attributes": {
                                "id": f"i-{s.host}",
                                "ami": s.image,
                                "availability_zone": s.zone,
                                "user_data": "#cloud-config",
                            }
                        }
                    ],
                )
            )
            resources.append(
                state_resource(
                    module,
                    "aws_ebs_volume",
                    "data",
                    [
                        {
                            "index_key": 0,
                            "attributes": {"id": s.volume, "availability_zone": s.zone, "size": 10},
                        }
                    ],
                )
            )
            if debian_lookup and s.image == self.debian[SOURCE]:
                resources.append(
                    state_resource(
                        module,
                        "aws_ami",
                        "debian",
                        [
                            {
                                "index_key": 0,
                                "attributes": {
                                    "id": s.image,
                                    "name": DEBIAN,
                                    "owner_id": "123456789012",
                                },
                            }
                        ],
                        mode="data",
                    )
                )
        return state_document(resources, serial=42)

    def write_state(self, **kw: bool) -> None:
        self.state_file.write_text(json.dumps(self.state(**kw), indent=2))


def build(repo: GitRepoHelper, tmp_path: Path, now: datetime | None = None) -> DrWorld:
    """Images, two servers' data volumes and a database; backed up and shipped twice."""
    now = now or datetime.now(UTC)
    state_dir = tmp_path / "state"
    (state_dir / "dr").mkdir(parents=True)
    world = DrWorld(repo, state_dir, kms_alias())
    world.debian = {region: register_image(region, DEBIAN) for region in (SOURCE, TARGET)}
    world.custom = register_image(SOURCE, CUSTOM)
    world.servers = [
        Server("web-1", f"{SOURCE}a", world.debian[SOURCE], data_volume("web-1", f"{SOURCE}a", 10)),
        Server("web-2", f"{SOURCE}b", world.custom, data_volume("web-2", f"{SOURCE}b", 30)),
    ]
    database(DB)
    backup_and_ship(now - timedelta(days=1, hours=3))
    backup_and_ship(now - timedelta(hours=3))
    world.write_state()
    repo.write("terraform/stacks/client/main.tf", STACK_TF)
    repo.write("runners.toml", DR_TOML.format(source=SOURCE, target=TARGET, state_dir=state_dir))
    repo.write(".gitignore", ".runners/\n.terraform/\ndr/\n")
    repo.commit("client stack", author="Olivia Ops <olivia@example.com>")
    return world
