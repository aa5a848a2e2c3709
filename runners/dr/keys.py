"""The backup region's KMS key: the one the shipped copies are encrypted with.

Aliases are regional, so the policy's alias is resolved with a client in the
target region; a key that is missing or not enabled there is unmappable, as
nothing encrypted with it could be restored.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from runners.aws.retry import error_code
from runners.dr.model import Missing

if TYPE_CHECKING:
    from mypy_boto3_kms import KMSClient

AWS_OPERATIONS: dict[str, frozenset[str]] = {"kms": frozenset({"DescribeKey"})}


def resolve(kms: KMSClient, alias: str, region: str) -> str | Missing:
    """The ARN of the enabled key behind ``alias`` in ``region``."""
    what = f"kms key {alias}"
    try:
        meta = kms.describe_key(KeyId=alias)["KeyMetadata"]
    except ClientError as exc:
        code = error_code(exc)
        why = f"no such alias in {region}" if code == "NotFoundException" else code
        return Missing(what, why, "encrypted snapshots cannot be restored in the target region")
    except BotoCoreError as exc:
        return Missing(what, type(exc).__name__, "encrypted snapshots cannot be restored")
    state = str(meta.get("KeyState", "Enabled"))
    if state != "Enabled":
        return Missing(
            what, f"the key in {region} is {state}", "encrypted snapshots cannot be restored"
        )
    return str(meta["Arn"])
