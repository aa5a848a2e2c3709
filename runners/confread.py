"""A small typed reader over a parsed TOML table that names the key on every error.

The config loader uses it so that a bad file always ends in one line such as
``runners.toml: environments.production.region: expected a string, got 42``.
"""

from __future__ import annotations

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

    def __init__(self, path: Path, prefix: str, data: dict[str, Any]) -> None:
        self.path = path
        self.prefix = prefix
        self.data = data
        self._known: set[str] = set()

    def key(self, name: str) -> str:
        return f"{self.prefix}.{name}" if self.prefix else name

    def fail(self, name: str, expected: str) -> ConfigError:
        return ConfigError(self.path, self.key(name), expected)

    def _get(self, name: str) -> Any:
        self._known.add(name)
        return self.data.get(name)

    def has(self, name: str) -> bool:
        self._known.add(name)
        return name in self.data

    def str(self, name: str, default: str | None = None, required: bool = False) -> str | None:
        value = self._get(name)
        if value is None:
            if required:
                raise self.fail(name, "is required (a string)")
            return default
        if not isinstance(value, str) or (required and not value):
            raise self.fail(name, f"expected a non-empty string, got {_describe(value)}")
        return value

    def req_str(self, name: str) -> str:
        value = self.str(name, required=True)
        assert value is not None
        return value

    def bool(self, name: str, default: bool) -> bool:
        value = self._get(name)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise self.fail(name, f"expected true or false, got {_describe(value)}")
        return value

    def int(self, name: str, default: int, minimum: int = 0) -> int:
        value = self._get(name)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise self.fail(name, f"expected an integer >= {minimum}, got {_describe(value)}")
        return value

    def float(self, name: str, default: float, minimum: float = 0.0) -> float:
        value = self._get(name)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int | float) or value < minimum:
            raise self.fail(name, f"expected a number >= {minimum}, got {_describe(value)}")
        return float(value)

    def str_list(self, name: str, default: Iterable[str] = ()) -> tuple[str, ...]:
        value = self._get(name)
        if value is None:
            return tuple(default)
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise self.fail(name, f"expected a list of non-empty strings, got {_describe(value)}")
        return tuple(value)

    def choice(self, name: str, choices: Iterable[str], default: str) -> str:
        options = tuple(choices)
        value = self.str(name, default=default)
        assert value is not None
        if value not in options:
            raise self.fail(name, f"expected one of {', '.join(options)}, got {value!r}")
        return value

    def table(self, name: str, required: bool = False) -> Table:
        value = self._get(name)
        if value is None:
            if required:
                raise self.fail(name, "is required (a table)")
            value = {}
        if not isinstance(value, dict):
            raise self.fail(name, f"expected a table, got {_describe(value)}")
        return Table(self.path, self.key(name), value)

    def scalar_map(self, name: str) -> dict[str, str | int | bool]:
        """A table of plain values, as passed to ``-backend-config``."""
        sub = self.table(name)
        out: dict[str, str | int | bool] = {}
        for k, v in sub.data.items():
            if isinstance(v, float) or not isinstance(v, str | int | bool):
                raise sub.fail(k, f"expected a string, integer or boolean, got {_describe(v)}")
            out[k] = v
        return out

    def items(self) -> list[tuple[str, Table]]:
        """Sub-tables keyed by name (``[stacks.NAME]``); every key is one."""
        out = []
        for name in self.data:
            out.append((name, self.table(name)))
        return out

    def only(self, *names: str) -> None:
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
