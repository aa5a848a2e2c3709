"""The plan summary: what Terraform's own "Plan: ..." line counts, and more.

A pure function of the plan JSON and the protection rules. Counting follows
Terraform's renderer: managed resources only; a replace counts once in add
and once in destroy; read and no-op count nowhere; an import counts even when
its action is no-op; a forget is counted on its own and never as a destroy.
"""

from __future__ import annotations

import fnmatch
import functools
import re
from dataclasses import asdict, dataclass, field
from typing import Any

from runners import jsonread
from runners.terraform.planview import PlanView, ResourceChange
from runners.terraform.protection import Protection
from runners.terraform.redact import count_sensitive

_PLAN_LINE = re.compile(
    r"Plan:\s*(?:(?P<import>\d+) to import, )?(?P<add>\d+) to add, (?P<change>\d+) to change, "
    r"(?P<destroy>\d+) to destroy"
)


@dataclass
class Summary:
    format_version: str
    terraform_version: str | None
    add: int = 0
    change: int = 0
    destroy: int = 0
    replace: int = 0
    import_: int = 0
    forget: int = 0
    move: int = 0
    drift: int = 0
    read: int = 0
    outputs_changed: int = 0
    destroys: list[str] = field(default_factory=list)
    replaces: list[str] = field(default_factory=list)
    protected: list[str] = field(default_factory=list)
    forgets: list[str] = field(default_factory=list)
    sensitive_redacted: int = 0
    errored: bool = False

    @property
    def has_changes(self) -> bool:
        return bool(
            self.add
            or self.change
            or self.destroy
            or self.import_
            or self.forget
            or self.move
            or self.outputs_changed
        )

    def plan_line(self) -> str:
        """The counts as Terraform prints them."""
        prefix = f"{self.import_} to import, " if self.import_ else ""
        line = (
            f"Plan: {prefix}{self.add} to add, {self.change} to change, {self.destroy} to destroy."
        )
        return line

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["import"] = data.pop("import_")
        data["has_changes"] = self.has_changes
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Summary:
        known = {f for f in cls.__dataclass_fields__}
        values = {("import_" if k == "import" else k): v for k, v in data.items()}
        return cls(**{k: v for k, v in values.items() if k in known})


@functools.cache
def _matcher(patterns: tuple[str, ...]) -> re.Pattern[str] | None:
    """One compiled regex for a list of fnmatch globs (checked once per resource change)."""
    if not patterns:
        return None
    return re.compile("|".join(f"(?:{fnmatch.translate(p)})" for p in patterns))


def is_protected(rc: ResourceChange, protection: Protection) -> bool:
    by_type = _matcher(protection.types)
    by_address = _matcher(protection.addresses)
    return bool(
        (by_type is not None and by_type.match(rc.type))
        or (by_address is not None and by_address.match(rc.address))
    )


def summarize(plan: PlanView, protection: Protection | None = None) -> Summary:
    with jsonread.nesting(plan.source):
        return _summarize(plan, protection or Protection())


def _summarize(plan: PlanView, rules: Protection) -> Summary:
    s = Summary(plan.format_version, plan.terraform_version, errored=plan.errored)
    for rc in plan.resource_changes:
        s.sensitive_redacted += count_sensitive(rc.before_sensitive, rc.after_sensitive)
        action = rc.action
        if rc.mode != "managed":
            if action == "read":
                s.read += 1
            continue
        if rc.importing:
            s.import_ += 1
        if action == "no-op":
            if rc.previous_address and not rc.importing:
                s.move += 1
            continue
        if action == "create":
            s.add += 1
        elif action == "create-forget":
            s.add += 1
            s.forget += 1
            s.forgets.append(rc.address)
        elif action == "update":
            s.change += 1
        elif action == "delete":
            s.destroy += 1
            s.destroys.append(rc.address)
        elif action == "replace":
            s.add += 1
            s.destroy += 1
            s.replace += 1
            s.replaces.append(rc.address)
        elif action == "forget":
            s.forget += 1
            s.forgets.append(rc.address)
        if action in ("delete", "replace") and is_protected(rc, rules):
            s.protected.append(rc.address)
    for rc in plan.resource_drift:
        if rc.action != "no-op":
            s.drift += 1
    for oc in plan.output_changes:
        if oc.action != "no-op":
            s.outputs_changed += 1
        s.sensitive_redacted += count_sensitive(oc.before_sensitive, oc.after_sensitive)
    return s


def parse_plan_line(text: str) -> dict[str, int] | None:
    """Terraform's own counts from its console output, or None if it printed none."""
    match = _PLAN_LINE.search(text)
    if not match:
        return None
    return {k: int(v) if v else 0 for k, v in match.groupdict().items()}
