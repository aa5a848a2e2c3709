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

from runners import jsonread
from runners.jsonread import Node
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


def _state_resources(module: Node, out: list[str]) -> None:
    resources = module.object().get("resources")
    if resources is None:
        return
    if type(resources) is not list:
        raise module.at("resources").fail("a list of resources")
    for i, res in enumerate(resources):
        if type(res) is not dict:
            raise module.at("resources").at(i).fail("an object (a resource)")
        mask = res.get("sensitive_values")
        if mask is not None and type(mask) not in (bool, dict, list):
            raise module.at("resources").at(i).at("sensitive_values").fail("a mask")
        _masked(res.get("values"), mask, out)


def sensitive_strings(plan: PlanView) -> set[str]:
    found: list[str] = []
    with jsonread.nesting(plan.source):
        for rc in (*plan.resource_changes, *plan.resource_drift):
            _masked(rc.before, rc.before_sensitive, found)
            _masked(rc.after, rc.after_sensitive, found)
        for oc in plan.output_changes:
            _masked(oc.before, oc.before_sensitive, found)
            _masked(oc.after, oc.after_sensitive, found)
        for module in plan.state_modules():
            _state_resources(module, found)
        for value in plan.sensitive_outputs():
            _strings(value, found)
        for name in plan.sensitive_variables():
            _strings(plan.variable_value(name), found)
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
