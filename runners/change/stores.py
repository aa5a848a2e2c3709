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


def dr_state_bucket(
    cfg: Config, stack: Stack | None, env: Environment, region: str
) -> StateBucket | None:
    """The bucket of a rebuild's state in ``region`` (``[dr.backend]``), for its ledger and lock.

    A disaster-recovery plan and its apply keep their records and their lock
    beside the state they write, in the backup region: the environment's own
    bucket is in the region that is lost.
    """
    if not cfg.dr.backend:
        return None
    from runners.dr.statefile import fill, overlay

    name = stack.name if stack is not None else "{stack}"
    own = cfg.backend_for(stack, env) if stack is not None else dict(env.backend)
    merged = overlay(own, fill(cfg.dr.backend, name, env.name, region))
    return bucket_of(merged, region)


def records_bucket(
    cfg: Config, stack: Stack | None, env: Environment, dr_region: str | None = None
) -> StateBucket | None:
    """Where the records of a plan or apply go: the rebuild's bucket for a DR one, else the state's."""
    if dr_region is not None:
        return dr_state_bucket(cfg, stack, env, dr_region)
    return state_bucket(cfg, stack, env)


def s3_client(region: str, quick: bool = False) -> Any:
    """An S3 client from the standard AWS configuration (credentials, AWS_ENDPOINT_URL, profile).

    Made from a botocore session: the ledger and the locks need only the
    low-level client, and boto3's layer on top (its S3 transfer manager,
    resources) costs about 0.13 s of CPU that a plan would spend beside
    Terraform.
    """
    import botocore.session
    from botocore.config import Config as BotoConfig

    config = BotoConfig(retries={"mode": "standard", "max_attempts": 5})
    if quick:
        # A read that may meet a region that is down: say so in seconds, not minutes.
        config = BotoConfig(
            connect_timeout=5, read_timeout=20, retries={"mode": "standard", "max_attempts": 5}
        )
    return botocore.session.Session().create_client("s3", region_name=region, config=config)


def failure_code(exc: BaseException) -> str:
    """A short name for why an S3 call failed, for a warning: the error code or the type."""
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        code = (response.get("Error") or {}).get("Code")
        if code:
            return str(code)
    return type(exc).__name__
