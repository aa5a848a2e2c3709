"""The backup region's KMS key, resolved from its alias once per account and run.

Aliases are regional, so resolving the alias with a client in the backup
region guarantees the key handed to the copy calls lives in that region:
the rule that cross-region copies of encrypted snapshots break if ignored.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial

from runners.backup.context import Run
from runners.backup.model import Failure, Place

AWS_OPERATIONS: dict[str, frozenset[str]] = {"kms": frozenset({"DescribeKey"})}


def destination_keys(run: Run, accounts: Iterable[str | None]) -> dict[str | None, str | None]:
    """Account -> the ARN of the enabled key behind the policy's alias in the backup region."""
    keys: dict[str | None, str | None] = {}
    for account in sorted(set(accounts), key=lambda a: a or ""):
        place = run.dest(account)
        what = f"KMS key {run.policy.kms_key_alias} ({place})"
        meta = run.attempt(what, partial(_describe, run, place))
        if meta is not None and meta[1] != "Enabled":
            run.failures.append(
                Failure(what, "DescribeKey", "KeyNotEnabled", f"the key is {meta[1]}")
            )
            meta = None
        keys[account] = meta[0] if meta else None
    return keys


def _describe(run: Run, place: Place) -> tuple[str, str]:
    kms = run.clients.kms(place.region, place.account)
    meta = kms.describe_key(KeyId=run.policy.kms_key_alias)["KeyMetadata"]
    return meta["Arn"], str(meta.get("KeyState", "Enabled"))
