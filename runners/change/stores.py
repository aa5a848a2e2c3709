"""Where the runner keeps its own records: the state bucket when there is one, else local files.

Locks and audit records live beside the Terraform state they protect and
describe: under ``runners/`` in the environment's state bucket. Stacks on a
local backend (tests, rehearsals) get the same behaviour from files under
``.runners/`` in the repository.

A failure to reach that bucket ends the command in one line naming the
service, the region and the operation (``runners.aws.failures``, at the CLI's
top); the ledger keeps a record it could not upload in its pending file.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from runners.config import BackendConfig, Config, Environment, Stack

PREFIX = "runners"


@dataclass(frozen=True)
class StateBucket:
    bucket: str
    region: str
    prefix: str = PREFIX


def bucket_of(backend: BackendConfig, default_region: str) -> StateBucket | None:
    bucket = backend.get("bucket")
    if not isinstance(bucket, str) or not bucket:
        return None
    region = backend.get("region")
    return StateBucket(bucket, region if isinstance(region, str) and region else default_region)


def state_bucket(cfg: Config, stack: Stack | None, env: Environment) -> StateBucket | None:
    """The S3 bucket of this environment's state (for one stack, or the environment's default)."""
    backend = cfg.backend_for(stack, env) if stack is not None else dict(env.backend)
    return bucket_of(backend, env.region)


def s3_client(region: str) -> Any:
    """An S3 client from the standard AWS configuration (credentials, AWS_ENDPOINT_URL, profile).

    Made from a botocore session: the ledger and the locks need only the
    low-level client, and boto3's layer on top (its S3 transfer manager,
    resources) costs about 0.13 s of CPU that a plan would spend beside
    Terraform.
    """
    import botocore.session
    from botocore.config import Config as BotoConfig

    return botocore.session.Session().create_client(
        "s3", region_name=region, config=BotoConfig(retries={"mode": "standard", "max_attempts": 5})
    )


def failure_code(exc: BaseException) -> str:
    """A short name for why an S3 call failed, for a warning: the error code or the type."""
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        code = (response.get("Error") or {}).get("Code")
        if code:
            return str(code)
    return type(exc).__name__
