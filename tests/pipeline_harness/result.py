"""What a rehearsed build left: its result, stages, ``sh`` calls, artifacts and log.

Read from the events file the Groovy side writes (one JSON object a line) and
the console log it printed. ``stage_view()`` prints the stages the way
Jenkins' stage view lists them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DECLARATIVE = "Declarative: "  # the stages Jenkins adds: checkout, post actions


@dataclass(frozen=True)
class Stage:
    name: str
    path: tuple[str, ...]  # enclosing stages first: ("Production", "app") for a scripted stage
    status: str  # SUCCESS, UNSTABLE, FAILURE, ABORTED, NOT_BUILT or SKIPPED
    skipped: str | None  # "when", "earlier failure(s)", ...
    agent: bool  # it held an executor (its own agent, a node inside it, or the pipeline's)
    credentials: frozenset[str]  # ids bound at any time inside it (incl. around it)


@dataclass(frozen=True)
class ShCall:
    script: str
    status: int | None  # None when a timeout or a cancellation stopped it
    stage: str | None
    cwd: str  # relative to the workspace
    node: str
    credentials: tuple[str, ...]  # ids bound around it
    stdout: str | None  # only with returnStdout

    @property
    def command(self) -> str:
        """The script on one line, shell continuations joined."""
        return " ".join(self.script.replace("\\\n", " ").split())


@dataclass
class BuildResult:
    job: str
    number: int
    result: str
    description: str | None
    log: str
    events: list[dict[str, Any]]
    archive: Path
    error: str | None = None
    error_line: str | None = None
    stages: list[Stage] = field(default_factory=list)
    sh: list[ShCall] = field(default_factory=list)

    @classmethod
    def read(cls, job: str, number: int, events_file: Path, log: str, archive: Path) -> BuildResult:
        events = [json.loads(line) for line in events_file.read_text().splitlines() if line]
        finished = next((e for e in events if e["type"] == "finished"), None)
        if finished is None:
            raise RuntimeError(
                f"{job} #{number}: the harness ended without finishing the build:\n{log}"
            )
        stages = sorted((e for e in events if e["type"] == "stage"), key=lambda e: e["seq"])
        return cls(
            job=job,
            number=number,
            result=finished["result"],
            description=finished["description"],
            log=log,
            events=events,
            archive=archive,
            error=finished["error"],
            error_line=finished["error_line"],
            stages=[
                Stage(
                    name=e["name"],
                    path=tuple(e["path"]),
                    status=e["status"],
                    skipped=e["skipped"],
                    agent=e["agent"],
                    credentials=frozenset(e["credentials"]),
                )
                for e in stages
            ],
            sh=[
                ShCall(
                    script=e["script"],
                    status=e["status"],
                    stage=e["stage"],
                    cwd=e["cwd"],
                    node=e["node"],
                    credentials=tuple(e["credentials"]),
                    stdout=e.get("stdout"),
                )
                for e in events
                if e["type"] == "sh"
            ],
        )

    # -- what tests ask --------------------------------------------------------------------
    @property
    def stages_run(self) -> list[str]:
        """The Jenkinsfile's stages that ran (not skipped), in order; Jenkins' own left out."""
        return [
            s.name for s in self.stages if s.skipped is None and not s.name.startswith(DECLARATIVE)
        ]

    @property
    def stages_skipped(self) -> dict[str, str]:
        return {s.name: s.skipped for s in self.stages if s.skipped is not None}

    def stage(self, name: str) -> Stage:
        found = [s for s in self.stages if s.name == name]
        if len(found) != 1:
            raise KeyError(f"{len(found)} stages named {name!r}: {[s.name for s in self.stages]}")
        return found[0]

    @property
    def credentials(self) -> dict[str, set[str]]:
        """Credential ids bound inside each stage (a scripted stage's count for its parents too)."""
        bound: dict[str, set[str]] = {}
        for s in self.stages:
            bound.setdefault(s.name, set()).update(s.credentials)
        return bound

    @property
    def artifacts(self) -> dict[str, Path]:
        """Archived artifacts by their path relative to the workspace."""
        names = {f for e in self.events if e["type"] == "archive" for f in e["files"]}
        return {name: self.archive / name for name in sorted(names)}

    @property
    def declared(self) -> dict[str, Any]:
        """The pipeline's options, triggers, parameters and agent, as declared."""
        return next(e for e in self.events if e["type"] == "declared")

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e["type"] == kind]

    def runners_calls(self) -> list[ShCall]:
        return [c for c in self.sh if "runners " in c.script]

    def find(self, *secrets: str) -> list[str]:
        """Where any of ``secrets`` shows: "log", "description", or an artifact's path."""
        places = {"log": self.log, "description": self.description or ""}
        for name, path in self.artifacts.items():
            places[name] = path.read_text(errors="replace")
        return [where for where, text in places.items() if any(s in text for s in secrets)]

    # -- what people read ------------------------------------------------------------------
    def stage_view(self) -> str:
        """The stages as Jenkins' stage view lists them, one line each."""
        width = max((len("  " * (len(s.path) - 1) + s.name) for s in self.stages), default=10)
        lines = [f"{self.job} #{self.number}: {self.result}"]
        for s in self.stages:
            name = "  " * (len(s.path) - 1) + s.name
            status = f"skipped ({s.skipped})" if s.skipped else s.status
            extra = []
            if s.agent:
                extra.append("on an agent")
            if s.credentials:
                extra.append("credentials " + ", ".join(sorted(s.credentials)))
            lines.append(f"  {name:<{width}}  {status:<28} {'; '.join(extra)}".rstrip())
        if self.description:
            lines.append("  description: " + self.description.replace("\n", "\n               "))
        if self.error:
            lines.append(f"  error: {self.error}")
        return "\n".join(lines)
