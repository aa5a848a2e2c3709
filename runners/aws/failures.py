"""AWS failures that are part of operating, not bugs: each becomes one line and an exit code.

Two kinds reach a command's top unhandled. The environment cannot work at all
(no, partial or unparseable credentials or config files, an endpoint that is
not a URL, a profile or region that does not exist): exit 2, like any other
bad input. Or AWS did not answer or said no after botocore's retries (a
connection refused or timed out, throttling that outlasted them, an error
code): exit 1, naming the service, region and operation that failed.

The service, region and operation are read from the botocore client call the
error passed through, so the line is the same whichever module made the
client (the backup engines' session factory, the ledger's and the locks' S3
client, disaster recovery's): no call site has to wrap its calls.
"""

from __future__ import annotations

import inspect
import traceback
from dataclasses import dataclass
from types import TracebackType

import botocore.client
import botocore.endpoint
import botocore.exceptions as bx

from runners.aws.retry import THROTTLING, error_code
from runners.errors import ExitCode, RunnersError

# The environment, not AWS: nothing will work until it is fixed.
_SETUP = (
    bx.NoCredentialsError,
    bx.PartialCredentialsError,
    bx.CredentialRetrievalError,
    bx.UnknownCredentialError,
    bx.ConfigParseError,
    bx.ConfigNotFound,
    bx.ProfileNotFound,
    bx.NoRegionError,
    bx.InvalidRegionError,
    bx.UnknownRegionError,
    bx.InvalidConfigError,
    bx.InvalidRetryConfigurationError,
    bx.InvalidProxiesConfigError,
    bx.InvalidDefaultsMode,
    bx.InvalidEndpointConfigurationError,
    bx.InvalidIMDSEndpointError,
    bx.InvalidIMDSEndpointModeError,
    bx.InvalidS3AddressingStyleError,
    bx.InvalidSTSRegionalEndpointsConfigError,
    bx.InvalidS3UsEast1RegionalEndpointConfigError,
    bx.InvalidChecksumConfigError,
    bx.InvalidEndpointDiscoveryConfigurationError,
    bx.EndpointProviderError,
    bx.TokenRetrievalError,
    bx.SSOError,
    bx.LoginError,
    bx.NoAuthTokenError,
)
# AWS could not be reached, or stopped answering, after botocore's retries.
_UNREACHABLE = (bx.ConnectionError, bx.HTTPClientError, bx.IncompleteReadError)

# The frames that know the call: every client call passes through the first
# (under botocore's context decorator), every client is made by the second.
_API_CALL = inspect.unwrap(botocore.client.BaseClient._make_api_call).__code__  # type: ignore[attr-defined]
_ENDPOINT = inspect.unwrap(botocore.endpoint.EndpointCreator.create_endpoint).__code__


class AwsSetupError(RunnersError):
    """The AWS environment (credentials, config files, endpoint) cannot work."""

    exit_code = ExitCode.USAGE


class AwsCallFailed(RunnersError):
    """An AWS call failed after botocore's retries."""

    exit_code = ExitCode.FAILED


@dataclass(frozen=True)
class Call:
    service: str
    region: str | None
    operation: str
    endpoint: str | None

    def __str__(self) -> str:
        return f"{self.service} {self.operation} in {self.region or 'no region'}"


def as_runners_error(exc: BaseException) -> RunnersError | None:
    """The one-line error for an AWS failure, or None when ``exc`` is not one (a bug).

    Only ``exc`` itself is looked at, never what it was raised while handling:
    a bug in an ``except ClientError`` block is still a bug.
    """
    call = _call_of(exc.__traceback__)
    where = f" ({call})" if call else ""
    if isinstance(exc, bx.NoCredentialsError):
        return AwsSetupError(
            "no AWS credentials found: bind them in the Jenkins job, or set AWS_PROFILE "
            f"or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY{where}"
        )
    if isinstance(exc, bx.ProfileNotFound):
        profile = exc.kwargs.get("profile")
        return AwsSetupError(
            f"AWS profile {profile!r} (AWS_PROFILE) is not in the AWS config files"
        )
    if isinstance(exc, bx.ConfigParseError):
        path = exc.kwargs.get("path")
        return AwsSetupError(
            f"cannot parse the AWS config or credentials file {path} "
            "(AWS_CONFIG_FILE, AWS_SHARED_CREDENTIALS_FILE)"
        )
    if isinstance(exc, _SETUP):
        return AwsSetupError(f"AWS configuration: {exc}{where}")
    if isinstance(exc, ValueError) and _raised_in(exc.__traceback__, _ENDPOINT):
        url = _local(exc.__traceback__, _ENDPOINT, "endpoint_url")
        return AwsSetupError(
            f"AWS endpoint {url!r} is not a URL such as https://s3.eu-west-1.amazonaws.com "
            "(AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_<SERVICE>, or the profile's endpoint_url)"
        )
    if isinstance(exc, bx.WaiterError):  # raised by the waiter, outside any one call
        return AwsCallFailed(f"AWS {exc}")
    if call is None:
        return None
    if isinstance(exc, _UNREACHABLE):
        return AwsCallFailed(
            f"AWS {call}: no answer from {call.endpoint or 'the endpoint'} after retries "
            f"({type(exc).__name__}: {exc})"
        )
    if isinstance(exc, bx.ClientError):
        code = error_code(exc)
        message = exc.response.get("Error", {}).get("Message") or ""
        attempts = exc.response.get("ResponseMetadata", {}).get("RetryAttempts")
        tried = f" after {attempts + 1} attempts" if code in THROTTLING and attempts else ""
        return AwsCallFailed(f"AWS {call} failed{tried}: {code}: {message}".rstrip(": "))
    return None


def _call_of(tb: TracebackType | None) -> Call | None:
    """The innermost botocore client call a traceback passed through."""
    found = None
    for frame, _ in traceback.walk_tb(tb):
        if frame.f_code is _API_CALL:
            found = frame
    if found is None:
        return None
    client = found.f_locals.get("self")
    meta = getattr(client, "meta", None)
    if meta is None:
        return None
    return Call(
        service=str(meta.service_model.service_name),
        region=meta.region_name,
        operation=str(found.f_locals.get("operation_name", "?")),
        endpoint=meta.endpoint_url,
    )


def _raised_in(tb: TracebackType | None, code: object) -> bool:
    last = None
    for frame, _ in traceback.walk_tb(tb):
        last = frame
    return last is not None and last.f_code is code


def _local(tb: TracebackType | None, code: object, name: str) -> object:
    for frame, _ in traceback.walk_tb(tb):
        if frame.f_code is code:
            return frame.f_locals.get(name)
    return None
