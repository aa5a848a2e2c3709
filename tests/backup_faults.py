"""A thin fault-injecting wrapper around real (moto-backed) boto3 clients.

Moto completes every snapshot at once, has no copy quotas and does not check
KMS keys against regions. ``FaultyClients`` wraps the real SessionFactory and
adds, on cue, what real AWS does:

- ``fail(op, code, ...)``: raise a ``ClientError`` with a real error code
  (``ResourceLimitExceeded``, ``SnapshotQuotaExceeded``, ``Throttling``,
  ``AccessDenied``, ``InvalidSnapshot.InUse``...) for matching calls;
- ``before(op, hook)``: run something just before a call (delete a volume
  mid-run);
- ``slow = True``: snapshots and copies made through the wrapper stay
  ``pending`` (EC2) / ``creating`` (RDS) until ``complete()``; ``errored``
  ids report ``error`` / ``failed``;
- the KMS rules of cross-region copies, checked on every copy call:
  an encrypted RDS source needs ``KmsKeyId`` (``InvalidParameterValue``) and
  ``SourceRegion``; the key must resolve in the destination region
  (``KMSKeyNotAccessibleFault``); an unencrypted cluster snapshot must not
  get one; an EBS copy with a key from another region ends in ``error``, as
  EBS reports it asynchronously.

Every call is recorded in ``calls`` as (service, region, account, operation).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from runners.aws.session import SessionFactory

Match = Callable[[dict[str, Any]], bool]


@dataclass
class Rule:
    op: str
    code: str
    times: int | None  # None: always
    match: Match
    message: str
    region: str | None = None


@dataclass
class Faults:
    rules: list[Rule] = field(default_factory=list)
    hooks: list[tuple[str, Callable[[dict[str, Any]], None]]] = field(default_factory=list)
    calls: list[tuple[str, str, str | None, str]] = field(default_factory=list)
    slow: bool = False
    pending: set[str] = field(default_factory=set)
    errored: set[str] = field(default_factory=set)
    raised: list[str] = field(default_factory=list)

    def fail(
        self,
        op: str,
        code: str,
        *,
        times: int | None = None,
        match: Match = lambda _: True,
        message: str = "injected by the test",
        region: str | None = None,
    ) -> None:
        self.rules.append(Rule(op, code, times, match, message, region))

    def before(self, op: str, hook: Callable[[dict[str, Any]], None]) -> None:
        self.hooks.append((op, hook))

    def complete(self, *ids: str) -> None:
        for snap_id in ids or tuple(self.pending):
            self.pending.discard(snap_id)

    def ops(self, op: str) -> list[tuple[str, str, str | None, str]]:
        return [c for c in self.calls if c[3] == op]

    def check(self, op: str, region: str, kwargs: dict[str, Any]) -> None:
        for name, hook in self.hooks:
            if name == op:
                hook(kwargs)
        for rule in self.rules:
            if rule.op != op or (rule.region and rule.region != region) or not rule.match(kwargs):
                continue
            if rule.times is not None:
                if rule.times <= 0:
                    continue
                rule.times -= 1
            self.raised.append(rule.code)
            raise ClientError({"Error": {"Code": rule.code, "Message": rule.message}}, op)


PENDING_STATE = {
    "Snapshots": ("State", "pending", "error"),
    "DBSnapshots": ("Status", "creating", "failed"),
    "DBClusterSnapshots": ("Status", "creating", "failed"),
}
ID_FIELDS = ("SnapshotId", "DBSnapshotIdentifier", "DBClusterSnapshotIdentifier")


class FaultyClient:
    def __init__(
        self, real: Any, service: str, region: str, account: str | None, factory: FaultyClients
    ) -> None:
        self._real = real
        self._service = service
        self._region = region
        self._account = account
        self._factory = factory
        self.meta = real.meta

    @property
    def _faults(self) -> Faults:
        return self._factory.faults

    def _rewrite(self, result: dict[str, Any]) -> dict[str, Any]:
        for key, (state_field, pending, error) in PENDING_STATE.items():
            for item in result.get(key, []):
                snap_id = next((item[f] for f in ID_FIELDS if f in item), None)
                if snap_id in self._faults.errored:
                    item[state_field] = error
                elif snap_id in self._faults.pending:
                    item[state_field] = pending
        return result

    def _made(self, op: str, result: dict[str, Any]) -> None:
        """Snapshots made through the wrapper stay pending when ``slow``."""
        ids = []
        if "SnapshotId" in result:
            ids.append(result["SnapshotId"])
        ids += [s["SnapshotId"] for s in result.get("Snapshots", []) if op == "CreateSnapshots"]
        for key in ("DBSnapshot", "DBClusterSnapshot"):
            if key in result:
                ids.append(
                    result[key].get("DBSnapshotIdentifier")
                    or result[key]["DBClusterSnapshotIdentifier"]
                )
                result[key]["Status"] = "creating" if self._faults.slow else result[key]["Status"]
        if self._faults.slow:
            self._faults.pending.update(ids)

    def get_paginator(self, name: str) -> Any:
        real = self._real.get_paginator(name)
        op = self.meta.method_to_api_mapping[name]
        client = self

        class Paginator:
            def paginate(self, **kwargs: Any) -> Iterator[dict[str, Any]]:
                client._faults.calls.append((client._service, client._region, client._account, op))
                client._faults.check(op, client._region, kwargs)
                for page in real.paginate(**kwargs):
                    yield client._rewrite(page)

        return Paginator()

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._real, name)
        op = self.meta.method_to_api_mapping.get(name)
        if op is None:
            return attr

        def call(**kwargs: Any) -> Any:
            self._faults.calls.append((self._service, self._region, self._account, op))
            self._faults.check(op, self._region, kwargs)
            if op in ("CopySnapshot", "CopyDBSnapshot", "CopyDBClusterSnapshot"):
                self._kms_rules(op, kwargs)
            result = attr(**kwargs)
            if op in (
                "CreateSnapshot",
                "CreateSnapshots",
                "CopySnapshot",
                "CreateDBSnapshot",
                "CopyDBSnapshot",
                "CreateDBClusterSnapshot",
                "CopyDBClusterSnapshot",
            ):
                self._made(op, result)
            if op == "CopySnapshot" and self._bad_ebs_key(kwargs):
                self._faults.errored.add(result["SnapshotId"])
            return self._rewrite(result)

        return call

    # -- the KMS rules moto does not check ------------------------------------------------
    def _key_region(self, key: str) -> str | None:
        """The region a KmsKeyId resolves in from this client's region, or None if it does not."""
        if key.startswith("arn:"):
            return key.split(":")[3]
        kms = self._factory.real.kms(self._region, self._account)
        try:
            return str(kms.describe_key(KeyId=key)["KeyMetadata"]["Arn"].split(":")[3])
        except ClientError:
            return None

    def _bad_ebs_key(self, kwargs: dict[str, Any]) -> bool:
        key = kwargs.get("KmsKeyId")
        return bool(key) and self._key_region(key) != self._region

    def _kms_rules(self, op: str, kwargs: dict[str, Any]) -> None:
        if op == "CopySnapshot":
            return  # EBS reports a bad key asynchronously: the copy ends in error
        source = (
            kwargs.get("SourceDBSnapshotIdentifier") or kwargs["SourceDBClusterSnapshotIdentifier"]
        )
        source_region = source.split(":")[3] if source.startswith("arn:") else self._region
        encrypted = self._factory.source_encrypted(op, source, source_region, self._account)
        key = kwargs.get("KmsKeyId")

        def fail(code: str, message: str) -> None:
            self._faults.raised.append(code)
            raise ClientError({"Error": {"Code": code, "Message": message}}, op)

        if source_region != self._region:
            if encrypted and not key:
                fail(
                    "InvalidParameterValue",
                    "Must specify new KMS key for cross region encrypted snapshot copy.",
                )
            if encrypted and "SourceRegion" not in kwargs and "PreSignedUrl" not in kwargs:
                fail(
                    "InvalidParameterValue",
                    "PreSignedUrl is required for a cross-region encrypted copy",
                )
        if key and not encrypted and op == "CopyDBClusterSnapshot":
            fail("InvalidParameterValue", "KmsKeyId given for an unencrypted DB cluster snapshot")
        if key and self._key_region(key) != self._region:
            fail(
                "KMSKeyNotAccessibleFault",
                f"The target KMS key [{key}] does not exist in {self._region}",
            )


class FaultyClients:
    """Stands in for ``SessionFactory``: the same clients, wrapped with ``faults``."""

    def __init__(self, real: SessionFactory | None = None, faults: Faults | None = None) -> None:
        self.real = real or SessionFactory()
        self.faults = faults or Faults()
        self._cache: dict[tuple[str, str, str | None], FaultyClient] = {}

    def default_region(self) -> str | None:
        return self.real.default_region()

    def _client(self, service: str, region: str, account: str | None) -> Any:
        key = (service, region, account)
        if key not in self._cache:
            self._cache[key] = FaultyClient(
                self.real.client(service, region, account), service, region, account, self
            )
        return self._cache[key]

    def ec2(self, region: str, account: str | None = None) -> Any:
        return self._client("ec2", region, account)

    def rds(self, region: str, account: str | None = None) -> Any:
        return self._client("rds", region, account)

    def kms(self, region: str, account: str | None = None) -> Any:
        return self._client("kms", region, account)

    def source_encrypted(self, op: str, source: str, region: str, account: str | None) -> bool:
        rds = self.real.rds(region, account)
        name = source.rsplit(":", maxsplit=1)[-1]
        if op == "CopyDBSnapshot":
            snaps = rds.describe_db_snapshots(DBSnapshotIdentifier=name)["DBSnapshots"]
            return bool(snaps[0].get("Encrypted"))
        snaps = rds.describe_db_cluster_snapshots(DBClusterSnapshotIdentifier=name)[
            "DBClusterSnapshots"
        ]
        return bool(snaps[0].get("StorageEncrypted"))
