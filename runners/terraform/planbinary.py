"""The few facts runners reads from the ``tfplan`` entry of a saved plan, without Terraform.

A saved plan is a zip; its ``tfplan`` entry is a protocol buffer (Terraform's
``internal/plans/planproto/planfile.proto``). The apply needs four of its
fields, which ``terraform show -json`` does not print: the backend the plan
will write to (``Plan.backend``, field 13: type, config, workspace), the
``state_store`` that replaces it in newer releases (field 29), the Terraform
version (field 14) and whether the plan errored (field 20). The backend's
config is a ``DynamicValue``: cty's msgpack encoding of an object.

Both decoders here read only what they need and refuse anything malformed
with ``ValueError``; nothing in a plan file is trusted to be well formed.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

_MAX_DEPTH = 64

# planfile.proto field numbers (message Plan, Backend/StateStore, DynamicValue)
_PLAN_VARIABLES = 2
_PLAN_BACKEND = 13
_PLAN_TERRAFORM_VERSION = 14
_PLAN_ERRORED = 20
_PLAN_STATE_STORE = 29
_BACKEND_TYPE = 1
_BACKEND_CONFIG = 2
_BACKEND_WORKSPACE = 3
_DYNAMIC_MSGPACK = 1
_MAP_KEY = 1


class Unknown:
    """cty's unknown value (msgpack extension 0): known only after apply."""

    def __repr__(self) -> str:
        return "<unknown>"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Unknown)

    def __hash__(self) -> int:
        return 0


UNKNOWN = Unknown()


@dataclass(frozen=True)
class PlanBackend:
    type: str
    config: dict[str, Any]
    workspace: str


@dataclass(frozen=True)
class PlanRecord:
    terraform_version: str
    backend: PlanBackend | None
    uses_state_store: bool
    errored: bool
    variables: tuple[str, ...] = field(default_factory=tuple)


# -- protocol buffers ---------------------------------------------------------


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if pos >= len(data):
            raise ValueError("truncated varint")
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, pos
        shift += 7
        if shift > 63:
            raise ValueError("varint too long")


def fields(data: bytes) -> Iterator[tuple[int, int | bytes]]:
    """(field number, value) pairs of one message: ints for varints, bytes otherwise."""
    pos = 0
    while pos < len(data):
        key, pos = _varint(data, pos)
        number, wire = key >> 3, key & 7
        if number == 0:
            raise ValueError("field number 0")
        if wire == 0:
            value, pos = _varint(data, pos)
            yield number, value
        elif wire == 1:
            if pos + 8 > len(data):
                raise ValueError("truncated fixed64")
            yield number, data[pos : pos + 8]
            pos += 8
        elif wire == 2:
            length, pos = _varint(data, pos)
            if pos + length > len(data):
                raise ValueError("truncated length-delimited field")
            yield number, data[pos : pos + length]
            pos += length
        elif wire == 5:
            if pos + 4 > len(data):
                raise ValueError("truncated fixed32")
            yield number, data[pos : pos + 4]
            pos += 4
        else:
            raise ValueError(f"unsupported wire type {wire}")


def _text(value: int | bytes) -> str:
    if not isinstance(value, bytes):
        raise ValueError("expected a string field")
    return value.decode("utf-8")


def _message(value: int | bytes) -> bytes:
    if not isinstance(value, bytes):
        raise ValueError("expected a message field")
    return value


def _backend(raw: bytes) -> PlanBackend:
    kind, config, workspace = "", b"", ""
    for number, value in fields(raw):
        if number == _BACKEND_TYPE:
            kind = _text(value)
        elif number == _BACKEND_CONFIG:
            for inner, payload in fields(_message(value)):
                if inner == _DYNAMIC_MSGPACK:
                    config = _message(payload)
        elif number == _BACKEND_WORKSPACE:
            workspace = _text(value)
    decoded = unpack(config) if config else {}
    if not isinstance(decoded, dict):
        raise ValueError("the backend config is not an object")
    return PlanBackend(kind, decoded, workspace or "default")


def read_record(raw: bytes) -> PlanRecord:
    """The facts of the ``tfplan`` entry; ValueError when it is not a plan message."""
    version, backend, store, errored = "", None, False, False
    variables: list[str] = []
    for number, value in fields(raw):
        if number == _PLAN_TERRAFORM_VERSION:
            version = _text(value)
        elif number == _PLAN_BACKEND:
            backend = _backend(_message(value))
        elif number == _PLAN_STATE_STORE:
            store = True
        elif number == _PLAN_ERRORED:
            errored = bool(value)
        elif number == _PLAN_VARIABLES:
            for inner, key in fields(_message(value)):
                if inner == _MAP_KEY:
                    variables.append(_text(key))
    if not version:
        raise ValueError("no Terraform version in the plan")
    return PlanRecord(version, backend, store, errored, tuple(sorted(variables)))


# -- msgpack (the subset cty writes) -------------------------------------------


def unpack(data: bytes) -> Any:
    value, pos = _unpack(data, 0, 0)
    if pos != len(data):
        raise ValueError("trailing bytes after a msgpack value")
    return value


def _take(data: bytes, pos: int, n: int) -> tuple[bytes, int]:
    if pos + n > len(data):
        raise ValueError("truncated msgpack value")
    return data[pos : pos + n], pos + n


def _uint(data: bytes, pos: int, n: int) -> tuple[int, int]:
    raw, pos = _take(data, pos, n)
    return int.from_bytes(raw, "big"), pos


def _unpack(data: bytes, pos: int, depth: int) -> tuple[Any, int]:
    if depth > _MAX_DEPTH:
        raise ValueError("msgpack value nested too deeply")
    head, pos = _uint(data, pos, 1)
    if head <= 0x7F:
        return head, pos
    if head >= 0xE0:
        return head - 0x100, pos
    if 0x80 <= head <= 0x8F:
        return _map(data, pos, head & 0x0F, depth)
    if 0x90 <= head <= 0x9F:
        return _array(data, pos, head & 0x0F, depth)
    if 0xA0 <= head <= 0xBF:
        return _str(data, pos, head & 0x1F)
    simple = {0xC0: None, 0xC2: False, 0xC3: True}
    if head in simple:
        return simple[head], pos
    sized = {0xC4: 1, 0xC5: 2, 0xC6: 4}  # bin 8/16/32
    if head in sized:
        n, pos = _uint(data, pos, sized[head])
        return _take(data, pos, n)
    strs = {0xD9: 1, 0xDA: 2, 0xDB: 4}
    if head in strs:
        n, pos = _uint(data, pos, strs[head])
        return _str(data, pos, n)
    if head in (0xCA, 0xCB):
        raw, pos = _take(data, pos, 4 if head == 0xCA else 8)
        return struct.unpack(">f" if head == 0xCA else ">d", raw)[0], pos
    uints = {0xCC: 1, 0xCD: 2, 0xCE: 4, 0xCF: 8}
    if head in uints:
        return _uint(data, pos, uints[head])
    ints = {0xD0: 1, 0xD1: 2, 0xD2: 4, 0xD3: 8}
    if head in ints:
        raw, pos = _take(data, pos, ints[head])
        return int.from_bytes(raw, "big", signed=True), pos
    arrays = {0xDC: 2, 0xDD: 4}
    if head in arrays:
        n, pos = _uint(data, pos, arrays[head])
        return _array(data, pos, n, depth)
    maps = {0xDE: 2, 0xDF: 4}
    if head in maps:
        n, pos = _uint(data, pos, maps[head])
        return _map(data, pos, n, depth)
    fixext = {0xD4: 1, 0xD5: 2, 0xD6: 4, 0xD7: 8, 0xD8: 16}
    if head in fixext:
        _, pos = _take(data, pos, 1 + fixext[head])
        return UNKNOWN, pos  # cty writes only extension 0: an unknown value
    exts = {0xC7: 1, 0xC8: 2, 0xC9: 4}
    if head in exts:
        n, pos = _uint(data, pos, exts[head])
        _, pos = _take(data, pos, 1 + n)
        return UNKNOWN, pos
    raise ValueError(f"unsupported msgpack byte 0x{head:02x}")


def _str(data: bytes, pos: int, n: int) -> tuple[str, int]:
    raw, pos = _take(data, pos, n)
    return raw.decode("utf-8"), pos


def _array(data: bytes, pos: int, n: int, depth: int) -> tuple[list[Any], int]:
    out = []
    for _ in range(n):
        item, pos = _unpack(data, pos, depth + 1)
        out.append(item)
    return out, pos


def _map(data: bytes, pos: int, n: int, depth: int) -> tuple[dict[Any, Any], int]:
    out: dict[Any, Any] = {}
    for _ in range(n):
        key, pos = _unpack(data, pos, depth + 1)
        value, pos = _unpack(data, pos, depth + 1)
        if isinstance(key, list | dict | bytes):
            raise ValueError("unhashable msgpack map key")
        out[key] = value
    return out, pos
