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
from collections.abc import Iterable
from typing import Any

from runners.terraform.planview import PlanView
from runners.terraform.redact import SENSITIVE

_MIN_LEN = 4  # shorter strings ("on", "1") would scrub ordinary words and carry no secret


# Collectors append to one list rather than chaining generators: a plan with
# 10,000 changes has tens of thousands of masks, most of them empty.


def _strings(value: Any, out: list[str]) -> None:
    kind = type(value)
    if kind is str:
        out.append(value)
    elif kind is dict:
        for v in value.values():
            _strings(v, out)
    elif kind is list:
        for v in value:
            _strings(v, out)


def _masked(value: Any, mask: Any, out: list[str]) -> None:
    # type() rather than isinstance: JSON gives exact dicts, lists and strings.
    if mask is True:
        _strings(value, out)
    elif type(mask) is dict:
        if type(value) is dict:
            for k, m in mask.items():
                if m and k in value:  # False, {} and [] mark nothing below them
                    _masked(value[k], m, out)
    elif type(mask) is list and type(value) is list:
        for v, m in zip(value, mask, strict=False):
            if m:
                _masked(v, m, out)


def _state_module(module: Any, out: list[str]) -> None:
    if not isinstance(module, dict):
        return
    for res in module.get("resources") or ():
        if isinstance(res, dict):
            _masked(res.get("values"), res.get("sensitive_values"), out)
    for child in module.get("child_modules") or ():
        _state_module(child, out)


def sensitive_strings(plan: PlanView) -> set[str]:
    found: list[str] = []
    for key in ("resource_changes", "resource_drift"):
        for rc in plan.raw.get(key) or ():
            change = rc.get("change") or {}
            _masked(change.get("before"), change.get("before_sensitive", False), found)
            _masked(change.get("after"), change.get("after_sensitive", False), found)
    for oc in (plan.raw.get("output_changes") or {}).values():
        if isinstance(oc, dict):
            _masked(oc.get("before"), oc.get("before_sensitive", False), found)
            _masked(oc.get("after"), oc.get("after_sensitive", False), found)
    prior = (plan.raw.get("prior_state") or {}).get("values") or {}
    planned = plan.raw.get("planned_values") or {}
    for values in (prior, planned):
        if isinstance(values, dict):
            _state_module(values.get("root_module"), found)
            for out in (values.get("outputs") or {}).values():
                if isinstance(out, dict) and out.get("sensitive"):
                    _strings(out.get("value"), found)
    variables = plan.raw.get("variables") or {}
    for name in plan.sensitive_variables():
        var = variables.get(name)
        if isinstance(var, dict):
            _strings(var.get("value"), found)
    return {s for s in set(found) if len(s) >= _MIN_LEN and s != SENSITIVE}


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
