"""What ``runners init`` is told, checked before anything is written. Pure.

Each refusal is a ``UsageError`` whose one line names the flag, what was given
and what was expected (exit 2).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from runners.errors import UsageError

CLIENT = re.compile(r"^[a-z][a-z0-9]{1,11}$")  # the stacks' own validation of var.client
ACCOUNT = re.compile(r"^\d{12}$")
JENKINS_USER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,99}$")
CODE_OWNER = re.compile(r"^@[A-Za-z0-9][A-Za-z0-9._/-]{0,99}$|^[^@\s]+@[^@\s]+\.[a-z]+$")
MAX_SERVERS = 50


@cache
def known_regions() -> dict[str, str]:
    """Every region botocore's endpoint data knows, to its partition."""
    import botocore.session

    session = botocore.session.get_session()
    out: dict[str, str] = {}
    for partition in session.get_available_partitions():
        for region in session.get_available_regions("ec2", partition):
            out[region] = partition
    return out


@dataclass(frozen=True)
class InitRequest:
    client: str
    account: str
    region: str
    backup_region: str
    template: str = "standard"
    servers: int = 2
    remote: str | None = None
    approvers: tuple[str, ...] = ()
    jenkins_url: str | None = None
    code_owners: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        check(self)

    @property
    def partition(self) -> str:
        return known_regions()[self.region]


def check(req: InitRequest) -> None:
    """Raise ``UsageError`` for the first input that cannot make a client's repository."""
    if not CLIENT.match(req.client):
        raise UsageError(
            f"--client: expected 2-12 lower-case letters and digits starting with a letter "
            f"(the first part of every resource name), got {req.client!r}"
        )
    if not ACCOUNT.match(req.account):
        raise UsageError(f"--account: expected a 12-digit AWS account id, got {req.account!r}")
    regions = known_regions()
    for flag, region in (("--region", req.region), ("--backup-region", req.backup_region)):
        if region not in regions:
            raise UsageError(
                f"{flag}: {region!r} is not an AWS region (expected one such as eu-west-1; "
                "a region newer than this botocore needs a newer runners)"
            )
    if req.region == req.backup_region:
        raise UsageError(
            f"--backup-region: must differ from --region ({req.region}), or losing one "
            "region loses both"
        )
    if regions[req.region] != regions[req.backup_region]:
        raise UsageError(
            f"--backup-region: {req.backup_region} is in partition "
            f"{regions[req.backup_region]}, {req.region} in {regions[req.region]}; "
            "S3 replication and snapshot copies stay within one partition"
        )
    if not 1 <= req.servers <= MAX_SERVERS:
        raise UsageError(f"--servers: expected 1 to {MAX_SERVERS}, got {req.servers}")
    for user in req.approvers:
        if not JENKINS_USER.match(user):
            raise UsageError(f"--approver: expected a Jenkins user id, got {user!r}")
    if len(set(req.approvers)) != len(req.approvers):
        raise UsageError("--approver: the same user is named twice")
    for owner in req.code_owners:
        if not CODE_OWNER.match(owner):
            raise UsageError(
                f"--code-owner: expected @user, @group/subgroup or an e-mail address, got {owner!r}"
            )
    if req.jenkins_url is not None and not re.match(r"^https?://[^\s/]+", req.jenkins_url):
        raise UsageError(
            f"--jenkins-url: expected an http:// or https:// URL, got {req.jenkins_url!r}"
        )
    if req.remote is not None and (not req.remote.strip() or any(c in req.remote for c in "\n\r'")):
        raise UsageError(f"--remote: expected a git URL or path, got {req.remote!r}")
