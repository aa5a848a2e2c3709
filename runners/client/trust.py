"""Who a role's trust policy lets assume it, read from the document. Pure.

IAM's simulator answers this against a real account (doctor asks it where it
can); the embedded AWS has no simulator, and its STS lets anyone assume any
role, so the document itself is read, as ``tests/test_runner_policy.py``
reads the module's: an Allow for ``sts:AssumeRole`` (or ``*``) names the
principals; a Deny takes them away; ``*`` or an account (its id or its root)
trusts every principal of that account whose own policy allows it, which is
never what a runner role wants.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, field
from typing import Any

_ACCOUNT_ROOT = re.compile(r"^(?:arn:aws[a-z-]*:iam::)?(\d{12})(?::root)?$")
_ASSUME = "sts:AssumeRole"
_FEDERATED = ("sts:AssumeRoleWithWebIdentity", "sts:AssumeRoleWithSAML")


@dataclass
class Trusted:
    """Who may call sts:AssumeRole on the role."""

    arns: set[str] = field(default_factory=set)
    accounts: set[str] = field(default_factory=set)  # whole accounts (id or root)
    anyone: bool = False  # "*"
    federated: set[str] = field(default_factory=set)  # identity providers (OIDC, SAML)
    services: set[str] = field(default_factory=set)
    denied: set[str] = field(default_factory=set)

    def allows(self, arn: str) -> bool:
        if arn in self.denied:
            return False
        account = arn.split(":")[4] if arn.count(":") >= 5 else ""
        return arn in self.arns or self.anyone or account in self.accounts


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _covers(statement: dict[str, Any], action: str) -> bool:
    actions = [str(a) for a in _as_list(statement.get("Action", []))]
    return any(fnmatch.fnmatchcase(action, a) for a in actions)


def trusted(document: dict[str, Any]) -> Trusted:
    out = Trusted()
    for statement in _as_list(document.get("Statement", [])):
        if not isinstance(statement, dict):
            continue
        principal = statement.get("Principal", {})
        if principal == "*":
            principal = {"AWS": "*"}
        if not isinstance(principal, dict):
            continue
        if any(_covers(statement, a) for a in _FEDERATED) and statement.get("Effect") == "Allow":
            out.federated.update(str(p) for p in _as_list(principal.get("Federated", [])))
        if not _covers(statement, _ASSUME):
            continue
        aws = [str(p) for p in _as_list(principal.get("AWS", []))]
        if statement.get("Effect") == "Deny":
            out.denied.update(aws)
            continue
        for entry in aws:
            root = _ACCOUNT_ROOT.match(entry)
            if entry == "*":
                out.anyone = True
            elif root:
                out.accounts.add(root.group(1))
            else:
                out.arns.add(entry)
        out.services.update(str(p) for p in _as_list(principal.get("Service", [])))
    return out


def problems(document: dict[str, Any], own: str, others: list[str]) -> list[str]:
    """What is wrong with a runner role's trust: its principal must be trusted, no other."""
    who = trusted(document)
    found = []
    if not who.allows(own):
        found.append(f"does not trust its own principal {own}")
    for other in others:
        if who.allows(other):
            found.append(f"also trusts {other}, another duty's principal")
    if who.anyone:
        found.append('trusts "*"')
    for account in sorted(who.accounts):
        found.append(f"trusts all of account {account} (any principal its policies allow)")
    strangers = sorted(who.arns - who.denied - {own, *others})
    if strangers:
        found.append(f"trusts {', '.join(strangers)} besides its principal")
    if who.services:
        found.append(f"trusts the service {', '.join(sorted(who.services))}")
    return found
