"""What is there: the selected resources and the policy's snapshots, per kind and place.

A place that cannot be listed (access denied, region disabled) is one
failure; the other places and kinds are still listed and worked on.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import partial

from runners.backup.context import Run
from runners.backup.engines import Engine
from runners.backup.model import Place, Resource, Snapshot

INSTANCE = "ec2-instance"
VOLUME = "ebs-volume"


@dataclass
class Inventory:
    resources: list[Resource] = field(default_factory=list)
    snapshots: list[Snapshot] = field(default_factory=list)
    listed: set[tuple[str, Place]] = field(
        default_factory=set
    )  # (kind, place) listed without error

    def of_kind(self, kind: str) -> list[Snapshot]:
        return [s for s in self.snapshots if s.kind == kind]


def resources(run: Run, places: Iterable[Place]) -> list[Resource]:
    found: list[Resource] = []
    for place in places:
        for engine in run.engines.values():
            got = run.attempt(
                f"{engine.kind} discovery ({place})",
                partial(engine.discover, place, run.policy.selection),
            )
            found += got or []
    return found


def snapshots(run: Run, places: Iterable[Place], into: Inventory | None = None) -> Inventory:
    """The policy's snapshots: one listing per snapshot family and place."""
    inv = into or Inventory()
    families: dict[str, list[Engine]] = {}
    for engine in run.engines.values():
        families.setdefault(engine.family, []).append(engine)
    for place in places:
        for engines in families.values():
            got = list_snapshots(run, engines[0], place)
            if got is None:
                continue
            kinds = {e.kind for e in engines}
            inv.snapshots += [s for s in got if s.kind in kinds]
            inv.listed |= {(kind, place) for kind in kinds}
    return inv


def list_snapshots(run: Run, engine: Engine, place: Place) -> list[Snapshot] | None:
    return run.attempt(
        f"{engine.family} snapshots ({place})", partial(engine.snapshots, place, run.policy.name)
    )


def covered_volumes(run: Run, found: Iterable[Resource]) -> dict[tuple[Place, str], str]:
    """Volumes an instance snapshot set includes -> the instance, so none is backed up twice."""
    if INSTANCE not in run.engines:
        return {}
    engine = run.engines[INSTANCE]
    return {
        (r.place, vol): r.id
        for r in found
        if r.kind == INSTANCE and engine.not_ready(r) is None
        for vol in r.volumes
    }
