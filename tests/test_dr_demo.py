"""The disaster-recovery part of ``make demo`` runs from start to end on the embedded AWS."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from runners.aws.embedded import EmbeddedAWS
from runners.dr import demo


def test_the_demo_rebuilds_the_client_with_the_first_region_refusing_everything(
    aws: EmbeddedAWS, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    assert demo.run(aws, tmp_path) == 0
    printed = capfd.readouterr().out
    for command in ("dr prepare", "dr plan", "apply", "audit", "dr drill"):
        assert f"runners {command} " in printed, command
    assert "requests the rebuild sent to eu-west-1: 0" in printed
    assert "# Disaster recovery: `client` (production) in eu-central-1" in printed
    assert "measured RTO " in printed
    folder = tmp_path / "client-repo" / "dr" / "eu-central-1" / "client"
    prepared = json.loads((folder / "dr.json").read_text())
    assert prepared["missing"] == []
    tfvars = json.loads((folder / "dr.auto.tfvars.json").read_text())
    assert sorted(tfvars["snapshot_ids"]) == ["app-1", "web-1"]
    assert sorted(tfvars["ami_ids"]) == ["app-1", "web-1"]
    assert tfvars["availability_zones"] == ["eu-central-1a", "eu-central-1b", "eu-central-1c"]
    # The re-plan had nothing to do.
    again = json.loads((tmp_path / "dr-plan-again" / "plan.json").read_text())
    assert all(rc["change"]["actions"] == ["no-op"] for rc in again["resource_changes"])
