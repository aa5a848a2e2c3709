"""``manifest.json``: the fingerprint of a plan run that the apply checks before anything else.

It names the exact bytes reviewed (sha256 of ``tfplan`` and ``plan.json``),
the code they came from (commit, branch, and the git trees of the stack and
its local modules), the tools (Terraform version, lock file hash), the state
they were planned against, and the merge request. It is written last, so a
plan directory without one is an unfinished run.
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
SCHEMA = 1

REQUIRED = (
    "schema",
    "stack",
    "environment",
    "tfplan_sha256",
    "plan_json_sha256",
    "git",
    "terraform_version",
)


@dataclass(frozen=True)
class Manifest:
    path: Path
    data: dict[str, Any]

    @property
    def stack(self) -> str:
        return str(self.data["stack"])

    @property
    def environment(self) -> str:
        return str(self.data["environment"])

    @property
    def tfplan_sha256(self) -> str:
        return str(self.data["tfplan_sha256"])

    @property
    def plan_json_sha256(self) -> str:
        return str(self.data["plan_json_sha256"])

    @property
    def commit(self) -> str | None:
        value = self.data["git"].get("commit")
        return str(value) if value else None

    @property
    def trees(self) -> dict[str, str | None]:
        return dict(self.data["git"].get("trees") or {})

    @property
    def author(self) -> dict[str, str] | None:
        value = self.data["git"].get("author")
        return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else None

    @property
    def terraform_version(self) -> str:
        return str(self.data["terraform_version"])

    @property
    def lock_file_sha256(self) -> str | None:
        return self.data.get("lock_file_sha256")

    @property
    def summary(self) -> dict[str, Any]:
        return dict(self.data.get("summary") or {})

    @property
    def merge_request(self) -> dict[str, Any]:
        return dict(self.data.get("merge_request") or {})


def load(path: Path) -> Manifest:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(
            f"{path}: no manifest (the plan run did not finish, or this is not a plan directory)"
        ) from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise InputError(f"{path}: expected a JSON object")
    for key in REQUIRED:
        if key not in data:
            raise InputError(f"{path}: {key}: missing")
    if data["schema"] != SCHEMA:
        raise InputError(f"{path}: schema: expected {SCHEMA}, got {data['schema']!r}")
    if not isinstance(data["git"], dict):
        raise InputError(f"{path}: git: expected an object")
    return Manifest(path, data)


SIGNING_KEY_ENV = "RUNNERS_PLAN_SIGNING_KEY"


def _canonical(data: dict[str, Any]) -> bytes:
    body = {k: v for k, v in data.items() if k != "signature"}
    return json.dumps(body, sort_keys=True, separators=(",", ":")).encode("utf-8")


def sign(data: dict[str, Any], key: str) -> dict[str, Any]:
    """Add an HMAC over the manifest, so rewriting it (hashes included) is detected."""
    digest = hmac.new(key.encode("utf-8"), _canonical(data), hashlib.sha256).hexdigest()
    return {**data, "signature": {"alg": "hmac-sha256", "value": digest}}


def signature_valid(manifest: Manifest, key: str) -> bool:
    sig = manifest.data.get("signature")
    if not isinstance(sig, dict) or sig.get("alg") != "hmac-sha256":
        return False
    expected = hmac.new(key.encode("utf-8"), _canonical(manifest.data), hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, str(sig.get("value", "")))
