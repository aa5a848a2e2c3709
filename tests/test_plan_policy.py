"""``[runners] terraform`` counts only as committed at the environment branch's head.

A branch (a merge request's) could otherwise name any program as Terraform
and have its plan run it.
"""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from tests.conftest import GitRepoHelper, run_cli


def test_a_branch_naming_another_terraform_is_planned_with_the_heads(
    client_repo: GitRepoHelper, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("RUNNERS_TERRAFORM")  # let runners.toml decide
    marker = tmp_path / "ran"
    impostor = tmp_path / "terraform-impostor"
    impostor.write_text(f"#!/bin/sh\ntouch {marker}\nexit 1\n")
    impostor.chmod(impostor.stat().st_mode | stat.S_IEXEC)
    client_repo.git("checkout", "-q", "-b", "mallory")
    cfg = client_repo.root / "runners.toml"
    cfg.write_text(cfg.read_text().replace('terraform = "embedded"', f'terraform = "{impostor}"'))
    client_repo.commit("my own terraform")
    r = run_cli(
        "plan",
        "--stack",
        "app",
        "--env",
        "production",
        "--out",
        str(tmp_path / "p"),
        cwd=client_repo.root,
    )
    assert r.returncode == 0, r.stderr
    assert not marker.exists()
    (warning,) = [line for line in r.stderr.splitlines() if "[runners] terraform" in line]
    assert warning.startswith("warning: ") and "terraform-impost" in warning
    assert warning.endswith("is not what production's head says ('embedded'); using production's")


def test_the_heads_own_choice_is_used_quietly(client_repo: GitRepoHelper, tmp_path: Path) -> None:
    r = run_cli(
        "plan",
        "--stack",
        "app",
        "--env",
        "production",
        "--out",
        str(tmp_path / "p"),
        cwd=client_repo.root,
    )
    assert r.returncode == 0, r.stderr
    assert "is not what production's head says" not in r.stderr
