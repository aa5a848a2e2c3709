"""A small typed reader over a parsed TOML table that names the key on every error.

The config loader uses it so that a bad file always ends in one line such as
``runners.toml: environments.production.region: expected a string, got 42``.
"""

from __future__ import annotations

import builtins
import difflib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from runners.errors import ConfigError


def _describe(value: object) -> str:
    if isinstance(value, bool):
        return f"{str(value).lower()} (a boolean)"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "a list"
    return repr(value)


class Table:
    """One TOML table; every getter records that the key is known."""

    def __init__(self, path: Path, prefix: builtins.str, data: dict[builtins.str, Any]) -> None:
        self.path = path
        self.prefix = prefix
        self.data = data
        self._known: set[builtins.str] = set()

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

    def str(
        self,
        name: builtins.str,
        default: builtins.str | None = None,
        required: builtins.bool = False,
    ) -> builtins.str | None:
        value = self._get(name)
        if value is None:
            if required:
                raise self.fail(name, "is required (a string)")
            return default
        if not isinstance(value, builtins.str) or (required and not value):
            raise self.fail(name, f"expected a non-empty string, got {_describe(value)}")
        return value

    def req_str(self, name: builtins.str) -> builtins.str:
        value = self.str(name, required=True)
        return value or ""  # str(required=True) never returns None

    def bool(self, name: builtins.str, default: builtins.bool) -> builtins.bool:
        value = self._get(name)
        if value is None:
            return default
        if not isinstance(value, builtins.bool):
            raise self.fail(name, f"expected true or false, got {_describe(value)}")
        return value

    def int(
        self, name: builtins.str, default: builtins.int, minimum: builtins.int = 0
    ) -> builtins.int:
        value = self._get(name)
        if value is None:
            return default
        if (
            isinstance(value, builtins.bool)
            or not isinstance(value, builtins.int)
            or value < minimum
        ):
            raise self.fail(name, f"expected an integer >= {minimum}, got {_describe(value)}")
        return value

    def float(
        self, name: builtins.str, default: builtins.float, minimum: builtins.float = 0.0
    ) -> builtins.float:
        value = self._get(name)
        if value is None:
            return default
        if (
            isinstance(value, builtins.bool)
            or not isinstance(value, builtins.int | builtins.float)
            or value < minimum
        ):
            raise self.fail(name, f"expected a number >= {minimum}, got {_describe(value)}")
        return builtins.float(value)

    def str_list(
        self, name: builtins.str, default: Iterable[builtins.str] = ()
    ) -> tuple[builtins.str, ...]:
        value = self._get(name)
        if value is None:
            return tuple(default)
        if not isinstance(value, list) or not all(isinstance(v, builtins.str) and v for v in value):
            raise self.fail(name, f"expected a list of non-empty strings, got {_describe(value)}")
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
        """A table of plain values, as passed to ``-backend-config``."""
        sub = self.table(name)
        out: dict[builtins.str, builtins.str | builtins.int | builtins.bool] = {}
        for k, v in sub.data.items():
            if isinstance(v, builtins.float) or not isinstance(
                v, builtins.str | builtins.int | builtins.bool
            ):
                raise sub.fail(k, f"expected a string, integer or boolean, got {_describe(v)}")
            out[k] = v
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
                allowed = ", ".join(sorted(self._known)) or "nothing"
                raise self.fail(name, f"unknown key{hint}; expected one of: {allowed}")
