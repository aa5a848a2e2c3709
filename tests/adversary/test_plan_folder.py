"""Attacks on the plan folder's bytes: tfplan, plan.json and manifest.json as files.

Whoever holds the plan folder (an agent's workspace, an archived artifact, a
stash) can flip, truncate, swap or rewrite any file in it. The apply reads
tfplan once, into a private copy, and nothing else there is believed.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.adversary.conftest import refused
from tests.adversary.world import (
    KEY,
    Attempt,
    read_manifest,
    rehash,
    without_snapshot,
    write_manifest,
)

CONFIRM = ("--confirm-destroy", "1")


def _flip(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


def _truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


@pytest.mark.parametrize(
    ("name", "damage"),
    [
        ("tfplan", _flip),
        ("tfplan", _truncate),
        ("plan.json", _flip),
        ("plan.json", _truncate),
    ],
)
def test_a_flipped_or_truncated_file(attempt: Attempt, name: str, damage: object) -> None:
    damage(attempt.plan / name)  # type: ignore[operator]
    refused(attempt, attempt.apply(*CONFIRM), f"{name} does not match the manifest")


def test_tfplan_swapped_for_an_unreviewed_plan_with_its_hash_rewritten(
    attempt: Attempt, tmp_path: Path
) -> None:
    """Mallory plans her own branch (no key: she is not in the production zone) and swaps it in."""
    attempt.git("checkout", "-q", "-b", "mallory")
    attempt.write("terraform/stacks/app/extra.tf", 'resource "terraform_data" "backdoor" {}\n')
    attempt.git("add", "-A")
    attempt.git("commit", "-q", "-m", "nothing to see")
    theirs = attempt.plan_into(
        tmp_path / "theirs", env=attempt.world.env(RUNNERS_PLAN_SIGNING_KEY=None)
    )
    for name in ("tfplan", "plan.json"):
        (attempt.plan / name).write_bytes((theirs / name).read_bytes())
    write_manifest(attempt.plan, rehash(attempt.plan, read_manifest(attempt.plan)))
    refused(attempt, attempt.apply(*CONFIRM), "the manifest's signature is missing or wrong")


def test_even_a_key_holder_cannot_swap_in_unreviewed_code(attempt: Attempt, tmp_path: Path) -> None:
    """Re-signed by someone holding the key, the swapped plan still is not the branch's code."""
    attempt.git("checkout", "-q", "-b", "mallory")
    attempt.write("terraform/stacks/app/extra.tf", 'resource "terraform_data" "backdoor" {}\n')
    attempt.git("add", "-A")
    attempt.git("commit", "-q", "-m", "nothing to see")
    theirs = attempt.plan_into(tmp_path / "theirs")
    for name in ("tfplan", "plan.json"):
        (attempt.plan / name).write_bytes((theirs / name).read_bytes())
    write_manifest(attempt.plan, rehash(attempt.plan, read_manifest(attempt.plan)), sign_with=KEY)
    refused(
        attempt,
        attempt.apply(*CONFIRM),
        "terraform/stacks/app/extra.tf is in the plan but not in the reviewed code",
    )


def test_a_plan_file_without_its_configuration_snapshot(attempt: Attempt) -> None:
    """As an old Terraform wrote plans: refused, saying so (even signed)."""
    without_snapshot(attempt.plan / "tfplan")
    write_manifest(attempt.plan, rehash(attempt.plan, read_manifest(attempt.plan)), sign_with=KEY)
    refused(
        attempt,
        attempt.apply(*CONFIRM),
        "the plan file holds no configuration snapshot (tfconfig/)",
    )


def test_no_plan_folder_or_no_manifest(attempt: Attempt, tmp_path: Path) -> None:
    refused(attempt, attempt.apply(plan=tmp_path / "nowhere"), "it does not exist")
    (attempt.plan / "manifest.json").unlink()
    refused(attempt, attempt.apply(), "no manifest")


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
        ('{"schema": 2, "stack": ' + "9" * 5000 + "}", "not a manifest"),
        ("[]", "(top level): expected an object"),
        ("\xff\xfe", "not valid JSON"),
    ],
)
def test_a_manifest_that_is_not_one(attempt: Attempt, text: str, needle: str) -> None:
    (attempt.plan / "manifest.json").write_text(text, encoding="latin-1")
    refused(attempt, attempt.apply(*CONFIRM), needle)


@pytest.mark.parametrize(
    ("path", "value", "needle"),
    [
        (("merge_request",), "x", "merge_request: expected an object, got 'x'"),
        (("summary",), 42, "summary: expected an object, got 42"),
        (("tfplan_sha256",), 10**40, "tfplan_sha256: expected a non-empty string"),
        (("git", "dirty"), "no", "git.dirty: expected true or false, got 'no'"),
        (("var_files",), {"a": 1}, "var_files: expected a list"),
        (("schema",), 1, "schema: expected 2, got 1"),
    ],
)
def test_a_manifest_with_a_wrong_type(
    attempt: Attempt, path: tuple[str, ...], value: object, needle: str
) -> None:
    data = read_manifest(attempt.plan)
    node = data
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    (attempt.plan / "manifest.json").write_text(json.dumps(data))
    refused(attempt, attempt.apply(*CONFIRM), needle)
