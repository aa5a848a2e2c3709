"""The real AWS provider against the embedded AWS: the stacks under terraform/stacks, planned and applied.

A ``ProviderWorld`` is a copy of ``terraform/`` in a temp folder, a moto
server started for the provider (Debian images, managed IAM policies,
certificates), and the embedded Terraform with runners' own CLI config naming
the provider mirror. Each stack gets the generated provider override
(``runners.aws.embedded.provider_override``), its S3 state in the moto
server, and the embedded profile (``EMBEDDED_PROFILE``): the features moto
does not implement switched off, each named in the README's table.
"""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3

from runners.aws.embedded import FAKE_CREDENTIALS, EmbeddedAWS, write_provider_override
from runners.terraform import binary
from runners.terraform.engine import Result, Terraform, base_environment

REPO = Path(__file__).resolve().parent.parent
STATE_BUCKET = "provider-world-state"
# Jenkins passes it from its credentials in production; any 16+ characters here.
CACHE_AUTH_TOKEN = "embedded-aws-cache-token-0123456789"

# What moto does not implement, switched off through the client stack's own
# variables (README: what is embedded or emulated). Everything else is real.
EMBEDDED_PROFILE = {
    "vpn": None,  # EC2 CreateVpnConnectionRoute, EnableVgwRoutePropagation
    "features": {
        "detailed_monitoring": False,  # EC2 MonitorInstances
        "efs_backup_policy": False,  # EFS PutBackupPolicy
        "dead_letter_source_policy": False,  # SQS RedriveAllowPolicy
        "cache": False,  # ElastiCache member clusters of a replication group
    },
}


@dataclass
class ProviderWorld:
    aws: EmbeddedAWS
    mirror: Path
    root: Path  # the copy of terraform/
    seconds: dict[str, float] = field(default_factory=dict)
    _certificates: dict[str, dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def make(cls, aws: EmbeddedAWS, mirror: Path, work: Path) -> ProviderWorld:
        root = work / "terraform"
        shutil.copytree(REPO / "terraform", root, ignore=shutil.ignore_patterns(".terraform*"))
        for stack in (root / "stacks").iterdir():
            if (stack / "providers.tf").exists():
                write_provider_override(stack)
        s3 = _client(aws, "s3")
        s3.create_bucket(
            Bucket=STATE_BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
        )
        return cls(aws, mirror, root)

    def terraform(self) -> Terraform:
        env = base_environment(None, provider_mirror=self.mirror, quiet=True)
        env.update(self.aws.environ())
        env["TF_VAR_cache_auth_token"] = CACHE_AUTH_TOKEN
        # Session fixtures start before the per-test environment is set:
        # the embedded Terraform is named, never taken from PATH.
        return Terraform(binary.embedded_binary(), env, timeout=1800)

    def stack(self, name: str) -> Path:
        return self.root / "stacks" / name

    def run(self, stack: str, args: list[str], key: str = "", **kw: Any) -> Result:
        """One Terraform command in ``stack`` with its own data folder; timed under ``key``."""
        folder = self.stack(stack)
        data = folder.parent.parent.parent / "tf-data" / stack
        data.mkdir(parents=True, exist_ok=True)
        started = time.monotonic()
        kw.setdefault("stream", False)
        result = self.terraform().run(args, folder, extra_env={"TF_DATA_DIR": str(data)}, **kw)
        if key:
            self.seconds[key] = time.monotonic() - started
        return result

    def init(self, stack: str, state_key: str | None = None) -> None:
        key = state_key or f"{stack}/production.tfstate"
        backend = {
            "bucket": STATE_BUCKET,
            "key": key,
            "region": "eu-west-1",
            "use_path_style": "true",
            "use_lockfile": "true",
        }
        args = ["init", "-input=false", "-no-color", "-reconfigure"]
        args += [f"-backend-config={k}={v}" for k, v in backend.items()]
        self.run(stack, args, f"init {stack}")

    def var_files(self, stack: str, extra: dict[str, Any] | None = None) -> list[str]:
        """production.tfvars plus a generated ``embedded.tfvars.json`` of the profile and ``extra``."""
        values: dict[str, Any] = {}
        if stack == "client":
            values = {**EMBEDDED_PROFILE, **self.client_certificates()}
        values.update(extra or {})
        generated = self.stack(stack) / "embedded.tfvars.json"
        generated.write_text(json.dumps(values, indent=2))
        return ["-var-file=production.tfvars", f"-var-file={generated.name}"]

    def client_certificates(self, region: str = "eu-west-1") -> dict[str, Any]:
        """The listeners' certificates in ``region``, requested once per world."""
        if region in self._certificates:
            return self._certificates[region]
        arns = self.aws.seed_certificates(region, ["www.acme.example", "api.prod.acme.internal"])
        self._certificates[region] = {
            "certificate_arn": arns["www.acme.example"],
            "api": {
                "certificate_arn": arns["api.prod.acme.internal"],
                "host_name": "api.prod.acme.internal",
                "jwt_issuer": "https://sso.acme.example/realms/acme",
                "jwt_audiences": ["acme-api"],
            },
        }
        return self._certificates[region]

    def plan(
        self,
        stack: str,
        out: Path,
        extra: dict[str, Any] | None = None,
        key: str = "",
        targets: tuple[str, ...] = (),
    ) -> dict[str, Any]:
        """Plan into ``out`` and return ``show -json`` of it."""
        args = ["plan", "-input=false", "-no-color", "-detailed-exitcode", f"-out={out}"]
        args += [f"-target={t}" for t in targets]
        self.run(
            stack, [*args, *self.var_files(stack, extra)], key or f"plan {stack}", ok_codes=(0, 2)
        )
        shown = out.with_suffix(".json")
        self.run(stack, ["show", "-json", str(out)], stdout_file=shown)
        data: dict[str, Any] = json.loads(shown.read_text())
        return data

    def apply(self, stack: str, planfile: Path, key: str = "") -> None:
        self.run(
            stack, ["apply", "-input=false", "-no-color", str(planfile)], key or f"apply {stack}"
        )

    def destroy(self, stack: str, extra: dict[str, Any] | None = None) -> None:
        args = ["destroy", "-auto-approve", "-input=false", "-no-color"]
        self.run(stack, [*args, *self.var_files(stack, extra)], f"destroy {stack}")

    def state(self, stack: str, key: str | None = None) -> dict[str, Any]:
        s3 = _client(self.aws, "s3")
        body = s3.get_object(Bucket=STATE_BUCKET, Key=key or f"{stack}/production.tfstate")["Body"]
        data: dict[str, Any] = json.loads(body.read())
        return data


def changes(plan: dict[str, Any]) -> list[tuple[str, tuple[str, ...]]]:
    """Each planned change as (address, actions), no-ops and reads left out."""
    return [
        (rc["address"], tuple(rc["change"]["actions"]))
        for rc in plan.get("resource_changes") or []
        if rc["change"]["actions"] not in (["no-op"], ["read"])
    ]


def changed_attributes(rc: dict[str, Any]) -> set[str]:
    """Top-level attributes whose planned value differs from the prior one."""
    before, after = rc["change"].get("before") or {}, rc["change"].get("after") or {}
    unknown = rc["change"].get("after_unknown") or {}
    keys = set(before) | set(after)
    return {k for k in keys if before.get(k) != after.get(k) or unknown.get(k)}


def _client(aws: EmbeddedAWS, service: str, region: str = "eu-west-1") -> Any:
    return boto3.client(
        service,
        region_name=region,
        endpoint_url=aws.endpoint,
        aws_access_key_id=FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        aws_session_token=FAKE_CREDENTIALS["AWS_SESSION_TOKEN"],
    )


# -- The seed's story on real resources: back up, ship, rebuild in the backup region -------------

BACKUP_REGION = "eu-central-1"
REPLICA_BUCKET = "acme-state-replica-eu-central-1"
BACKUP_ALIAS = "alias/runners-backup"

CLIENT_TOML = """\
[runners]
terraform = "embedded"
provider_mirror = "{mirror}"

[environments.production]
branch = "production"
region = "eu-west-1"
backup_region = "{backup}"
approvers = ["alice"]
require_approval = true
verify_build = false

[environments.production.backend]
bucket = "{state_bucket}"
key = "{{stack}}/production.tfstate"
region = "eu-west-1"
use_path_style = true
use_lockfile = true

[stacks.client]
dir = "terraform/stacks/client"
environments = ["production"]

[stacks.client.var_files]
production = ["production.tfvars", "embedded.tfvars.json"]

[policies.daily]
backup_region = "{backup}"
kms_key_alias = "{alias}"
rpo_hours = 26

[policies.daily.select]
tags = {{ "runners:backup" = "daily" }}
regions = ["eu-west-1"]
kinds = ["ebs-volume", "rds-instance"]

[dr]
policy = "daily"

# The backup-region module's replica of the state bucket.
[dr.state]
bucket = "{replica}"
key = "{{stack}}/{{env}}.tfstate"
region = "{backup}"
use_path_style = true

[dr.backend]
bucket = "{replica}"
key = "dr/{{stack}}/{{env}}-{{region}}.tfstate"
region = "{backup}"
use_path_style = true
use_lockfile = true

[dr.stacks.client]
region_variable = "region"
zones_variable = "availability_zones"
kms_key_variable = "database_kms_key_arn"
var_files = ["dr-{{region}}.tfvars", "dr-{{region}}.embedded.tfvars.json"]
start_empty = [
  "module.shared.aws_efs_file_system.this",
  "module.messaging.aws_sqs_queue.*",
  "module.logging.aws_s3_bucket.access_logs[0]",
]

[dr.stacks.client.snapshots]
snapshot_ids = 'module.server["*"].aws_ebs_volume.data[0]'
snapshot_identifier = "module.database.aws_db_instance.this"

[dr.stacks.client.images]
ami_ids = 'module.server["*"].aws_instance.this'
"""


def client_repo(world: ProviderWorld, root: Path) -> Path:
    """The client's repository as runners sees it: the world's client stack, committed.

    The generated override and the embedded profile's variables are
    committed with it: they are the environment's, as a real client's
    provider settings would be.
    """
    import subprocess

    shutil.copytree(world.root, root / "terraform", ignore=shutil.ignore_patterns("tf-data"))
    certificates = world.client_certificates(BACKUP_REGION)
    (root / "terraform/stacks/client" / f"dr-{BACKUP_REGION}.embedded.tfvars.json").write_text(
        json.dumps(certificates, indent=2)
    )
    (root / "runners.toml").write_text(
        CLIENT_TOML.format(
            mirror=world.mirror,
            backup=BACKUP_REGION,
            state_bucket=STATE_BUCKET,
            alias=BACKUP_ALIAS,
            replica=REPLICA_BUCKET,
        )
    )
    (root / ".gitignore").write_text(".runners/\n.terraform/\ndr/\n")
    for args in (
        ["init", "-q", "-b", "production"],
        ["add", "-A"],
        [
            "-c",
            "user.name=Olivia Ops",
            "-c",
            "user.email=olivia@example.com",
            "commit",
            "-qm",
            "client",
        ],
    ):
        subprocess.run(["git", *args], cwd=root, check=True, capture_output=True)
    return root / "runners.toml"


def replicate_state(aws: EmbeddedAWS) -> None:
    """What the backup-region module's S3 replication does: the state, in the backup region."""
    source = _client(aws, "s3")
    dest = _client(aws, "s3", BACKUP_REGION)
    dest.create_bucket(
        Bucket=REPLICA_BUCKET, CreateBucketConfiguration={"LocationConstraint": BACKUP_REGION}
    )
    body = source.get_object(Bucket=STATE_BUCKET, Key="client/production.tfstate")["Body"].read()
    dest.put_object(Bucket=REPLICA_BUCKET, Key="client/production.tfstate", Body=body)


def backup_key(aws: EmbeddedAWS) -> str:
    kms = _client(aws, "kms", BACKUP_REGION)
    key = kms.create_key(Description="runners backup copies")["KeyMetadata"]
    kms.create_alias(AliasName=BACKUP_ALIAS, TargetKeyId=key["KeyId"])
    return str(key["Arn"])
