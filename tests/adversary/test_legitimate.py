"""What must keep working: the reviewed plan applies, and so does a disaster-recovery plan.

A world of its own (another state bucket): these change production's state.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from runners.aws.embedded import EmbeddedAWS
from tests.adversary.conftest import refused
from tests.adversary.world import Attempt, World, build

CONFIRM = ("--confirm-destroy", "1")
DR_REGION = "eu-central-1"

DR_PLAN = """
import sys
from pathlib import Path
from runners.change.planner import plan_stack
from runners.ci import BuildContext
from runners.config import load
from runners.dr.drplan import dr_workspace
from runners.gitrepo import GitRepo
from runners.stacks import select

out, region = Path(sys.argv[1]), sys.argv[2]
cfg = load(Path("runners.toml"))
target = select(cfg, "app", "production")
out.mkdir(parents=True)
tfvars = out / "dr.auto.tfvars.json"
tfvars.write_text('{"web_input": "rebuilt"}')
ws = dr_workspace(target, region, tfvars, None)
plan_stack(target, ws, out, BuildContext(), GitRepo(cfg.root), dr=(region, tfvars))
"""


@pytest.fixture(scope="module")
def legit(moto_server: EmbeddedAWS, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    yield from build(tmp_path_factory.mktemp("legit"), moto_server, "legit-state")


@pytest.fixture
def world(legit: World) -> World:
    return legit


@pytest.fixture
def attempt(legit: World, tmp_path: Path) -> Attempt:
    return legit.attempt(tmp_path / "attempt")


def test_the_reviewed_plan_applies_then_never_again(attempt: Attempt) -> None:
    world = attempt.world
    before = world.state()
    r = attempt.apply(*CONFIRM)
    assert r.returncode == 0, r.stderr
    after = json.loads(world.state() or b"{}")
    assert after["serial"] > json.loads(before or b"{}")["serial"]
    web = next(res for res in after["resources"] if res["name"] == "web")
    assert web["instances"][0]["attributes"]["input"]["value"] == "v2"
    records = {r["result"]: r for r in attempt.new_records()}
    assert sorted(records) == ["applied", "started"]
    started, applied = records["started"], records["applied"]
    assert started["run_id"] == applied["run_id"] and started["id"] != applied["id"]
    assert applied["approved_by"] == "alice"  # from Jenkins' ApproverAction
    assert applied["triggered_by"] == "olivia"  # from the build's UserIdCause
    assert applied["commit"] == world.commits["m"]
    assert applied["state"] == "s3://legit-state/app/production.tfstate"
    assert applied["evidence"]["approved_by"] == f"Jenkins (build {world.build_url})"
    assert applied["evidence"]["signature"].startswith("key ")
    assert applied["evidence"]["change"].startswith(world.commits["c0"][:12])
    assert "s3cr3t-fixture-password" not in json.dumps(applied)
    keys = [o["Key"] for o in world.s3.list_objects_v2(Bucket=world.bucket)["Contents"]]
    assert not [k for k in keys if k.startswith("runners/locks/")]  # released
    world.snapshot()  # what the next attempts must leave alone
    again = world.attempt(attempt.where.parent / "again")
    refused(again, again.apply(*CONFIRM), "the plan is stale")


def test_a_disaster_recovery_plan_applies_to_its_own_state(attempt: Attempt) -> None:
    world = attempt.world
    production = world.state()
    out = attempt.where / "dr-plan"
    made = subprocess.run(
        [sys.executable, "-c", DR_PLAN, str(out), DR_REGION],
        cwd=attempt.repo,
        env=world.env(),
        capture_output=True,
        text=True,
        check=False,
    )
    assert made.returncode == 0, made.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["dr"]["region"] == DR_REGION and manifest["signing_key_id"]
    build = world.jenkins.running_build("production/dr", "olivia", ["alice"])
    r = attempt.apply(plan=out, env=world.env(BUILD_URL=build))
    assert r.returncode == 0, r.stderr
    assert world.state() == production  # production's state is not written
    rebuilt = world.s3.get_object(
        Bucket=world.bucket, Key=f"dr/app/production-{DR_REGION}.tfstate"
    )["Body"].read()
    web = next(res for res in json.loads(rebuilt)["resources"] if res["name"] == "web")
    assert web["instances"][0]["attributes"]["input"]["value"] == "rebuilt"
    (applied,) = [r for r in attempt.new_records() if r["result"] == "applied"]
    assert applied["state"] == f"s3://legit-state/dr/app/production-{DR_REGION}.tfstate"
