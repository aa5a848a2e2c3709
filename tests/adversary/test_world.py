"""The world itself: the reviewed plan is applyable as built (checked without applying it)."""

from __future__ import annotations

from tests.adversary.world import World


def test_the_world_is_as_described(world: World) -> None:
    records = world.records("production")
    assert [(r["result"], r["commit"]) for r in records if r["kind"] == "apply"] == [
        ("started", world.commits["c0"]),
        ("applied", world.commits["c0"]),
    ]
    assert world.state("production") is not None
