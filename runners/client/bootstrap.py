"""``runners bootstrap``: what Terraform needs before it can run, made with boto3, idempotently.

For one environment: the state bucket (versioned, KMS-encrypted, public access
blocked, owner-enforced, Object Lock with state-backend's default retention,
and state-backend's bucket policy, under which no one erases a runners record)
and its key; in the backup region, the replica bucket and the backup key; the
replication role and the state bucket's replication into the replica. Every
item is read first and written only when missing or different, so a second
run changes nothing. The names and documents are the bootstrap stack's
(``names``, ``documents``); ``imports`` then hands each item to Terraform.

It acts with the caller's own credentials (an administrator's: the runner
roles do not exist yet), in the account runners.toml names and no other.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from runners.aws.retry import error_code
from runners.client import documents
from runners.client.inputs import known_regions
from runners.client.names import AccountNames, state_key_alias
from runners.errors import ConfigError, RunnersError, UsageError

if TYPE_CHECKING:
    import boto3
    from mypy_boto3_kms import KMSClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_sts import STSClient

    from runners.config import Config

AWS_OPERATIONS: dict[str, frozenset[str]] = {
    "sts": frozenset({"GetCallerIdentity"}),
    "s3": frozenset(
        {
            "HeadBucket",
            "CreateBucket",
            "GetBucketVersioning",
            "PutBucketVersioning",
            "GetObjectLockConfiguration",
            "PutObjectLockConfiguration",
            "GetBucketEncryption",
            "PutBucketEncryption",
            "GetPublicAccessBlock",
            "PutPublicAccessBlock",
            "GetBucketOwnershipControls",
            "PutBucketOwnershipControls",
            "GetBucketPolicy",
            "PutBucketPolicy",
            "GetBucketTagging",
            "PutBucketTagging",
            "GetBucketReplication",
            "PutBucketReplication",
        }
    ),
    "kms": frozenset(
        {"DescribeKey", "CreateKey", "CreateAlias", "GetKeyRotationStatus", "EnableKeyRotation"}
    ),
    "iam": frozenset({"GetRole", "CreateRole", "GetRolePolicy", "PutRolePolicy"}),
}

# What S3 answers for a bucket that is not there, and for one that is someone else's.
_MISSING = frozenset({"404", "NoSuchBucket", "NotFound"})
_FORBIDDEN = frozenset({"403", "AccessDenied", "Forbidden"})


class BucketTaken(RunnersError):
    """The bucket name belongs to another AWS account (S3 names are global)."""


@dataclass(frozen=True)
class Target:
    """What bootstrap makes for one environment, all names resolved."""

    environment: str
    account: str
    partition: str
    region: str
    backup_region: str
    bucket: str
    names: AccountNames
    bucket_key: str  # where runners.toml names the bucket, for messages

    @property
    def tags(self) -> dict[str, str]:
        """The bootstrap stack's default tags, so adoption changes no tag."""
        return {
            "Client": self.names.client,
            "Environment": self.environment,
            "ManagedBy": "terraform",
            "Stack": "bootstrap",
        }


def target_for(cfg: Config, env_name: str) -> Target:
    env = cfg.environment(env_name)
    where = f"environments.{env.name}"
    if cfg.bootstrap is None:
        raise ConfigError(
            cfg.path, "bootstrap", "is required: [bootstrap] client names what bootstrap makes"
        )
    if env.account_id is None:
        raise ConfigError(cfg.path, f"{where}.account_id", "is required for bootstrap")
    if env.backup_region is None:
        raise ConfigError(cfg.path, f"{where}.backup_region", "is required: the replica goes there")
    bucket = env.backend.get("bucket")
    if not isinstance(bucket, str) or not bucket:
        raise ConfigError(cfg.path, f"{where}.backend.bucket", "is required: the state bucket")
    region = env.backend.get("region")
    region = region if isinstance(region, str) and region else env.region
    partition = known_regions().get(region)
    if partition is None:
        raise ConfigError(cfg.path, f"{where}.backend.region", f"{region!r} is not an AWS region")
    return Target(
        environment=env.name,
        account=env.account_id,
        partition=partition,
        region=region,
        backup_region=env.backup_region,
        bucket=bucket,
        names=AccountNames(cfg.bootstrap.client, env.name, env.backup_region),
        bucket_key=f"{where}.backend.bucket",
    )


@dataclass(frozen=True)
class Step:
    what: str
    action: str  # created | updated | unchanged | would create | would update

    @property
    def changed(self) -> bool:
        return self.action != "unchanged"


@dataclass
class Made:
    """What the run found or made: the ids Terraform imports."""

    steps: list[Step] = field(default_factory=list)
    state_key_id: str | None = None
    state_key_arn: str | None = None
    backup_key_id: str | None = None
    backup_key_arn: str | None = None


@dataclass(frozen=True)
class Clients:
    sts: STSClient
    s3: S3Client  # in the state bucket's region
    kms: KMSClient
    backup_s3: S3Client
    backup_kms: KMSClient
    iam: Any  # boto3-stubs for IAM are not installed; calls are declared above


def clients_for(session: boto3.Session, target: Target) -> Clients:
    from runners.aws.session import DEFAULT_CONFIG

    def make(service: str, region: str) -> Any:
        return session.client(service, region_name=region, config=DEFAULT_CONFIG)  # type: ignore[call-overload]

    return Clients(
        sts=make("sts", target.region),
        s3=make("s3", target.region),
        kms=make("kms", target.region),
        backup_s3=make("s3", target.backup_region),
        backup_kms=make("kms", target.backup_region),
        iam=make("iam", target.region),
    )


class Bootstrap:
    def __init__(
        self,
        target: Target,
        clients: Clients,
        dry_run: bool = False,
        report: Callable[[Step], None] = lambda _: None,
    ) -> None:
        self.t = target
        self.c = clients
        self.dry_run = dry_run
        self.report = report
        self.made = Made()

    def run(self) -> Made:
        self._check_account()
        t, names = self.t, self.t.names
        # Both names first: a name another account holds is found before anything is made.
        state_there = self._probe(self.c.s3, t.bucket)
        replica_there = self._probe(self.c.backup_s3, names.replica_bucket)
        key_id, key_arn = self._key(
            self.c.kms, state_key_alias(t.bucket), f"Terraform state in s3://{t.bucket}", t.region
        )
        self.made.state_key_id, self.made.state_key_arn = key_id, key_arn
        self._bucket(self.c.s3, t.bucket, t.region, state_there, object_lock=True)
        self._bucket_settings(
            self.c.s3,
            t.bucket,
            state_there,
            key_arn,
            documents.state_bucket_policy(t.partition, t.account, names, t.bucket),
        )
        self._object_lock(t.bucket, state_there)
        backup_id, backup_arn = self._key(
            self.c.backup_kms,
            names.backup_key_alias,
            f"{names.prefix}: backups in {t.backup_region}",
            t.backup_region,
        )
        self.made.backup_key_id, self.made.backup_key_arn = backup_id, backup_arn
        replica = names.replica_bucket
        self._bucket(self.c.backup_s3, replica, t.backup_region, replica_there, object_lock=False)
        self._bucket_settings(
            self.c.backup_s3,
            replica,
            replica_there,
            backup_arn,
            documents.replica_bucket_policy(t.partition, replica),
        )
        role_arn = self._replication_role(key_arn, backup_arn)
        self._replication(role_arn, backup_arn, state_there)
        return self.made

    # -- steps -----------------------------------------------------------------------------
    def _step(self, what: str, present: bool, same: bool, write: Callable[[], object]) -> None:
        """Write only what is missing or different; report each item once."""
        if present and same:
            action = "unchanged"
        else:
            verb = "create" if not present else "update"
            action = f"would {verb}" if self.dry_run else f"{verb}d"
            if not self.dry_run:
                write()
        step = Step(what, action)
        self.made.steps.append(step)
        self.report(step)

    def _check_account(self) -> None:
        account = self.c.sts.get_caller_identity()["Account"]
        if account != self.t.account:
            raise UsageError(
                f"the AWS credentials are for account {account}, but runners.toml's "
                f"environments.{self.t.environment}.account_id is {self.t.account}: "
                "bootstrap acts only in the environment's own account"
            )

    def _key(self, kms: KMSClient, alias: str, description: str, region: str) -> tuple[str, str]:
        """The key behind ``alias``, made (rotating, with the account-root policy) when absent."""
        try:
            meta = kms.describe_key(KeyId=alias)["KeyMetadata"]
            key_id, key_arn = meta["KeyId"], meta["Arn"]
            present = True
        except ClientError as exc:
            if error_code(exc) != "NotFoundException":
                raise
            present = False
            key_id = key_arn = f"(the new key of {alias})"

        def create() -> None:
            nonlocal key_id, key_arn
            made = kms.create_key(
                Description=description,
                KeyUsage="ENCRYPT_DECRYPT",  # AWS's defaults, written out: aws_kms_key reads them
                KeySpec="SYMMETRIC_DEFAULT",
                Policy=json.dumps(documents.key_policy(self.t.partition, self.t.account)),
                Tags=[{"TagKey": k, "TagValue": v} for k, v in self.t.tags.items()],
            )["KeyMetadata"]
            key_id, key_arn = made["KeyId"], made["Arn"]
            kms.enable_key_rotation(KeyId=key_id)
            kms.create_alias(AliasName=alias, TargetKeyId=key_id)

        self._step(f"kms key {alias} in {region}", present, True, create)
        if present:
            rotating = kms.get_key_rotation_status(KeyId=key_id)["KeyRotationEnabled"]
            self._step(
                f"kms key {alias}: yearly rotation",
                True,
                rotating,
                lambda: kms.enable_key_rotation(KeyId=key_id),
            )
        return key_id, key_arn

    def _probe(self, s3: S3Client, bucket: str) -> bool:
        """Whether the bucket is there and this account's; another account's is an error."""
        try:
            s3.head_bucket(Bucket=bucket, ExpectedBucketOwner=self.t.account)
        except ClientError as exc:
            code = error_code(exc)
            if code in _FORBIDDEN:
                raise self._taken(bucket) from None
            if code not in _MISSING:
                raise
            return False
        return True

    def _bucket(
        self, s3: S3Client, bucket: str, region: str, present: bool, object_lock: bool
    ) -> None:
        """Make the bucket when it was not there."""

        def create() -> None:
            params: dict[str, Any] = {"Bucket": bucket, "ObjectLockEnabledForBucket": object_lock}
            if region != "us-east-1":  # the one region S3 refuses a location constraint for
                params["CreateBucketConfiguration"] = {"LocationConstraint": region}
            try:
                s3.create_bucket(**params)
            except ClientError as exc:
                if error_code(exc) == "BucketAlreadyExists":
                    raise self._taken(bucket) from None
                if error_code(exc) != "BucketAlreadyOwnedByYou":
                    raise

        self._step(f"bucket {bucket} in {region}", present, True, create)

    def _taken(self, bucket: str) -> BucketTaken:
        where = (
            self.t.bucket_key
            if bucket == self.t.bucket
            else "[bootstrap] client (the replica is named after it)"
        )
        return BucketTaken(
            f"bucket {bucket} belongs to another AWS account (S3 bucket names are global): "
            f"choose another name in runners.toml's {where}"
            + (" and the bootstrap stack's state_bucket_name" if bucket == self.t.bucket else "")
        )

    def _bucket_settings(
        self, s3: S3Client, bucket: str, there: bool, key_arn: str, policy: documents.Document
    ) -> None:
        """Each setting of a bucket that was ``there`` is read and compared; a new bucket's
        are made (or, in a dry run, would be: there is nothing to read)."""
        absent = not there and self.dry_run
        status = None if absent else s3.get_bucket_versioning(Bucket=bucket).get("Status")
        self._step(
            f"bucket {bucket}: versioning",
            there,
            status == "Enabled",
            lambda: s3.put_bucket_versioning(
                Bucket=bucket, VersioningConfiguration={"Status": "Enabled"}
            ),
        )
        wanted_sse: Any = {
            "ApplyServerSideEncryptionByDefault": {
                "SSEAlgorithm": "aws:kms",
                "KMSMasterKeyID": key_arn,
            },
            "BucketKeyEnabled": True,
        }
        rules = (
            []
            if absent
            else _read(
                lambda: s3.get_bucket_encryption(Bucket=bucket)[
                    "ServerSideEncryptionConfiguration"
                ]["Rules"],
                "ServerSideEncryptionConfigurationNotFoundError",
                [],
            )
        )
        self._step(
            f"bucket {bucket}: encryption with {key_arn}",
            there,
            [_sse(r) for r in rules] == [_sse(wanted_sse)],
            lambda: s3.put_bucket_encryption(
                Bucket=bucket,
                ServerSideEncryptionConfiguration={"Rules": [wanted_sse]},
            ),
        )
        blocked = {
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        }
        current = (
            {}
            if absent
            else _read(
                lambda: s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"],
                "NoSuchPublicAccessBlockConfiguration",
                {},
            )
        )
        self._step(
            f"bucket {bucket}: public access blocked",
            there,
            dict(current) == blocked,
            lambda: s3.put_public_access_block(
                Bucket=bucket,
                PublicAccessBlockConfiguration=blocked,  # type: ignore[arg-type]
            ),
        )
        ownership = (
            []
            if absent
            else _read(
                lambda: s3.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"][
                    "Rules"
                ],
                "OwnershipControlsNotFoundError",
                [],
            )
        )
        self._step(
            f"bucket {bucket}: owner enforced (no ACLs)",
            there,
            [r.get("ObjectOwnership") for r in ownership] == ["BucketOwnerEnforced"],
            lambda: s3.put_bucket_ownership_controls(
                Bucket=bucket,
                OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
            ),
        )
        text = (
            None
            if absent
            else _read(
                lambda: s3.get_bucket_policy(Bucket=bucket)["Policy"], "NoSuchBucketPolicy", None
            )
        )
        self._step(
            f"bucket {bucket}: policy ({', '.join(_sids(policy))})",
            there,
            documents.same_policy(json.loads(text) if text else None, policy),
            lambda: s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy)),
        )
        tags = (
            []
            if absent
            else _read(lambda: s3.get_bucket_tagging(Bucket=bucket)["TagSet"], "NoSuchTagSet", [])
        )
        have = {t["Key"]: t["Value"] for t in tags}
        self._step(
            f"bucket {bucket}: tags",
            there,
            all(have.get(k) == v for k, v in self.t.tags.items()),
            lambda: s3.put_bucket_tagging(
                Bucket=bucket,
                Tagging={
                    "TagSet": [{"Key": k, "Value": v} for k, v in {**have, **self.t.tags}.items()]
                },
            ),
        )

    def _object_lock(self, bucket: str, there: bool) -> None:
        s3 = self.c.s3
        wanted = {
            "ObjectLockEnabled": "Enabled",
            "Rule": {
                "DefaultRetention": {
                    "Mode": documents.OBJECT_LOCK_MODE,
                    "Days": documents.OBJECT_LOCK_DAYS,
                }
            },
        }
        current = (
            {}
            if not there and self.dry_run
            else _read(
                lambda: s3.get_object_lock_configuration(Bucket=bucket)["ObjectLockConfiguration"],
                "ObjectLockConfigurationNotFoundError",
                {},
            )
        )
        self._step(
            f"bucket {bucket}: Object Lock, {documents.OBJECT_LOCK_MODE} "
            f"{documents.OBJECT_LOCK_DAYS} days (runners' audit and plan records kept)",
            there,
            _retention(current) == _retention(wanted),
            lambda: s3.put_object_lock_configuration(
                Bucket=bucket,
                ObjectLockConfiguration=wanted,  # type: ignore[arg-type]
            ),
        )

    def _replication_role(self, state_key_arn: str, backup_key_arn: str) -> str:
        iam, t, names = self.c.iam, self.t, self.t.names
        trust = documents.replication_trust(t.account)
        role_arn = f"arn:{t.partition}:iam::{t.account}:role/{names.replication_role}"
        try:
            role = iam.get_role(RoleName=names.replication_role)["Role"]
            present = True
            role_arn = role["Arn"]
        except ClientError as exc:
            if error_code(exc) != "NoSuchEntity":
                raise
            present = False

        def create() -> None:
            iam.create_role(
                RoleName=names.replication_role,
                AssumeRolePolicyDocument=json.dumps(trust),
                Tags=[{"Key": k, "Value": v} for k, v in t.tags.items()],
            )

        self._step(f"iam role {names.replication_role} (S3 replication)", present, True, create)
        policy = documents.replication_policy(
            t.partition, t.bucket, state_key_arn, names.replica_bucket, backup_key_arn
        )
        current = None
        if present:
            try:
                current = _policy_document(
                    iam.get_role_policy(
                        RoleName=names.replication_role, PolicyName=names.replication_policy
                    )["PolicyDocument"]
                )
            except ClientError as exc:
                if error_code(exc) != "NoSuchEntity":
                    raise
        self._step(
            f"iam role {names.replication_role}: policy {names.replication_policy}",
            current is not None,
            documents.same_policy(current, policy),
            lambda: iam.put_role_policy(
                RoleName=names.replication_role,
                PolicyName=names.replication_policy,
                PolicyDocument=json.dumps(policy),
            ),
        )
        return role_arn

    def _replication(self, role_arn: str, backup_key_arn: str, there: bool) -> None:
        s3, t, names = self.c.s3, self.t, self.t.names
        wanted = {
            "Role": role_arn,
            "Rules": [
                {
                    "ID": f"to-{t.backup_region}",
                    "Priority": 1,
                    "Status": "Enabled",
                    "Filter": {},
                    "DeleteMarkerReplication": {"Status": "Disabled"},
                    "SourceSelectionCriteria": {"SseKmsEncryptedObjects": {"Status": "Enabled"}},
                    "Destination": {
                        "Bucket": f"arn:{t.partition}:s3:::{names.replica_bucket}",
                        "StorageClass": documents.REPLICA_STORAGE_CLASS,
                        "EncryptionConfiguration": {"ReplicaKmsKeyID": backup_key_arn},
                    },
                }
            ],
        }
        current = (
            None
            if not there and self.dry_run
            else _read(
                lambda: s3.get_bucket_replication(Bucket=t.bucket)["ReplicationConfiguration"],
                "ReplicationConfigurationNotFoundError",
                None,
            )
        )
        self._step(
            f"bucket {t.bucket}: replication to {names.replica_bucket}",
            current is not None,
            current is not None and _replication_key(current) == _replication_key(wanted),
            lambda: s3.put_bucket_replication(
                Bucket=t.bucket,
                ReplicationConfiguration=wanted,  # type: ignore[arg-type]
            ),
        )


def _read(fetch: Callable[[], Any], missing_code: str, default: Any) -> Any:
    """``fetch()``, or ``default`` when S3 says the setting is not there."""
    try:
        return fetch()
    except ClientError as exc:
        if error_code(exc) != missing_code:
            raise
        return default


def _retention(config: Any) -> tuple[object, object, object, object]:
    """Object Lock as it decides: enabled, mode, days, years (absent and 0 alike)."""
    rule = (config.get("Rule") or {}).get("DefaultRetention") or {}
    return (
        config.get("ObjectLockEnabled"),
        rule.get("Mode"),
        rule.get("Days") or 0,
        rule.get("Years") or 0,
    )


def _sse(rule: Any) -> tuple[object, object, object]:
    default = rule.get("ApplyServerSideEncryptionByDefault") or {}
    return (
        default.get("SSEAlgorithm"),
        default.get("KMSMasterKeyID"),
        bool(rule.get("BucketKeyEnabled")),
    )


def _sids(policy: documents.Document) -> list[str]:
    return [str(s.get("Sid")) for s in policy["Statement"] if s.get("Sid")]


def _policy_document(value: object) -> documents.Document | None:
    """IAM hands a role policy back URL-decoded by boto3, as a dict or a JSON string."""
    if isinstance(value, dict):
        return value
    if isinstance(value, str):
        loaded = json.loads(value)
        return loaded if isinstance(loaded, dict) else None
    return None


def _replication_key(config: Any) -> object:
    """What matters of a replication configuration: the role, and each rule's destination."""
    rules = []
    for rule in config.get("Rules", []):
        dest = rule.get("Destination") or {}
        rules.append(
            (
                rule.get("ID"),
                rule.get("Status"),
                dest.get("Bucket"),
                dest.get("StorageClass"),
                (dest.get("EncryptionConfiguration") or {}).get("ReplicaKmsKeyID"),
                ((rule.get("DeleteMarkerReplication") or {}).get("Status")),
            )
        )
    return (config.get("Role"), sorted(rules, key=repr))
