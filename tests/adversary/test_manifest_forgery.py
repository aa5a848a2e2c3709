"""Class 1: the manifest rewritten, consistently, by whoever holds the plan folder.

Before, the apply read the protected list, the commit and trees, the dirty
flag, the author and the environment from manifest.json. Now, in production,
an unsigned or re-written manifest fails its signature; and, to show that the
facts no longer come from the manifest at all, each forgery is also tried
signed with the key (as a key holder could) or in development, which needs
no signature: the fact is recomputed from the plan file, git or the ledger.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.adversary.conftest import refused
from tests.adversary.world import KEY, Attempt, read_manifest, write_manifest

CONFIRM = ("--confirm-destroy", "1")


def _forge(attempt: Attempt, sign: bool, **changes: Any) -> None:
    data = read_manifest(attempt.plan)
    for dotted, value in changes.items():
        node = data
        *parents, last = dotted.split("__")
        for key in parents:
            node = node[key]
        node[last] = value
    write_manifest(attempt.plan, data, sign_with=KEY if sign else None)


LOWERED = {
    "summary__protected": [],
    "summary__destroy": 0,
    "summary__replace": 0,
    "summary__replaces": [],
}


def test_protected_list_and_destroy_counts_lowered(attempt: Attempt) -> None:
    _forge(attempt, sign=False, **LOWERED)
    refused(attempt, attempt.apply(), "the manifest's signature is missing or wrong")


def test_protected_list_lowered_and_re_signed_still_needs_confirmation(attempt: Attempt) -> None:
    _forge(attempt, sign=True, **LOWERED)
    refused(
        attempt,
        attempt.apply(),
        "the plan destroys or replaces 1 protected resource(s) (terraform_data.db); "
        "--confirm-destroy 1 is required, got none",
    )


def test_protected_list_lowered_where_no_signature_is_needed(
    attempt: Attempt, tmp_path: Path
) -> None:
    """Development signs nothing: the count still comes from the plan file."""
    dev = attempt.plan_into(tmp_path / "dev", environment="development", env=attempt.world.env_base)
    data = read_manifest(dev)
    data["summary"].update(protected=[], destroy=0, replace=0, replaces=[])
    write_manifest(dev, data)
    refused(
        attempt,
        attempt.apply(plan=dev, environment="development", env=attempt.world.env_base),
        "--confirm-destroy 1 is required, got none",
        env="development",
    )


def test_commit_and_trees_set_to_the_head_and_dirty_cleared(
    attempt: Attempt, tmp_path: Path
) -> None:
    """An uncommitted change planned, its manifest made to look like the head's, in development."""
    head = attempt.git("rev-parse", "HEAD")
    attempt.write("terraform/stacks/app/wip.tf", 'resource "terraform_data" "wip" {}\n')
    dev = attempt.plan_into(tmp_path / "dev", environment="development", env=attempt.world.env_base)
    data = read_manifest(dev)
    assert data["git"]["dirty"] is True
    data["git"].update(commit=head, dirty=False)
    write_manifest(dev, data)
    refused(
        attempt,
        attempt.apply(*CONFIRM, plan=dev, environment="development", env=attempt.world.env_base),
        "terraform/stacks/app/wip.tf is in the plan but not in the reviewed code",
        env="development",
    )


def test_dirty_flag_cleared_on_a_production_plan(attempt: Attempt, tmp_path: Path) -> None:
    attempt.write("terraform/stacks/app/wip.tf", 'resource "terraform_data" "wip" {}\n')
    out = attempt.plan_into(tmp_path / "p", env=attempt.world.env(RUNNERS_PLAN_SIGNING_KEY=None))
    data = read_manifest(out)
    data["git"].update(commit=attempt.git("rev-parse", "HEAD"), dirty=False)
    write_manifest(out, data)
    refused(attempt, attempt.apply(*CONFIRM, plan=out), "signature is missing or wrong")


def test_author_rewritten_then_the_author_approves(attempt: Attempt) -> None:
    """Bob wrote part of the change; the manifest (re-signed) names Olivia; Bob approves in Jenkins."""
    _forge(
        attempt,
        sign=True,
        git__author={"name": "Olivia Ops", "email": "olivia@example.com"},
        merge_request__author="olivia",
    )
    bobs = attempt.world.jenkins.running_build("production/terraform", "olivia", ["bob"])
    refused(
        attempt,
        attempt.apply(*CONFIRM, env=attempt.world.env(BUILD_URL=bobs)),
        f"bob wrote commit {attempt.world.commits['c2'][:12]} of this change and may not approve it",
    )


def test_environment_relabelled_development(attempt: Attempt) -> None:
    """Production's plan, relabelled, applied as development (whose rules need no approver)."""
    _forge(attempt, sign=False, environment="development")
    refused(
        attempt,
        attempt.apply(*CONFIRM, environment="development", env=attempt.world.env_base),
        "the plan read var file terraform/stacks/app/production.tfvars",
        env="development",
    )


def test_environment_relabelled_and_re_signed(attempt: Attempt) -> None:
    _forge(attempt, sign=True, environment="development", var_files=[])
    refused(
        attempt,
        attempt.apply(*CONFIRM, environment="development", env=attempt.world.env_base),
        "the plan writes its state to s3://adversary-state/app/production.tfstate, "
        "not to development's state s3://adversary-state/app/development.tfstate",
        env="development",
    )
