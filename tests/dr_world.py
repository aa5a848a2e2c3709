"""A client to rebuild, in the moto server's two regions, for the disaster-recovery tests.

What is real: the servers (instances with a root and a data volume each), the
database, the images and the key in moto; backups and copies made by the real
``runners backup`` and ``runners ship`` code (so the tags are the backup code's
own); a git repository; a stack the embedded Terraform plans. web-1 is backed
up as an instance (``CreateSnapshots``: its root and data volume at one
instant, with the image recorded), web-2 by its data volume alone.

What is made by hand: the stack's Terraform state (as the AWS provider writes
these resource types, with the ids moto gave), because this stack is an
offline stand-in of terraform_data resources. tests/test_real_provider.py
runs the same story on the real client stack and the real provider.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3

from runners.backup.copier import run_ship
from runners.backup.creator import OnDemand, run_backup
from runners.dr.demo import register_image, state_document, state_resource
from tests.backup_world import database, kms_alias, make_policy, make_run, tag_list
from tests.conftest import GitRepoHelper

SOURCE = "eu-west-1"
TARGET = "eu-central-1"
DEBIAN = "debian-13-amd64-20261101-1900"  # published under one name in every region
CUSTOM = "acme-app-20261020"  # the client's own baked image, only in the source region
DB = "acme-db"
SECRET = "hunter2-not-for-logs"  # a secret attribute in the state; must never leave it
CERT_SOURCE = f"arn:aws:acm:{SOURCE}:123456789012:certificate/0a1b2c3d-0000-4000-8000-000000000001"
CERT_TARGET = f"arn:aws:acm:{TARGET}:123456789012:certificate/0a1b2c3d-0000-4000-8000-00000000dr01"

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

variable "database_kms_key_arn" {
  description = "The key of the restored database's snapshot, such as arn:aws:kms:eu-west-1:1:key/x"
  type        = string
  default     = null
}

variable "certificate_arn" {
  type = string
}

variable "deletion_protection" {
  description = "A stand-in of the real stack's switch: on, destroying the stack fails."
  type        = bool
  default     = true
}

resource "terraform_data" "guard" {
  count = var.deletion_protection ? 1 : 0

  provisioner "local-exec" {
    when    = destroy
    command = "echo 'refused: deletion protection is on' >&2; exit 1"
  }
}

resource "terraform_data" "rebuild" {
  input = {
    region      = var.region
    zones       = var.availability_zones
    volumes     = var.snapshot_ids
    database    = var.snapshot_identifier
    images      = var.ami_ids
    data_key    = var.database_kms_key_arn
    certificate = var.certificate_arn
  }
}

output "rebuilt" {
  value = terraform_data.rebuild.output
}
"""

PRODUCTION_TFVARS = f"""\
# The primary region's values.
region             = "{SOURCE}"
availability_zones = ["{SOURCE}a", "{SOURCE}b", "{SOURCE}c"]
certificate_arn    = "{CERT_SOURCE}"
"""

# The reviewed replacements for the rebuild: the find-and-replace, written down once.
DR_TFVARS = f"""\
certificate_arn = "{CERT_TARGET}"
"""

POLICY = """\
[policies.daily]
schedule = "daily"
backup_region = "{target}"
kms_key_alias = "alias/runners-backup"
rpo_hours = 26
images = ["acme-app-*"]

[policies.daily.select]
tags = {{ backup = "daily" }}
regions = ["{source}"]
kinds = ["ebs-volume", "ec2-instance", "rds-instance"]
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

[stacks.client.var_files]
production = ["production.tfvars"]

{policy}
[dr]
policy = "daily"

[dr.backend]
path = "{state_dir}/dr/{{stack}}-{{env}}-{{region}}.tfstate"

[dr.stacks.client]
region_variable = "region"
zones_variable = "availability_zones"
kms_key_variable = "database_kms_key_arn"
var_files = ["dr-{{region}}.tfvars"]
manual_steps = ["Point www.acme.example at the new load balancer (Route 53, zone acme.example)."]
{start_empty}

[dr.stacks.client.drill]
variables = {{ deletion_protection = false }}
outputs = ["rebuilt"]
smoke = "python3 scripts/smoke.py"

[dr.stacks.client.snapshots]
snapshot_ids = 'module.server["*"].aws_ebs_volume.data[0]'
snapshot_identifier = "module.database.aws_db_instance.this"

[dr.stacks.client.images]
ami_ids = 'module.server["*"].aws_instance.this'
"""


# The drill's smoke check: the rebuilt stand-in says it is in the region drilled into.
SMOKE = """\
import json
import os

outputs = json.load(open(os.environ["RUNNERS_DRILL_OUTPUTS"]))
assert outputs["rebuilt"]["region"] == os.environ["RUNNERS_DRILL_REGION"], outputs
"""

START_EMPTY = """\
start_empty = [
  "module.shared.aws_efs_file_system.this",
  'module.messaging.aws_sqs_queue.this["*"]',
]
"""


def policy_text() -> str:
    return POLICY.format(source=SOURCE, target=TARGET)


def backup_and_ship(when: datetime, on_demand: str | None = None) -> None:
    """One backup at ``when``, then ship it: the real backup code, as Jenkins runs it.

    Scheduled, unless ``on_demand`` gives a reason (then it is made even when
    the day's scheduled backup exists).
    """
    policy = make_policy(policy_text())
    run = make_run(policy, now=when)
    run_backup(run, OnDemand(on_demand) if on_demand else None)
    assert run.failures == [], run.failures
    run = make_run(policy, now=when)
    run_ship(run)
    assert run.failures == [], run.failures


@dataclass
class Server:
    host: str
    zone: str
    image: str
    volume: str  # the data volume
    instance: str = ""
    root: str = ""  # the root volume


def server(host: str, zone: str, image: str, *, instance_backup: bool) -> Server:
    """An instance with a data volume at /dev/sdf, both as the ec2-server module makes them.

    The data volume carries the backup tag (the module's backup_tag); the
    instance carries it too when it is backed up as a whole.
    """
    ec2 = boto3.client("ec2", region_name=SOURCE)
    volume = ec2.create_volume(
        AvailabilityZone=zone,
        Size=10,
        Encrypted=True,
        TagSpecifications=[
            {
                "ResourceType": "volume",
                "Tags": tag_list({"backup": "daily", "Name": f"{host}-data"}),
            }
        ],
    )["VolumeId"]
    tags = {"Name": host, **({"backup": "daily"} if instance_backup else {})}
    made = ec2.run_instances(
        ImageId=image,
        MinCount=1,
        MaxCount=1,
        Placement={"AvailabilityZone": zone},
        TagSpecifications=[{"ResourceType": "instance", "Tags": tag_list(tags)}],
    )["Instances"][0]
    ec2.attach_volume(VolumeId=volume, InstanceId=made["InstanceId"], Device="/dev/sdf")
    root = next(
        m["Ebs"]["VolumeId"]
        for m in made.get("BlockDeviceMappings", [])
        if m.get("DeviceName") == made.get("RootDeviceName")
    )
    return Server(host, zone, image, str(volume), str(made["InstanceId"]), str(root))


@dataclass
class DrWorld:
    repo: GitRepoHelper
    state_dir: Path
    key_arn: str
    servers: list[Server] = field(default_factory=list)
    debian: dict[str, str] = field(default_factory=dict)  # region -> image id
    custom: str = ""
    db: str = DB
    extra: list[dict[str, Any]] = field(default_factory=list)  # more state resources

    @property
    def config(self) -> Path:
        return self.repo.root / "runners.toml"

    @property
    def stack_dir(self) -> Path:
        return self.repo.root / "terraform/stacks/client"

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
            state_resource(
                "module.shared",
                "aws_efs_file_system",
                "this",
                [{"attributes": {"id": "fs-0123456789abcdef0", "availability_zone_name": ""}}],
            ),
            state_resource(
                "module.messaging",
                "aws_sqs_queue",
                "this",
                [
                    {
                        "index_key": "orders",
                        "attributes": {"id": "https://sqs/orders", "name": "orders"},
                    }
                ],
            ),
            state_resource(
                "module.dns",
                "aws_route53_record",
                "this",
                [
                    {
                        "index_key": f"{s.host} A",
                        "attributes": {
                            "id": f"Z1_{s.host}.prod.acme.internal_A",
                            "name": f"{s.host}.prod.acme.internal",
                            "type": "A",
                            "records": [f"10.20.{i}.10"],
                            "ttl": 300,
                        },
                    }
                    for i, s in enumerate(self.servers)
                ],
            ),
            *self.extra,
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
                                "id": s.instance or f"i-{s.host}",
                                "ami": s.image,
                                "availability_zone": s.zone,
                                "user_data": "#cloud-config",
                                "root_block_device": [
                                    {"device_name": "/dev/sda1", "volume_id": s.root}
                                ],
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
            resources.append(
                state_resource(
                    module,
                    "aws_volume_attachment",
                    "data",
                    [
                        {
                            "index_key": 0,
                            "attributes": {
                                "device_name": "/dev/sdf",
                                "volume_id": s.volume,
                                "instance_id": s.instance,
                            },
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

    def back_up_instance(self, host: str) -> None:
        """Select ``host``'s instance for the policy too, from the next backup on."""
        (srv,) = [s for s in self.servers if s.host == host]
        boto3.client("ec2", region_name=SOURCE).create_tags(
            Resources=[srv.instance], Tags=[{"Key": "backup", "Value": "daily"}]
        )

    def edit_config(self, old: str, new: str) -> None:
        text = self.config.read_text()
        assert old in text, old
        self.config.write_text(text.replace(old, new, 1))


def build(repo: GitRepoHelper, tmp_path: Path, now: datetime | None = None) -> DrWorld:
    """Images, two servers, a database; backed up and shipped twice, a day apart."""
    now = now or datetime.now(UTC)
    state_dir = tmp_path / "state"
    (state_dir / "dr").mkdir(parents=True)
    world = DrWorld(repo, state_dir, kms_alias())
    world.debian = {region: register_image(region, DEBIAN) for region in (SOURCE, TARGET)}
    world.custom = register_image(SOURCE, CUSTOM)
    world.servers = [
        server("web-1", f"{SOURCE}a", world.debian[SOURCE], instance_backup=True),
        server("web-2", f"{SOURCE}b", world.custom, instance_backup=False),
    ]
    database(DB)
    backup_and_ship(now - timedelta(days=1, hours=3))
    backup_and_ship(now - timedelta(hours=3))
    world.write_state()
    repo.write("terraform/stacks/client/main.tf", STACK_TF)
    repo.write("terraform/stacks/client/production.tfvars", PRODUCTION_TFVARS)
    repo.write(f"terraform/stacks/client/dr-{TARGET}.tfvars", DR_TFVARS)
    repo.write("scripts/smoke.py", SMOKE)
    repo.write(
        "runners.toml",
        DR_TOML.format(
            source=SOURCE,
            target=TARGET,
            state_dir=state_dir,
            policy=policy_text(),
            start_empty=START_EMPTY,
        ),
    )
    repo.write(".gitignore", ".runners/\n.terraform/\ndr/\n")
    repo.commit("client stack", author="Olivia Ops <olivia@example.com>")
    return world
