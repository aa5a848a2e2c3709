"""A plan's change fingerprint: what it would do, resource by resource, without a value in it.

Two plans of the same stack made at different times (on the merge request,
and again on the environment branch after the merge) are different files:
other bytes, another serial, maybe another Terraform. What an approver needs
to know is whether they *do* the same: the same resources, with the same
actions, setting the same attributes to the same values. The fingerprint is
that, normalised:

- every managed resource change that changes something (an action other than
  no-op, an import, a move), by address;
- its actions, and where it was moved from or whether it is imported;
- each changed attribute's path (``input.tags.team``) with a hash of the value
  it will have, or ``unknown`` (known after apply), ``removed``, or
  ``sensitive``.

No value is ever recorded. A value is hashed with its address and path (so
equal values in two places do not look alike), and a value Terraform marks
sensitive, or that holds a string the plan marks sensitive anywhere, is not
hashed at all: a hash of a short secret could be guessed back. A change to a
secret shows as a change to that attribute in both plans, which is all a
reviewer of the redacted report could have seen anyway.

``sha256`` covers the whole; ``resources`` keep each resource's digest and,
up to ``MAX_ATTRIBUTES`` in all, its attribute hashes, so two fingerprints can
be compared resource by resource and say which attributes differ. Everything
here is pure: ``of_plan`` reads a loaded plan, ``compare`` two fingerprints.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from runners.terraform.attrdiff import ABSENT, fmt_path, walk
from runners.terraform.planview import PlanView, ResourceChange
from runners.terraform.redact import is_sensitive
from runners.terraform.secrets import sensitive_strings

SCHEMA = 1
MAX_ATTRIBUTES = 5_000  # attribute hashes kept in all; beyond, a resource keeps its digest only
UNKNOWN, REMOVED, SENSITIVE = "unknown", "removed", "sensitive"


@dataclass(frozen=True)
class ResourcePrint:
    actions: tuple[str, ...]
    digest: str  # sha256 of the resource's normalised change (actions, move, import, attributes)
    attributes: Mapping[str, str] | None  # path -> value hash or marker; None: not kept
    moved_from: str | None = None
    importing: bool = False


@dataclass(frozen=True)
class Fingerprint:
    sha256: str
    terraform_version: str
    resources: Mapping[str, ResourcePrint] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "sha256": self.sha256,
            "terraform_version": self.terraform_version,
            "resources": {
                address: {
                    "actions": list(r.actions),
                    "digest": r.digest,
                    **({"attributes": dict(r.attributes)} if r.attributes is not None else {}),
                    **({"moved_from": r.moved_from} if r.moved_from else {}),
                    **({"importing": True} if r.importing else {}),
                }
                for address, r in sorted(self.resources.items())
            },
        }


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _settled(value: Any) -> Any:
    """A value as Terraform treats it: an attribute that is null is an attribute not set."""
    if isinstance(value, dict):
        return {k: _settled(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_settled(v) for v in value]
    return value


def _holds_secret(value: Any, secrets: frozenset[str]) -> bool:
    if not secrets:
        return False
    if isinstance(value, str):
        return any(s in value for s in secrets)
    if isinstance(value, dict):
        return any(_holds_secret(v, secrets) for v in value.values())
    if isinstance(value, list):
        return any(_holds_secret(v, secrets) for v in value)
    return False


def _counts(rc: ResourceChange) -> bool:
    return rc.mode == "managed" and (
        rc.action != "no-op" or rc.importing or rc.previous_address is not None
    )


def attribute_hashes(rc: ResourceChange, secrets: frozenset[str]) -> dict[str, str]:
    """Changed attribute path -> a hash of the value it will have, or a marker."""
    if rc.action in ("delete", "forget"):
        return {}
    before = None if rc.action in ("create", "create-forget") else rc.before
    out: dict[str, str] = {}
    for path, b, a, unknown in walk(before, rc.after, rc.after_unknown, ()):
        name = fmt_path(path)
        if unknown:
            out[name] = UNKNOWN
        elif (rc.after_sensitive and is_sensitive(rc.after_sensitive, path)) or (
            rc.before_sensitive and is_sensitive(rc.before_sensitive, path)
        ):
            out[name] = SENSITIVE
        elif a is ABSENT or a is None:
            out[name] = REMOVED
        elif _holds_secret(a, secrets) or _holds_secret(b, secrets):
            out[name] = SENSITIVE
        else:
            out[name] = _sha(f"{rc.address}\0{name}\0{_canonical(_settled(a))}")[:32]
    return out


def of_plan(plan: PlanView) -> Fingerprint:
    """The fingerprint of a loaded plan (``terraform show -json``)."""
    secrets = frozenset(sensitive_strings(plan))
    resources: dict[str, ResourcePrint] = {}
    kept = 0
    for rc in plan.resource_changes:
        if not _counts(rc):
            continue
        attributes = attribute_hashes(rc, secrets)
        body = {
            "actions": list(rc.actions),
            "attributes": attributes,
            "moved_from": rc.previous_address,
            "importing": rc.importing,
        }
        digest = _sha(_canonical(body))
        keep = kept + len(attributes) <= MAX_ATTRIBUTES
        kept += len(attributes) if keep else 0
        resources[rc.address] = ResourcePrint(
            actions=rc.actions,
            digest=digest,
            attributes=attributes if keep else None,
            moved_from=rc.previous_address,
            importing=rc.importing,
        )
    whole = _sha(_canonical({a: r.digest for a, r in sorted(resources.items())}))
    return Fingerprint(whole, plan.terraform_version or "unknown", resources)


# -- reading a fingerprint back (from a manifest or an audit record) -------------------------


class Unreadable(ValueError):
    """Not a fingerprint this version of runners can read; the message says where."""


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value or len(value) > 2_000:
        raise Unreadable(f"{where}: expected a non-empty string")
    return value


def from_dict(data: Any, where: str = "fingerprint") -> Fingerprint:
    """A fingerprint from its JSON form; raises ``Unreadable`` naming the bad field."""
    if not isinstance(data, dict):
        raise Unreadable(f"{where}: expected an object")
    if data.get("schema") != SCHEMA:
        raise Unreadable(f"{where}.schema: expected {SCHEMA}")
    resources_raw = data.get("resources")
    if not isinstance(resources_raw, dict):
        raise Unreadable(f"{where}.resources: expected an object")
    resources = {}
    for address, raw in resources_raw.items():
        at = f"{where}.resources[{address!r}]"
        if not isinstance(raw, dict):
            raise Unreadable(f"{at}: expected an object")
        actions = raw.get("actions")
        if not isinstance(actions, list) or not all(isinstance(a, str) for a in actions):
            raise Unreadable(f"{at}.actions: expected a list of strings")
        attributes = raw.get("attributes")
        if attributes is not None and not (
            isinstance(attributes, dict)
            and all(isinstance(k, str) and isinstance(v, str) for k, v in attributes.items())
        ):
            raise Unreadable(f"{at}.attributes: expected an object of strings")
        moved = raw.get("moved_from")
        resources[_text(address, at)] = ResourcePrint(
            actions=tuple(actions),
            digest=_text(raw.get("digest"), f"{at}.digest"),
            attributes=attributes,
            moved_from=_text(moved, f"{at}.moved_from") if moved is not None else None,
            importing=raw.get("importing") is True,
        )
    return Fingerprint(
        sha256=_text(data.get("sha256"), f"{where}.sha256"),
        terraform_version=_text(data.get("terraform_version"), f"{where}.terraform_version"),
        resources=resources,
    )


# -- comparing two --------------------------------------------------------------------------


@dataclass(frozen=True)
class Comparison:
    """How this plan differs from a reviewed one; empty lists when it does not."""

    reviewed_version: str
    this_version: str
    only_here: tuple[str, ...] = ()  # resources this plan changes and the reviewed one did not
    only_reviewed: tuple[str, ...] = ()
    actions: tuple[tuple[str, str, str], ...] = ()  # (address, reviewed, here)
    attributes: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (address, paths; () = unknown)

    @property
    def identical(self) -> bool:
        return not (self.only_here or self.only_reviewed or self.actions or self.attributes)

    def differences(self, limit: int = 5) -> list[str]:
        """What differs, one phrase per kind, each naming at most ``limit`` resources."""
        out = []
        if self.only_here:
            out.append(f"only in this plan: {_names(self.only_here, limit)}")
        if self.only_reviewed:
            out.append(f"only in the reviewed plan: {_names(self.only_reviewed, limit)}")
        if self.actions:
            out.append(
                "different actions: "
                + _names([f"{a} ({r} in review, {h} now)" for a, r, h in self.actions], limit)
            )
        if self.attributes:
            out.append(
                "different attributes: "
                + _names(
                    [
                        f"{a} ({', '.join(p[:4]) + (', ...' if len(p) > 4 else '')})" if p else a
                        for a, p in self.attributes
                    ],
                    limit,
                )
            )
        return out

    def versions(self) -> str | None:
        """The two Terraform versions, when they differ."""
        if self.reviewed_version == self.this_version:
            return None
        return (
            f"the reviewed plan was made by Terraform {self.reviewed_version}, "
            f"this one by {self.this_version}"
        )


def _names(items: list[str] | tuple[str, ...], limit: int) -> str:
    shown = ", ".join(items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


def _verb(r: ResourcePrint) -> str:
    """The actions in a word or two, with a move or import: "replace", "update, moved from x"."""
    words = ["replace" if set(r.actions) == {"create", "delete"} else "+".join(r.actions)]
    if r.moved_from:
        words.append(f"moved from {r.moved_from}")
    if r.importing:
        words.append("imported")
    return ", ".join(words)


def compare(reviewed: Fingerprint, here: Fingerprint) -> Comparison:
    """Resource by resource: what this plan does that the reviewed one did not, and back."""
    mine, theirs = here.resources, reviewed.resources
    actions, attributes = [], []
    for address in sorted(set(mine) & set(theirs)):
        a, b = mine[address], theirs[address]
        if a.digest == b.digest:
            continue
        if _verb(a) != _verb(b):
            actions.append((address, _verb(b), _verb(a)))
        elif a.attributes is not None and b.attributes is not None:
            paths = sorted(
                p
                for p in set(a.attributes) | set(b.attributes)
                if a.attributes.get(p) != b.attributes.get(p)
            )
            attributes.append((address, tuple(paths)))
        else:
            attributes.append((address, ()))
    return Comparison(
        reviewed_version=reviewed.terraform_version,
        this_version=here.terraform_version,
        only_here=tuple(sorted(set(mine) - set(theirs))),
        only_reviewed=tuple(sorted(set(theirs) - set(mine))),
        actions=tuple(actions),
        attributes=tuple(attributes),
    )
