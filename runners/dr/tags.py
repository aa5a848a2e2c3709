"""Tags disaster recovery puts on what it makes: the throwaway restores of ``verify-restore``.

Built on the backup tag schema (``runners.backup.tags``): same prefix, same
``managed-by`` mark. ``VERIFY`` is what makes a volume, DB instance or cluster
removable by a later run, and what the backup role's IAM policy keys its
delete permissions on (terraform/modules/runner-role/policies).
"""

from __future__ import annotations

from datetime import datetime

from runners.backup import tags as T

VERIFY = f"{T.PREFIX}verify-restore"  # the run id; only resources carrying it are ever deleted
VERIFY_OF = f"{T.PREFIX}verify-of"  # the snapshot restored
VERIFY_STARTED = f"{T.PREFIX}verify-started"  # when, so a later run knows it is a leftover
NAME_PREFIX = "runners-verify-"  # RDS identifiers of throwaway databases start with this


def throwaway_tags(run_id: str, policy: str, snapshot_id: str, started: datetime) -> dict[str, str]:
    return {
        T.MANAGED_BY: T.MANAGED_BY_VALUE,
        T.POLICY: policy,
        VERIFY: run_id,
        VERIFY_OF: snapshot_id,
        VERIFY_STARTED: T.format_time(started),
        "Name": f"{NAME_PREFIX}{snapshot_id}",
    }
