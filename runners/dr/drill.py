"""``runners dr drill``: rebuild a stack in the backup region for real, check it, tear it down, time it.

A rehearsal of the whole path, not of its first step: ``dr prepare``, the
``dr plan`` machinery and ``runners apply``'s contract, into a state of the
drill's own beside the rebuild's (``drplan.drill_backend``), so a drill never
touches a real rebuild nor the environment. Then the check (the outputs the
stack's ``[dr.stacks.NAME.drill]`` names must be set, its smoke command must
pass), then ``terraform destroy`` of what the drill made.

The **measured RTO** is the time from the start of ``prepare`` to a checked
rebuild: prepare, plan, apply and check. The destroy is timed too, apart.
Each step's seconds go into the audit record (kind ``drill``, in the
rebuild's ledger in the backup region, so the runbook ``dr prepare`` writes
during an outage can state the last drill) and into a JUnit report.

A destroy that fails is never silent: the drill fails (exit 1), naming every
resource the drill state still holds.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
import xml.etree.ElementTree as ET  # writing XML, not parsing untrusted input
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

from runners import log
from runners.audit.ledger import open_ledger
from runners.audit.record import AuditRecord
from runners.change.applier import Applier, ApplyRequest
from runners.change.plan_jobs import planned
from runners.change.planner import plan_stack
from runners.ci import BuildContext
from runners.dr import drplan, outputs, workflow
from runners.dr.clients import DrClients
from runners.dr.model import DrillResult, Preparation
from runners.dr.settings import DrillSettings
from runners.errors import RunnersError, one_line
from runners.fsutil import atomic_write_text
from runners.gitrepo import GitRepo
from runners.stacks import Target
from runners.terraform.workspace import Workspace

KIND = "drill"
RTO_STEPS = ("prepare", "plan", "apply", "check")
DRILL_TFVARS = "drill.auto.tfvars.json"
OUTPUTS = "outputs.json"


@dataclass
class Step:
    name: str
    seconds: float = 0.0
    ok: bool = False
    detail: str = ""


@dataclass
class DrillReport:
    stack: str
    environment: str
    source_region: str
    target_region: str
    started_at: datetime
    steps: list[Step] = field(default_factory=list)
    left: list[str] = field(default_factory=list)  # what the drill state still holds
    state: str = ""  # where the drill state is
    rpo_seconds: float | None = None

    @property
    def rto_seconds(self) -> float:
        """Prepare to a checked rebuild: the time a real rebuild would take, as measured."""
        return sum(s.seconds for s in self.steps if s.name in RTO_STEPS)

    @property
    def passed(self) -> bool:
        names = {s.name for s in self.steps if s.ok}
        return names >= {*RTO_STEPS, "destroy"} and not self.left

    def step(self, name: str) -> Step | None:
        return next((s for s in self.steps if s.name == name), None)


@dataclass(frozen=True)
class DrillRequest:
    target: Target
    region: str
    out: Path
    approver: str | None
    build: BuildContext
    allow_missing: bool = False
    timeout_minutes: float | None = 120.0


class StepFailed(Exception):
    """A step of the drill did not succeed; its reason is the message."""


@contextmanager
def timed(
    report: DrillReport, name: str, clock: Callable[[], float] = time.monotonic
) -> Iterator[Step]:
    step = Step(name)
    report.steps.append(step)
    started = clock()
    try:
        yield step
        step.ok = True
    except (StepFailed, RunnersError) as exc:
        step.detail = str(exc)
    except Exception as exc:  # an AWS failure is the step's failure; a bug is not swallowed
        from runners.aws.failures import as_runners_error

        translated = as_runners_error(exc)
        if translated is None:
            raise
        step.detail = str(translated)
    finally:
        step.seconds = clock() - started
        log.step(f"drill: {name} {'done' if step.ok else 'FAILED'} in {step.seconds:.1f}s")


def drill_variables(prepared: Path, settings: DrillSettings, dest: Path) -> Path:
    """The prepared variables with the drill's own on top (deletion protection off, ...)."""
    values = json.loads(prepared.read_text(encoding="utf-8"))
    values.update(settings.variables)
    atomic_write_text(dest, json.dumps(values, indent=2, sort_keys=True) + "\n")
    return dest


def check_outputs(found: Mapping[str, Any], wanted: tuple[str, ...]) -> list[str]:
    """The wanted outputs that are missing, null or empty. Pure."""
    problems = []
    for name in wanted:
        if name not in found:
            problems.append(f"output {name} is missing")
            continue
        value = found[name].get("value") if isinstance(found[name], Mapping) else None
        if value is None or value in ("", [], {}):
            problems.append(f"output {name} is empty")
    return problems


def shown_outputs(found: Mapping[str, Any]) -> dict[str, Any]:
    """Outputs for the smoke command and the drill folder, sensitive ones withheld."""
    return {
        name: "(sensitive)" if o.get("sensitive") else o.get("value")
        for name, o in found.items()
        if isinstance(o, Mapping)
    }


class Drill:
    def __init__(
        self,
        request: DrillRequest,
        clients: DrClients,
        repo: GitRepo,
        clock: Callable[[], float] = time.monotonic,
        today: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.request, self.clients, self.repo = request, clients, repo
        self.clock, self.today = clock, today
        target = request.target
        self.settings = target.config.dr.stack(target.stack.name, target.config.path).drill
        self.report = DrillReport(
            stack=target.stack.name,
            environment=target.env.name,
            source_region=target.env.region,
            target_region=request.region,
            started_at=today(),
        )
        self.ws: Workspace | None = None

    def run(self) -> DrillReport:
        req, report = self.request, self.report
        prep = self._prepare()
        if prep is None:
            return report
        rpo = prep.rpo_achieved()
        report.rpo_seconds = rpo.total_seconds() if rpo is not None else None
        tfvars = drill_variables(req.out / outputs.TFVARS, self.settings, req.out / DRILL_TFVARS)
        self.ws = drplan.dr_workspace(
            req.target, req.region, tfvars, req.timeout_minutes, drill=True
        )
        with timed(report, "plan", self.clock):
            outcome = planned(
                req.target,
                req.build,
                partial(
                    plan_stack,
                    req.target,
                    self.ws,
                    req.out,
                    req.build,
                    self.repo,
                    dr=(req.region, tfvars),
                    drill=True,
                ),
                dr_region=req.region,
            )
            log.step(f"drill plan: {outcome.summary.plan_line()}")
        if not report.steps[-1].ok:
            return report
        with timed(report, "apply", self.clock):
            Applier(req.target, self.repo).run(
                ApplyRequest(
                    plan_dir=req.out,
                    approver=req.approver,
                    confirm_destroy=None,
                    build=req.build,
                    timeout_minutes=req.timeout_minutes,
                    color=False,
                )
            )
        if report.steps[-1].ok:
            with timed(report, "check", self.clock):
                self._check()
        # Whatever happened after the plan, the drill's state may hold something: destroy it.
        with timed(report, "destroy", self.clock):
            self._destroy()
        return report

    def _prepare(self) -> Preparation | None:
        req = self.request
        with timed(self.report, "prepare", self.clock) as step:
            done = workflow.prepare_into(
                req.target.config,
                req.target.stack.name,
                req.target.env,
                req.region,
                req.out,
                self.clients,
            )
            if done.prep.missing and not req.allow_missing:
                raise StepFailed(
                    f"{len(done.prep.missing)} thing(s) could not be mapped (see "
                    f"{req.out / outputs.RUNBOOK}); give --allow-missing to drill without them"
                )
            step.detail = f"{len(done.prep.restores)} restore(s), {len(done.prep.images)} image(s)"
        return done.prep if self.report.steps[-1].ok else None

    def _check(self) -> None:
        ws = self._workspace()
        ws.init()
        found = ws.outputs()
        shown = shown_outputs(found)
        path = self.request.out / OUTPUTS
        atomic_write_text(path, json.dumps(shown, indent=2, sort_keys=True) + "\n")
        problems = check_outputs(found, self.settings.outputs)
        if problems:
            raise StepFailed("; ".join(problems))
        if self.settings.smoke:
            self._smoke(self.settings.smoke, path)

    def _smoke(self, command: str, outputs_file: Path) -> None:
        cfg = self.request.target.config
        env = {
            **os.environ,
            "RUNNERS_DRILL_OUTPUTS": str(outputs_file),
            "RUNNERS_DRILL_REGION": self.request.region,
            "RUNNERS_DRILL_STACK": self.request.target.stack.name,
        }
        log.step(f"drill: smoke check: {command}")
        try:
            done = subprocess.run(  # noqa: S602  # the command is runners.toml's, reviewed at the head
                command,
                shell=True,
                cwd=cfg.root,
                env=env,
                timeout=self.settings.smoke_timeout_minutes * 60,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise StepFailed(
                f"the smoke command did not finish in {self.settings.smoke_timeout_minutes:g} min"
            ) from None
        if done.returncode != 0:
            raise StepFailed(f"the smoke command exited {done.returncode}")

    def _destroy(self) -> None:
        ws = self._workspace()
        self.report.state = _where(ws)
        try:
            ws.init()
            ws.destroy()
        except RunnersError as exc:
            try:
                self.report.left = ws.state_addresses()
            except RunnersError:
                self.report.left = [f"(unknown: the drill state at {_where(ws)} could not be read)"]
            raise StepFailed(f"{exc}; left: {', '.join(self.report.left) or 'nothing'}") from None
        left = ws.state_addresses()
        if left:
            self.report.left = left
            raise StepFailed(f"the drill state still holds {', '.join(left)}")

    def _workspace(self) -> Workspace:
        if self.ws is None:
            raise RuntimeError("the drill's workspace is made before the plan")
        return self.ws


def _where(ws: Workspace) -> str:
    b = ws.backend
    if b.get("bucket"):
        return f"s3://{b['bucket']}/{b.get('key', '')}"
    return str(b.get("path") or "its backend")


# -- the record, the JUnit report, and the last drill for the runbook ------------------------


def record_of(report: DrillReport, request: DrillRequest) -> AuditRecord:
    failed = [s for s in report.steps if not s.ok]
    reason = "; ".join(f"{s.name}: {s.detail}" for s in failed) or None
    if report.left:
        reason = f"{reason or ''}; LEFT in the drill state: {', '.join(report.left)}".lstrip("; ")
    record = AuditRecord(
        kind=KIND,
        result="started",
        stack=report.stack,
        environment=report.environment,
        started_at=report.started_at.isoformat(timespec="milliseconds"),
        triggered_by=request.build.triggered_by,
        approved_by=request.approver,
        build_cause=request.build.build_cause,
        build_url=request.build.build_url,
        evidence={
            "region": report.target_region,
            "rto_seconds": f"{report.rto_seconds:.1f}",
            "rpo_seconds": f"{report.rpo_seconds:.0f}" if report.rpo_seconds is not None else "",
            **{f"seconds.{s.name}": f"{s.seconds:.1f}" for s in report.steps},
        },
    )
    return record.finish("passed" if report.passed else "failed", reason)


def save_record(report: DrillReport, request: DrillRequest) -> AuditRecord:
    record = record_of(report, request)
    target = request.target
    open_ledger(target.config, target.stack, target.env, dr_region=request.region).append(record)
    return record


def junit(report: DrillReport) -> str:
    name = f"dr-drill.{report.stack}.{report.environment}.{report.target_region}"
    suite = ET.Element(
        "testsuite",
        {
            "name": name,
            "tests": str(len(report.steps)),
            "failures": str(sum(not s.ok for s in report.steps)),
            "time": f"{sum(s.seconds for s in report.steps):.1f}",
            "timestamp": report.started_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S"),
        },
    )
    props = ET.SubElement(suite, "properties")
    for key, value in (
        ("rto_seconds", f"{report.rto_seconds:.1f}"),
        ("rpo_seconds", f"{report.rpo_seconds:.0f}" if report.rpo_seconds is not None else ""),
    ):
        ET.SubElement(props, "property", {"name": key, "value": value})
    for step in report.steps:
        case = ET.SubElement(
            suite, "testcase", {"classname": name, "name": step.name, "time": f"{step.seconds:.1f}"}
        )
        if not step.ok:
            ET.SubElement(case, "failure", {"message": one_line(step.detail or "failed")[:500]})
    ET.indent(suite)
    return ET.tostring(suite, encoding="unicode") + "\n"


def last(
    records: list[AuditRecord], stack: str, environment: str, region: str
) -> DrillResult | None:
    """The newest drill of this stack into ``region`` among ``records``. Pure."""
    for r in sorted(records, key=lambda r: (r.started_at, r.id), reverse=True):
        if (r.kind, r.stack, r.environment) != (KIND, stack, environment):
            continue
        if r.evidence.get("region") != region:
            continue
        steps = tuple(
            (k.removeprefix("seconds."), _float(v))
            for k, v in r.evidence.items()
            if k.startswith("seconds.")
        )
        rpo = r.evidence.get("rpo_seconds")
        return DrillResult(
            at=datetime.fromisoformat(r.started_at),
            rto_seconds=_float(r.evidence.get("rto_seconds", "0")),
            steps=steps,
            rpo_seconds=_float(rpo) if rpo else None,
            passed=r.result == "passed",
        )
    return None


def _float(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return 0.0


def last_recorded(target: Target, region: str) -> DrillResult | None:
    """The last drill into ``region``, from the rebuild's ledger (backup region) and the local one.

    Read while the source region may be down, so only the backup region's
    bucket is asked. A ledger that cannot be read makes the runbook say so,
    never fails the preparation.
    """
    ledger = open_ledger(target.config, target.stack, target.env, dr_region=region)
    stack, env = target.stack.name, target.env.name
    found: list[AuditRecord] = []
    try:
        if ledger.remote is not None:
            for record in ledger.remote.newest_first(stack, env):
                if record.kind == KIND and record.evidence.get("region") == region:
                    found.append(record)
                    break
        if ledger.local is not None:
            found += [r for r in ledger.local.records() if r.kind == KIND]
    except Exception as exc:  # the runbook says it could not tell; prepare goes on
        from runners.change.stores import failure_code

        log.warn(f"the last drill could not be read from the ledger ({failure_code(exc)})")
        return None
    return last(found, stack, env, region)
