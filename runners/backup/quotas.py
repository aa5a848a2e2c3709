"""AWS's snapshot quotas, and what a policy's retention asks of them.

- Pending snapshots per EBS volume: 5 for gp2, gp3, io1 and io2, 1 for st1 and sc1
  ("Amazon EBS endpoints and quotas").
- Manual RDS snapshots: 100 per region by default, DB instance and DB cluster
  snapshots each ("Quotas and constraints for Amazon RDS"). Sources count in their
  region, copies in the backup region, and so do snapshots made by anything else.

``kept_per_resource`` is what the retention keeps of one resource in the long run,
worked out with the retention function itself, so the warning and prune agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache

from runners.backup import tags as T
from runners.backup.model import Place, Snapshot
from runners.backup.policy import Policy, Retention
from runners.backup.retention import decide

PENDING_PER_VOLUME = {"st1": 1, "sc1": 1}
PENDING_PER_VOLUME_DEFAULT = 5
_STEP = {
    "hourly": timedelta(hours=1),
    "daily": timedelta(days=1),
    "weekly": timedelta(weeks=1),
    "monthly": timedelta(days=30),
}


def pending_limit(volume_type: str, configured: int) -> int:
    """How many snapshots of a volume may be pending at once."""
    return min(configured, PENDING_PER_VOLUME.get(volume_type, PENDING_PER_VOLUME_DEFAULT))


@cache
def kept_per_resource(schedule: str, retention: Retention) -> int:
    """Scheduled backups of one resource the retention keeps at most, after years of runs.

    The count moves with the weekday and the day of the month, so it is the most kept
    on any of 31 consecutive days.
    """
    step = _STEP[schedule]
    years = max(3, retention.yearly + 2)
    count = min(int(timedelta(days=366 * years) / step), 30_000)
    end = datetime(2030, 1, 1, tzinfo=UTC)
    snaps = []
    for n in range(count):
        when = end - step * n
        tags = {
            T.MANAGED_BY: T.MANAGED_BY_VALUE,
            T.KIND: "rds-instance",
            T.SOURCE_ID: "db",
            T.RETENTION_CLASS: T.SCHEDULED,
            T.PERIOD: str(n),
            T.TAKEN_AT: T.format_time(when),
        }
        snaps.append(Snapshot(f"s{n}", "rds-instance", Place(None, "r"), "completed", when, tags))
    most = 0
    for shift in range(31):
        now = end - timedelta(days=shift)
        window = [s for s in snaps if s.started <= now]
        most = max(most, sum(not d.delete for d in decide(window, now, retention).values()))
    return most


@dataclass(frozen=True)
class Headroom:
    """Manual RDS snapshots in one region against the quota."""

    place: Place
    family: str  # "DB snapshots" or "DB cluster snapshots"
    used: int  # every manual snapshot there, whoever made it
    mine: int  # the policy's
    databases: int  # the policy's databases whose snapshots land here
    quota: int
    kept: int  # per database in the long run

    @property
    def needed(self) -> int:
        """What the policy will hold here in the long run, plus what others hold now."""
        return self.databases * self.kept + (self.used - self.mine)

    @property
    def exceeded(self) -> bool:
        return self.needed > self.quota

    def warning(self, policy: Policy) -> str:
        return self.warning_text + (
            f"; lower policy {policy.name}'s retention or ask AWS for a higher quota"
        )

    @property
    def warning_text(self) -> str:
        return (
            f"RDS manual {self.family} in {self.place}: retention keeps about {self.kept} per "
            f"database x {self.databases} databases = {self.databases * self.kept}, plus "
            f"{self.used - self.mine} others already there = {self.needed}, over the quota of "
            f"{self.quota} (limits.rds_manual_snapshots)"
        )
