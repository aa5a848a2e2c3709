"""One merge request, several stacks: each stack's outcome in its folder, combined at the end.

Every stack planned for a merge request leaves ``outcome.json`` in its own
folder, whether it planned or failed (written last, atomically). Combining
reads those folders, wherever they were planned (threads of one
``runners plan --affected --jobs N``, or Jenkins ``parallel`` branches on
their own agents, unstashed into one workspace), and writes the merge
request's ``affected.json`` and one ``report.md``, cut to fit a comment. A
folder without an outcome is a stack whose plan never finished: a failure,
named like the others.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runners import jsonread
from runners.errors import InputError
from runners.fsutil import atomic_write_text

OUTCOME = "outcome.json"
SCHEMA = 1
MAX_BYTES = 1 << 20


@dataclass(frozen=True)
class Outcome:
    folder: Path
    stack: str
    environment: str | None
    result: str  # planned | failed
    has_changes: bool = False
    summary: dict[str, Any] | None = None
    error: str | None = None
    base: str | None = None
    head: str | None = None

    def entry(self, out: Path) -> dict[str, Any]:
        """Its line in affected.json."""
        if self.result == "failed":
            return {"stack": self.stack, "result": "failed", "error": self.error}
        return {
            "stack": self.stack,
            "result": "planned",
            "has_changes": self.has_changes,
            "summary": self.summary or {},
            "dir": _relative(self.folder, out),
        }


def _relative(folder: Path, out: Path) -> str:
    try:
        return folder.resolve().relative_to(out.resolve()).as_posix()
    except ValueError:
        return str(folder)


def write(folder: Path, outcome: dict[str, Any]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    atomic_write_text(
        folder / OUTCOME, json.dumps({"schema": SCHEMA, **outcome}, indent=2, sort_keys=True) + "\n"
    )


def read(folder: Path) -> Outcome:
    """A folder's outcome; one that never finished is a failure saying so."""
    path = folder / OUTCOME
    if not path.is_file():
        if not folder.is_dir():
            raise InputError(f"{folder}: no such folder (a stack's plan folder was expected)")
        return Outcome(
            folder,
            folder.name,
            None,
            "failed",
            error=f"{folder.name}: no {OUTCOME} in {folder}: its plan did not finish",
        )
    if path.stat().st_size > MAX_BYTES:
        raise InputError(f"{path}: larger than {MAX_BYTES} bytes; not a plan outcome")
    root = jsonread.load(path, "a plan outcome")
    root.object()
    if root.int("schema", 0) != SCHEMA:
        raise root.at("schema").fail(f"{SCHEMA} (made by another version of runners)")
    result = root.req_str("result", identifier=True)
    if result not in ("planned", "failed"):
        raise root.at("result").fail("planned or failed")
    summary = root.obj("summary").object()
    return Outcome(
        folder=folder,
        stack=root.req_str("stack", identifier=True),
        environment=root.str("environment", identifier=True),
        result=result,
        has_changes=root.bool("has_changes"),
        summary=dict(summary),
        error=root.str("error"),
        base=root.str("base", identifier=True),
        head=root.str("head", identifier=True),
    )


@dataclass(frozen=True)
class Combined:
    outcomes: tuple[Outcome, ...]

    @property
    def failures(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.result == "failed"]

    @property
    def any_changes(self) -> bool:
        return any(o.has_changes for o in self.outcomes)


def combine(
    folders: Iterable[Path],
    out: Path,
    limit: int,
    environment: str | None = None,
    base: str | None = None,
    head: str | None = None,
) -> Combined:
    """Write ``out/affected.json`` and ``out/report.md`` from the stacks' folders."""
    outcomes = tuple(read(f) for f in folders)
    seen: dict[str, Path] = {}
    for o in outcomes:
        if o.stack in seen:
            raise InputError(f"{o.folder} and {seen[o.stack]} both hold a plan of stack {o.stack}")
        seen[o.stack] = o.folder
    envs = {o.environment for o in outcomes if o.environment}
    if len(envs) > 1:
        raise InputError(
            f"the folders hold plans of several environments ({', '.join(sorted(envs))})"
        )
    environment = environment or next(iter(envs), None)
    base = base or _agreed(o.base for o in outcomes)
    head = head or _agreed(o.head for o in outcomes)
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(
        out / "affected.json",
        json.dumps(
            {
                "environment": environment,
                "base": base,
                "head": head,
                "stacks": [o.entry(out) for o in outcomes],
            },
            indent=2,
            sort_keys=True,
        )
        + "\n",
    )
    atomic_write_text(out / "report.md", report(outcomes, limit))
    return Combined(outcomes)


def _agreed(values: Iterable[str | None]) -> str | None:
    found = {v for v in values if v}
    return found.pop() if len(found) == 1 else None


def report(outcomes: Iterable[Outcome], limit: int) -> str:
    """One comment for the whole merge request: each stack's report, cut to fit."""
    parts = []
    for o in outcomes:
        if o.result == "failed":
            parts.append(f"### Terraform plan: `{o.stack}`\n\n**Planning failed:** {o.error}\n")
        else:
            try:
                parts.append((o.folder / "report.md").read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError):
                parts.append(
                    f"### Terraform plan: `{o.stack}`\n\nPlanned, but its `report.md` is "
                    f"missing from {o.folder.name}.\n"
                )
    if not parts:
        return "### Terraform plan\n\nNo stack is affected by this change.\n"
    text = "\n".join(parts)
    if len(text) <= limit:
        return text
    note = (
        "\n\n> **This comment is cut to fit:** each stack's full report is in its "
        "folder's `report.md`, the full plan in its `plan.txt`.\n"
    )
    return text[: limit - len(note)] + note
