"""``manifest.json``: a pointer to a plan run, which the apply verifies rather than trusts.

It names the exact bytes reviewed (sha256 of ``tfplan`` and ``plan.json``),
the environment and its branch, the var files the plan read with their
sha256, whether it was a disaster-recovery plan, and, as information only,
the commit, author, summary and merge request. Whoever holds the plan folder
can rewrite it, so the apply recomputes everything it can from the plan file,
git, Jenkins and the Git platform, and where approval is required it accepts
only a manifest signed with the plan-signing key (``signing_key_id`` names
which key). It is written last, so a plan directory without one is an
unfinished run.

Reading is strict: every field the apply uses is type-checked, and a bad one
is one line naming its JSON path.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runners.errors import InputError

NAME = "manifest.json"
SCHEMA = 2
SIGNING_KEY_ENV = "RUNNERS_PLAN_SIGNING_KEY"
MAX_BYTES = 4 << 20  # a manifest is a few kilobytes; anything this big is not one

_SHA256 = frozenset("0123456789abcdef")


@dataclass(frozen=True)
class VarFile:
    path: str  # relative to the repository root when in_repo, else as given
    in_repo: bool
    sha256: str


@dataclass(frozen=True)
class Manifest:
    path: Path
    data: dict[str, Any]
    stack: str
    environment: str
    environment_branch: str | None
    tfplan_sha256: str
    plan_json_sha256: str
    terraform_version: str
    commit: str | None
    dirty: bool
    var_files: tuple[VarFile, ...]
    dr_region: str | None
    dr_drill: bool  # a dr drill's plan: its state is the drill's, not the rebuild's
    signing_key_id: str | None
    merge_request: dict[str, Any]
    summary: dict[str, Any]


class _Reader:
    """Typed access to one JSON object, naming the path of every bad value."""

    def __init__(self, file: Path, where: str, data: Any) -> None:
        self.file, self.where = file, where
        if not isinstance(data, dict):
            raise self._fail("", f"expected an object, got {_describe(data)}")
        self.data: dict[str, Any] = data

    def _fail(self, key: str, expected: str) -> InputError:
        at = ".".join(p for p in (self.where, key) if p) or "(top level)"
        return InputError(f"{self.file}: {at}: {expected}")

    def has(self, key: str) -> bool:
        return key in self.data

    def text(self, key: str, required: bool = True) -> str | None:
        value = self.data.get(key)
        if value is None and not required:
            return None
        if not isinstance(value, str) or not value:
            raise self._fail(key, f"expected a non-empty string, got {_describe(value)}")
        return value

    def sha(self, key: str) -> str:
        value = self.text(key) or ""
        if len(value) != 64 or not set(value) <= _SHA256:
            raise self._fail(key, f"expected a sha256 in hex, got {_describe(value)}")
        return value

    def flag(self, key: str) -> bool:
        value = self.data.get(key, False)
        if not isinstance(value, bool):
            raise self._fail(key, f"expected true or false, got {_describe(value)}")
        return value

    def obj(self, key: str, required: bool = True) -> _Reader:
        value = self.data.get(key)
        if value is None and not required:
            value = {}
        return _Reader(self.file, ".".join(p for p in (self.where, key) if p), value)

    def items(self, key: str) -> list[_Reader]:
        value = self.data.get(key, [])
        if not isinstance(value, list):
            raise self._fail(key, f"expected a list, got {_describe(value)}")
        base = ".".join(p for p in (self.where, key) if p)
        return [_Reader(self.file, f"{base}[{i}]", item) for i, item in enumerate(value)]


def _describe(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def load(path: Path) -> Manifest:
    try:
        with open(path, "rb") as fh:
            raw = fh.read(MAX_BYTES + 1)
    except FileNotFoundError:
        raise InputError(
            f"{path}: no manifest (the plan run did not finish, or this is not a plan directory)"
        ) from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a directory, not a manifest") from None
    if len(raw) > MAX_BYTES:
        raise InputError(f"{path}: larger than {MAX_BYTES} bytes; not a manifest")
    try:
        data = json.loads(raw.decode("utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: not valid JSON ({exc})") from None
    except RecursionError:
        raise InputError(f"{path}: not a manifest (JSON nested too deeply)") from None
    except ValueError as exc:  # an integer too long to convert, and such
        raise InputError(f"{path}: not a manifest ({exc})") from None
    return parse(path, data)


def parse(path: Path, data: Any) -> Manifest:
    top = _Reader(path, "", data)
    schema = data.get("schema")
    if schema != SCHEMA:
        raise top._fail(
            "schema",
            f"expected {SCHEMA}, got {_describe(schema)} "
            "(made by another version of runners: plan again)",
        )
    git = top.obj("git")
    var_files = tuple(
        VarFile(
            path=v.text("path") or "",
            in_repo=v.flag("in_repo"),
            sha256=v.sha("sha256"),
        )
        for v in top.items("var_files")
    )
    dr = top.obj("dr", required=False)
    mr = top.obj("merge_request", required=False)
    summary = top.obj("summary", required=False)
    return Manifest(
        path=path,
        data=data,
        stack=top.text("stack") or "",
        environment=top.text("environment") or "",
        environment_branch=top.text("environment_branch", required=False),
        tfplan_sha256=top.sha("tfplan_sha256"),
        plan_json_sha256=top.sha("plan_json_sha256"),
        terraform_version=top.text("terraform_version") or "",
        commit=git.text("commit", required=False),
        dirty=git.flag("dirty"),
        var_files=var_files,
        dr_region=dr.text("region") if dr.data else None,
        dr_drill=dr.flag("drill") if dr.data else False,
        signing_key_id=top.text("signing_key_id", required=False),
        merge_request=dict(mr.data),
        summary=dict(summary.data),
    )


def key_id(key: str) -> str:
    """A short public name for a signing key: which key signed, never the key."""
    return hashlib.sha256(b"runners-plan-signing-key:" + key.encode("utf-8")).hexdigest()[:16]


def _canonical(data: dict[str, Any]) -> bytes:
    body = {k: v for k, v in data.items() if k != "signature"}
    return json.dumps(body, sort_keys=True, separators=(",", ":")).encode("utf-8")


def sign(data: dict[str, Any], key: str) -> dict[str, Any]:
    """Record the key's id and add an HMAC over everything, so rewriting it is detected."""
    body = {**data, "signing_key_id": key_id(key)}
    digest = hmac.new(key.encode("utf-8"), _canonical(body), hashlib.sha256).hexdigest()
    return {**body, "signature": {"alg": "hmac-sha256", "value": digest}}


def signature_valid(manifest: Manifest, key: str) -> bool:
    sig = manifest.data.get("signature")
    if not isinstance(sig, dict) or sig.get("alg") != "hmac-sha256":
        return False
    expected = hmac.new(key.encode("utf-8"), _canonical(manifest.data), hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), str(sig.get("value", "")).encode("utf-8"))
