"""``runners dr plan``: the ordinary plan, in the backup region, on a state of its own; then apply."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from runners import cli
from runners.aws.embedded import EmbeddedAWS
from tests.conftest import PERSON, SIGNED, GitRepoHelper
from tests.dr_world import SOURCE, TARGET, DrWorld, build


@pytest.fixture
def world(aws: EmbeddedAWS, git_repo: GitRepoHelper, tmp_path: Path) -> DrWorld:
    world = build(git_repo, tmp_path)
    world.servers[1].image = world.debian[SOURCE]  # everything mappable
    world.write_state()
    return world


def dr(world: DrWorld, *args: str) -> int:
    return cli.main(["dr", *args, "--config", str(world.config)])


def plan(world: DrWorld, out: Path, region: str = TARGET) -> int:
    return dr(
        world,
        "plan",
        "--stack",
        "client",
        "--env",
        "production",
        "--to-region",
        region,
        "--out",
        str(out),
    )


def prepare(world: DrWorld, *extra: str) -> int:
    return dr(world, "prepare", "--to-region", TARGET, "--stack", "client", *extra)


def planned_input(plan_dir: Path) -> dict[str, Any]:
    plan = json.loads((plan_dir / "plan.json").read_text())
    (change,) = [c for c in plan["resource_changes"] if c["address"] == "terraform_data.rebuild"]
    return dict(change["change"]["after"]["input"])


def test_plan_uses_the_prepared_variables_and_a_state_of_its_own(
    world: DrWorld, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(world.repo.root)
    monkeypatch.setenv("RUNNERS_PLAN_SIGNING_KEY", SIGNED["RUNNERS_PLAN_SIGNING_KEY"])
    before = world.state_file.read_bytes()
    assert prepare(world, "--env", "production") == 0
    prepared = json.loads(
        (world.repo.root / "dr" / TARGET / "client" / "dr.auto.tfvars.json").read_text()
    )
    out = tmp_path / "dr-plan"
    code = plan(world, out)
    assert code == 0
    # The folder is complete for apply and for the people reviewing it.
    for name in (
        "tfplan",
        "plan.json",
        "report.md",
        "manifest.json",
        "dr.auto.tfvars.json",
        "runbook.md",
    ):
        assert (out / name).is_file(), name
    manifest = json.loads((out / "manifest.json").read_text())
    assert (manifest["stack"], manifest["environment"]) == ("client", "production")
    planned = planned_input(out)
    assert planned["region"] == TARGET
    assert planned["zones"] == [f"{TARGET}a", f"{TARGET}b", f"{TARGET}c"]
    assert planned["volumes"] == prepared["snapshot_ids"]
    assert planned["database"] == prepared["snapshot_identifier"]
    # Apply, under the normal contract: the plan goes to the DR state, never to production's.
    # (Production's state is moved aside first: it names the AWS provider, which apply's
    # init would try to download, and nothing here may reach the network.)
    aside = world.state_file.rename(world.state_file.with_suffix(".aside"))
    code = cli.main(
        [
            "apply",
            "--stack",
            "client",
            "--env",
            "production",
            "--plan-dir",
            str(out),
            "--approved-by",
            "alice",
            *PERSON,
            "--config",
            str(world.config),
        ]
    )
    assert code == 0
    assert not world.state_file.exists()  # nothing was written to production's state
    assert aside.read_bytes() == before
    dr_state = json.loads(
        (world.state_dir / "dr" / f"client-production-{TARGET}.tfstate").read_text()
    )
    (rebuilt,) = [r for r in dr_state["resources"] if r["name"] == "rebuild"]
    assert rebuilt["instances"][0]["attributes"]["input"]["value"]["region"] == TARGET


def test_plan_prepares_itself_when_nothing_was_prepared(world: DrWorld, tmp_path: Path) -> None:
    out = tmp_path / "dr-plan"
    assert plan(world, out) == 0
    assert json.loads((out / "dr.json").read_text())["missing"] == []
    assert planned_input(out)["region"] == TARGET


def test_plan_refuses_to_plan_what_cannot_be_mapped(
    world: DrWorld, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    world.servers[1].image = world.custom  # not in the backup region
    world.write_state()
    out = tmp_path / "dr-plan"
    assert plan(world, out) == 1
    assert "not planning" in capsys.readouterr().err
    assert not (out / "tfplan").exists()
    # The person decides: prepare with --allow-missing into the plan folder, then plan.
    assert (
        prepare(
            world,
            "--out",
            str(tmp_path),
            "--allow-missing",
        )
        == 0
    )
    assert plan(world, tmp_path / "client") == 0
    assert planned_input(tmp_path / "client")["images"] == {"web-1": world.debian[TARGET]}


def test_a_stale_preparation_is_made_again(world: DrWorld, tmp_path: Path) -> None:
    out = tmp_path / "client"
    assert prepare(world, "--out", str(tmp_path)) == 0
    meta = json.loads((out / "dr.json").read_text())
    old = datetime.now(UTC) - timedelta(hours=5)
    meta["prepared_at"] = old.isoformat()
    (out / "dr.json").write_text(json.dumps(meta))
    assert plan(world, out) == 0
    again = datetime.fromisoformat(json.loads((out / "dr.json").read_text())["prepared_at"])
    assert again > old + timedelta(hours=4)


def test_a_preparation_for_another_region_is_refused(
    world: DrWorld, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "client"
    assert prepare(world, "--out", str(tmp_path)) == 0
    code = plan(world, out, "eu-north-1")
    assert code == 2
    assert (
        f"prepared for client (production) in {TARGET}, not client (production) in eu-north-1"
        in capsys.readouterr().err
    )


def test_plan_needs_a_state_of_its_own(
    world: DrWorld, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = world.config.read_text()
    start = text.index("[dr.backend]")
    world.config.write_text(text[:start] + text[text.index("[dr.stacks.client]") :])
    code = plan(world, tmp_path / "p")
    assert code == 2
    assert "dr.backend: is required for dr plan" in capsys.readouterr().err
    # ...and one that is production's own state is refused just the same.
    same = f'[dr.backend]\npath = "{world.state_dir}/{{stack}}-production.tfstate"\n\n'
    world.config.write_text(text[:start] + same + text[text.index("[dr.stacks.client]") :])
    code = plan(world, tmp_path / "p")
    assert code == 2
    # Refused as soon as the file loads: a rebuild may not share a state with anything.
    err = capsys.readouterr().err
    assert "dr.backend: the rebuild of stack 'client' (production)" in err
    assert "would write the state of stack 'client' in 'production'" in err


def test_relative_folders_are_the_working_directorys(
    world: DrWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As a Jenkins agent runs it, from anywhere in the checkout (issue 19)."""
    work = world.repo.root / "terraform"
    monkeypatch.chdir(work)
    assert prepare(world, "--env", "production", "--out", "../prep") == 0
    assert (world.repo.root / "prep" / "client" / "dr.auto.tfvars.json").is_file()
    assert plan(world, Path("plans/dr")) == 0
    out = work / "plans" / "dr"
    assert {"tfplan", "manifest.json", "dr.auto.tfvars.json"} <= {p.name for p in out.iterdir()}
    assert planned_input(out)["region"] == TARGET
    # A relative folder outside the repository: one line, exit 2, nothing written.
    assert prepare(world, "--env", "production", "--out", "../../prep") == 2
    assert not (world.repo.root.parent / "prep").exists()
