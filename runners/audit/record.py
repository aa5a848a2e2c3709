"""An audit record: who did what to which stack, from which plan, with what result."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import socket
import uuid
from dataclasses import asdict, dataclass, field
from typing import Any

from runners import __version__
from runners.errors import plain

SUMMARY_KEYS = ("add", "change", "destroy", "replace", "import", "forget", "drift")


def now() -> str:
    # Milliseconds: a refusal and the apply that follows it can start in the same second.
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")


def new_id(started: str) -> str:
    """Sortable by time, unique across hosts: 20261126T160431.123Z-3f2a9c1b."""
    stamp = started.replace("-", "").replace(":", "").replace("+0000", "Z").replace("+00:00", "Z")
    return f"{stamp}-{uuid.uuid4().hex[:8]}"


@dataclass
class AuditRecord:
    kind: str  # plan | apply | drift | unlock
    # planned | no-changes | started | applied | failed | refused | locked | interrupted |
    # drifted | in-sync | unlocked
    result: str
    stack: str
    environment: str
    started_at: str
    finished_at: str = ""
    id: str = ""
    triggered_by: str | None = None
    approved_by: str | None = None
    build_cause: str | None = None
    build_url: str | None = None
    merge_request: dict[str, Any] = field(default_factory=dict)
    commit: str | None = None
    branch: str | None = None
    plan_sha256: str | None = None
    summary: dict[str, Any] = field(default_factory=dict)
    reason: str | None = None
    notifications_failed: list[str] = field(default_factory=list)
    host: str = field(default_factory=socket.gethostname)
    runners_version: str = __version__
    # An apply's "started" record and its outcome share the run id (the lock's).
    run_id: str | None = None
    state: str | None = None  # the state written: s3://bucket/key or a file path
    # Where each checked fact came from: {"approved_by": "jenkins", "head": "...", ...}
    evidence: dict[str, str] = field(default_factory=dict)
    # HMAC of the facts a later apply relies on, with the plan-signing key (see ``seal``).
    seal: str | None = None
    # The plan's change fingerprint (runners.change.fingerprint): hashes, never values.
    fingerprint: dict[str, Any] | None = None
    # Whether the plan is the one reviewed on the merge request(s) merged since the last
    # apply: {"summary": "...", "identical_to": "!12" | None, "merge_requests": [...]}.
    review: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        if not self.id:
            self.id = new_id(self.started_at)

    def finish(self, result: str, reason: str | None = None) -> AuditRecord:
        """Close the record; a note made on the way (a lock not released) is kept after the reason.

        The reason is kept without terminal colour: Terraform's messages carry
        it when Jenkins turns colour on.
        """
        self.result = result
        notes = [plain(r) for r in (reason, self.reason) if r]
        self.reason = "; ".join(notes) or None
        self.finished_at = now()
        return self

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AuditRecord:
        if not isinstance(data, dict):
            raise TypeError("an audit record is a JSON object")
        known = cls.__dataclass_fields__
        return cls(**{k: v for k, v in data.items() if k in known})


_SEALED = ("id", "kind", "result", "stack", "environment", "commit", "state", "run_id")


def _sealed_body(record: AuditRecord) -> bytes:
    body = {k: getattr(record, k) for k in _SEALED}
    return json.dumps(body, sort_keys=True, separators=(",", ":")).encode("utf-8")


def seal(record: AuditRecord, key: str) -> None:
    """Vouch for an apply record with the plan-signing key.

    An "applied" record naming a later commit would shorten the change whose
    authors may not approve it. The apply prefix is the apply role's alone
    (runner-role), but a policy can be loosened and a local ledger is anyone's
    file: only sealed records say where a change starts.
    """
    record.seal = hmac.new(key.encode("utf-8"), _sealed_body(record), hashlib.sha256).hexdigest()


def sealed_by(record: AuditRecord, key: str) -> bool:
    if not isinstance(record.seal, str):
        return False
    expected = hmac.new(key.encode("utf-8"), _sealed_body(record), hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), record.seal.encode("utf-8"))


def summary_counts(summary: dict[str, Any]) -> dict[str, Any]:
    """Only counts and addresses: a summary never carries values, sensitive or not."""
    out: dict[str, Any] = {k: int(summary.get(k, 0) or 0) for k in SUMMARY_KEYS}
    out["protected"] = list(summary.get("protected") or [])
    out["has_changes"] = bool(summary.get("has_changes"))
    return out
