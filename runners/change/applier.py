"""Apply exactly the reviewed plan, or refuse and say why.

Order matters. The contract is checked before anything is touched; the
runner's stack lock is taken before Terraform's state lock; the saved plan is
copied to a private folder and its hash checked again there, so the file
Terraform applies is the file that was checked; the tools are checked once
initialised. Whatever happens, the ledger gets one record and the lock is
released or its release failure is reported.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from runners import log
from runners.audit.ledger import Ledger
from runners.audit.record import AuditRecord, now, summary_counts
from runners.change import manifest as manifest_mod
from runners.change.contract import ApplyFacts, Approval, ToolFacts, check_plan, check_tools
from runners.change.locks import LockInfo, StackLock
from runners.ci import BuildContext
from runners.errors import InputError, Locked, Refused, RunnersError, TerraformError
from runners.fsutil import sha256_file
from runners.gitrepo import GitRepo
from runners.stacks import Target, code_closure
from runners.terraform.engine import Interrupted
from runners.terraform.workspace import Workspace

# Called with an event name and the record so far; returns delivery failures.
EventHook = Callable[[str, AuditRecord], list[str]]

_STALE = ("Saved plan is stale", "saved plan is stale")


@dataclass(frozen=True)
class ApplyRequest:
    plan_dir: Path
    approver: str | None
    confirm_destroy: int | None
    build: BuildContext


def _sha_or_none(path: Path) -> str | None:
    return sha256_file(path) if path.is_file() else None


def gather_facts(
    target: Target, repo: GitRepo, manifest: manifest_mod.Manifest, request: ApplyRequest
) -> ApplyFacts:
    env = target.env
    head = repo.branch_head(env.branch)
    trees = {folder: repo.tree_id(head, folder) for folder in code_closure(repo, target.stack.dir)}
    author = manifest.author or {}
    mr_author = manifest.merge_request.get("author")
    return ApplyFacts(
        manifest_stack=manifest.stack,
        manifest_env=manifest.environment,
        manifest_tfplan_sha256=manifest.tfplan_sha256,
        manifest_plan_json_sha256=manifest.plan_json_sha256,
        manifest_commit=manifest.commit,
        manifest_trees=manifest.trees,
        manifest_dirty=bool(manifest.data["git"].get("dirty")),
        manifest_terraform_version=manifest.terraform_version,
        manifest_lock_sha256=manifest.lock_file_sha256,
        authors=tuple(str(a) for a in (author.get("name"), author.get("email"), mr_author) if a),
        protected=tuple(manifest.summary.get("protected") or ()),
        stack=target.stack.name,
        env=env.name,
        tfplan_sha256=_sha_or_none(request.plan_dir / "tfplan"),
        plan_json_sha256=_sha_or_none(request.plan_dir / "plan.json"),
        head_commit=head,
        head_trees=trees,
        approver=request.approver,
        triggered_by=request.build.triggered_by,
        build_cause=request.build.build_cause,
        confirm_destroy=request.confirm_destroy,
        signature_ok=(
            manifest_mod.signature_valid(manifest, key)
            if (key := os.environ.get(manifest_mod.SIGNING_KEY_ENV))
            else None
        ),
        rules=Approval(
            env.require_approval, env.approvers, env.allow_self_approval, env.require_manual_trigger
        ),
    )


class Applier:
    def __init__(
        self,
        target: Target,
        ws: Workspace,
        repo: GitRepo,
        lock: StackLock,
        ledger: Ledger,
        on_event: EventHook | None = None,
    ) -> None:
        self.target, self.ws, self.repo, self.lock, self.ledger = target, ws, repo, lock, ledger
        self.on_event = on_event

    def _emit(self, event: str, record: AuditRecord) -> None:
        if self.on_event is None:
            return
        try:
            record.notifications_failed.extend(self.on_event(event, record))
        except Exception as exc:  # a notification never fails a change
            log.warn(f"notification '{event}' failed: {type(exc).__name__}")
            record.notifications_failed.append(f"{event}: {type(exc).__name__}")

    def run(self, request: ApplyRequest) -> AuditRecord:
        build = request.build
        record = AuditRecord(
            kind="apply",
            result="started",
            stack=self.target.stack.name,
            environment=self.target.env.name,
            started_at=now(),
            triggered_by=build.triggered_by,
            approved_by=request.approver,
            build_cause=build.build_cause,
            build_url=build.build_url,
            branch=self.target.env.branch,
        )
        try:
            self._run(request, record)
            record.finish("applied")
            self._emit("apply_succeeded", record)
        except Refused as exc:
            record.finish("refused", exc.message)
            self._emit("refused", record)
            raise
        except Locked as exc:
            record.finish("locked", exc.message)
            raise
        except Interrupted as exc:
            record.finish("interrupted", exc.message)
            self._emit("apply_failed", record)
            raise
        except RunnersError as exc:
            record.finish("failed", exc.message)
            self._emit("apply_failed", record)
            raise
        except KeyboardInterrupt:
            record.finish("interrupted", "interrupted before Terraform started")
            raise
        finally:
            self.ledger.append(record)
        return record

    def _run(self, request: ApplyRequest, record: AuditRecord) -> None:
        if not request.plan_dir.is_dir():
            what = "is not a directory" if request.plan_dir.exists() else "does not exist"
            raise Refused(f"no plan directory at {request.plan_dir} (it {what})")
        try:
            manifest = manifest_mod.load(request.plan_dir / manifest_mod.NAME)
        except InputError as exc:
            raise Refused(str(exc)) from None
        record.merge_request = manifest.merge_request
        record.commit = manifest.commit
        record.plan_sha256 = manifest.tfplan_sha256
        record.summary = summary_counts(manifest.summary)
        facts = gather_facts(self.target, self.repo, manifest, request)
        reasons = check_plan(facts)
        if reasons:
            raise Refused("; ".join(reasons))
        label = f"stack {self.target.stack.name} ({self.target.env.name})"
        info = LockInfo.new(
            request.build.triggered_by or request.approver,
            request.build.build_url,
            f"apply of plan {manifest.tfplan_sha256[:12]}",
        )
        self.lock.acquire(info)
        log.step(f"took the runner lock for {label} (run id {info.run_id})")
        try:
            self._apply_locked(request, facts, manifest, record)
        finally:
            try:
                self.lock.release()
            except RunnersError as exc:
                log.warn(str(exc))
                record.reason = (record.reason + "; " if record.reason else "") + str(exc)

    def _apply_locked(
        self,
        request: ApplyRequest,
        facts: ApplyFacts,
        manifest: manifest_mod.Manifest,
        record: AuditRecord,
    ) -> None:
        with tempfile.TemporaryDirectory(prefix="runners-apply-") as tmp:
            private = Path(tmp)
            os.chmod(private, 0o700)
            planfile = private / "tfplan"
            shutil.copyfile(request.plan_dir / "tfplan", planfile)
            if sha256_file(planfile) != manifest.tfplan_sha256:
                raise Refused("tfplan changed while it was being checked; plan again")
            log.step(f"init {self.target.stack.name} ({self.target.env.name}), lock file read-only")
            self.ws.init(lockfile_readonly=True)
            tools = ToolFacts(self.ws.version(), _sha_or_none(self.ws.lock_file))
            reasons = check_tools(facts, tools)
            if reasons:
                raise Refused("; ".join(reasons))
            self._emit("apply_started", record)
            log.step(
                f"apply the reviewed plan {manifest.tfplan_sha256[:12]} to {self.target.env.name}"
            )
            try:
                self.ws.apply(planfile)
            except TerraformError as exc:
                if any(marker in exc.stderr for marker in _STALE):
                    raise Refused(
                        "Terraform rejected the plan as stale: the state changed since it was made; plan again"
                    ) from None
                raise
