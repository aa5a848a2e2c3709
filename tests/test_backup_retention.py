"""The grandfather-father-son decision: examples, then properties."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from runners.backup import tags as T
from runners.backup.model import Snapshot
from runners.backup.policy import Retention, period_key
from runners.backup.retention import decide
from tests.backup_snapshots import EPOCH, retentions, snap, worlds


def kept(snaps: list[Snapshot], retention: Retention, now_days: int = 0) -> list[str]:
    decisions = decide(snaps, EPOCH + timedelta(days=now_days), retention)
    return sorted(s.id for s in snaps if not decisions[s.key].delete)


def daily_series(days: int, start: int = 0) -> list[Snapshot]:
    return [snap(f"d{i:03d}", when=EPOCH + timedelta(days=start + i)) for i in range(days)]


def test_daily_keeps_the_newest_of_each_recent_day() -> None:
    snaps = daily_series(10)
    same_day_earlier = snap("early", when=EPOCH + timedelta(days=9, hours=-2), period="x")
    assert kept([*snaps, same_day_earlier], Retention(daily=3, weekly=0, monthly=0)) == [
        "d007",
        "d008",
        "d009",
    ]


def test_rules_combine_and_name_themselves() -> None:
    snaps = daily_series(70)  # 2025-01-01 .. 2025-03-11
    retention = Retention(daily=2, weekly=2, monthly=2, yearly=1)
    decisions = decide(snaps, EPOCH + timedelta(days=70), retention)
    reasons = {s.id: decisions[s.key].reason for s in snaps if not decisions[s.key].delete}
    assert reasons == {
        "d069": "daily 2025-03-11, weekly 2025-W11, monthly 2025-03, yearly 2025",
        "d068": "daily 2025-03-10",
        "d067": "weekly 2025-W10",  # Sunday 9 March, the newest of its ISO week
        "d058": "monthly 2025-02",
    }


def test_backups_that_stopped_are_not_expired_by_time() -> None:
    snaps = daily_series(5)
    assert kept(snaps, Retention(daily=3, weekly=0, monthly=0), now_days=400) == [
        "d002",
        "d003",
        "d004",
    ]


def test_on_demand_is_kept_for_its_days() -> None:
    young = snap("young", when=EPOCH + timedelta(days=8), klass=T.ON_DEMAND, period="r1")
    old = snap("old", when=EPOCH, klass=T.ON_DEMAND, period="r2")
    decisions = decide([young, old], EPOCH + timedelta(days=10), Retention(on_demand_days=5))
    assert not decisions[young.key].delete
    assert decisions[young.key].reason == "on-demand, kept 5 days (until 2025-01-14)"
    assert decisions[old.key].delete and decisions[old.key].reason == "on-demand, older than 5 days"


def test_states_and_unknown_classes() -> None:
    pending = snap("p", when=EPOCH - timedelta(days=300), state="pending")
    failed = snap("e", when=EPOCH + timedelta(days=5), state="error")
    odd = snap("o", when=EPOCH - timedelta(days=300), klass="monthly-ish")
    decisions = decide([pending, failed, odd], EPOCH + timedelta(days=6), Retention(daily=1))
    assert (decisions[pending.key].delete, decisions[pending.key].reason) == (
        False,
        "pending; decided once completed",
    )
    assert decisions[failed.key].delete
    assert not decisions[odd.key].delete and "unknown retention class" in decisions[odd.key].reason


def test_an_instance_point_is_decided_whole_and_regions_apart() -> None:
    old = [snap(f"old-{v}", "i-1", EPOCH, kind="ec2-instance") for v in range(2)]
    new = [
        snap(f"new-{v}", "i-1", EPOCH + timedelta(days=1), kind="ec2-instance") for v in range(2)
    ]
    other_region = snap("west2", "i-1", EPOCH, kind="ec2-instance", region="eu-west-2")
    decisions = decide(
        [*old, *new, other_region],
        EPOCH + timedelta(days=2),
        Retention(daily=1, weekly=0, monthly=0),
    )
    assert [decisions[s.key].delete for s in old + new] == [True, True, False, False]
    assert not decisions[other_region.key].delete  # the newest in its own region


def test_period_keys() -> None:
    when = EPOCH + timedelta(days=4, hours=13)
    assert [period_key(s, when) for s in ("hourly", "daily", "weekly", "monthly")] == [
        "2025-01-05T16",
        "2025-01-05",
        "2025-W01",
        "2025-01",
    ]


@settings(max_examples=300, deadline=None)
@given(snaps=worlds(), retention=retentions, now=st.integers(0, 600), seed=st.integers(0, 2**16))
def test_properties(snaps: list[Snapshot], retention: Retention, now: int, seed: int) -> None:
    when = EPOCH + timedelta(days=now)
    decisions = decide(snaps, when, retention)
    assert set(decisions) == {s.key for s in snaps}
    assert all(d.reason for d in decisions.values())
    shuffled = list(snaps)
    random.Random(seed).shuffle(shuffled)
    assert decide(shuffled, when, retention) == decisions
    points: dict[tuple[str, ...], list[Snapshot]] = defaultdict(list)
    for s in snaps:
        assert (s.state == "pending") <= (not decisions[s.key].delete)
        assert (s.state == "error") <= decisions[s.key].delete
        if s.state != "error":
            points[s.point].append(s)
    for members in points.values():
        assert len({decisions[s.key] for s in members}) == 1  # a point stands or falls whole
    per_resource: dict[tuple[str, ...], list[tuple[object, bool]]] = defaultdict(list)
    for point, members in points.items():
        if point[4] == T.SCHEDULED and all(s.state == "completed" for s in members):
            newest = max(s.taken_at for s in members)
            per_resource[point[:4]].append((newest, not decisions[members[0].key].delete))
    budget = sum(count for _, count in retention.rules())
    for entries in per_resource.values():
        assert sum(keep for _, keep in entries) <= budget
        if budget:
            assert max(entries, key=lambda e: e[0])[1]  # the newest scheduled point is always kept
    more = Retention(
        retention.daily + 1,
        retention.weekly,
        retention.monthly,
        retention.yearly,
        retention.on_demand_days,
    )
    wider = decide(snaps, when, more)
    assert all(not wider[k].delete for k, d in decisions.items() if not d.delete)  # monotonic
