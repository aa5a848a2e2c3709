"""Snapshot records and hypothesis strategies for the pure retention and prune tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import strategies as st

from runners.backup import tags as T
from runners.backup.model import Place, Snapshot
from runners.backup.policy import Retention

POLICY = "daily"
SOURCE_REGIONS = ("eu-west-1", "eu-west-2")
BACKUP = "eu-central-1"
EPOCH = datetime(2025, 1, 1, 3, 0, tzinfo=UTC)


def snap(
    snap_id: str,
    source: str = "vol-1",
    when: datetime = EPOCH,
    *,
    kind: str = "ebs-volume",
    region: str = "eu-west-1",
    account: str | None = None,
    state: str = "completed",
    klass: str = T.SCHEDULED,
    period: str | None = None,
    extra: dict[str, str] | None = None,
    managed: bool = True,
    policy: str = POLICY,
    copy_of: Snapshot | None = None,
    foreign: str | None = None,
) -> Snapshot:
    tags = {
        T.POLICY: policy,
        T.KIND: kind,
        T.SOURCE_ID: source,
        T.RETENTION_CLASS: klass,
        T.PERIOD: period or f"{when:%Y-%m-%d}",
        T.TAKEN_AT: T.format_time(when),
    }
    if managed:
        tags[T.MANAGED_BY] = T.MANAGED_BY_VALUE
    if copy_of is not None:
        tags[T.COPY_OF] = copy_of.ref
        tags[T.COPY_OF_REGION] = copy_of.place.region
    tags.update(extra or {})
    return Snapshot(
        id=snap_id,
        kind=kind,
        place=Place(account, region),
        state=state,  # type: ignore[arg-type]
        started=when,
        tags=tags,
        volume_id=source if kind == "ebs-volume" else None,
        arn=f"arn:aws:rds:{region}:123456789012:snapshot:{snap_id}"
        if kind == "rds-instance"
        else None,
        foreign_owner=foreign,
    )


retentions = st.builds(
    Retention,
    daily=st.integers(0, 8),
    weekly=st.integers(0, 5),
    monthly=st.integers(0, 4),
    yearly=st.integers(0, 2),
    on_demand_days=st.integers(0, 40),
)


@st.composite
def worlds(draw: Any, max_sources: int = 14) -> list[Snapshot]:
    """Sources in two regions with copies in the backup region, and every oddity the rails guard."""
    out: list[Snapshot] = []
    count = draw(st.integers(1, max_sources))
    for n in range(count):
        kind = draw(st.sampled_from(["ebs-volume", "ec2-instance", "rds-instance"]))
        resource = draw(st.sampled_from(["r1", "r2", "r3"]))
        region = draw(st.sampled_from(SOURCE_REGIONS))
        account = draw(st.sampled_from([None, "111111111111"]))
        when = EPOCH + timedelta(hours=draw(st.integers(0, 24 * 500)))
        klass = draw(st.sampled_from([T.SCHEDULED] * 4 + [T.ON_DEMAND, "odd"]))
        period = f"{when:%Y-%m-%d}" if klass == T.SCHEDULED else f"run-{n}"
        state = draw(st.sampled_from(["completed"] * 6 + ["pending", "error", "deleting"]))
        extra: dict[str, str] = {}
        if draw(st.integers(0, 12)) == 0:
            extra[draw(st.sampled_from(["legal-hold", "Legal-Hold", "runners:legal-hold"]))] = (
                "case-7"
            )
        common = dict(kind=kind, region=region, account=account, klass=klass, period=period)
        volumes = 2 if kind == "ec2-instance" else 1
        sources = [
            snap(
                f"s{n}-{v}",
                resource,
                when,
                state=state,
                extra=extra,
                managed=draw(st.integers(0, 15)) > 0,
                policy=POLICY if draw(st.integers(0, 15)) else "weekly",
                foreign=None if draw(st.integers(0, 15)) else "AWS Backup",
                **common,
            )  # type: ignore[arg-type]
            for v in range(volumes)
        ]
        out += sources
        for src in sources:
            copy = draw(st.sampled_from(["none", "completed", "completed", "pending", "error"]))
            if copy != "none":
                out.append(
                    snap(
                        f"c{n}-{src.id}",
                        resource,
                        when,
                        state=copy,
                        copy_of=src,
                        **{**common, "region": BACKUP},
                    )
                )  # type: ignore[arg-type]
    return out
