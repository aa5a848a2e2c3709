"""Where the runner keeps its own records: the state bucket when there is one, else local files.

Locks and audit records live beside the Terraform state they protect and
describe: under ``runners/`` in the environment's state bucket. Stacks on a
local backend (tests, rehearsals) get the same behaviour from files under
``.runners/`` in the repository.

Every failure to reach that bucket ends in one line naming the service, the
region and the operation: exit 2 when there are no credentials at all (a
setup problem), exit 1 for anything else (``aws_failure``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from runners.config import BackendConfig, Config, Environment, Stack
from runners.errors import RunnersError, UsageError

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
    from botocore.exceptions import BotoCoreError

    try:
        return botocore.session.Session().create_client(
            "s3",
            region_name=region,
            config=BotoConfig(retries={"mode": "standard", "max_attempts": 5}),
        )
    except BotoCoreError as exc:
        raise aws_failure(exc, "connect", "S3", region) from None


def aws_failure(exc: BaseException, operation: str, target: str, region: str) -> RunnersError:
    """One line for a failed S3 call: what, where, and why, by botocore's error types."""
    from botocore.exceptions import (
        ClientError,
        ConnectionError,
        CredentialRetrievalError,
        HTTPClientError,
        NoCredentialsError,
        PartialCredentialsError,
        ProfileNotFound,
    )

    if isinstance(exc, NoCredentialsError | PartialCredentialsError | ProfileNotFound):
        return UsageError(
            f"no usable AWS credentials for S3 ({operation} on {target} in {region}): "
            "bind them in the Jenkins job, or set AWS_PROFILE or AWS_ACCESS_KEY_ID and "
            f"AWS_SECRET_ACCESS_KEY ({type(exc).__name__})"
        )
    if isinstance(exc, ClientError):
        error = (getattr(exc, "response", None) or {}).get("Error") or {}
        code = error.get("Code") or "an error"
        return RunnersError(f"S3 {operation} on {target} in {region} failed: {code}")
    if isinstance(exc, ConnectionError | HTTPClientError | CredentialRetrievalError):
        return RunnersError(
            f"cannot reach S3 in {region} ({operation} on {target}): {type(exc).__name__}"
        )
    return RunnersError(f"S3 {operation} on {target} in {region} failed: {type(exc).__name__}")


def failure_code(exc: BaseException) -> str:
    """A short name for why an S3 call failed, for a warning: the error code or the type."""
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        code = (response.get("Error") or {}).get("Code")
        if code:
            return str(code)
    return type(exc).__name__
