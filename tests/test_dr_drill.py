"""``runners dr drill``: prepare, plan, apply into a drill state, check, destroy; the RTO, measured.

On the offline stand-in of the client stack (tests/dr_world.py), whose
``deletion_protection`` variable, like the real stack's, makes a destroy
fail unless the drill turns it off.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from runners import cli
from runners.aws.embedded import EmbeddedAWS
from runners.dr.drill import DrillReport, Step, check_outputs, last
from runners.dr.drill import record_of as drill_record
from tests.conftest import PERSON, SIGNED, GitRepoHelper
from tests.dr_world import SOURCE, TARGET, DrWorld, build


@pytest.fixture
def world(
    aws: EmbeddedAWS, git_repo: GitRepoHelper, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> DrWorld:
    world = build(git_repo, tmp_path)
    world.servers[1].image = world.debian[SOURCE]  # everything mappable
    world.write_state()
    monkeypatch.chdir(world.repo.root)
    monkeypatch.setenv("RUNNERS_PLAN_SIGNING_KEY", SIGNED["RUNNERS_PLAN_SIGNING_KEY"])
    return world


def drill(world: DrWorld, *extra: str, region: str = TARGET) -> int:
    return cli.main(
        [
            "dr",
            "drill",
            "--stack",
            "client",
            "--env",
            "production",
            "--to-region",
            region,
            "--approved-by",
            "alice",
            *PERSON,
            "--config",
            str(world.config),
            *extra,
        ]
    )


def drill_state(world: DrWorld) -> Path:
    return world.state_dir / "dr" / f"client-production-{TARGET}.drill.tfstate"


def test_a_drill_rebuilds_checks_destroys_and_prints_the_measured_rto(
    world: DrWorld, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    junit = tmp_path / "drill.xml"
    assert drill(world, "--junit", str(junit)) == 0
    out = capsys.readouterr().out
    for step in ("prepare", "plan", "apply", "check", "destroy"):
        assert f"  {step} " in out and f"  {step} FAILED" not in out.replace("  ok", ""), step
    assert "measured RTO " in out and "(prepare to a checked rebuild), RPO 3 h" in out
    # The drill's own state, emptied by the destroy; the rebuild's state never touched.
    state = json.loads(drill_state(world).read_text())
    assert state["resources"] == []
    assert not (world.state_dir / "dr" / f"client-production-{TARGET}.tfstate").exists()
    # The JUnit report: one case per step, each timed, and the RTO.
    suite = ET.parse(junit).getroot()  # noqa: S314  # our own file
    cases = {c.get("name"): c for c in suite.iter("testcase")}
    assert list(cases) == ["prepare", "plan", "apply", "check", "destroy"]
    assert all(float(c.get("time") or -1) >= 0 and not list(c) for c in cases.values())
    props = {p.get("name"): p.get("value") for p in suite.iter("property")}
    rto = float(props["rto_seconds"] or 0)
    assert rto > 0 and rto == pytest.approx(
        sum(float(cases[s].get("time") or 0) for s in ("prepare", "plan", "apply", "check")),
        abs=0.5,
    )
    # The ledger has it; the next runbook states it.
    records = [
        json.loads(line)
        for line in (world.repo.root / ".runners/audit.jsonl").read_text().splitlines()
    ]
    (record,) = [r for r in records if r["kind"] == "drill"]
    assert record["result"] == "passed" and record["evidence"]["region"] == TARGET
    assert cli.main(["dr", "prepare", "--to-region", TARGET, "--config", str(world.config)]) == 0
    runbook = (world.repo.root / "dr" / TARGET / "client" / "runbook.md").read_text()
    assert "## Last drill" in runbook and "**passed**, measured\n**RTO " in runbook


def test_a_drill_whose_destroy_fails_names_what_was_left(
    world: DrWorld, capsys: pytest.CaptureFixture[str]
) -> None:
    # Without the drill's switch, the stand-in keeps its deletion protection on.
    world.edit_config("variables = { deletion_protection = false }\n", "")
    world.repo.commit("drills keep the stack's protection")
    assert drill(world) == 1
    printed = capsys.readouterr()
    assert "  destroy  FAILED" in printed.out
    assert "terraform_data.guard[0]" in printed.out
    assert (
        f"error: the drill left 1 resource(s) in its state {drill_state(world)} "
        "(terraform_data.guard[0]): destroy them before the next drill" in printed.err
    )
    assert "refused: deletion protection is on" in printed.err + printed.out
    left = json.loads(drill_state(world).read_text())["resources"]
    assert {r["type"] + "." + r["name"] for r in left} >= {"terraform_data.guard"}


def test_a_failed_check_still_destroys(world: DrWorld, capsys: pytest.CaptureFixture[str]) -> None:
    world.edit_config('outputs = ["rebuilt"]', 'outputs = ["rebuilt", "web_endpoint"]')
    world.repo.commit("the drill checks an output the stand-in does not have")
    assert drill(world) == 1
    out = capsys.readouterr().out
    assert "  check    FAILED" in out and "output web_endpoint is missing" in out
    assert "  destroy  ok" in out
    assert json.loads(drill_state(world).read_text())["resources"] == []


def test_the_source_region_is_refused(world: DrWorld, capsys: pytest.CaptureFixture[str]) -> None:
    assert drill(world, region=SOURCE) == 2
    assert "is production's own region" in capsys.readouterr().err
    assert not drill_state(world).exists()


def test_outputs_must_be_set() -> None:
    found = {"a": {"value": "x"}, "b": {"value": None}, "c": {"value": []}}
    assert check_outputs(found, ("a", "b", "c", "d")) == [
        "output b is empty",
        "output c is empty",
        "output d is missing",
    ]


def test_the_last_drill_is_the_newest_of_this_stack_and_region() -> None:
    from datetime import UTC, datetime, timedelta

    from runners.ci import BuildContext
    from runners.dr.drill import DrillRequest

    def report(hours: int, region: str, ok: bool) -> DrillReport:
        r = DrillReport(
            "client", "production", SOURCE, region, datetime.now(UTC) - timedelta(hours=hours)
        )
        r.steps = [
            Step(n, 10.0, ok or n != "check")
            for n in ("prepare", "plan", "apply", "check", "destroy")
        ]
        return r

    request = DrillRequest(
        target=None, region=TARGET, out=Path("."), approver=None, build=BuildContext()
    )  # type: ignore[arg-type]
    records = [
        drill_record(report(48, TARGET, True), request),
        drill_record(report(24, TARGET, False), request),
        drill_record(report(1, "eu-north-1", True), request),
    ]
    found = last(records, "client", "production", TARGET)
    assert found is not None and not found.passed and found.rto_seconds == 40.0
    assert dict(found.steps)["destroy"] == 10.0
