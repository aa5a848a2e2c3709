"""A small typed reader over a parsed TOML table that names the key on every error.

The config loader uses it so that a bad file always ends in one line such as
``runners.toml: environments.production.region: expected a string, got 42``.

The rules every value meets live here, once, rather than at each key: text
is non-empty (unless a key says an empty string means something) and holds
no control characters; numbers are finite and within their range; keys hold
no control characters; regions look like AWS regions.
"""

from __future__ import annotations

import builtins
import difflib
import math
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from runners.aws.regions import REGION_EXAMPLE, is_region
from runners.errors import CONTROL, ConfigError

# Bounds that keep any number a sleep, a timer or a socket accepts; a key with
# a narrower meaning passes its own.
MAX_INT = 1_000_000_000
MAX_FLOAT = 1_000_000.0
_LIST_KEYS_SHOWN = 12


def has_control(text: builtins.str) -> builtins.bool:
    """Whether ``text`` holds a control character (or a lone surrogate, or a bidi override)."""
    return CONTROL.search(text) is not None


def _describe(value: object) -> builtins.str:
    if isinstance(value, bool):
        return f"{str(value).lower()} (a boolean)"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "a list"
    return repr(value)


def _out_of_range(kind: str, value: float, minimum: float, maximum: float) -> str:
    if value < minimum:
        return f"expected {kind} >= {minimum}, got {value!r}"
    return f"expected {kind} from {minimum} to {maximum:g}, got {value!r}"


class Table:
    """One TOML table; every getter records that the key is known."""

    def __init__(self, path: Path, prefix: builtins.str, data: dict[builtins.str, Any]) -> None:
        self.path = path
        self.prefix = prefix
        self.data = data
        self._known: set[builtins.str] = set()
        for name in data:
            if has_control(name):
                raise self.fail(name, "a key holds a control character")

    def key(self, name: builtins.str) -> builtins.str:
        return f"{self.prefix}.{name}" if self.prefix else name

    def fail(self, name: builtins.str, expected: builtins.str) -> ConfigError:
        return ConfigError(self.path, self.key(name), expected)

    def _get(self, name: builtins.str) -> Any:
        self._known.add(name)
        return self.data.get(name)

    def has(self, name: builtins.str) -> builtins.bool:
        self._known.add(name)
        return name in self.data

    def text(
        self, name: builtins.str, value: object, allow_empty: builtins.bool = False
    ) -> builtins.str:
        """``value`` (read at ``name``) checked as text: a string, non-empty, no control characters."""
        if not isinstance(value, builtins.str) or (not value and not allow_empty):
            hint = " (leave the key out for the default)" if value == "" else ""
            raise self.fail(name, f"expected a non-empty string, got {_describe(value)}{hint}")
        if has_control(value):
            raise self.fail(name, f"expected text without control characters, got {value!r}")
        return value

    def str(
        self,
        name: builtins.str,
        default: builtins.str | None = None,
        required: builtins.bool = False,
        allow_empty: builtins.bool = False,
    ) -> builtins.str | None:
        value = self._get(name)
        if value is None:
            if required:
                raise self.fail(name, "is required (a string)")
            return default
        return self.text(name, value, allow_empty=allow_empty)

    def req_str(self, name: builtins.str) -> builtins.str:
        value = self.str(name, required=True)
        return value or ""  # str(required=True) never returns None

    def region(self, name: builtins.str, required: builtins.bool = False) -> builtins.str | None:
        """An AWS region name, such as eu-west-1."""
        value = self.str(name, required=required)
        if value is not None and not is_region(value):
            raise self.fail(name, f"expected an AWS region such as {REGION_EXAMPLE}, got {value!r}")
        return value

    def bool(self, name: builtins.str, default: builtins.bool) -> builtins.bool:
        value = self._get(name)
        if value is None:
            return default
        if not isinstance(value, builtins.bool):
            raise self.fail(name, f"expected true or false, got {_describe(value)}")
        return value

    def int(
        self,
        name: builtins.str,
        default: builtins.int,
        minimum: builtins.int = 0,
        maximum: builtins.int = MAX_INT,
    ) -> builtins.int:
        value = self._get(name)
        if value is None:
            return default
        if isinstance(value, builtins.bool) or not isinstance(value, builtins.int):
            raise self.fail(name, f"expected an integer >= {minimum}, got {_describe(value)}")
        if not minimum <= value <= maximum:
            raise self.fail(name, _out_of_range("an integer", value, minimum, maximum))
        return value

    def float(
        self,
        name: builtins.str,
        default: builtins.float,
        minimum: builtins.float = 0.0,
        maximum: builtins.float = MAX_FLOAT,
    ) -> builtins.float:
        value = self._get(name)
        if value is None:
            return default
        if isinstance(value, builtins.bool) or not isinstance(value, builtins.int | builtins.float):
            raise self.fail(name, f"expected a number >= {minimum}, got {_describe(value)}")
        if not math.isfinite(value):
            raise self.fail(name, f"expected a finite number >= {minimum}, got {value!r}")
        if not minimum <= value <= maximum:
            raise self.fail(name, _out_of_range("a number", value, minimum, maximum))
        return builtins.float(value)

    def str_list(
        self, name: builtins.str, default: Iterable[builtins.str] = ()
    ) -> tuple[builtins.str, ...]:
        value = self._get(name)
        if value is None:
            return tuple(default)
        if not isinstance(value, list) or not all(isinstance(v, builtins.str) and v for v in value):
            raise self.fail(name, f"expected a list of non-empty strings, got {_describe(value)}")
        for item in value:
            if has_control(item):
                raise self.fail(name, f"expected text without control characters, got {item!r}")
        return tuple(value)

    def choice(
        self, name: builtins.str, choices: Iterable[builtins.str], default: builtins.str
    ) -> builtins.str:
        options = tuple(choices)
        value = self.str(name, default=default) or default
        if value not in options:
            raise self.fail(name, f"expected one of {', '.join(options)}, got {value!r}")
        return value

    def table(self, name: builtins.str, required: builtins.bool = False) -> Table:
        value = self._get(name)
        if value is None:
            if required:
                raise self.fail(name, "is required (a table)")
            value = {}
        if not isinstance(value, dict):
            raise self.fail(name, f"expected a table, got {_describe(value)}")
        return Table(self.path, self.key(name), value)

    def scalar_map(
        self, name: builtins.str
    ) -> dict[builtins.str, builtins.str | builtins.int | builtins.bool]:
        """A table of plain values: strings (non-empty), integers or booleans."""
        sub = self.table(name)
        out: dict[builtins.str, builtins.str | builtins.int | builtins.bool] = {}
        for k, v in sub.data.items():
            if isinstance(v, builtins.str):
                out[k] = sub.text(k, v)
            elif isinstance(v, builtins.int) and (
                isinstance(v, builtins.bool) or abs(v) <= MAX_INT
            ):
                out[k] = v
            else:
                raise sub.fail(k, f"expected a string, integer or boolean, got {_describe(v)}")
        return out

    def items(self) -> list[tuple[builtins.str, Table]]:
        """Sub-tables keyed by name (``[stacks.NAME]``); every key is one."""
        out = []
        for name in self.data:
            out.append((name, self.table(name)))
        return out

    def only(self, *names: builtins.str) -> None:
        """Declare the table's keys up front, so a misspelt key is the error reported."""
        self._known.update(names)
        self.check_unknown()

    def check_unknown(self) -> None:
        for name in self.data:
            if name not in self._known:
                close = difflib.get_close_matches(name, sorted(self._known), n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                raise self.fail(name, f"unknown key{hint}; expected one of: {self._allowed()}")

    def _allowed(self) -> builtins.str:
        known = sorted(self._known)
        if not known:
            return "nothing"
        if len(known) <= _LIST_KEYS_SHOWN:
            return ", ".join(known)
        shown = ", ".join(known[:_LIST_KEYS_SHOWN])
        return f"{shown} and {len(known) - _LIST_KEYS_SHOWN} more"
