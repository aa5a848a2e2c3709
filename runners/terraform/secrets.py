"""A second line of defence: scrub every known secret string from rendered text.

Redacting by the ``*_sensitive`` masks is not enough on its own. Terraform
does not always carry the mark along: a ``terraform_data`` output copied from
a sensitive input shows the old secret unmarked in ``before``, and Terraform's
own ``show`` prints it in clear. So every string the plan marks sensitive
anywhere, and every sensitive variable's value, is collected and replaced
wherever it appears in text runners writes or prints.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

from runners.terraform.planview import PlanView
from runners.terraform.redact import SENSITIVE

_MIN_LEN = 4  # shorter strings ("on", "1") would scrub ordinary words and carry no secret


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


def _masked(value: Any, mask: Any) -> Iterator[str]:
    if mask is True:
        yield from _strings(value)
    elif isinstance(mask, dict) and isinstance(value, dict):
        for k, m in mask.items():
            if k in value:
                yield from _masked(value[k], m)
    elif isinstance(mask, list) and isinstance(value, list):
        for v, m in zip(value, mask, strict=False):
            yield from _masked(v, m)


def _state_module(module: Any) -> Iterator[str]:
    if not isinstance(module, dict):
        return
    for res in module.get("resources") or ():
        if isinstance(res, dict):
            yield from _masked(res.get("values"), res.get("sensitive_values"))
    for child in module.get("child_modules") or ():
        yield from _state_module(child)


def sensitive_strings(plan: PlanView) -> set[str]:
    found: set[str] = set()
    for key in ("resource_changes", "resource_drift"):
        for rc in plan.raw.get(key) or ():
            change = rc.get("change") or {}
            found.update(_masked(change.get("before"), change.get("before_sensitive", False)))
            found.update(_masked(change.get("after"), change.get("after_sensitive", False)))
    for oc in (plan.raw.get("output_changes") or {}).values():
        if isinstance(oc, dict):
            found.update(_masked(oc.get("before"), oc.get("before_sensitive", False)))
            found.update(_masked(oc.get("after"), oc.get("after_sensitive", False)))
    prior = (plan.raw.get("prior_state") or {}).get("values") or {}
    planned = plan.raw.get("planned_values") or {}
    for values in (prior, planned):
        if isinstance(values, dict):
            found.update(_state_module(values.get("root_module")))
            for out in (values.get("outputs") or {}).values():
                if isinstance(out, dict) and out.get("sensitive"):
                    found.update(_strings(out.get("value")))
    variables = plan.raw.get("variables") or {}
    for name in plan.sensitive_variables():
        var = variables.get(name)
        if isinstance(var, dict):
            found.update(_strings(var.get("value")))
    return {s for s in found if len(s) >= _MIN_LEN and s != SENSITIVE}


class Scrubber:
    """Replaces every occurrence of the given secrets (and their JSON-escaped forms)."""

    def __init__(self, secrets: Iterable[str]) -> None:
        forms: set[str] = set()
        for s in secrets:
            forms.add(s)
            escaped = s.encode("unicode_escape").decode("ascii").replace('"', '\\"')
            forms.add(escaped)
        ordered = sorted(forms, key=len, reverse=True)
        self._pattern = re.compile("|".join(re.escape(s) for s in ordered)) if ordered else None

    def __bool__(self) -> bool:
        return self._pattern is not None

    def scrub(self, text: str) -> str:
        if self._pattern is None:
            return text
        return self._pattern.sub(SENSITIVE, text)

    @classmethod
    def for_plan(cls, plan: PlanView) -> Scrubber:
        return cls(sensitive_strings(plan))
