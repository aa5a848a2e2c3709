"""Read-only views over ``terraform show -json`` plan output, read through a typed reader.

They tolerate every plan ``format_version`` from 0.1 to 1.2 and later: keys a
version lacks read as empty (``before_sensitive`` before 0.2, ``importing``
before 1.1, ``forget`` actions before 1.2), and the raw dict stays reachable
through ``.raw`` for anything the views do not cover.

What a view reads must have the type Terraform writes: anything else is exit
2 naming the JSON path (``resource_changes[3].change.actions: expected a list
of actions, got 7``), never a summary of what could be read. A change whose
``change`` is ``true``, or whose action is ``{}``, would otherwise count as
nothing, and a reviewer would read "no changes" for a broken file.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, NoReturn

from runners import jsonread
from runners.errors import CONTROL, InputError
from runners.jsonread import Node

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
# The action lists Terraform writes (plans.Action in its JSON form).
_ACTION_LISTS = frozenset(
    {
        ("no-op",),
        ("create",),
        ("read",),
        ("update",),
        ("delete",),
        ("forget",),
        ("delete", "create"),
        ("create", "delete"),
        ("create", "forget"),
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


_ACTION_WORDS = {actions: _action(actions) for actions in _ACTION_LISTS}
_MASK_TYPES = (bool, dict, list)
_control = CONTROL.search


def _known_actions(value: Any) -> tuple[str, ...] | None:
    """``actions`` when it is one of the lists Terraform writes, else None."""
    if type(value) is list:
        try:
            actions = tuple(value)
            if actions in _ACTION_WORDS:
                return actions
        except TypeError:  # an element that cannot be hashed: not an action
            pass
    return None


def _refuse_actions(change: Node, value: Any) -> NoReturn:
    child = change.at("actions")
    if type(value) is not list or not all(type(a) is str for a in value):
        raise child.fail("a list of actions (strings)")
    raise child.fail(f"one of Terraform's action lists, such as {sorted(_ACTION_LISTS)[0]}")


def _mask(node: Node, key: str, value: Any) -> Any:
    """A sensitivity or unknown-value mask: true/false, or an object or list mirroring a value."""
    if value is None:
        return False
    if type(value) in _MASK_TYPES:
        return value
    raise node.at(key).fail("true, false, or an object or list mirroring the value")


def _is_text(value: Any) -> bool:
    return type(value) is str and _control(value) is None


class ResourceChange:
    """One entry of ``resource_changes`` (or ``resource_drift``), checked as it is made.

    Every field is read once, here: a 10,000-change plan is walked several
    times, and reading a field again on each pass costs more than the walk.
    The common case, a well-formed entry, makes no nodes: the path to a bad
    value is put together only to name it.
    """

    __slots__ = (
        "action",
        "action_reason",
        "actions",
        "address",
        "after_sensitive",
        "after_unknown",
        "before_sensitive",
        "change",
        "importing",
        "mode",
        "previous_address",
        "raw",
        "replace_paths",
        "type",
    )

    def __init__(self, raw: Any, parent: Node | None = None, index: int = 0) -> None:
        """``raw``: the entry, at ``index`` in the list ``parent`` (for errors)."""
        if type(raw) is not dict:
            raise self._where(raw, parent, index).fail("an object (a resource change)")
        self.raw: dict[str, Any] = raw
        get = raw.get
        change = get("change")
        if type(change) is not dict:
            raise self._where(raw, parent, index).at("change").fail("an object (the change)")
        self.change: dict[str, Any] = change
        actions = _known_actions(change.get("actions"))
        if actions is None:
            where = self._where(raw, parent, index).at("change")
            _refuse_actions(where, change.get("actions"))
        self.actions: tuple[str, ...] = actions
        self.action: str = _ACTION_WORDS[actions]
        address, deposed = get("address"), get("deposed")
        mode, kind = get("mode"), get("type")
        previous, reason = get("previous_address"), get("action_reason")
        importing, paths = change.get("importing"), change.get("replace_paths")
        unknown, before_mask = change.get("after_unknown"), change.get("before_sensitive")
        after_mask = change.get("after_sensitive")
        # One test for the whole entry; _refuse finds and names what is wrong.
        if not (
            type(address) is str
            and address
            and _control(address) is None
            and type(mode) is str
            and mode
            and _control(mode) is None
            and type(kind) is str
            and kind
            and _control(kind) is None
            and (deposed is None or _is_text(deposed))
            and (previous is None or _is_text(previous))
            and (reason is None or _is_text(reason))
            and (importing is None or type(importing) is dict)
            and (paths is None or _is_paths(paths))
            and (unknown is None or type(unknown) in _MASK_TYPES)
            and (before_mask is None or type(before_mask) in _MASK_TYPES)
            and (after_mask is None or type(after_mask) in _MASK_TYPES)
        ):
            self._refuse(self._where(raw, parent, index))
        self.address: str = f"{address} (deposed {deposed})" if deposed else str(address)
        self.mode: str = mode
        self.type: str = kind
        self.previous_address: str | None = previous or None
        self.action_reason: str | None = reason or None
        self.importing: bool = importing is not None
        self.replace_paths: list[list[Any]] = paths or []
        self.after_unknown: Any = unknown or False
        self.before_sensitive: Any = before_mask or False
        self.after_sensitive: Any = after_mask or False

    @staticmethod
    def _where(raw: Any, parent: Node | None, index: int) -> Node:
        return Node(raw, "plan JSON") if parent is None else Node(raw, parent.source, parent, index)

    @staticmethod
    def _refuse(where: Node) -> NoReturn:
        """Name the first field of a malformed entry; raises."""
        raw = where.value
        for key, what in (
            ("address", "a resource address"),
            ("mode", "a mode"),
            ("type", "a type"),
        ):
            value = raw.get(key)
            if not (value and _is_text(value)):
                raise where.at(key).fail(f"{what} (text without control characters)")
        for key in ("deposed", "previous_address", "action_reason"):
            value = raw.get(key)
            if value is not None and not _is_text(value):
                raise where.at(key).fail("a string without control characters")
        change = where.at("change")
        if raw["change"].get("importing") is not None:
            change.obj("importing")
        paths = raw["change"].get("replace_paths")
        if paths is not None and not _is_paths(paths):
            raise change.at("replace_paths").fail("a list of attribute paths (lists)")
        for key in ("after_unknown", "before_sensitive", "after_sensitive"):
            _mask(change, key, raw["change"].get(key))
        raise AssertionError(f"{where.path}: refused, but no field is wrong")

    def __repr__(self) -> str:
        return f"ResourceChange({self.address!r}, {self.action!r})"

    @property
    def before(self) -> Any:
        return self.change.get("before")

    @property
    def after(self) -> Any:
        return self.change.get("after")


def _is_paths(paths: Any) -> bool:
    """``replace_paths``: a list of attribute paths, each a list of keys and indexes."""
    return type(paths) is list and all(
        type(p) is list and all(type(k) in (str, int) for k in p) for p in paths
    )


class OutputChange:
    """One entry of ``output_changes``, checked as it is made."""

    __slots__ = (
        "action",
        "actions",
        "after_sensitive",
        "after_unknown",
        "before_sensitive",
        "name",
        "raw",
    )

    def __init__(self, name: str, node: Node) -> None:
        if not jsonread.is_identifier(name):
            raise node.fail("an output name without control characters")
        raw = node.object()
        self.name = name
        self.raw: dict[str, Any] = raw
        actions = _known_actions(raw.get("actions"))
        if actions is None:
            _refuse_actions(node, raw.get("actions"))
        self.actions: tuple[str, ...] = actions
        self.action: str = _ACTION_WORDS[actions]
        self.after_unknown: Any = _mask(node, "after_unknown", raw.get("after_unknown"))
        self.before_sensitive: Any = _mask(node, "before_sensitive", raw.get("before_sensitive"))
        self.after_sensitive: Any = _mask(node, "after_sensitive", raw.get("after_sensitive"))

    @property
    def before(self) -> Any:
        return self.raw.get("before")

    @property
    def after(self) -> Any:
        return self.raw.get("after")


class PlanView:
    """A parsed plan JSON document, its shape and every change checked when it is made."""

    def __init__(self, raw: Any, source: str = "plan JSON") -> None:
        root = Node(raw, source)
        if not isinstance(raw, dict) or not isinstance(raw.get("format_version"), str):
            raise InputError(f"{source}: not a Terraform plan JSON (no format_version)")
        if not _PLAN_KEYS.intersection(raw):
            raise InputError(
                f"{source}: not a Terraform plan JSON (looks like state or other JSON: "
                "no planned_values or resource_changes)"
            )
        self.raw: dict[str, Any] = raw
        self.source = source
        self.root = root
        root.str("terraform_version", identifier=True)
        self.errored: bool = root.bool("errored")
        self.resource_changes: list[ResourceChange] = self._changes("resource_changes")
        self.resource_drift: list[ResourceChange] = self._changes("resource_drift")
        self.output_changes: list[OutputChange] = [
            OutputChange(name, node) for name, node in root.items("output_changes")
        ]
        self._check_outline()

    def _check_outline(self) -> None:
        """The objects the views read later hold objects where Terraform writes them."""
        root = self.root
        for values in (root.obj("prior_state").obj("values"), root.obj("planned_values")):
            values.obj("root_module")
            for _name, output in values.items("outputs"):
                output.object()
        for _name, variable in root.obj("configuration").obj("root_module").items("variables"):
            variable.object()
        for _name, variable in root.items("variables"):
            variable.object()

    @classmethod
    def load(cls, path: Path) -> PlanView:
        node = jsonread.load(path, "a plan JSON file", pause_collector=True)
        return cls(node.value, source=str(path))

    @property
    def format_version(self) -> str:
        return str(self.raw["format_version"])

    @property
    def terraform_version(self) -> str | None:
        v = self.raw.get("terraform_version")
        return str(v) if v else None

    def _changes(self, key: str) -> list[ResourceChange]:
        items = self.raw.get(key)
        if items is None:
            return []
        node = self.root.at(key)
        if type(items) is not list:
            raise node.fail("a list of resource changes")
        return [ResourceChange(item, node, i) for i, item in enumerate(items)]

    def state_modules(self) -> Iterator[Node]:
        """``root_module`` of the prior state's and the planned values, and every child module."""
        for values in (self.root.obj("prior_state").obj("values"), self.root.obj("planned_values")):
            with jsonread.nesting(self.source):
                yield from _modules(values.obj("root_module"))

    def sensitive_outputs(self) -> Iterator[Any]:
        """The values of outputs marked sensitive, in the prior state and the planned values."""
        for values in (self.root.obj("prior_state").obj("values"), self.root.obj("planned_values")):
            for _name, output in values.items("outputs"):
                if output.bool("sensitive"):
                    yield output.object().get("value")

    def sensitive_variables(self) -> set[str]:
        variables = self.root.obj("configuration").obj("root_module").items("variables")
        return {name for name, v in variables if v.bool("sensitive")}

    def variable_value(self, name: str) -> Any:
        return self.root.obj("variables").obj(name).object().get("value")


def _modules(module: Node) -> Iterator[Node]:
    yield module
    for child in module.elements("child_modules"):
        child.object()
        yield from _modules(child)
