"""The disaster-recovery part of ``make demo``: the outage rehearsal, in the embedded AWS's two regions.

``run(aws, out)`` makes a client of its own, so it depends on nothing the rest
of the demo did:

- in the first region, two servers (an instance and a data volume each, one
  from a public Debian image, one from the client's own baked image) and an
  encrypted database, tagged for a backup policy of its own (``dr-demo``)
  whose ``images`` names the baked image;
- ``runners backup`` and ``runners ship``, as Jenkins runs them: the copies in
  the second region carry the backup code's own tags, and the baked image is
  copied there;
- the stack's Terraform state in the first region's state bucket and, as the
  backup-region module's replication leaves it, in the second region's. The
  stack is an offline stand-in of the client stack (``terraform_data``
  resources that echo what a rebuild is given; the same story on the real
  client stack with the real AWS provider is a slow test,
  tests/test_real_provider.py), and its state is written here as the AWS
  provider writes those resources;
- then the first region is lost: the behaviour layer closes every request
  signed for it, unanswered. Through it: ``runners dr prepare`` (every field
  mapped), ``runners dr plan``, ``runners apply``, ``dr plan`` again with the
  same runners.toml (nothing to do), ``runners audit`` (the rebuild's records,
  read from the backup region), and ``runners dr drill`` (the measured RTO).
"""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config as BotoConfig

from runners.aws.behaviour import Behaviour, in_front_of
from runners.aws.embedded import EmbeddedAWS

AWS_OPERATIONS: dict[str, frozenset[str]] = {
    "ec2": frozenset(
        {"RegisterImage", "CreateVolume", "RunInstances", "AttachVolume", "DescribeInstances"}
    ),
    "rds": frozenset({"CreateDBInstance"}),
    "kms": frozenset({"CreateKey", "CreateAlias"}),
    "s3": frozenset({"CreateBucket", "PutObject"}),
}

POLICY = "dr-demo"
STATE_KEY = "client/production.tfstate"
DEBIAN = "debian-13-amd64-20261101-1900"
APP_IMAGE = "acme-app-20261020"
# What Jenkins binds in the production zone only; a demo value, never a secret.
SIGNING_KEY = "demo-only-plan-signing-key-not-a-secret"
PERSON = ("--build-cause", "hudson.model.Cause$UserIdCause", "--triggered-by", "olivia")

CONFIG = """\
# The disaster-recovery demo's own client: one environment, one stack, one policy.
[runners]
terraform = "embedded"

[environments.production]
branch = "production"
region = "{source}"
backup_region = "{backup}"
approvers = ["alice"]
require_approval = true
verify_build = false  # the demo has no Jenkins: --approved-by and --build-cause are taken as given

[environments.production.backend]
bucket = "{state_bucket}"
key = "{{stack}}/production.tfstate"
region = "{source}"
use_lockfile = true
{s3_flags}
[stacks.client]
dir = "terraform/stacks/client"

[stacks.client.var_files]
production = ["production.tfvars"]

[policies.{policy}]
backup_region = "{backup}"
kms_key_alias = "alias/{policy}"
rpo_hours = 26
images = ["acme-app-*"]   # ship copies the client's own image to the backup region

[policies.{policy}.select]
tags = {{ dr-demo = "yes" }}
regions = ["{source}"]
kinds = ["ebs-volume", "ec2-instance", "rds-instance"]

[dr]
policy = "{policy}"

# The state is read from the backup region's replica of the state bucket.
[dr.state]
bucket = "{replica}"
key = "{{stack}}/{{env}}.tfstate"
region = "{backup}"
{s3_flags}
# The rebuild keeps its state, its lock and its audit records here, in the backup region.
[dr.backend]
bucket = "{replica}"
key = "dr/{{stack}}/{{env}}-{{region}}.tfstate"
region = "{backup}"
use_lockfile = true
{s3_flags}
[dr.stacks.client]
region_variable = "region"
zones_variable = "availability_zones"
kms_key_variable = "database_kms_key_arn"
var_files = ["dr-{{region}}.tfvars"]
manual_steps = ["Point www.acme.example at the new load balancer (zone acme.example)."]
start_empty = ['module.messaging.aws_sqs_queue.this["*"]']

[dr.stacks.client.snapshots]
snapshot_ids = 'module.server["*"].aws_ebs_volume.data[0]'
snapshot_identifier = "module.database.aws_db_instance.this"

[dr.stacks.client.images]
ami_ids = 'module.server["*"].aws_instance.this'

[dr.stacks.client.drill]
variables = {{ deletion_protection = false }}
outputs = ["rebuilt"]
smoke = "python3 scripts/smoke.py"
"""

S3_FLAGS = """\
use_path_style = true
skip_credentials_validation = true
skip_requesting_account_id = true
skip_metadata_api_check = true
"""

STACK = """\
# An offline stand-in of terraform/stacks/client: the variables a rebuild sets,
# echoed by terraform_data, so the demo needs no provider plugin.
terraform {
  backend "s3" {}
}

variable "region" {
  type = string
}

variable "availability_zones" {
  type = list(string)
}

variable "certificate_arn" {
  type = string
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
  type    = string
  default = null
}

variable "deletion_protection" {
  description = "As the real stack's: on, a destroy fails."
  type        = bool
  default     = true
}

resource "terraform_data" "protection" {
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
    certificate = var.certificate_arn
    volumes     = var.snapshot_ids
    database    = var.snapshot_identifier
    images      = var.ami_ids
    data_key    = var.database_kms_key_arn
  }
}

output "rebuilt" {
  value = terraform_data.rebuild.output
}
"""

SMOKE = """\
# The drill's smoke check: what was rebuilt says it is in the region drilled into.
import json
import os

outputs = json.load(open(os.environ["RUNNERS_DRILL_OUTPUTS"]))
assert outputs["rebuilt"]["region"] == os.environ["RUNNERS_DRILL_REGION"], outputs
print("smoke: the rebuild answers from", outputs["rebuilt"]["region"])
"""


def _cert(region: str, n: int) -> str:
    return f"arn:aws:acm:{region}:123456789012:certificate/0a1b2c3d-0000-4000-8000-00000000000{n}"


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


def server_resources(server: dict[str, str]) -> list[dict[str, Any]]:
    """One ec2-server module instance: the instance, its data volume and their attachment."""
    module = f'module.server["{server["host"]}"]'
    zone = server["zone"]
    return [
        state_resource(
            module,
            "aws_instance",
            "this",
            [
                {
                    "attributes": {
                        "id": server["instance"],
                        "ami": server["image"],
                        "availability_zone": zone,
                        "root_block_device": [{"volume_id": server["root"]}],
                    }
                }
            ],
        ),
        state_resource(
            module,
            "aws_ebs_volume",
            "data",
            [{"index_key": 0, "attributes": {"id": server["volume"], "availability_zone": zone}}],
        ),
        state_resource(
            module,
            "aws_volume_attachment",
            "data",
            [
                {
                    "index_key": 0,
                    "attributes": {
                        "device_name": "/dev/sdf",
                        "volume_id": server["volume"],
                        "instance_id": server["instance"],
                    },
                }
            ],
        ),
    ]


# -- the demo ------------------------------------------------------------------------------------


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


class DrDemo:
    def __init__(self, aws: EmbeddedAWS, out: Path, source: str, backup: str) -> None:
        self.aws, self.source, self.backup = aws, source, backup
        self.root = out.resolve()
        self.repo = self.root / "client-repo"
        self.state_bucket = f"{POLICY}-tfstate-{source}"
        self.replica = f"{POLICY}-tfstate-{backup}"

    # -- helpers -----------------------------------------------------------------------------
    @staticmethod
    def say(text: str) -> None:
        print(f"\n\033[1m## {text}\033[0m", flush=True)

    def runners(self, *args: str, expect: tuple[int, ...] = (0,), signed: bool = False) -> int:
        """One runners command in the client repository, as Jenkins runs it (a subprocess)."""
        prefix = "RUNNERS_PLAN_SIGNING_KEY=*** " if signed else ""
        print(f"$ {prefix}runners {shlex.join(args)}", flush=True)
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        if signed:
            env["RUNNERS_PLAN_SIGNING_KEY"] = SIGNING_KEY
        done = subprocess.run(
            [sys.executable, "-m", "runners", *args], cwd=self.repo, env=env, check=False
        )
        print(f"(exit {done.returncode})", flush=True)
        if done.returncode not in expect:
            raise SystemExit(f"demo: 'runners {args[0]}' exited {done.returncode}, not {expect}")
        return done.returncode

    def git(self, *args: str) -> None:
        env = {
            **os.environ,
            "GIT_AUTHOR_NAME": "Olivia Ops",
            "GIT_AUTHOR_EMAIL": "olivia@example.com",
            "GIT_COMMITTER_NAME": "Olivia Ops",
            "GIT_COMMITTER_EMAIL": "olivia@example.com",
        }
        subprocess.run(["git", *args], cwd=self.repo, env=env, check=True, capture_output=True)

    # -- steps -------------------------------------------------------------------------------
    def make_repo(self) -> None:
        stack = self.repo / "terraform" / "stacks" / "client"
        stack.mkdir(parents=True, exist_ok=True)
        (stack / "main.tf").write_text(STACK)
        (stack / "production.tfvars").write_text(
            f'region             = "{self.source}"\n'
            f'availability_zones = ["{self.source}a", "{self.source}b", "{self.source}c"]\n'
            f'certificate_arn    = "{_cert(self.source, 1)}"\n'
        )
        (stack / f"dr-{self.backup}.tfvars").write_text(
            f"# The certificate requested in {self.backup} ahead of time.\n"
            f'certificate_arn = "{_cert(self.backup, 2)}"\n'
        )
        (self.repo / "scripts").mkdir(exist_ok=True)
        (self.repo / "scripts" / "smoke.py").write_text(SMOKE)
        (self.repo / "runners.toml").write_text(
            CONFIG.format(
                source=self.source,
                backup=self.backup,
                policy=POLICY,
                state_bucket=self.state_bucket,
                replica=self.replica,
                s3_flags=S3_FLAGS,
            )
        )
        (self.repo / ".gitignore").write_text(".runners/\n.terraform/\ndr/\n")
        self.git("init", "-q", "-b", "production")
        self.git("add", "-A")
        self.git(
            "commit", "-q", "-m", "The client stack, and how it is rebuilt in the backup region"
        )

    def seed(self) -> list[dict[str, str]]:
        source, backup = self.source, self.backup
        tags: list[Any] = [{"Key": "dr-demo", "Value": "yes"}]
        kms = boto3.client("kms", region_name=backup)
        key = kms.create_key(Description="dr demo: backup region key")["KeyMetadata"]["KeyId"]
        kms.create_alias(AliasName=f"alias/{POLICY}", TargetKeyId=key)
        debian = register_image(source, DEBIAN)
        register_image(backup, DEBIAN)  # public images are published in every region
        app = register_image(source, APP_IMAGE)
        ec2 = boto3.client("ec2", region_name=source)
        servers = []
        for host, image, zone in (("web-1", debian, "a"), ("app-1", app, "b")):
            placement = f"{source}{zone}"
            volume = ec2.create_volume(
                AvailabilityZone=placement,
                Size=10,
                Encrypted=True,
                TagSpecifications=[
                    {
                        "ResourceType": "volume",
                        "Tags": [*tags, {"Key": "Name", "Value": f"{host}-data"}],
                    }
                ],
            )["VolumeId"]
            made = ec2.run_instances(
                ImageId=image,
                MinCount=1,
                MaxCount=1,
                Placement={"AvailabilityZone": placement},
                TagSpecifications=[
                    {"ResourceType": "instance", "Tags": [*tags, {"Key": "Name", "Value": host}]}
                ],
            )["Instances"][0]
            ec2.attach_volume(VolumeId=volume, InstanceId=made["InstanceId"], Device="/dev/sdf")
            root = next(
                m["Ebs"]["VolumeId"]
                for m in made.get("BlockDeviceMappings", [])
                if m.get("DeviceName") == made.get("RootDeviceName")
            )
            servers.append(
                {
                    "host": host,
                    "image": image,
                    "zone": placement,
                    "instance": made["InstanceId"],
                    "volume": volume,
                    "root": root,
                }
            )
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
        for s in servers:
            print(
                f"{source}: {s['host']} ({s['instance']}, image {s['image']}, data {s['volume']})"
            )
        print(
            f"{source}: database acme-db; images: {DEBIAN} in both regions, {APP_IMAGE} only here"
        )
        return servers

    def state(self, servers: list[dict[str, str]]) -> None:
        source = self.source
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
            state_resource(
                "module.messaging",
                "aws_sqs_queue",
                "this",
                [{"index_key": "orders", "attributes": {"id": "orders", "name": "acme-orders"}}],
            ),
        ]
        for server in servers:
            resources += server_resources(server)
        body = json.dumps(state_document(resources, serial=7)).encode()
        for region, bucket in ((source, self.state_bucket), (self.backup, self.replica)):
            s3 = boto3.client("s3", region_name=region)
            s3.create_bucket(
                Bucket=bucket,
                CreateBucketConfiguration={"LocationConstraint": region},  # type: ignore[typeddict-item]
            )
            s3.put_object(Bucket=bucket, Key=STATE_KEY, Body=body)
        print(f"the stack's state: s3://{self.state_bucket}/{STATE_KEY} ({source})")
        print(f"and, as replication left it: s3://{self.replica}/{STATE_KEY} ({self.backup})")

    def lose_the_region(self, layer: Behaviour) -> None:
        self.say(f"{self.source} is lost: every request signed for it is closed, unanswered")
        layer.region_down(self.source)
        ec2 = boto3.client(
            "ec2",
            region_name=self.source,
            config=BotoConfig(retries={"max_attempts": 1}, connect_timeout=2, read_timeout=2),
        )
        try:
            ec2.describe_instances()
        except Exception as exc:  # the point: it does not answer
            print(f"$ aws ec2 describe-instances --region {self.source}\n  {type(exc).__name__}")
        refused = layer.count("region down")
        print(f"(the layer has refused {refused} request(s) so far; the rebuild must add none)")

    def rebuild(self, layer: Behaviour) -> int:
        dr = ("--stack", "client", "--env", "production", "--to-region", self.backup)
        refused = layer.count("region down")
        self.say("On call runs dr prepare, as the dr job does: nothing asks the lost region")
        self.runners("dr", "prepare", *dr)
        runbook = self.repo / "dr" / self.backup / "client" / "runbook.md"
        print(f"(the runbook: {runbook}; its opening and what it restores:)")
        text = runbook.read_text()
        print(text[: text.index("## What starts empty")].rstrip())
        plan_dir = self.root / "dr-plan"
        self.say(f"dr plan: the stack in {self.backup}, on the rebuild's own state")
        self.runners("dr", "plan", *dr, "--out", str(plan_dir), signed=True)
        self.say(
            "Alice approves; runners apply applies the reviewed plan under the normal contract"
        )
        self.runners(
            "apply",
            "--stack",
            "client",
            "--env",
            "production",
            "--plan-dir",
            str(plan_dir),
            "--approved-by",
            "alice",
            *PERSON,
            signed=True,
        )
        self.say("Planned again with the same runners.toml: nothing left to do")
        self.runners("dr", "plan", *dr, "--out", str(self.root / "dr-plan-again"), signed=True)
        added = layer.count("region down") - refused
        print(f"requests the rebuild sent to {self.source}: {added}")
        self.say(
            f"runners audit: the rebuild's records, from {self.replica} in {self.backup}; "
            f"the bucket in {self.source} cannot be read and is named"
        )
        self.runners("audit", "--stack", "client", "--env", "production", expect=(1,))
        self.say("A drill, as it is rehearsed on a weekday: rebuilt, checked, destroyed, timed")
        self.runners("dr", "drill", *dr, "--approved-by", "alice", *PERSON, signed=True)
        return added


@contextlib.contextmanager
def _through(aws: EmbeddedAWS, layer: Behaviour) -> Iterator[None]:
    """This process and the runners it starts talk to the embedded AWS through ``layer``."""
    saved = dict(os.environ)
    aws.apply_to(os.environ)
    os.environ.update(layer.environ())
    for var in (
        "RUNNERS_CONFIG",
        "RUNNERS_TERRAFORM",
        "CHANGE_ID",
        "CHANGE_TARGET",
        "TF_CLI_CONFIG_FILE",
    ):
        os.environ.pop(var, None)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def run(
    aws: EmbeddedAWS, out: Path, source: str = "eu-west-1", backup: str = "eu-central-1"
) -> int:
    """The outage rehearsal on the embedded AWS; 0 when it went as shown."""
    demo = DrDemo(aws, out, source, backup)
    with in_front_of(aws.endpoint) as layer, _through(aws, layer):
        DrDemo.say(f"Disaster recovery: a client in {source}, backed up and shipped to {backup}")
        demo.make_repo()
        servers = demo.seed()
        config = str(demo.repo / "runners.toml")
        for command in ("backup", "ship"):
            demo.runners(command, "--policy", POLICY, "--config", config)
        demo.state(servers)
        demo.lose_the_region(layer)
        touched = demo.rebuild(layer)
    return 0 if touched == 0 else 1
