"""The change fingerprint and its comparison: pure, over plan JSON documents."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from runners.change.fingerprint import (
    SENSITIVE,
    UNKNOWN,
    Unreadable,
    compare,
    from_dict,
    of_plan,
)
from runners.change.reviewed import Reviewed, merge_request_ids, review
from runners.terraform.planview import PlanView

SECRET = "hunter2-very-secret"


def change(
    address: str, actions: list[str], before: Any, after: Any, **extra: Any
) -> dict[str, Any]:
    kind, name = address.split(".", 1)
    return {
        "address": address,
        "mode": "managed",
        "type": kind,
        "name": name,
        "change": {"actions": actions, "before": before, "after": after, **extra},
    }


def plan(*changes: dict[str, Any], version: str = "1.15.5") -> PlanView:
    return PlanView(
        {
            "format_version": "1.2",
            "terraform_version": version,
            "resource_changes": list(changes),
            "configuration": {"root_module": {"variables": {"password": {"sensitive": True}}}},
            "variables": {"password": {"value": SECRET}},
        }
    )


BASE = [
    change(
        "terraform_data.web",
        ["update"],
        {"input": {"size": "small", "n": 1}},
        {"input": {"size": "large", "n": 1}},
    ),
    change(
        "terraform_data.db",
        ["create"],
        None,
        {"input": {"password": SECRET, "user": "admin"}},
        after_unknown={"id": True, "output": True},
        after_sensitive={"input": {"password": True}},
    ),
    change("terraform_data.old", ["delete"], {"input": "x"}, None),
    change("terraform_data.same", ["no-op"], {"input": "x"}, {"input": "x"}),
]


def test_the_same_changes_make_the_same_fingerprint_whatever_else_differs() -> None:
    a = of_plan(plan(*BASE))
    again = copy.deepcopy(BASE)
    again[0]["change"]["before"]["input"]["size"] = "medium"  # drifted from small: same outcome
    b = of_plan(plan(*again))
    assert a.sha256 == b.sha256
    assert compare(a, b).identical


def test_what_is_recorded_per_resource_and_what_is_not() -> None:
    fp = of_plan(plan(*BASE))
    assert set(fp.resources) == {"terraform_data.web", "terraform_data.db", "terraform_data.old"}
    db = fp.resources["terraform_data.db"]
    assert db.actions == ("create",)
    assert db.attributes == {
        "id": UNKNOWN,
        "output": UNKNOWN,
        "input.password": SENSITIVE,
        "input.user": db.attributes["input.user"],  # type: ignore[index]
    }
    assert fp.resources["terraform_data.web"].attributes.keys() == {"input.size"}  # type: ignore[union-attr]
    text = json.dumps(fp.to_dict())
    for value in (SECRET, "admin", "large", "small"):
        assert value not in text  # hashes, never values
    assert from_dict(json.loads(text)) == fp


def test_a_secret_copied_where_it_is_not_marked_is_not_hashed() -> None:
    leaked = change("terraform_data.copy", ["create"], None, {"input": f"user:{SECRET}"})
    fp = of_plan(plan(*BASE, leaked))
    assert fp.resources["terraform_data.copy"].attributes == {"input": SENSITIVE}


def test_differences_are_named_resource_by_resource() -> None:
    reviewed = of_plan(plan(*BASE))
    now = copy.deepcopy(BASE)
    now[0]["change"]["after"]["input"]["size"] = "xlarge"  # another value
    now[1]["change"]["actions"] = ["delete", "create"]  # another action
    now[1]["change"]["before"] = {"input": {"user": "admin"}}
    now.pop(2)  # no longer destroyed
    now.append(change("terraform_data.extra", ["create"], None, {"input": "e"}))
    c = compare(reviewed, of_plan(plan(*now, version="1.16.0")))

    assert not c.identical
    assert c.only_here == ("terraform_data.extra",)
    assert c.only_reviewed == ("terraform_data.old",)
    assert c.actions == (("terraform_data.db", "create", "replace"),)
    assert c.attributes == (("terraform_data.web", ("input.size",)),)
    assert c.differences() == [
        "only in this plan: terraform_data.extra",
        "only in the reviewed plan: terraform_data.old",
        "different actions: terraform_data.db (create in review, replace now)",
        "different attributes: terraform_data.web (input.size)",
    ]
    assert c.versions() == ("the reviewed plan was made by Terraform 1.15.5, this one by 1.16.0")


def test_plans_of_different_terraform_versions_are_still_compared() -> None:
    c = compare(of_plan(plan(*BASE, version="1.14.0")), of_plan(plan(*BASE)))
    assert c.identical
    r = review(of_plan(plan(*BASE)), [Reviewed("!12", of_plan(plan(*BASE, version="1.14.0")))])
    assert r.summary() == (
        "identical to the plan reviewed on merge request !12 (the reviewed plan was made by "
        "Terraform 1.14.0, this one by 1.15.5)"
    )


def test_the_review_names_the_reviewed_merge_request_or_what_differs() -> None:
    here = of_plan(plan(*BASE))
    other = copy.deepcopy(BASE)
    other[0]["change"]["after"]["input"]["n"] = 2
    r = review(here, [Reviewed("!11", of_plan(plan(*other))), Reviewed("!12", here)])
    assert r.identical_to == "!12"
    assert r.to_record()["identical_to"] == "!12"
    r = review(
        here,
        [
            Reviewed("!11", of_plan(plan(*other))),
            Reviewed("!13", None, why_none="no plan of it is in the ledger"),
        ],
    )
    assert not r.identical
    assert r.summary() == (
        "differs from the plan reviewed on merge request !11: different attributes: "
        "terraform_data.web (input.n); merge request !13: no plan of it is in the ledger"
    )
    assert "not the one reviewed" in r.markdown()
    nothing = review(here, [])
    assert not nothing.identical and "no merge request was merged" in nothing.summary()


@pytest.mark.parametrize(
    ("message", "found"),
    [
        ("Merge branch 'f' into 'production'\n\nSee merge request acme/infra!12", [("12", "!12")]),
        ("Merge pull request #7 from acme/feature\n\nGrow", [("7", "#7")]),
        ("Grow the web tier (#31)\n\n* one\n* two", [("31", "#31")]),
        ("Fix a typo in #31's code", []),
        ("plain commit", []),
    ],
)
def test_merge_requests_named_by_commit_messages(
    message: str, found: list[tuple[str, str]]
) -> None:
    assert merge_request_ids(message) == found


@pytest.mark.parametrize(
    "bad",
    [
        [],
        {"schema": 2},
        {"schema": 1, "sha256": "x", "terraform_version": "1", "resources": []},
        {"schema": 1, "sha256": "x", "terraform_version": "1", "resources": {"a": {"actions": 1}}},
        {"schema": 1, "sha256": "", "terraform_version": "1", "resources": {}},
    ],
)
def test_an_unreadable_fingerprint_is_named(bad: Any) -> None:
    with pytest.raises(Unreadable):
        from_dict(bad)


def _outcome(value: Any) -> str:
    """A value as Terraform treats it: an attribute set to null is an attribute not set."""

    def drop(v: Any) -> Any:
        if isinstance(v, dict):
            return {k: drop(x) for k, x in v.items() if x is not None}
        if isinstance(v, list):
            return [drop(x) for x in v]
        return v

    return json.dumps(drop(value), sort_keys=True)


_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=8,
)


@settings(max_examples=150, deadline=None)
@given(before=_values, after=_values, other=_values)
def test_a_plan_equals_itself_and_differs_from_another_outcome(
    before: Any, after: Any, other: Any
) -> None:
    """Property: identical to itself; a different resulting value is always a difference."""
    one = of_plan(plan(change("terraform_data.x", ["update"], {"input": before}, {"input": after})))
    assert compare(one, one).identical
    two = of_plan(plan(change("terraform_data.x", ["update"], {"input": before}, {"input": other})))
    same_outcome = _outcome(after) == _outcome(other)
    assert compare(one, two).identical == same_outcome or (
        # a value that is no change at all on one side leaves the resource with no attributes
        not one.resources["terraform_data.x"].attributes
        and not two.resources["terraform_data.x"].attributes
    )
