"""Render a plan summary as a merge-request comment (Markdown) or as plain text.

Destroyed and replaced addresses come first, then each change with only the
attributes that change, sensitive values redacted. The Markdown is built block
by block so it stops, and says so, before it passes the comment limit.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from runners import jsonread
from runners.terraform.attrdiff import AttrChange, attribute_changes
from runners.terraform.planview import OutputChange, PlanView, ResourceChange
from runners.terraform.protection import Protection
from runners.terraform.redact import SENSITIVE
from runners.terraform.render import Line, Side, key_text, output_lines, resource_lines
from runners.terraform.secrets import Scrubber
from runners.terraform.summary import Summary, is_protected

_ORDER = {
    "delete": 0,
    "replace": 1,
    "create": 2,
    "update": 3,
    "create-forget": 4,
    "forget": 5,
    "no-op": 6,
}
_VERBS = {
    "delete": ("-", "will be destroyed"),
    "replace": ("-/+", "will be replaced"),
    "create": ("+", "will be created"),
    "update": ("~", "will be updated in place"),
    "forget": (".", "will no longer be managed (not destroyed)"),
    "create-forget": ("+.", "will be created, then no longer managed"),
    "no-op": ("", "unchanged"),
}


MAX_LINES = 80  # of one resource's attributes in the Markdown report


@dataclass
class ReportContext:
    stack: str | None = None
    environment: str | None = None
    commit: str | None = None
    merge_request: str | None = None
    tfplan_sha256: str | None = None
    full_text_name: str = "plan.txt"
    build_url: str | None = None
    plan_text_url: str | None = None  # the plan.txt artifact, when the build archives it
    review: str | None = None  # whether this is the plan reviewed on the merge request
    next_steps: tuple[str, ...] = ()  # what happens next, one sentence each


@dataclass(slots=True)
class Entry:
    address: str
    action: str
    symbol: str
    verb: str
    attrs: list[AttrChange] = field(default_factory=list)
    hidden: int = 0
    reason: str | None = None
    protected: bool = False
    rc: ResourceChange | None = None
    lines: list[Line] = field(default_factory=list)
    more: int = 0  # lines left out of ``lines``

    def with_details(self) -> Entry:
        """Work out the changed attributes: only for entries that will be shown."""
        if self.rc is not None and not self.attrs:
            self.attrs, self.hidden = attribute_changes(self.rc)
        return self

    def with_lines(self, limit: int = MAX_LINES) -> Entry:
        """The attributes as Terraform shows them, nested: only for entries that will be shown."""
        rc = self.rc
        if rc is not None and not self.lines:
            lines = resource_lines(
                rc.action,
                Side(rc.before, rc.before_sensitive),
                Side(rc.after, rc.after_sensitive, rc.after_unknown),
                rc.replace_paths,
            )
            self.lines, self.more = lines[:limit], max(0, len(lines) - limit)
        return self


@dataclass
class OutputEntry:
    name: str
    verb: str
    value: str | None
    lines: list[Line] = field(default_factory=list)


def _reason(rc: ResourceChange) -> str | None:
    # Most changes have none of the three: skip the work for them.
    if not (rc.action_reason or rc.previous_address or rc.importing):
        return None
    parts = []
    if rc.importing:
        parts.append("imported")
    if rc.previous_address:
        parts.append(f"moved from `{rc.previous_address}`")
    if rc.action_reason:
        parts.append(rc.action_reason.replace("_", " "))
    return "; ".join(parts) or None


def entries(plan: PlanView, protection: Protection) -> Iterator[Entry]:
    """Resource changes a reviewer must read, most dangerous first."""
    interesting = [
        rc
        for rc in plan.resource_changes
        if rc.mode == "managed" and (rc.action != "no-op" or rc.importing or rc.previous_address)
    ]
    interesting.sort(key=lambda rc: (_ORDER.get(rc.action, 9), rc.address))
    for rc in interesting:
        action = rc.action
        symbol, verb = _VERBS.get(action, ("?", action))
        if action == "no-op":
            verb = "will be imported" if rc.importing else "has moved"
        yield Entry(
            rc.address,
            action,
            symbol,
            verb,
            rc=rc,
            reason=_reason(rc),
            protected=action in ("delete", "replace") and is_protected(rc, protection),
        )


def output_entries(plan: PlanView) -> list[OutputEntry]:
    changed = [oc for oc in plan.output_changes if oc.action != "no-op"]
    pad = max((len(key_text(oc.name)) for oc in changed), default=0)
    out = []
    for oc in changed:
        lines = output_lines(
            oc.name,
            oc.action,
            Side(oc.before, oc.before_sensitive),
            Side(oc.after, oc.after_sensitive, oc.after_unknown),
            pad,
        )
        out.append(
            OutputEntry(
                oc.name, _VERBS.get(oc.action, ("", oc.action))[1], _output_value(oc), lines
            )
        )
    return out


def _output_value(oc: OutputChange) -> str | None:
    if oc.action == "delete":
        return None
    if oc.after_sensitive or oc.before_sensitive:
        return SENSITIVE
    if oc.after_unknown:
        return "(known after apply)"
    text = json.dumps(oc.after, sort_keys=True)
    return text if len(text) <= 160 else text[:159] + "…"


@cache
def _env() -> Any:
    from runners.templating import environment

    # Markdown, not HTML; values are code-quoted by the template.
    return environment("templates", autoescape=False, keep_trailing_newline=True)


@cache
def _macros() -> Any:
    return _env().get_template("report.md.j2").module


def warm_up() -> None:
    """Load jinja2 and the report template now (a background thread, while Terraform plans)."""
    _macros()


def render_markdown(
    plan: PlanView,
    summary: Summary,
    context: ReportContext,
    protection: Protection,
    limit: int = 60_000,
) -> str:
    with jsonread.nesting(plan.source):
        return _render_markdown(plan, summary, context, protection, limit)


def _render_markdown(
    plan: PlanView, summary: Summary, context: ReportContext, protection: Protection, limit: int
) -> str:
    m = _macros()
    sc = Scrubber.for_plan(plan)
    ctx = {
        **context.__dict__,
        "format_version": summary.format_version,
        "terraform_version": summary.terraform_version,
        "sensitive_redacted": summary.sensitive_redacted,
    }
    parts: list[str] = [sc.scrub(str(m.heading(ctx, summary)))]
    reserve = len(str(m.footer(ctx, "x" * 120))) + 200
    budget = limit - reserve - len(parts[0])
    cut: list[str] = []

    for title, items in (("Destroyed", summary.destroys), ("Replaced", summary.replaces)):
        if not items:
            continue
        _shown, more, text = _fit_list(m, title, items, budget // 2)
        parts.append(text)
        budget -= len(text)
        if more:
            cut.append(f"{more} of {len(items)} {title.lower()} addresses left out")

    outs = output_entries(plan)
    outputs_text = sc.scrub(str(m.outputs(outs))) if outs else ""
    budget -= len(outputs_text)

    blocks_total = 0
    blocks_shown = 0
    details: list[str] = []
    for entry in entries(plan, protection):
        blocks_total += 1
        if budget <= 0:
            continue
        block = sc.scrub(str(m.resource_block(entry.with_lines())))
        if len(block) > budget:
            budget = 0
            continue
        details.append(block)
        budget -= len(block)
        blocks_shown += 1
    if details:
        parts.append("#### Changes\n")
        parts.extend(details)
    if blocks_shown < blocks_total:
        cut.append(f"details of {blocks_total - blocks_shown} of {blocks_total} resources left out")
    if outputs_text:
        parts.append(outputs_text)
    parts.append(str(m.footer(ctx, "; ".join(cut))))
    text = "\n".join(p.rstrip("\n") + "\n" for p in parts)
    return text[:limit]


def _fit_list(m: Any, title: str, items: list[str], budget: int) -> tuple[int, int, str]:
    size = sum(len(a) + 6 for a in items)
    if size <= budget:
        return len(items), 0, str(m.address_list(title, items, 0))
    shown = 0
    used = 0
    for addr in items:
        used += len(addr) + 6
        if used > budget:
            break
        shown += 1
    return shown, len(items) - shown, str(m.address_list(title, items[:shown], len(items) - shown))


def render_text(
    plan: PlanView, summary: Summary, protection: Protection, detail_lines: int = 2_000
) -> str:
    """Plain text: every change on a line, attribute details until ``detail_lines`` are used."""
    with jsonread.nesting(plan.source):
        return _render_text(plan, summary, protection, detail_lines)


def _render_text(
    plan: PlanView, summary: Summary, protection: Protection, detail_lines: int
) -> str:
    lines = [summary.plan_line()]
    extras = []
    if summary.replace:
        extras.append(f"{summary.replace} replace")
    if summary.import_:
        extras.append(f"{summary.import_} import")
    if summary.forget:
        extras.append(f"{summary.forget} forget")
    if summary.move:
        extras.append(f"{summary.move} move")
    if summary.drift:
        extras.append(f"{summary.drift} drifted")
    if extras:
        lines.append("Also: " + ", ".join(extras) + ".")
    if summary.errored:
        lines.append("Planning failed: Terraform reported an error.")
    if summary.protected:
        lines.append(
            f"PROTECTED: {len(summary.protected)} protected resource(s) destroyed or replaced "
            f"(apply needs --confirm-destroy {len(summary.protected)}):"
        )
        lines.extend(f"  ! {a}" for a in summary.protected)
    budget = detail_lines
    without_details = 0
    for entry in entries(plan, protection):
        lines.append(
            f"{entry.symbol or '='} {entry.address} {entry.verb}"
            + (f" ({entry.reason})" if entry.reason else "")
        )
        if budget <= 0:
            without_details += 1
            continue
        entry.with_details()
        lines.extend(_text_attrs(entry.attrs))
        budget -= len(entry.attrs)
        if entry.hidden:
            lines.append(f"      … {entry.hidden} more attributes")
    for o in output_entries(plan):
        lines.append(
            f"output {o.name}: {o.verb}" + (f" -> {o.value}" if o.value is not None else "")
        )
    if without_details:
        lines.append(
            f"(attribute details of the last {without_details} changes left out; "
            "see `terraform show` or --format md)"
        )
    if summary.sensitive_redacted:
        lines.append(f"{summary.sensitive_redacted} sensitive value(s) redacted.")
    return Scrubber.for_plan(plan).scrub("\n".join(lines) + "\n")


def _text_attrs(attrs: Iterable[AttrChange]) -> Iterator[str]:
    for a in attrs:
        note = "  # forces replacement" if a.forces_replacement else ""
        if a.before is not None and a.after is not None:
            yield f"      {a.path}: {a.before} -> {a.after}{note}"
        elif a.after is not None:
            yield f"      {a.path} = {a.after}{note}"
        else:
            yield f"      {a.path} = {a.before} -> null"
