"""The prune rails, proved over generated worlds: whatever retention asks, nothing forbidden goes.

Each example is a random set of sources in two regions with copies in the
backup region, pending and failed snapshots, instance recovery points,
unmanaged snapshots, other policies, AWS Backup owners, legal holds and AMIs,
against *arbitrary* retention wishes (including "delete everything") and
against the real retention, with a random deletion cap.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from runners.backup import tags as T
from runners.backup.model import Snapshot
from runners.backup.prune import Facts, Verdict, apply_rails
from runners.backup.retention import Decision, decide
from tests.backup_snapshots import BACKUP, EPOCH, POLICY, retentions, snap, worlds

EXAMPLES = 600


def check_rails(
    snaps: list[Snapshot], wishes: dict[Any, Decision], facts: Facts, verdicts: list[Verdict]
) -> None:
    assert [v.snapshot for v in verdicts] == snaps
    assert all(v.reason for v in verdicts)
    deleted = [v.snapshot for v in verdicts if v.delete]
    gone = {s.key for s in deleted}
    assert len(deleted) <= facts.max_deletions
    completed_copies = {
        (s.place.account, s.tags.get(T.COPY_OF_REGION), s.copy_of)
        for s in snaps
        if s.copy_of and s.state == "completed" and s.place.region == BACKUP
    }
    for s in deleted:
        assert wishes[s.key].delete, "a rail never turns a keep into a delete"
        assert s.managed and s.tags.get(T.MANAGED_BY) == "runners"
        assert s.tags.get(T.POLICY) == facts.policy
        assert s.foreign_owner is None
        assert T.legal_hold(s.tags) is None
        assert s.key not in facts.in_use
        assert s.state in ("completed", "error")
        if s.copy_of is None and s.place.region != BACKUP and s.state == "completed":
            assert (s.place.account, s.place.region, s.ref) in completed_copies, (
                "source before its copy"
            )
    points: dict[tuple[str, ...], list[Snapshot]] = defaultdict(list)
    for s in snaps:
        if s.state != "error":
            points[s.point].append(s)
    newest: dict[tuple[str, ...], tuple[Any, list[Snapshot]]] = {}
    for point, members in points.items():
        deleted_here = [m.key in gone for m in members]
        assert all(deleted_here) or not any(deleted_here), (
            "a recovery point goes whole or not at all"
        )
        if all(m.state == "completed" for m in members):
            when = (max(m.taken_at for m in members), point)
            if point[:4] not in newest or when > newest[point[:4]][0]:
                newest[point[:4]] = (when, members)
    for _, members in newest.values():
        assert not any(m.key in gone for m in members), (
            "the last good backup of a resource survives"
        )


@st.composite
def cases(draw: Any) -> tuple[list[Snapshot], Facts]:
    snaps = draw(worlds())
    ec2 = [s for s in snaps if s.kind != "rds-instance"]
    in_use = {s.key: "AMI ami-0test" for s in ec2 if draw(st.integers(0, 10)) == 0}
    cap = draw(st.integers(0, 30))
    return snaps, Facts(policy=POLICY, backup_region=BACKUP, in_use=in_use, max_deletions=cap)


@settings(max_examples=EXAMPLES, deadline=None)
@given(case=cases(), data=st.data())
def test_rails_hold_against_arbitrary_wishes(case: tuple[list[Snapshot], Facts], data: Any) -> None:
    snaps, facts = case
    wishes = {s.key: Decision(data.draw(st.booleans()), "wish") for s in snaps}
    check_rails(snaps, wishes, facts, apply_rails(snaps, wishes, facts))


@settings(max_examples=EXAMPLES, deadline=None)
@given(case=cases())
def test_rails_hold_when_retention_wants_everything_gone(
    case: tuple[list[Snapshot], Facts],
) -> None:
    snaps, facts = case
    wishes = {s.key: Decision(True, "delete everything") for s in snaps}
    check_rails(snaps, wishes, facts, apply_rails(snaps, wishes, facts))


@settings(max_examples=EXAMPLES, deadline=None)
@given(case=cases(), retention=retentions, days=st.integers(0, 900))
def test_rails_hold_after_real_retention(
    case: tuple[list[Snapshot], Facts], retention: Any, days: int
) -> None:
    snaps, facts = case
    wishes = decide(snaps, EPOCH + timedelta(days=days), retention)
    check_rails(snaps, wishes, facts, apply_rails(snaps, wishes, facts))


def test_each_rail_names_itself() -> None:
    src = snap("src", when=EPOCH)
    newest = snap("new", when=EPOCH + timedelta(days=1))
    new_copy = snap("new-copy", when=EPOCH + timedelta(days=1), region=BACKUP, copy_of=newest)
    pending_copy = snap("src-copy", when=EPOCH, region=BACKUP, copy_of=src, state="pending")
    unmanaged = snap("manual", when=EPOCH - timedelta(days=3), managed=False)
    other = snap("weekly", when=EPOCH - timedelta(days=3), policy="weekly")
    held = snap("held", when=EPOCH - timedelta(days=2), extra={"Legal-Hold": "case 7"})
    ami = snap("ami", when=EPOCH - timedelta(days=4), source="vol-2")
    ami_newer = snap("ami-newer", when=EPOCH - timedelta(days=1), source="vol-2")
    owned = snap("owned", when=EPOCH - timedelta(days=5), foreign="Data Lifecycle Manager")
    snaps = [src, newest, new_copy, pending_copy, unmanaged, other, held, ami, ami_newer, owned]
    facts = Facts(POLICY, BACKUP, {ami.key: "AMI ami-0abc"}, max_deletions=10)
    reasons = {
        v.snapshot.id: v.reason
        for v in apply_rails(snaps, {s.key: Decision(True, "x") for s in snaps}, facts)
    }
    assert reasons == {
        "src": "its copy in eu-central-1 is not completed yet",
        "new": "newest completed backup of vol-1 in eu-west-1",
        "new-copy": "newest completed backup of vol-1 in eu-central-1",
        "src-copy": "pending",
        "manual": "no runners:managed-by tag: runners did not make it",
        "weekly": "belongs to policy 'weekly'",
        "held": "legal hold (Legal-Hold tag)",
        "ami": "used by AMI ami-0abc",
        "ami-newer": "newest completed backup of vol-2 in eu-west-1",
        "owned": "owned by Data Lifecycle Manager",
    }


def test_the_cap_takes_the_oldest_whole_points_first() -> None:
    snaps = []
    for day in range(5):
        for v in range(2):
            snaps.append(
                snap(
                    f"d{day}-{v}",
                    "i-1",
                    EPOCH + timedelta(days=day),
                    kind="ec2-instance",
                    region=BACKUP,
                )
            )
    wishes = {s.key: Decision(day_of(s) < 4, "old") for s in snaps}
    verdicts = apply_rails(snaps, wishes, Facts(POLICY, BACKUP, {}, max_deletions=5))
    assert [v.snapshot.id for v in verdicts if v.delete] == ["d0-0", "d0-1", "d1-0", "d1-1"]
    assert {v.reason for v in verdicts if v.snapshot.id.startswith("d2")} == {
        "deletion cap of 5 reached; left for the next run"
    }


def day_of(s: Snapshot) -> int:
    return int(s.id[1])
