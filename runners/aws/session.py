"""boto3 clients per (account, region), made on first use and kept for the run.

With no account (the default) the runner's own credentials are used as boto3
finds them: environment, ``AWS_PROFILE``, instance role. With an account and a
role ARN template, the factory assumes ``role_arn_template.format(account=...)``
through STS; the assumed credentials are fetched on first use and refreshed
before they expire, so a long ship run never dies at the one-hour mark. The
session carries the build's identity (``runners.aws.identity``): CloudTrail
then shows which build, and whose, acted in the account.

Nothing here touches the network until a client makes a call, and every
client honours the standard configuration (``AWS_ENDPOINT_URL``, profile,
region), because each is built by an ordinary boto3 session.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import boto3
import botocore.session
from botocore.config import Config
from botocore.credentials import CredentialProvider, Credentials, DeferredRefreshableCredentials
from botocore.exceptions import ProfileNotFound
from botocore.utils import is_valid_endpoint_url, is_valid_ipv6_endpoint_url

from runners.aws.identity import SessionIdentity
from runners.errors import UsageError

if TYPE_CHECKING:
    from mypy_boto3_ec2 import EC2Client
    from mypy_boto3_kms import KMSClient
    from mypy_boto3_rds import RDSClient
    from mypy_boto3_sts import STSClient

AWS_OPERATIONS: dict[str, frozenset[str]] = {"sts": frozenset({"AssumeRole"})}

DEFAULT_CONFIG = Config(retries={"mode": "standard", "max_attempts": 8})
# For the calls AWS gives no idempotency token (CreateSnapshot, CopySnapshot, ...): botocore
# would resend one whose answer was lost and make a second snapshot. These clients send
# once; the caller looks the snapshot up by its identity tags before it tries again
# (``runners.backup.once``).
SINGLE_ATTEMPT = DEFAULT_CONFIG.merge(Config(retries={"mode": "standard", "total_max_attempts": 1}))
ASSUMED_ROLE_SECONDS = 3600


def check_endpoints(environ: Mapping[str, str]) -> None:
    """``AWS_ENDPOINT_URL`` and ``AWS_ENDPOINT_URL_<SERVICE>`` hold http(s) URLs.

    botocore finds out only when it makes a client, as a bare ValueError, after
    a command has started its work.
    """
    for name, url in sorted(environ.items()):
        if name != "AWS_ENDPOINT_URL" and not name.startswith("AWS_ENDPOINT_URL_"):
            continue
        scheme = url.partition("://")[0]
        if scheme not in ("http", "https") or not (
            is_valid_endpoint_url(url) or is_valid_ipv6_endpoint_url(url)
        ):
            raise UsageError(
                f"{name}={url!r} is not a URL such as https://s3.eu-west-1.amazonaws.com"
            )


class _AssumedRole(CredentialProvider):
    """Hands botocore the refreshable credentials of one assumed role."""

    METHOD = "runners-assume-role"
    CANONICAL_NAME = "runners-assume-role"

    def __init__(self, credentials: Credentials) -> None:
        super().__init__()
        self._credentials = credentials

    def load(self) -> Credentials:
        return self._credentials


class SessionFactory:
    """Clients for one run; one boto3 session per account, one client per service and region."""

    def __init__(
        self,
        base: boto3.Session | None = None,
        role_arn_template: str | None = None,
        session_name: str = "runners",
        config: Config = DEFAULT_CONFIG,
        identity: SessionIdentity | None = None,
    ) -> None:
        self._base = base
        self.role_arn_template = role_arn_template
        self.session_name = session_name
        self.identity = identity or SessionIdentity()
        self.config = config
        self._sessions: dict[str | None, boto3.Session] = {}
        self._clients: dict[tuple[str, str | None, str, bool], Any] = {}
        self._lock = threading.Lock()

    @property
    def base(self) -> boto3.Session:
        if self._base is None:
            try:
                self._base = boto3.Session()
            except ProfileNotFound as exc:
                raise UsageError(
                    f"AWS profile {exc.kwargs.get('profile')!r} (AWS_PROFILE) is not in the "
                    "AWS config files"
                ) from None
        return self._base

    def default_region(self) -> str | None:
        return self.base.region_name

    def require_credentials(self) -> None:
        """One clear line up front when boto3 finds no credentials at all, or an endpoint
        variable holds something that is not a URL.

        Otherwise every resource of the run would fail on its own with
        NoCredentialsError, and the cause would drown in the list. This
        resolves the credential chain (environment, profile, instance role):
        call it when a command starts, not in a constructor.
        """
        check_endpoints(os.environ)
        # A missing AWS_PROFILE is reported by ``base``, when the session is made; partial
        # or unparseable credentials and config files by get_credentials (runners.aws.failures).
        if self.base.get_credentials() is None:
            raise UsageError(
                "no AWS credentials found: bind them in the Jenkins job, or set AWS_PROFILE "
                "or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
            )

    def role_arn(self, account: str) -> str:
        if not self.role_arn_template:
            raise UsageError(
                f"account {account} needs a role to assume, but no role ARN template is set"
            )
        return self.role_arn_template.format(account=account)

    def session(self, account: str | None) -> boto3.Session:
        with self._lock:
            if account not in self._sessions:
                self._sessions[account] = self.base if account is None else self._assumed(account)
            return self._sessions[account]

    def client(
        self, service: str, region: str, account: str | None = None, once: bool = False
    ) -> Any:
        key = (service, account, region, once)
        with self._lock:
            cached = self._clients.get(key)
        if cached is not None:
            return cached
        config = self.config.merge(SINGLE_ATTEMPT) if once else self.config
        made = self.session(account).client(service, region_name=region, config=config)  # type: ignore[call-overload]
        with self._lock:
            return self._clients.setdefault(key, made)

    def ec2(self, region: str, account: str | None = None, once: bool = False) -> EC2Client:
        if once:
            return self.client("ec2", region, account, once=True)  # type: ignore[no-any-return]
        return self.client("ec2", region, account)  # type: ignore[no-any-return]

    def rds(self, region: str, account: str | None = None, once: bool = False) -> RDSClient:
        if once:
            return self.client("rds", region, account, once=True)  # type: ignore[no-any-return]
        return self.client("rds", region, account)  # type: ignore[no-any-return]

    def kms(self, region: str, account: str | None = None) -> KMSClient:
        return self.client("kms", region, account)  # type: ignore[no-any-return]

    def _assumed(self, account: str) -> boto3.Session:
        role_arn = self.role_arn(account)
        base = self.base
        region = base.region_name

        def fetch() -> dict[str, str]:
            # STS from the base credentials, in the configured region, so a
            # regional or custom endpoint (AWS_ENDPOINT_URL) is respected.
            sts: STSClient = base.client("sts", region_name=region, config=self.config)
            creds = sts.assume_role(
                RoleArn=role_arn,
                RoleSessionName=self.session_name,
                DurationSeconds=ASSUMED_ROLE_SECONDS,
                **self.identity.assume_role_params(),  # type: ignore[arg-type]
            )["Credentials"]
            return {
                "access_key": creds["AccessKeyId"],
                "secret_key": creds["SecretAccessKey"],
                "token": creds["SessionToken"],
                "expiry_time": creds["Expiration"].isoformat(),
            }

        credentials = DeferredRefreshableCredentials(
            refresh_using=fetch, method=_AssumedRole.METHOD
        )
        core = botocore.session.Session(
            profile=base.profile_name if base.profile_name != "default" else None
        )
        core.get_component("credential_provider").insert_before("env", _AssumedRole(credentials))
        return boto3.Session(botocore_session=core, region_name=region)
