"""The plan contract as a pure function: a valid apply passes; breaking any one rule refuses it."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from runners.change.contract import (
    ApplyFacts,
    BuildFacts,
    Contributor,
    MergeRequest,
    MergeRequests,
    People,
    PlanFacts,
    ReviewFacts,
    Rules,
    Signing,
    TerraformFacts,
    ToolFacts,
    check,
    same_person,
    started_by_person,
)
from runners.config import Identity

SHA_A, SHA_B, SHA_C = "a" * 64, "b" * 64, "c" * 64
DANA = Contributor("Dana Dev", "dana@example.com", "1" * 40, "wrote")
MERGER = Contributor("Olivia Ops", "olivia@example.com", "2" * 40, "committed")

RULES = Rules(
    require_approval=True,
    approvers=("alice", "bob"),
    allow_self_approval=False,
    require_manual_trigger=True,
    verify_build=True,
    require_mr_approvals=1,
    approval_reason="it lists approvers",
    require_reviewed_plan=True,
)
IDENTICAL = ReviewFacts(True, "identical to the plan reviewed on merge request !3")
DIFFERS = ReviewFacts(
    False, "differs from the plan reviewed on merge request !3: only in this plan: x.y"
)


def valid() -> ApplyFacts:
    return ApplyFacts(
        stack="app",
        env="production",
        rules=RULES,
        plan=PlanFacts("app", "production", SHA_A, SHA_B, SHA_A, SHA_B),
        signing=Signing("k1", "k1", True),
        people=People(
            approver="alice",
            source="Jenkins (build 7)",
            claimed="alice",
            contributors=(DANA, MERGER),
            platform_authors=("dana.dev",),
            identities={"bob": Identity("bob", git_emails=("robert@home.example",))},
        ),
        build=BuildFacts(verified=True, starters=("olivia",)),
        confirm_destroy=1,
        merge_requests=MergeRequests((MergeRequest("!3", "dana.dev", ("bob",), (DANA,)),)),
        tools=ToolFacts("1.15.5", "1.15.5", SHA_C, SHA_C),
        terraform=TerraformFacts(
            code_differences=(),
            backend_differences=(),
            plan_lineage="L1",
            plan_serial=4,
            state_lineage="L1",
            state_serial=4,
            protected=("aws_db_instance.main",),
            rendered_plan_json_sha256=SHA_B,
        ),
        review=IDENTICAL,
    )


def change(facts: ApplyFacts, path: str, value: Any) -> ApplyFacts:
    """``facts`` with one field replaced, by dotted path (``plan.dirty``)."""
    head, _, rest = path.partition(".")
    if not rest:
        return dataclasses.replace(facts, **{head: value})
    return dataclasses.replace(facts, **{head: change(getattr(facts, head), rest, value)})  # type: ignore[arg-type]


MUTATIONS: dict[str, tuple[str, Any]] = {
    "another stack": ("plan.stack", "network"),
    "another environment": ("plan.env", "development"),
    "tfplan changed": ("plan.tfplan_actual", SHA_C),
    "tfplan missing": ("plan.tfplan_actual", None),
    "plan.json changed": ("plan.plan_json_actual", SHA_C),
    "dirty": ("plan.dirty", True),
    "var file": ("plan.problems", ("var file x differs",)),
    "no key here": ("signing", Signing(None, "k1", None)),
    "another key": ("signing", Signing("k2", "k1", False)),
    "bad signature": ("signing.valid", False),
    "no approver": ("people.approver", None),
    "approver is the author": ("people.approver", "dana"),
    "approver by email": ("people.approver", "DANA@example.com"),
    "approver by name": ("people.approver", " dana  dev "),
    "approver merged with a conflict": ("people.approver", "olivia"),
    "approver opened the MR": ("people.approver", "dana.dev"),
    "approver not listed": ("people.approver", "mallory"),
    "claimed approver differs": ("people.claimed", "bob"),
    "nobody started the build": ("build.starters", ()),
    "build problem": ("build.problems", ("the build has finished",)),
    "no destroy confirmation": ("confirm_destroy", None),
    "wrong destroy confirmation": ("confirm_destroy", 2),
    "MR unapproved": ("merge_requests", MergeRequests((MergeRequest("!3", "dana.dev", ()),))),
    "MR approved by its author": (
        "merge_requests",
        MergeRequests((MergeRequest("!3", "dana.dev", ("dana.dev",)),)),
    ),
    "MR approved by a committer": (
        "merge_requests",
        MergeRequests((MergeRequest("!3", "x", ("dana",), (DANA,)),)),
    ),
    "commit without MR": (
        "merge_requests",
        MergeRequests((MergeRequest("!3", "dana.dev", ("bob",)),), ("f" * 40,)),
    ),
    "terraform version": ("tools.here_version", "1.15.4"),
    "lock file": ("tools.head_lock_sha256", None),
    "code differs": ("terraform.code_differences", ("main.tf differs",)),
    "backend differs": ("terraform.backend_differences", ("another state",)),
    "another lineage": ("terraform.state_lineage", "L2"),
    "state moved on": ("terraform.state_serial", 5),
    "state created since": ("terraform.plan_lineage", None),
    "plan.json not rendered from tfplan": ("terraform.rendered_plan_json_sha256", SHA_C),
    "errored plan": ("terraform.errored", True),
    "not the reviewed plan": ("review", DIFFERS),
}


def test_valid_apply_passes() -> None:
    assert check(valid()) == []


def test_round_one_alone_passes_when_valid() -> None:
    assert check(dataclasses.replace(valid(), tools=None, terraform=None)) == []


@pytest.mark.parametrize("name", sorted(MUTATIONS))
def test_each_broken_rule_refuses_on_one_line(name: str) -> None:
    path, value = MUTATIONS[name]
    reasons = check(change(valid(), path, value))
    assert reasons, name
    assert all("\n" not in r for r in reasons)


@settings(max_examples=300)
@given(st.sets(st.sampled_from(sorted(MUTATIONS)), min_size=1, max_size=5))
def test_any_combination_of_broken_rules_refuses(names: set[str]) -> None:
    facts = valid()
    for name in sorted(names):
        facts = change(facts, *MUTATIONS[name])
    assert check(facts)


def test_a_plan_that_is_not_the_reviewed_one() -> None:
    [reason] = check(change(valid(), "review", DIFFERS))
    assert reason == (
        "production requires the plan reviewed on the merge request (require_reviewed_plan), "
        "and this plan is not it: differs from the plan reviewed on merge request !3: only in "
        "this plan: x.y; an approver who accepts the difference gives --accept-difference"
    )
    accepted = dataclasses.replace(DIFFERS, accepted=True)
    assert check(change(valid(), "review", accepted)) == []
    assert (
        check(change(change(valid(), "review", DIFFERS), "rules.require_reviewed_plan", False))
        == []
    )


def test_identities_link_a_second_email() -> None:
    robert = Contributor("Robert", "robert@home.example", "3" * 40, "wrote")
    facts = change(valid(), "people.contributors", (DANA, robert))
    assert check(change(change(facts, "people.approver", "bob"), "people.claimed", None)) == [
        "bob wrote commit 333333333333 of this change and may not approve it"
    ]


def test_self_approval_allowed_by_config() -> None:
    facts = change(valid(), "rules.allow_self_approval", True)
    facts = change(facts, "rules.approvers", ("alice", "dana"))
    assert check(change(change(facts, "people.approver", "dana"), "people.claimed", "dana")) == []


def test_rules_off_need_nothing() -> None:
    off = Rules(False, (), False, False)
    facts = dataclasses.replace(
        valid(),
        rules=off,
        signing=Signing(None, None, None),
        people=People(None, "--approved-by"),
        build=BuildFacts(verified=False),
        confirm_destroy=None,
        merge_requests=None,
    )
    facts = change(facts, "terraform.protected", ())
    assert check(facts) == []


def test_approval_required_but_nobody_listed() -> None:
    facts = change(valid(), "rules.approvers", ())
    facts = change(facts, "rules.approval_reason", "it is named production")
    assert check(facts) == [
        "production requires approval (it is named production) but runners.toml names no "
        "approvers for it (environments.production.approvers)"
    ]


def test_protected_destroys_are_counted_from_the_plan_file() -> None:
    """Whatever a manifest says, the count comes from the plan Terraform will apply."""
    facts = change(valid(), "terraform.protected", ("a.one", "a.two"))
    assert check(facts) == [
        "the plan destroys or replaces 2 protected resource(s) (a.one, a.two); "
        "--confirm-destroy 2 is required, got 1"
    ]


def test_merge_request_approver_known_by_another_name_is_an_author() -> None:
    """[identities] ties a platform user to a git email: her approval of her own MR does not count."""
    ids = {"dana": Identity("dana", ("dana@example.com",), ("dd-gitlab",))}
    facts = change(valid(), "people.identities", ids)
    facts = change(
        facts,
        "merge_requests",
        MergeRequests((MergeRequest("!3", "someone", ("dd-gitlab",), (DANA,)),)),
    )
    assert check(facts) == [
        "merge request !3 has 0 approval(s) from people other than its authors; production requires 1"
    ]


@given(
    who=st.sampled_from(["dana", "DANA", " Dana ", "dana@example.com", "Dana Dev", "dana dev"]),
)
def test_every_spelling_of_the_author_is_the_author(who: str) -> None:
    assert same_person(who, "Dana Dev", "dana@example.com")


@given(who=st.sampled_from(["alice", "dan", "ana", "example.com", "dana@other.example"]))
def test_other_people_are_not_the_author(who: str) -> None:
    assert not same_person(who, "Dana Dev", "dana@example.com")


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
        ("UserIdCauseX", False),
        ("RemoteCause,user", False),
    ],
)
def test_only_a_user_cause_means_a_person_started_the_build(cause: str, person: bool) -> None:
    assert started_by_person(cause) is person


def test_flags_only_when_the_build_is_not_verified() -> None:
    facts = dataclasses.replace(
        valid(),
        rules=dataclasses.replace(RULES, verify_build=False),
        build=BuildFacts(verified=False, cause="BranchIndexingCause"),
    )
    assert check(facts) == [
        "this environment requires a build started by a person; the build cause is BranchIndexingCause"
    ]
