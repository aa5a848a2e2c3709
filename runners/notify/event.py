"""What a notification says: one event, built from the plan summary and run metadata only.

An ``Event`` never sees plan values. Its counts and protected addresses come
from ``Summary.to_dict()`` (a whitelist of keys is read, everything else is
ignored), the rest from the manifest and the build. Resource addresses are
safe to show: Terraform refuses sensitive values in ``for_each`` keys.
Free text (names, the reason) is cut to one line, so it can go into an e-mail
subject or a log line unchanged.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from runners.change.manifest import Manifest
from runners.ci import BuildContext
from runners.errors import plain

REASON_MAX = 500
FIELD_MAX = 300
EXCERPT_MAX = 3_000
REPORT_HEADING = "### Terraform plan"

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_SPACE = re.compile(r"\s+")
# Where report.md starts showing attribute or output values (runners/templates/report.md.j2).
_VALUES = re.compile(r"^(?:#### Changes|#### Outputs|<details|```)", re.M)


class EventKind(StrEnum):
    PLAN_READY = "plan_ready"
    APPLY_STARTED = "apply_started"
    APPLY_SUCCEEDED = "apply_succeeded"
    APPLY_FAILED = "apply_failed"
    REFUSED = "refused"
    DRIFT_FOUND = "drift_found"


@dataclass(frozen=True)
class Counts:
    """The summary counts a reader acts on, as ``runners summarize`` reports them."""

    add: int = 0
    change: int = 0
    destroy: int = 0
    replace: int = 0
    import_: int = 0
    forget: int = 0
    drift: int = 0

    @classmethod
    def from_summary(cls, summary: Mapping[str, Any]) -> Counts:
        def count(key: str) -> int:
            value = summary.get(key, 0)
            return value if isinstance(value, int) and not isinstance(value, bool) else 0

        return cls(
            add=count("add"),
            change=count("change"),
            destroy=count("destroy"),
            replace=count("replace"),
            import_=count("import"),
            forget=count("forget"),
            drift=count("drift"),
        )

    def to_dict(self) -> dict[str, int]:
        return {
            "add": self.add,
            "change": self.change,
            "destroy": self.destroy,
            "replace": self.replace,
            "import": self.import_,
            "forget": self.forget,
            "drift": self.drift,
        }


def one_line(value: str | None, limit: int = FIELD_MAX) -> str | None:
    """Whitespace runs (newlines included) become one space; colour codes and control characters go."""
    if value is None:
        return None
    text = _SPACE.sub(" ", _CONTROL.sub("", plain(str(value)))).strip()
    if not text:
        return None
    return text if len(text) <= limit else text[: limit - 1] + "…"


def excerpt(text: str | None, limit: int = EXCERPT_MAX) -> str | None:
    """The head of a ``report.md`` (counts, warnings, addresses), cut at a line boundary.

    It stops before the first section that shows values. Terraform's sensitive
    marks are not enough to trust those in a message (``terraform_data.output``
    copies a sensitive ``input`` without the mark); the report scrubs every
    string the plan marks anywhere, but a value never marked cannot be known
    to be secret, and messages reach a wider audience than the merge request.
    """
    if not text or not text.lstrip().startswith(REPORT_HEADING):
        return None  # only report.md is cut safely; plan.txt and the like are never sent
    clean = _CONTROL.sub("", text.replace("\r\n", "\n"))
    head = _VALUES.split(clean, maxsplit=1)
    clean = head[0].strip("\n")
    if len(head) > 1:
        clean += "\n\n(changed attributes and outputs are not sent; see the report in the build)"
    if len(clean) <= limit:
        return clean
    cut = clean[:limit]
    if "\n" in cut:
        cut = cut[: cut.rindex("\n")]
    return cut.rstrip() + "\n… (cut; the full report is in the build)"


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


@dataclass(frozen=True)
class Event:
    kind: EventKind
    stack: str
    environment: str
    counts: Counts | None = None  # None: no plan was read (a refusal before the manifest)
    protected: tuple[str, ...] = ()
    triggered_by: str | None = None
    approved_by: str | None = None
    merge_request: str | None = None
    merge_request_url: str | None = None
    commit: str | None = None
    build_url: str | None = None
    reason: str | None = None
    report_excerpt: str | None = None
    occurred_at: str = field(default_factory=_now)

    def __post_init__(self) -> None:
        # Normalise here rather than in a factory, so no way of building an
        # Event can put a newline into an e-mail header or a log line.
        fix = object.__setattr__
        fix(self, "kind", EventKind(self.kind))
        fix(self, "stack", one_line(self.stack) or "?")
        fix(self, "environment", one_line(self.environment) or "?")
        fix(self, "protected", tuple(a for a in (one_line(p) for p in self.protected) if a))
        for name in (
            "triggered_by",
            "approved_by",
            "merge_request",
            "merge_request_url",
            "commit",
            "build_url",
        ):
            fix(self, name, one_line(getattr(self, name)))
        fix(self, "reason", one_line(self.reason, REASON_MAX))
        fix(self, "report_excerpt", excerpt(self.report_excerpt))

    @property
    def short_commit(self) -> str | None:
        return self.commit[:12] if self.commit else None

    @classmethod
    def from_summary(
        cls,
        kind: EventKind,
        *,
        stack: str,
        environment: str,
        summary: Mapping[str, Any] | None = None,
        triggered_by: str | None = None,
        approved_by: str | None = None,
        merge_request: str | None = None,
        merge_request_url: str | None = None,
        commit: str | None = None,
        build_url: str | None = None,
        reason: str | None = None,
        report_excerpt: str | None = None,
    ) -> Event:
        """An event from ``Summary.to_dict()`` (or None when there is no plan) and metadata."""
        data = summary or {}
        protected = data.get("protected") or []
        return cls(
            kind=kind,
            stack=stack,
            environment=environment,
            counts=Counts.from_summary(data) if summary is not None else None,
            protected=tuple(str(a) for a in protected) if isinstance(protected, list) else (),
            triggered_by=triggered_by,
            approved_by=approved_by,
            merge_request=merge_request,
            merge_request_url=merge_request_url,
            commit=commit,
            build_url=build_url,
            reason=reason,
            report_excerpt=report_excerpt,
        )

    @classmethod
    def from_manifest(
        cls,
        kind: EventKind,
        manifest: Manifest,
        build: BuildContext,
        *,
        approved_by: str | None = None,
        reason: str | None = None,
        report_excerpt: str | None = None,
    ) -> Event:
        """An event about a reviewed plan: what it does from the manifest, who from this build."""
        mr = manifest.merge_request
        return cls.from_summary(
            kind,
            stack=manifest.stack,
            environment=manifest.environment,
            summary=manifest.summary,
            triggered_by=build.triggered_by,
            approved_by=approved_by,
            merge_request=_str(mr.get("id")) or build.merge_request,
            merge_request_url=_str(mr.get("url")) or build.merge_request_url,
            commit=manifest.commit,
            build_url=build.build_url,
            reason=reason,
            report_excerpt=report_excerpt,
        )


def _str(value: object) -> str | None:
    return None if value is None else str(value)
