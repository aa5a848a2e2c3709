"""The newest usable shipped copy of each backed-up resource, found through the backup tags.

Listing is the backup engines' own (``Engine.snapshots``): the same tags,
the same paginators. Choosing is a pure function: among the copies in the
target region (``runners:copy-of`` set) that runners made, the newest
recovery point whose copies are all completed. An instance's volumes form
one point and are restored together; a point with one copy still pending
is passed over for the one before it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from botocore.exceptions import BotoCoreError, ClientError

from runners.aws.retry import error_code
from runners.backup import tags as T
from runners.backup.engines import ENGINES, Clients
from runners.backup.model import Place, Snapshot

Point = tuple[Snapshot, ...]
INSTANCE = "ec2-instance"


def newest_points(snapshots: Iterable[Snapshot], region: str) -> dict[tuple[str, str], Point]:
    """(kind, source id) -> the snapshots of its newest complete shipped recovery point."""
    points: dict[tuple[str, ...], list[Snapshot]] = defaultdict(list)
    for snap in snapshots:
        if snap.place.region == region and snap.copy_of and snap.managed and snap.source_id:
            points[(*snap.point, snap.taken_at.isoformat())].append(snap)
    best: dict[tuple[str, str], Point] = {}
    for members in points.values():
        if any(s.state != "completed" for s in members):
            continue
        first = members[0]
        key = (first.kind, first.source_id)
        current = best.get(key)
        if current is None or _order(members) > _order(list(current)):
            best[key] = tuple(sorted(members, key=lambda s: s.id))
    return best


def _order(members: list[Snapshot]) -> tuple[object, ...]:
    # Newest taken first; on a tie (two runs in one second) the later start, then the id.
    return (members[0].taken_at, max(s.started for s in members), max(s.id for s in members))


def shipped(
    clients: Clients, place: Place, policy: str, kinds: Iterable[str]
) -> tuple[list[Snapshot], dict[str, str]]:
    """The policy's snapshots of ``kinds`` in ``place``, and kind -> why it could not be listed.

    As in ``runners.backup.inventory``: one listing per snapshot family (EBS
    volumes and instances share EC2's), kept to the kinds asked for.
    """
    families: dict[str, list[str]] = {}
    for kind in kinds:
        families.setdefault(ENGINES[kind].family, []).append(kind)
    found: list[Snapshot] = []
    failed: dict[str, str] = {}
    for members in families.values():
        engine = ENGINES[members[0]](clients)
        try:
            listed = engine.snapshots(place, policy)
        except ClientError as exc:  # reported per kind; the other families are still listed
            failed.update(dict.fromkeys(members, f"{exc.operation_name}: {error_code(exc)}"))
            continue
        except BotoCoreError as exc:
            failed.update(dict.fromkeys(members, type(exc).__name__))
            continue
        found += [s for s in listed if s.kind in members]
    return found, failed


def instance_members(points: dict[tuple[str, str], Point]) -> dict[str, Snapshot]:
    """volume id -> its snapshot in its instance's newest complete point (``newest_points``).

    An instance backup (``CreateSnapshots``) holds all the instance's volumes at
    one instant; each member and its copy carry the volume it was taken of
    (``runners:source-volume``) and its device. A volume restored from it is
    taken from the instance's newest complete point, so the volumes of one
    server restore to the same instant. Pure.
    """
    found: dict[str, Snapshot] = {}
    for (kind, _instance), members in points.items():
        if kind != INSTANCE:
            continue
        for snap in members:
            volume = snap.tags.get(T.SOURCE_VOLUME)
            if volume:
                found[volume] = snap
    return found
