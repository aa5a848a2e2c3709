"""Read-only views over ``terraform show -json`` plan output.

They tolerate every plan ``format_version`` from 0.1 to 1.2 and later: keys a
version lacks read as empty (``before_sensitive`` before 0.2, ``importing``
before 1.1, ``forget`` actions before 1.2), and the raw dict stays reachable
through ``.raw`` for anything the views do not cover.
"""

from __future__ import annotations

import contextlib
import gc
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runners.errors import InputError

_PLAN_KEYS = frozenset(
    {
        "planned_values",
        "resource_changes",
        "output_changes",
        "resource_drift",
        "prior_state",
        "errored",
        "relevant_attributes",
    }
)


def _action(actions: tuple[str, ...]) -> str:
    """One word for Terraform's action list, as its renderer distinguishes them."""
    if len(actions) == 2:
        if set(actions) == {"create", "delete"}:
            return "replace"
        if set(actions) == {"create", "forget"}:
            return "create-forget"
    if len(actions) == 1:
        return actions[0]
    return "+".join(actions) or "no-op"


class ResourceChange:
    """One entry of ``resource_changes``.

    The fields every pass reads are computed once, in the constructor: a
    10,000-change plan is walked several times, and properties recomputed
    on each read cost more than the walk itself.
    """

    __slots__ = ("action", "actions", "address", "change", "mode", "raw", "type")

    def __init__(self, raw: dict[str, Any]) -> None:
        self.raw = raw
        change = raw.get("change")
        self.change: dict[str, Any] = change if isinstance(change, dict) else {}
        self.actions: tuple[str, ...] = tuple(str(a) for a in self.change.get("actions") or ())
        self.action: str = _action(self.actions)
        addr = str(raw.get("address", ""))
        deposed = raw.get("deposed")
        self.address: str = f"{addr} (deposed {deposed})" if deposed else addr
        self.mode: str = str(raw.get("mode", "managed"))
        self.type: str = str(raw.get("type", ""))

    def __repr__(self) -> str:
        return f"ResourceChange({self.address!r}, {self.action!r})"

    @property
    def importing(self) -> bool:
        return self.change.get("importing") is not None

    @property
    def previous_address(self) -> str | None:
        prev = self.raw.get("previous_address")
        return str(prev) if prev else None

    @property
    def action_reason(self) -> str | None:
        reason = self.raw.get("action_reason")
        return str(reason) if reason else None

    @property
    def replace_paths(self) -> list[list[Any]]:
        paths = self.change.get("replace_paths") or []
        return [p for p in paths if isinstance(p, list)]

    @property
    def before(self) -> Any:
        return self.change.get("before")

    @property
    def after(self) -> Any:
        return self.change.get("after")

    @property
    def after_unknown(self) -> Any:
        return self.change.get("after_unknown", False)

    @property
    def before_sensitive(self) -> Any:
        return self.change.get("before_sensitive", False)

    @property
    def after_sensitive(self) -> Any:
        return self.change.get("after_sensitive", False)


@dataclass(frozen=True)
class OutputChange:
    name: str
    raw: dict[str, Any]

    @property
    def actions(self) -> tuple[str, ...]:
        return tuple(str(a) for a in self.raw.get("actions") or ())

    @property
    def action(self) -> str:
        return _action(self.actions)


class PlanView:
    """A parsed plan JSON document. Construction validates only the shape."""

    def __init__(self, raw: Any, source: str = "plan JSON") -> None:
        if not isinstance(raw, dict) or not isinstance(raw.get("format_version"), str):
            raise InputError(f"{source}: not a Terraform plan JSON (no format_version)")
        if not _PLAN_KEYS.intersection(raw):
            raise InputError(
                f"{source}: not a Terraform plan JSON (looks like state or other JSON: "
                "no planned_values or resource_changes)"
            )
        for key in ("resource_changes", "resource_drift"):
            if key in raw and not isinstance(raw[key], list | type(None)):
                raise InputError(f"{source}: {key}: expected a list")
        self.raw: dict[str, Any] = raw
        self.source = source
        self._views: dict[str, list[ResourceChange]] = {}

    @classmethod
    def load(cls, path: Path) -> PlanView:
        try:
            with open(path, "rb") as fh, _collector_paused():
                data = json.load(fh)
        except FileNotFoundError:
            raise InputError(f"{path}: no such file") from None
        except IsADirectoryError:
            raise InputError(f"{path}: is a directory, expected a plan JSON file") from None
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise InputError(f"{path}: not JSON ({exc})") from None
        return cls(data, source=str(path))

    @property
    def format_version(self) -> str:
        return str(self.raw["format_version"])

    @property
    def terraform_version(self) -> str | None:
        v = self.raw.get("terraform_version")
        return str(v) if v else None

    @property
    def errored(self) -> bool:
        return bool(self.raw.get("errored"))

    def _changes(self, key: str) -> list[ResourceChange]:
        """Built once per plan: the summary and the report both walk every change."""
        cached = self._views.get(key)
        if cached is None:
            cached = [
                ResourceChange(item) for item in self.raw.get(key) or () if isinstance(item, dict)
            ]
            self._views[key] = cached
        return cached

    @property
    def resource_changes(self) -> list[ResourceChange]:
        return self._changes("resource_changes")

    @property
    def resource_drift(self) -> list[ResourceChange]:
        return self._changes("resource_drift")

    @property
    def output_changes(self) -> Iterator[OutputChange]:
        outputs = self.raw.get("output_changes") or {}
        if isinstance(outputs, dict):
            for name, change in outputs.items():
                if isinstance(change, dict):
                    yield OutputChange(str(name), change)

    def sensitive_variables(self) -> set[str]:
        root = (self.raw.get("configuration") or {}).get("root_module") or {}
        variables = root.get("variables") or {}
        return {name for name, v in variables.items() if isinstance(v, dict) and v.get("sensitive")}


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """No cyclic garbage collection while a plan loads, and none over it afterwards.

    A plan JSON is a tree of hundreds of thousands of dicts and lists; as the
    decoder makes them, the collector runs again and again over the growing
    tree, which made loading a 10,000-change plan a third slower. A tree holds
    no reference cycles, so freezing it (``gc.freeze``) loses nothing:
    reference counting still frees it.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if was_enabled:
            gc.enable()
