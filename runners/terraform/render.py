"""A change to a value, shown the way Terraform's plan shows it: per key, nested, indented.

Objects and maps open with ``~ key = {`` and show each key that changes with
its own ``+``, ``-`` or ``~``, one level deeper; lists show their elements the
same way; a key known only after apply is ``+ key = (known after apply)``; a
value Terraform marks sensitive is ``(sensitive value)``. Unchanged keys are
counted, not shown. Keys are padded so their ``=`` line up, as Terraform does.

The lines keep their nesting depth and symbol apart from their text, so the
Markdown report can put the symbol in the first column (where a ``diff`` code
block colours it) and the tests can hold every line against the same plan's
``plan.txt``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from runners.terraform.redact import SENSITIVE

UNKNOWN = "(known after apply)"
FORCES = "  # forces replacement"
_MAX_VALUE = 160
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")


class _Absent:
    """No value on this side: the key is new, or removed."""

    def __repr__(self) -> str:
        return "ABSENT"


ABSENT: Any = _Absent()


@dataclass(frozen=True, slots=True)
class Line:
    depth: int
    symbol: str  # "+", "-", "~", or "" for a closing bracket or a note
    text: str

    def diff(self) -> str:
        """The line in a Markdown ``diff`` block: the symbol first, then the nesting."""
        return f"{self.symbol or ' '} {'    ' * self.depth}{self.text}"


@dataclass(frozen=True, slots=True)
class Side:
    """One value with its masks: the before or after side of a change."""

    value: Any
    sensitive: Any = False  # True, or an object or list mirroring the value
    unknown: Any = False  # after only: True, or a mirror


def _child(mask: Any, key: Any) -> Any:
    if mask is True:
        return True
    if type(mask) is dict:
        return mask.get(key, False)
    if type(mask) is list and type(key) is int and key < len(mask):
        return mask[key]
    return False


def _absent(value: Any) -> bool:
    return value is ABSENT or value is None


def literal(value: Any) -> str:
    """A primitive as Terraform prints it, cut to a readable length."""
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, str):
        text = json.dumps(value, ensure_ascii=False)
    elif value is None or value is ABSENT:
        text = "null"
    else:
        text = json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)
    return text if len(text) <= _MAX_VALUE else text[: _MAX_VALUE - 1] + "…"


def key_text(key: Any) -> str:
    text = str(key)
    return text if _IDENTIFIER.match(text) else json.dumps(text, ensure_ascii=False)


def _hidden(count: int, what: str) -> str:
    return f"# ({count} unchanged {what}{'' if count == 1 else 's'} hidden)"


class _Renderer:
    def __init__(self, replace_paths: list[list[Any]], top_null: bool) -> None:
        self.replace = {tuple(p) for p in replace_paths}
        self.top_null = top_null  # "-> null" after a removal at depth 0 (resources, outputs)

    def forces(self, path: tuple[Any, ...]) -> str:
        return FORCES if path and path in self.replace else ""

    # -- one side only: a value added or removed whole -------------------------------------------
    def whole(
        self, label: str, side: Side, symbol: str, depth: int, path: tuple[Any, ...]
    ) -> list[Line]:
        value, sens, unk = side.value, side.sensitive, side.unknown
        note = self.forces(path)
        tail = " -> null" if symbol == "-" and depth == 0 and self.top_null else ""
        if sens is True:
            return [Line(depth, symbol, f"{label}{SENSITIVE}{tail}{note}")]
        if unk is True:
            return [Line(depth, symbol, f"{label}{UNKNOWN}{note}")]
        if type(value) is dict or (type(unk) is dict and _absent(value)):
            items = value if type(value) is dict else {}
            keys = sorted(set(items) | (set(unk) if type(unk) is dict else set()), key=str)
            keys = [k for k in keys if not _absent(items.get(k)) or _child(unk, k) is True]
            if not keys:
                return [Line(depth, symbol, f"{label}{{}}{tail}{note}")]
            pad = max(len(key_text(k)) for k in keys)
            out = [Line(depth, symbol, f"{label}{{{note}")]
            for k in keys:
                child = Side(items.get(k, ABSENT), _child(sens, k), _child(unk, k))
                name = f"{key_text(k).ljust(pad)} = "
                out += self.whole(name, child, symbol, depth + 1, (*path, k))
            out.append(Line(depth, "", f"}}{tail}"))
            return out
        if type(value) is list:
            if not value:
                return [Line(depth, symbol, f"{label}[]{tail}{note}")]
            out = [Line(depth, symbol, f"{label}[{note}")]
            for i, item in enumerate(value):
                child = Side(item, _child(sens, i), _child(unk, i))
                out += _comma(self.whole("", child, symbol, depth + 1, (*path, i)))
            out.append(Line(depth, "", f"]{tail}"))
            return out
        return [Line(depth, symbol, f"{label}{literal(value)}{tail}{note}")]

    # -- both sides: what changed ------------------------------------------------------------------
    def change(
        self, label: str, before: Side, after: Side, depth: int, path: tuple[Any, ...]
    ) -> list[Line]:
        """The lines for one value that may have changed; [] when it did not."""
        b, a = before.value, after.value
        b_gone = _absent(b) and before.sensitive is not True
        if after.unknown is True:
            return self._to_unknown(label, before, depth, path)
        a_gone = _absent(a) and after.sensitive is not True and not after.unknown
        if b_gone and a_gone:
            return []
        if b_gone:
            return self.whole(label, after, "+", depth, path)
        if a_gone:
            return self.whole(label, before, "-", depth, path)
        note = self.forces(path)
        if before.sensitive is True or after.sensitive is True:
            if before.sensitive is True and after.sensitive is True and b == a:
                return []
            return [Line(depth, "~", f"{label}{SENSITIVE}{note}")]
        if type(b) is dict and type(a) is dict:
            return self._object(label, before, after, depth, path)
        if type(b) is list and type(a) is list:
            return self._list(label, before, after, depth, path)
        if b == a and type(b) is type(a) and not after.unknown:
            return []
        if type(b) in (dict, list) or type(a) in (dict, list):  # the type itself changed
            return self.whole(label, before, "-", depth, path) + self.whole(
                label, after, "+", depth, path
            )
        return [Line(depth, "~", f"{label}{literal(b)} -> {literal(a)}{note}")]

    def _to_unknown(
        self, label: str, before: Side, depth: int, path: tuple[Any, ...]
    ) -> list[Line]:
        b, note = before.value, self.forces(path)
        if _absent(b):
            return [Line(depth, "+", f"{label}{UNKNOWN}{note}")]
        if before.sensitive is True:
            return [Line(depth, "~", f"{label}{SENSITIVE} -> {UNKNOWN}{note}")]
        if type(b) in (dict, list) and b:
            lines = self.whole(label, before, "-", depth, path)
            closing = lines[-1]
            return [
                Line(depth, "~", lines[0].text),
                *lines[1:-1],
                Line(depth, "", f"{closing.text.removesuffix(' -> null')} -> {UNKNOWN}"),
            ]
        return [Line(depth, "~", f"{label}{literal(b)} -> {UNKNOWN}{note}")]

    def _object(
        self, label: str, before: Side, after: Side, depth: int, path: tuple[Any, ...]
    ) -> list[Line]:
        b, a = before.value, after.value
        unk = after.unknown if type(after.unknown) is dict else {}
        keys = sorted(set(b) | set(a) | set(unk), key=str)
        shown = [
            k
            for k in keys
            if not (_absent(b.get(k)) and _absent(a.get(k)) and _child(unk, k) is not True)
        ]
        pad = max((len(key_text(k)) for k in shown), default=0)
        body: list[Line] = []
        unchanged = 0
        for k in shown:
            lines = self.change(
                f"{key_text(k).ljust(pad)} = ",
                Side(b.get(k, ABSENT), _child(before.sensitive, k)),
                Side(a.get(k, ABSENT), _child(after.sensitive, k), _child(unk, k)),
                depth + 1,
                (*path, k),
            )
            body += lines
            unchanged += not lines
        if not body:
            return []
        if unchanged:
            body.append(Line(depth + 1, "", _hidden(unchanged, "attribute")))
        return [
            Line(depth, "~", f"{label}{{{self.forces(path)}"),
            *body,
            Line(depth, "", "}"),
        ]

    def _list(
        self, label: str, before: Side, after: Side, depth: int, path: tuple[Any, ...]
    ) -> list[Line]:
        b, a = before.value, after.value
        unk = after.unknown if type(after.unknown) is list else []
        body: list[Line] = []
        unchanged = 0
        for bi, ai in _align(b, a, unk):
            old = Side(b[bi], _child(before.sensitive, bi)) if bi is not None else Side(ABSENT)
            new = (
                Side(a[ai], _child(after.sensitive, ai), _child(unk, ai))
                if ai is not None
                else Side(ABSENT)
            )
            lines = self.change("", old, new, depth + 1, (*path, ai if ai is not None else bi))
            body += _comma(lines)
            unchanged += not lines
        if not body:
            return []
        if unchanged:
            body.append(Line(depth + 1, "", _hidden(unchanged, "element")))
        return [
            Line(depth, "~", f"{label}[{self.forces(path)}"),
            *body,
            Line(depth, "", "]"),
        ]


def _comma(lines: list[Line]) -> list[Line]:
    """A list element ends with a comma, after its closing bracket when it has one."""
    if not lines:
        return lines
    last = lines[-1]
    text, note = last.text, ""
    if FORCES in text:
        text, note = text.split(FORCES, 1)[0], FORCES
    return [*lines[:-1], Line(last.depth, last.symbol, f"{text},{note}")]


def _align(
    before: list[Any], after: list[Any], unknown: list[Any]
) -> Iterator[tuple[int | None, int | None]]:
    """Pairs of (before index, after index): kept elements by their longest common run,
    the rest paired in place (an element that changed), then what is left added or removed."""
    keyed_b = [json.dumps(v, sort_keys=True) for v in before]
    keyed_a = [
        None if _child(unknown, i) else json.dumps(v, sort_keys=True) for i, v in enumerate(after)
    ]
    n, m = len(before), len(after)
    common = [[0] * (m + 1) for _ in range(n + 1)]
    for i in range(n - 1, -1, -1):
        for j in range(m - 1, -1, -1):
            common[i][j] = (
                common[i + 1][j + 1] + 1
                if keyed_b[i] == keyed_a[j]
                else max(common[i + 1][j], common[i][j + 1])
            )
    i = j = 0
    gone: list[int] = []
    new: list[int] = []

    def flush() -> Iterator[tuple[int | None, int | None]]:
        for k in range(max(len(gone), len(new))):
            yield (gone[k] if k < len(gone) else None, new[k] if k < len(new) else None)
        gone.clear()
        new.clear()

    while i < n or j < m:
        if i < n and j < m and keyed_b[i] == keyed_a[j]:
            yield from flush()
            yield i, j
            i, j = i + 1, j + 1
        elif j < m and (i == n or common[i][j + 1] >= common[i + 1][j]):
            new.append(j)
            j += 1
        else:
            gone.append(i)
            i += 1
    yield from flush()


def resource_lines(
    action: str,
    before: Side,
    after: Side,
    replace_paths: list[list[Any]] | None = None,
) -> list[Line]:
    """The attributes of one resource change, as Terraform's plan lists them.

    A create shows everything it sets; an update or replace what changes; a
    delete, forget or no-op nothing (the report names those resources).
    """
    if action in ("delete", "forget", "no-op"):
        return []
    renderer = _Renderer(replace_paths or [], top_null=True)
    if action in ("create", "create-forget"):
        before = Side(None)
    b = before.value if type(before.value) is dict else {}
    a = after.value if type(after.value) is dict else {}
    unk = after.unknown if type(after.unknown) is dict else {}
    keys = sorted(set(b) | set(a) | set(unk), key=str)
    keys = [k for k in keys if not _absent(a.get(k)) or not _absent(b.get(k)) or unk.get(k)]
    pad = max((len(key_text(k)) for k in keys), default=0)
    out: list[Line] = []
    unchanged = 0
    for k in keys:
        lines = renderer.change(
            f"{key_text(k).ljust(pad)} = ",
            Side(b.get(k, ABSENT), _child(before.sensitive, k)),
            Side(a.get(k, ABSENT), _child(after.sensitive, k), _child(unk, k)),
            0,
            (k,),
        )
        out += lines
        unchanged += not lines
    if out and unchanged:
        out.append(Line(0, "", _hidden(unchanged, "attribute")))
    return out


def output_lines(name: str, action: str, before: Side, after: Side, pad: int = 0) -> list[Line]:
    """One output's change, as the plan's "Changes to Outputs" shows it."""
    renderer = _Renderer([], top_null=True)
    label = f"{key_text(name).ljust(pad)} = "
    if action == "create":
        before = Side(ABSENT)
    if action == "delete":
        after = Side(ABSENT)
    return renderer.change(label, before, after, 0, ())
