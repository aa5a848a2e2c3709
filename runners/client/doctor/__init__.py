"""``runners doctor``: is this client ready for its first merge request?

Each check is a ``Check`` registered in ``CHECKS`` (in the order they run) and
reports one ``Finding`` per thing it looked at: ok, or what is wrong and the
fix, or skipped with the reason when the API it reads cannot show it here (a
plain git server has no branch protection to read). A check that cannot look
(no AWS credentials, no Jenkins token) fails, saying so: what was not looked
at is not healthy. An invalid runners.toml stops the rest.
"""

from __future__ import annotations

from runners.client.doctor.base import Check, Context, Finding, Status
from runners.client.doctor.checks_aws import ReplicaCheck, RolesCheck, StateBucketCheck
from runners.client.doctor.checks_backup import BackupRpoCheck, BackupSelectsCheck
from runners.client.doctor.checks_git import BranchesCheck
from runners.client.doctor.checks_jenkins import ApplyNeedsCheck, CredentialsZoneCheck, JobsCheck
from runners.client.doctor.checks_repo import ConfigCheck, StacksInitCheck

CHECKS: tuple[type[Check], ...] = (
    ConfigCheck,
    StacksInitCheck,
    StateBucketCheck,
    ReplicaCheck,
    RolesCheck,
    JobsCheck,
    CredentialsZoneCheck,
    ApplyNeedsCheck,
    BranchesCheck,
    BackupSelectsCheck,
    BackupRpoCheck,
)

__all__ = ["CHECKS", "Check", "Context", "Finding", "Status", "run"]


def run(ctx: Context, only: frozenset[str] | None = None) -> list[Finding]:
    """Every check's findings, in order; ``only`` limits them to those names."""
    out: list[Finding] = []
    for check in CHECKS:
        if only is not None and check.name not in only and check is not ConfigCheck:
            continue
        found = check().run(ctx)
        out.extend(found)
        if check is ConfigCheck and any(f.status is Status.FAIL for f in found):
            break  # every other check reads the config
    return out
