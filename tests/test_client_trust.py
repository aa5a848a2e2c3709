"""Reading a runner role's trust policy (runners.client.trust), property-tested: a role is
healthy exactly when its own principal may assume it and no one else may."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from runners.client import trust

ACCOUNT = "123456789012"
OWN = f"arn:aws:iam::{ACCOUNT}:user/acme-production-runners-plan"
OTHERS = [
    f"arn:aws:iam::{ACCOUNT}:user/acme-production-runners-apply",
    f"arn:aws:iam::{ACCOUNT}:user/acme-production-runners-backup",
]
STRANGERS = ["*", ACCOUNT, f"arn:aws:iam::{ACCOUNT}:root", "arn:aws:iam::999999999999:role/x"]

principals = st.lists(
    st.sampled_from([OWN, *OTHERS, *STRANGERS]), min_size=1, max_size=4, unique=True
)
actions = st.sampled_from(["sts:AssumeRole", "sts:*", "*", ["sts:AssumeRole", "sts:TagSession"]])


def statement(effect: str, who: list[str], action: Any) -> dict[str, Any]:
    aws: Any = who[0] if len(who) == 1 else who
    return {"Effect": effect, "Action": action, "Principal": {"AWS": aws}}


@given(
    allowed=principals,
    denied=st.lists(st.sampled_from([OWN, *OTHERS]), unique=True),
    action=actions,
)
def test_healthy_exactly_when_only_the_own_principal_may_assume(
    allowed: list[str], denied: list[str], action: Any
) -> None:
    doc = {"Statement": [statement("Allow", allowed, action)]}
    if denied:
        doc["Statement"].append(statement("Deny", denied, "sts:AssumeRole"))
    may = set(allowed) - set(denied)
    healthy = may == {OWN}
    assert (trust.problems(doc, OWN, OTHERS) == []) == healthy, (allowed, denied)


@given(allowed=principals)
def test_a_statement_for_another_action_trusts_no_one(allowed: list[str]) -> None:
    doc = {"Statement": [statement("Allow", allowed, "sts:GetCallerIdentity")]}
    assert trust.problems(doc, OWN, OTHERS) == [f"does not trust its own principal {OWN}"]


def test_a_federated_principal_of_the_production_jobs_is_no_problem() -> None:
    doc = {
        "Statement": [
            statement("Allow", [OWN], ["sts:AssumeRole", "sts:SetSourceIdentity"]),
            {
                "Effect": "Allow",
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Principal": {"Federated": f"arn:aws:iam::{ACCOUNT}:oidc-provider/jenkins"},
            },
        ]
    }
    assert trust.problems(doc, OWN, OTHERS) == []
    assert trust.trusted(doc).federated == {f"arn:aws:iam::{ACCOUNT}:oidc-provider/jenkins"}
