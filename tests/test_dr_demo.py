"""The disaster-recovery part of ``make demo`` runs from start to end on the embedded AWS."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from runners.aws.embedded import EmbeddedAWS
from runners.dr import demo


def test_the_demo_prepares_the_second_region_and_prints_the_runbook(
    aws: EmbeddedAWS, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert demo.run(aws, tmp_path) == 0
    printed = capsys.readouterr().out
    assert printed.count("$ runners dr prepare --to-region eu-central-1") == 2
    assert "(exit 1)" in printed  # first without --allow-missing: the app image is missing
    assert "# Disaster recovery: `client` (production) in eu-central-1" in printed
    folder = tmp_path / "dr" / "eu-central-1" / "client"
    tfvars = json.loads((folder / "dr.auto.tfvars.json").read_text())
    assert sorted(tfvars["snapshot_ids"]) == ["app-1", "web-1"]
    assert (
        tfvars["snapshot_identifier"]
        == "runners-dr-demo-acme-db-" + tfvars["snapshot_identifier"].rsplit("acme-db-", 1)[1]
    )
    assert list(tfvars["ami_ids"]) == ["web-1"]
    assert tfvars["availability_zones"] == ["eu-central-1a", "eu-central-1b", "eu-central-1c"]
