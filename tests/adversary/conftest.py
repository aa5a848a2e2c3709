"""The adversary's world, built once; each test gets a clean copy to attack.

``refused`` is the one assertion every attack ends with: the documented exit
code and one ``refused:`` (or ``locked:``) line, no traceback, every state
object byte for byte as the world built it, and an audit record saying so.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from runners.aws.embedded import EmbeddedAWS
from tests.adversary.world import Attempt, World, build


@pytest.fixture(scope="session")
def world(moto_server: EmbeddedAWS, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    yield from build(tmp_path_factory.mktemp("adversary"), moto_server, "adversary-state")


@pytest.fixture(autouse=True)
def _clean_world(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in world.aws.environ().items():
        monkeypatch.setenv(key, value)
    world.ensure()
    world.reset_platform()


@pytest.fixture
def attempt(world: World, tmp_path: Path) -> Attempt:
    return world.attempt(tmp_path / "attempt")


def refused(
    attempt: Attempt,
    result: subprocess.CompletedProcess[str],
    *needles: str,
    env: str = "production",
    code: int = 3,
) -> str:
    """The attack failed: exit ``code``, one line, nothing written, and the ledger says so."""
    assert result.returncode == code, (result.stdout[-2000:], result.stderr[-4000:])
    assert "Traceback" not in result.stderr, result.stderr
    last = result.stderr.strip().splitlines()[-1]
    prefix = {3: "refused: ", 4: "locked: "}.get(code, "error: ")
    assert last.startswith(prefix), last
    for needle in needles:
        assert needle in last, (needle, last)
    world = attempt.world
    for environment in ("production", "development"):
        assert world.state(environment) == world.objects[f"app/{environment}.tfstate"], (
            f"the {environment} state changed"
        )
    assert world.state("production", "network") is None
    if code in (3, 4):
        records = attempt.new_records(env)
        assert records, "no audit record of the refusal"
        outcome = records[-1]
        assert outcome["result"] == {3: "refused", 4: "locked"}[code], outcome
        assert outcome["reason"] and needles[0] in outcome["reason"] if needles else True
        assert not [r for r in records if r["result"] == "started"], "Terraform was started"
    return last
