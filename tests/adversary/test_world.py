"""The world the attacks run in is the one world.py describes."""

from __future__ import annotations

from tests.adversary.world import World, git, read_manifest


def test_the_world_is_as_described(world: World) -> None:
    applies = [
        (r["result"], r["commit"])
        for r in world.records("production")
        if r["kind"] == "apply" and r["result"] in ("started", "applied")
    ]
    assert sorted(applies) == [("applied", world.commits["c0"]), ("started", world.commits["c0"])]

    def author(ref: str) -> str:
        return git(world.repo, "log", "-1", "--format=%ae", ref, env=world.env_base)

    assert [author(world.commits[c]) for c in ("c1", "c2", "m")] == [
        "dana@example.com",
        "bob@example.com",
        "olivia@example.com",
    ]
    manifest = read_manifest(world.plan)
    assert manifest["git"]["commit"] == world.commits["m"] and manifest["signing_key_id"]
    assert manifest["summary"]["protected"] == ["terraform_data.db"]
    build = world.jenkins.items["production/terraform"].builds[2]
    assert (build.user, build.approvals, build.building) == ("olivia", ["alice"], True)
