"""The account: the state bucket, its replica, and the runner roles."""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError
from botocore.parsers import ResponseParserError

from runners.aws.retry import error_code
from runners.client import trust
from runners.client.doctor.base import Check, Context, Finding
from runners.client.names import DUTIES, AccountNames
from runners.config import Environment
from runners.errors import RunnersError

AWS_OPERATIONS: dict[str, frozenset[str]] = {
    "s3": frozenset(
        {
            "HeadBucket",
            "GetBucketVersioning",
            "GetBucketEncryption",
            "GetObjectLockConfiguration",
            "GetBucketReplication",
        }
    ),
    "iam": frozenset({"GetRole", "SimulatePrincipalPolicy"}),
}

_MISSING = frozenset({"404", "NoSuchBucket", "NotFound"})


def _bucket_of(env: Environment) -> tuple[str, str]:
    bucket = env.backend.get("bucket")
    region = env.backend.get("region")
    if not isinstance(bucket, str) or not bucket:
        raise RunnersError(f"environments.{env.name}.backend.bucket is not set")
    return bucket, region if isinstance(region, str) and region else env.region


def _exists(s3: Any, bucket: str, account: str | None) -> str | None:
    """None when the bucket is there and ours; else what is wrong."""
    try:
        if account:
            s3.head_bucket(Bucket=bucket, ExpectedBucketOwner=account)
        else:
            s3.head_bucket(Bucket=bucket)
    except ClientError as exc:
        if error_code(exc) in _MISSING:
            return "does not exist"
        return f"cannot be read ({error_code(exc)}): another account's, or no s3:ListBucket"
    return None


def _versioning(s3: Any, bucket: str) -> str:
    return str(s3.get_bucket_versioning(Bucket=bucket).get("Status") or "never enabled")


def _encryption(s3: Any, bucket: str) -> str | None:
    try:
        rules = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"][
            "Rules"
        ]
    except ClientError as exc:
        if error_code(exc) == "ServerSideEncryptionConfigurationNotFoundError":
            return None
        raise
    default = (rules[0] if rules else {}).get("ApplyServerSideEncryptionByDefault") or {}
    return str(default.get("SSEAlgorithm")) if default else None


class StateBucketCheck(Check):
    """Each environment's state bucket: there, ours, versioned, encrypted, under Object Lock."""

    name = "state bucket"

    def findings(self, ctx: Context) -> list[Finding]:
        cfg = ctx.config
        out = []
        for env_name in ctx.env_names():
            env = cfg.environment(env_name)
            bucket, region = _bucket_of(env)
            fix = f"runners bootstrap --env {env.name}"
            s3 = ctx.aws.client("s3", region)
            wrong = _exists(s3, bucket, env.account_id)
            if wrong:
                out.append(self.fail(bucket, wrong, fix))
                continue
            problems = []
            versioning = _versioning(s3, bucket)
            if versioning != "Enabled":
                problems.append(f"versioning is {versioning.lower()}")
            sse = _encryption(s3, bucket)
            if sse is None:
                problems.append("no default encryption")
            if _object_lock(s3, bucket).get("ObjectLockEnabled") != "Enabled":
                problems.append("no Object Lock (runners' records could be erased)")
            if problems:
                out.append(self.fail(bucket, "; ".join(problems), fix))
            else:
                out.append(
                    self.ok(bucket, f"in {region}, versioned, encrypted ({sse}), Object Lock")
                )
        return out


def _object_lock(s3: Any, bucket: str) -> dict[str, Any]:
    try:
        found = s3.get_object_lock_configuration(Bucket=bucket)["ObjectLockConfiguration"]
    except ClientError as exc:
        if error_code(exc) == "ObjectLockConfigurationNotFoundError":
            return {}
        raise
    return dict(found)


class ReplicaCheck(Check):
    """Each state bucket's replica in the backup region, and the replication into it."""

    name = "replica"

    def findings(self, ctx: Context) -> list[Finding]:
        cfg = ctx.config
        if cfg.bootstrap is None:
            return [self.fail("not checked", "runners.toml has no [bootstrap] client", "add it")]
        out = []
        for env_name in ctx.env_names():
            env = cfg.environment(env_name)
            if env.backup_region is None:
                out.append(
                    self.fail(
                        env.name, "no backup_region", f"set environments.{env.name}.backup_region"
                    )
                )
                continue
            names = AccountNames(cfg.bootstrap.client, env.name, env.backup_region)
            replica = names.replica_bucket
            fix = f"runners bootstrap --env {env.name}"
            backup_s3 = ctx.aws.client("s3", env.backup_region)
            wrong = _exists(backup_s3, replica, env.account_id)
            if wrong:
                out.append(self.fail(replica, wrong, fix))
                continue
            problems = []
            if _versioning(backup_s3, replica) != "Enabled":
                problems.append("not versioned")
            bucket, region = _bucket_of(env)
            if not _exists(ctx.aws.client("s3", region), bucket, env.account_id):
                destinations = _replication_destinations(ctx.aws.client("s3", region), bucket)
                if not any(d.endswith(f":::{replica}") for d in destinations):
                    problems.append(f"{bucket} does not replicate into it")
            if problems:
                out.append(self.fail(replica, "; ".join(problems), fix))
            else:
                out.append(
                    self.ok(
                        replica, f"in {env.backup_region}, versioned, {bucket} replicates into it"
                    )
                )
        return out


def _replication_destinations(s3: Any, bucket: str) -> list[str]:
    try:
        rules = s3.get_bucket_replication(Bucket=bucket)["ReplicationConfiguration"]["Rules"]
    except ClientError as exc:
        if error_code(exc) == "ReplicationConfigurationNotFoundError":
            return []
        raise
    return [
        str((r.get("Destination") or {}).get("Bucket"))
        for r in rules
        if r.get("Status") == "Enabled"
    ]


class RolesCheck(Check):
    """Each runner role trusts its own duty's principal and no other.

    The principals are the bootstrap stack's ``runner_principal_arns`` (its
    ``<environment>.tfvars``). The role's trust policy is read and evaluated
    (``runners.client.trust``); where IAM's policy simulator answers, each
    principal's own policy is asked too: it may assume its role and no other.
    """

    name = "runner roles"

    def findings(self, ctx: Context) -> list[Finding]:
        cfg = ctx.config
        if cfg.bootstrap is None:
            return [self.fail("not checked", "runners.toml has no [bootstrap] client", "add it")]
        iam = ctx.aws.client("iam", "us-east-1")
        out = []
        for env_name in ctx.env_names():
            env = cfg.environment(env_name)
            names = AccountNames(cfg.bootstrap.client, env.name, env.backup_region or "")
            principals = _principals(cfg.bootstrap.stack_dir, env.name, cfg.root)
            arns = {d: f"arn:aws:iam::{env.account_id}:role/{names.runner_role(d)}" for d in DUTIES}
            simulator = _simulator(iam, principals, arns)
            for duty in DUTIES:
                role = names.runner_role(duty)
                fix = f"apply {cfg.bootstrap.rel_stack} ({env.name}.tfvars) as an administrator"
                try:
                    found = iam.get_role(RoleName=role)["Role"]
                except ClientError as exc:
                    if error_code(exc) == "NoSuchEntity":
                        out.append(self.fail(role, "does not exist", fix))
                        continue
                    raise
                document = _document(found.get("AssumeRolePolicyDocument"))
                own = principals[duty]
                others = [p for d, p in principals.items() if d != duty]
                wrong = trust.problems(document, own, others)
                wrong += simulator.get(duty, [])
                if wrong:
                    out.append(self.fail(role, "; ".join(wrong), fix))
                else:
                    how = simulator.get("how", ["trust policy read"])[0]
                    out.append(self.ok(role, f"assumable by {own} only ({how})"))
        return out


def _principals(stack_dir: Any, env: str, root: Any) -> dict[str, str]:
    import tempfile
    from pathlib import Path

    from runners.terraform.evaluate import variable_values

    tfvars = Path(stack_dir) / f"{env}.tfvars"
    if not tfvars.is_file():
        raise RunnersError(f"{tfvars} is missing: it names the runner principals")
    with tempfile.TemporaryDirectory(prefix="runners-doctor-") as work:
        values = variable_values(Path(stack_dir), [tfvars], Path(work))
    given = values.get("runner_principal_arns") or {}
    return {d: str(given.get(d)) for d in DUTIES}


def _simulator(iam: Any, principals: dict[str, str], roles: dict[str, str]) -> dict[str, list[str]]:
    """Ask IAM's simulator whether each principal may assume each role; per duty, what is
    wrong, and under "how" what answered. The embedded AWS has no simulator."""
    out: dict[str, list[str]] = {}
    try:
        for duty, principal in principals.items():
            answers = iam.simulate_principal_policy(
                PolicySourceArn=principal,
                ActionNames=["sts:AssumeRole"],
                ResourceArns=list(roles.values()),
            )["EvaluationResults"]
            allowed = {
                r.get("EvalResourceName") for r in answers if r.get("EvalDecision") == "allowed"
            }
            wrong = []
            if roles[duty] not in allowed:
                wrong.append(f"IAM's simulator: {principal} may not assume it")
            for other, arn in roles.items():
                if other != duty and arn in allowed:
                    out.setdefault(other, []).append(
                        f"IAM's simulator: {principal} ({duty}) may assume it too"
                    )
            out.setdefault(duty, []).extend(wrong)
        out["how"] = ["trust policy read, and IAM's simulator agrees"]
    except ResponseParserError:  # the embedded AWS answers "not implemented" in no AWS shape
        return {"how": ["trust policy read; the embedded AWS has no IAM simulator"]}
    except ClientError as exc:
        if error_code(exc) not in ("NotImplemented", "InvalidAction", "NoSuchEntity"):
            raise
        # NoSuchEntity: a principal of another account, which the simulator cannot evaluate.
        return {"how": [f"trust policy read; IAM's simulator answered {error_code(exc)}"]}
    return out


def _document(value: Any) -> dict[str, Any]:
    if isinstance(value, dict):
        return value
    if isinstance(value, str):
        from urllib.parse import unquote

        loaded = json.loads(unquote(value))
        return loaded if isinstance(loaded, dict) else {}
    return {}
