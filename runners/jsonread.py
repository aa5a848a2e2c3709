"""Typed reading of JSON files that come from outside: plan JSON, manifests, records.

A file someone else wrote (Terraform, an earlier run, a person with write
access to a plan folder) is read once with ``load``, then taken apart through
``Node``: each getter checks the type it expects and, when the file says
otherwise, raises ``InputError`` (exit 2) naming the file and the JSON path::

    plan.json: resource_changes[3].change.actions: expected a list of strings, got 7

Reading is bounded: ``NaN`` and ``Infinity`` are not JSON and are refused,
integers longer than Python's limit (4,300 digits) are refused, and nesting
deeper than the interpreter can walk is refused at load or, by ``nesting``,
wherever a reader recurses into a value. Identifiers (addresses, names,
actions) are text without control characters or lone surrogates, so they can
be printed, logged and matched as they are.

Hot loops can check types themselves and call ``Node.at(...).fail(...)`` only
when something is wrong; the path is put together only then.
"""

from __future__ import annotations

import builtins
import contextlib
import gc
import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from runners.errors import CONTROL, InputError

_IDENTIFIER_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")
_MISSING = object()


def describe(value: object) -> builtins.str:
    """A JSON value as an error names it: ``7``, ``true``, ``null``, ``'text'``, ``an object``."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "an object" if value else "an empty object"
    if isinstance(value, list):
        return f"a list of {len(value)}" if value else "an empty list"
    if value is _MISSING:
        return "nothing (the key is missing)"
    return repr(value)


def is_identifier(text: builtins.str) -> builtins.bool:
    """Text safe to print and match as it is: no control characters, no lone surrogates."""
    return CONTROL.search(text) is None


class Node:
    """A value at a JSON path in a file. Cheap: the path is built only for an error."""

    __slots__ = ("_parent", "_step", "source", "value")

    def __init__(
        self,
        value: Any,
        source: builtins.str,
        parent: Node | None = None,
        step: builtins.str | builtins.int | None = None,
    ) -> None:
        self.value = value
        self.source = source
        self._parent = parent
        self._step = step

    @property
    def path(self) -> builtins.str:
        steps: list[builtins.str | builtins.int] = []
        node: Node | None = self
        while node is not None and node._step is not None:
            steps.append(node._step)
            node = node._parent
        out = ""
        for step in reversed(steps):
            if isinstance(step, builtins.int):
                out += f"[{step}]"
            elif _IDENTIFIER_KEY.match(step):
                out += f".{step}" if out else step
            else:
                out += f"[{json.dumps(step)}]"
        return out

    def fail(self, expected: builtins.str) -> InputError:
        """``source: path: expected ..., got ...`` for this node's value."""
        where = f"{self.source}: {self.path}: " if self.path else f"{self.source}: "
        return InputError(f"{where}expected {expected}, got {describe(self.value)}")

    def at(self, step: builtins.str | builtins.int) -> Node:
        """The child at a key or index (its value is missing when there is none)."""
        value = self.value
        if isinstance(step, builtins.int):
            item = value[step] if isinstance(value, list) and 0 <= step < len(value) else _MISSING
        else:
            item = value.get(step, _MISSING) if isinstance(value, dict) else _MISSING
        return Node(item, self.source, self, step)

    # -- this node's own value ---------------------------------------------------------

    @property
    def missing(self) -> builtins.bool:
        return self.value is _MISSING

    def object(self) -> dict[builtins.str, Any]:
        if not isinstance(self.value, dict):
            raise self.fail("an object")
        return self.value

    def list(self) -> builtins.list[Any]:
        if not isinstance(self.value, list):
            raise self.fail("a list")
        return self.value

    def as_str(self, identifier: builtins.bool = False) -> builtins.str:
        value = self.value
        if not isinstance(value, builtins.str):
            raise self.fail("a string")
        if identifier and not is_identifier(value):
            raise self.fail("text without control characters")
        return value

    # -- keys of an object -------------------------------------------------------------

    def _child(self, key: builtins.str) -> Node:
        self.object()
        return self.at(key)

    def str(
        self,
        key: builtins.str,
        default: builtins.str | None = None,
        required: builtins.bool = False,
        identifier: builtins.bool = False,
    ) -> builtins.str | None:
        """A string at ``key``; missing or null gives ``default`` unless ``required``."""
        child = self._child(key)
        if child.value is _MISSING or child.value is None:
            if required:
                raise child.fail("a string")
            return default
        return child.as_str(identifier)

    def req_str(self, key: builtins.str, identifier: builtins.bool = False) -> builtins.str:
        return self.str(key, required=True, identifier=identifier) or ""

    def bool(self, key: builtins.str, default: builtins.bool = False) -> builtins.bool:
        child = self._child(key)
        if child.value is _MISSING or child.value is None:
            return default
        if not isinstance(child.value, builtins.bool):
            raise child.fail("true or false")
        return child.value

    def int(
        self, key: builtins.str, default: builtins.int | None = None, minimum: builtins.int = 0
    ) -> builtins.int | None:
        child = self._child(key)
        if child.value is _MISSING or child.value is None:
            if default is None:
                raise child.fail(f"an integer >= {minimum}")
            return default
        value = child.value
        if (
            isinstance(value, builtins.bool)
            or not isinstance(value, builtins.int)
            or value < minimum
        ):
            raise child.fail(f"an integer >= {minimum}")
        return value

    def obj(self, key: builtins.str, required: builtins.bool = False) -> Node:
        """The object at ``key``; missing or null reads as an empty object unless ``required``."""
        child = self._child(key)
        if child.value is _MISSING or child.value is None:
            if required:
                raise child.fail("an object")
            return Node({}, self.source, self, key)
        child.object()
        return child

    def items(self, key: builtins.str | None = None) -> Iterator[tuple[builtins.str, Node]]:
        """The members of this object (or of the object at ``key``), each as a node."""
        node = self if key is None else self.obj(key)
        for name in node.object():
            yield name, node.at(name)

    def elements(self, key: builtins.str) -> Iterator[Node]:
        """The elements of the list at ``key``; missing or null reads as empty."""
        child = self._child(key)
        if child.value is _MISSING or child.value is None:
            return
        for i in range(len(child.list())):
            yield child.at(i)

    def str_list(
        self, key: builtins.str, identifier: builtins.bool = False
    ) -> tuple[builtins.str, ...]:
        child = self._child(key)
        if child.value is _MISSING or child.value is None:
            return ()
        value = child.value
        if not isinstance(value, builtins.list) or not all(
            isinstance(v, builtins.str) for v in value
        ):
            raise child.fail("a list of strings")
        if identifier:
            for i, item in enumerate(value):
                if not is_identifier(item):
                    raise child.at(i).fail("text without control characters")
        return tuple(value)


class _NotANumber(ValueError):
    pass


def _no_constant(name: builtins.str) -> Any:
    raise _NotANumber(f"{name} is not a JSON number")


def loads(data: bytes | builtins.str, source: builtins.str) -> Node:
    """Parse JSON text from ``source`` (a file name, for messages)."""
    try:
        with nesting(source):
            value = json.loads(data, parse_constant=_no_constant)
    except UnicodeDecodeError:
        raise InputError(f"{source}: not JSON (not UTF-8 text)") from None
    except json.JSONDecodeError as exc:
        raise InputError(f"{source}: not JSON ({exc})") from None
    except _NotANumber as exc:
        raise InputError(f"{source}: not JSON ({exc})") from None
    except ValueError:
        # The decoder's one other refusal: an integer past Python's digit limit.
        limit = sys.get_int_max_str_digits()
        raise InputError(f"{source}: a number has more than {limit} digits") from None
    return Node(value, source)


def load(
    path: Path, what: builtins.str = "a JSON file", pause_collector: builtins.bool = False
) -> Node:
    """Read and parse a file; a missing or unreadable file is one line naming it.

    ``pause_collector`` is for large documents (a plan of thousands of
    changes): see ``collector_paused``.
    """
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a directory, expected {what}") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror}") from None
    if not pause_collector:
        return loads(data, builtins.str(path))
    with collector_paused():
        return loads(data, builtins.str(path))


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """No cyclic garbage collection while a large document loads, and none over it afterwards.

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


@contextlib.contextmanager
def nesting(source: builtins.str) -> Iterator[None]:
    """Nesting deeper than the interpreter can follow is bad input, not a crash.

    The JSON decoder and every reader that recurses into a value (redaction
    masks, attribute diffs, secret scrubbing) stop at the interpreter's
    recursion limit; a document that deep was not written by Terraform.
    """
    try:
        yield
    except RecursionError:
        raise InputError(
            f"{source}: nested too deeply to read (more than {sys.getrecursionlimit()} levels)"
        ) from None
