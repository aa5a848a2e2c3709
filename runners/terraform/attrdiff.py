"""Which attributes a resource change touches, with sensitive values hidden.

A reviewer reads only what changes: for an update, the leaf attributes whose
value differs; for a create, what will be set; for a delete, nothing. Values
marked sensitive on either side print as ``(sensitive value)``; values known
only after apply print as ``(known after apply)``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from runners.terraform.planview import ResourceChange
from runners.terraform.redact import SENSITIVE, is_sensitive

UNKNOWN = "(known after apply)"
_MAX_VALUE = 160
ABSENT = object()


@dataclass(frozen=True)
class AttrChange:
    path: str
    before: str | None  # None: attribute is new
    after: str | None  # None: attribute is removed
    forces_replacement: bool = False


def fmt_path(path: tuple[Any, ...]) -> str:
    out = ""
    for step in path:
        out += f"[{step}]" if isinstance(step, int) else (f".{step}" if out else str(step))
    return out or "(value)"


def _render(value: Any) -> str:
    if value is ABSENT:
        return "null"
    if isinstance(value, str) and value.isprintable() and '"' not in value and "\\" not in value:
        text = f'"{value}"'  # what json.dumps gives for plain text, without its cost per leaf
    else:
        text = json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= _MAX_VALUE else text[: _MAX_VALUE - 1] + "…"


def walk(
    before: Any, after: Any, unknown: Any, path: tuple[Any, ...]
) -> Iterator[tuple[tuple[Any, ...], Any, Any, bool]]:
    """Yield (path, before, after, after_is_unknown) for every differing leaf."""
    if unknown is True:
        yield path, before, ABSENT, True
        return
    if isinstance(before, dict) and isinstance(after, dict):
        unk = unknown if isinstance(unknown, dict) else {}
        # A key known only after apply is in after_unknown alone: it is a change too.
        for key in sorted(set(before) | set(after) | set(unk)):
            yield from walk(
                before.get(key, ABSENT), after.get(key, ABSENT), unk.get(key), (*path, key)
            )
        return
    if isinstance(after, dict) and before in (None, ABSENT):
        unk = unknown if isinstance(unknown, dict) else {}
        if all(v is None for v in after.values()) and not unk:  # an empty object: a change too
            yield path, before, after, False
            return
        for key in sorted(set(after) | set(unk)):
            yield from walk(ABSENT, after.get(key, ABSENT), unk.get(key), (*path, key))
        return
    if (
        isinstance(before, list)
        and isinstance(after, list)
        and len(before) == len(after)
        and any(isinstance(v, dict | list) for v in after)
    ):
        unk_list = unknown if isinstance(unknown, list) else []
        for i, (b, a) in enumerate(zip(before, after, strict=True)):
            yield from walk(b, a, unk_list[i] if i < len(unk_list) else None, (*path, i))
        return
    if before != after and not (before in (None, ABSENT) and after in (None, ABSENT)):
        yield path, before, after, False


def attribute_changes(rc: ResourceChange, limit: int = 40) -> tuple[list[AttrChange], int]:
    """The changed attributes of one resource change, and how many were left out."""
    if rc.action in ("delete", "no-op", "forget"):
        return [], 0
    before = rc.before if rc.action != "create" else None
    replace = {tuple(p) for p in rc.replace_paths}
    before_mask, after_mask = rc.before_sensitive, rc.after_sensitive
    out: list[AttrChange] = []
    hidden = 0
    for path, b, a, unknown in walk(before, rc.after, rc.after_unknown, ()):
        if len(out) >= limit:
            hidden += 1
            continue
        b_text = None if b is ABSENT or b is None else _render(b)
        if b_text is not None and before_mask and is_sensitive(before_mask, path):
            b_text = SENSITIVE
        if unknown:
            a_text: str | None = UNKNOWN
        elif a is ABSENT or a is None:
            a_text = None
        else:
            a_text = SENSITIVE if after_mask and is_sensitive(after_mask, path) else _render(a)
        if b_text == a_text == SENSITIVE:
            a_text = f"{SENSITIVE} (changed)"
        forces = bool(replace) and any(path[: len(p)] == p for p in replace)
        out.append(AttrChange(fmt_path(path), b_text, a_text, forces))
    return out, hidden
