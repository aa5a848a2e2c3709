"""The plan contract as a pure function: a valid apply passes; breaking any one rule refuses it."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from runners.change.contract import (
    ApplyFacts,
    Approval,
    ToolFacts,
    check_plan,
    check_tools,
    started_by_person,
)

SHA_A, SHA_B = "a" * 64, "b" * 64


def valid(**over: object) -> ApplyFacts:
    base = ApplyFacts(
        manifest_stack="app",
        manifest_env="production",
        manifest_tfplan_sha256=SHA_A,
        manifest_plan_json_sha256=SHA_B,
        manifest_commit="c1",
        manifest_trees={"terraform/stacks/app": "t1", "terraform/modules/x": "t2"},
        manifest_dirty=False,
        manifest_terraform_version="1.15.5",
        manifest_lock_sha256=None,
        authors=("Dana Dev", "dana@example.com", "dana"),
        protected=("aws_db_instance.main",),
        stack="app",
        env="production",
        tfplan_sha256=SHA_A,
        plan_json_sha256=SHA_B,
        head_commit="c1",
        head_trees={"terraform/stacks/app": "t1", "terraform/modules/x": "t2"},
        approver="alice",
        triggered_by="bob",
        build_cause="hudson.model.Cause$UserIdCause",
        confirm_destroy=1,
        signature_ok=True,
        rules=Approval(
            require_approval=True,
            approvers=("alice", "bob"),
            allow_self_approval=False,
            require_manual_trigger=True,
        ),
    )
    return dataclasses.replace(base, **over)  # type: ignore[arg-type]


MUTATIONS = {
    "stack": {"manifest_stack": "network"},
    "env": {"manifest_env": "development"},
    "tfplan": {"tfplan_sha256": "c" * 64},
    "tfplan missing": {"tfplan_sha256": None},
    "plan.json": {"plan_json_sha256": "d" * 64},
    "dirty": {"manifest_dirty": True},
    "code moved": {
        "head_commit": "c2",
        "head_trees": {"terraform/stacks/app": "t9", "terraform/modules/x": "t2"},
    },
    "module moved": {
        "head_commit": "c2",
        "head_trees": {"terraform/stacks/app": "t1", "terraform/modules/x": "t8"},
    },
    "module added": {
        "head_commit": "c2",
        "head_trees": {
            "terraform/stacks/app": "t1",
            "terraform/modules/x": "t2",
            "terraform/modules/y": "t3",
        },
    },
    "no approver": {"approver": None},
    "self approval by email": {"approver": "dana@example.com"},
    "self approval by login": {"approver": "DANA"},
    "not an approver": {"approver": "mallory"},
    "no destroy confirmation": {"confirm_destroy": None},
    "wrong destroy confirmation": {"confirm_destroy": 2},
    "timer started it": {"build_cause": "hudson.triggers.TimerTrigger$TimerTriggerCause"},
    "no cause": {"build_cause": None},
    "bad signature": {"signature_ok": False},
}


def test_valid_apply_passes() -> None:
    assert check_plan(valid()) == []


def test_merge_with_identical_trees_passes() -> None:
    assert check_plan(valid(head_commit="merge-commit")) == []


def test_no_key_means_no_signature_check() -> None:
    assert check_plan(valid(signature_ok=None)) == []


def test_self_approval_allowed_by_config() -> None:
    rules = Approval(
        True, ("alice", "dana"), allow_self_approval=True, require_manual_trigger=False
    )
    assert check_plan(valid(approver="dana", rules=rules)) == []


@given(st.sampled_from(sorted(MUTATIONS)))
def test_each_broken_rule_refuses(name: str) -> None:
    reasons = check_plan(valid(**MUTATIONS[name]))
    assert len(reasons) == 1, (name, reasons)
    assert "\n" not in reasons[0]


@settings(max_examples=300)
@given(st.sets(st.sampled_from(sorted(MUTATIONS)), min_size=1, max_size=5))
def test_any_combination_of_broken_rules_refuses(names: set[str]) -> None:
    merged: dict[str, object] = {}
    for name in sorted(names):
        merged.update(MUTATIONS[name])
    assert check_plan(valid(**merged))


@given(
    version=st.sampled_from(["1.15.5", "1.15.4", "1.16.0"]),
    lock=st.sampled_from([None, SHA_A, SHA_B]),
)
def test_tools_must_match(version: str, lock: str | None) -> None:
    facts = valid(manifest_lock_sha256=SHA_A)
    reasons = check_tools(facts, ToolFacts(version, lock))
    assert (reasons == []) == (version == "1.15.5" and lock == SHA_A)


def test_rules_off_need_nothing() -> None:
    rules = Approval(False, (), False, False)
    assert (
        check_plan(
            valid(rules=rules, approver=None, build_cause=None, protected=(), confirm_destroy=None)
        )
        == []
    )


@pytest.mark.parametrize(
    ("cause", "person"),
    [
        ("UserIdCause", True),
        ("hudson.model.Cause$UserIdCause", True),
        ("BranchIndexingCause,UserIdCause", True),
        ("UserCause", True),
        ("BranchIndexingCause", False),
        ("TimerTriggerCause", False),
        ("UpstreamCause", False),
        ("GitLabWebHookCause", False),
        ("SomePluginUserTriggerCause", False),  # "user" in a name is not a person
        ("RemoteCause,user", False),
    ],
)
def test_only_a_user_cause_means_a_person_started_the_build(cause: str, person: bool) -> None:
    assert started_by_person(cause) is person
