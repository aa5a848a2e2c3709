"""Apply exactly the reviewed plan, or refuse and say why.

The manifest beside the plan is a pointer, not evidence: every fact the apply
relies on is recomputed or read from its system of record (``evidence`` and
``cleanroom`` say which), and checked by the pure ``contract``.

Order matters. The environment's branch head is read from git, and its
runners.toml is the policy. The saved plan is copied to a private folder
first; everything after reads that copy, and it is the file Terraform
applies. Round one (no Terraform) refuses what it can; round two runs
Terraform in a clean copy of the head. Then the runner's lock on the state
is taken before Terraform's own, a "started" record is written before
Terraform runs, and the outcome after. Whatever happens, the ledger gets the
outcome and the lock is released or its release failure is reported.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runners import log
from runners.audit.ledger import Ledger, open_ledger
from runners.audit.record import AuditRecord, now, seal, summary_counts
from runners.change import cleanroom, evidence, reviewed
from runners.change import manifest as manifest_mod
from runners.change.contract import (
    ApplyFacts,
    People,
    PlanFacts,
    ReviewFacts,
    Signing,
    check,
    check_plan,
)
from runners.change.locks import LockInfo, StackLock, lock_for
from runners.ci import BuildContext
from runners.config import BackendConfig, Config, Environment, Stack, state_identity
from runners.errors import InputError, Locked, Refused, RunnersError, TerraformError
from runners.fsutil import sha256_file
from runners.gitrepo import GitRepo
from runners.notify.settings import NotifyConfig
from runners.stacks import Target
from runners.terraform.engine import Interrupted
from runners.terraform.planfile import SavedPlan, read_plan

# Called with an event name and the record so far; returns delivery failures.
EventHook = Callable[[NotifyConfig, str, AuditRecord], list[str]]
LedgerFactory = Callable[..., Ledger]  # open_ledger(cfg, stack, env, dr_region=None)
LockFactory = Callable[[Config, Stack, Environment, BackendConfig], StackLock]

_STALE = ("Saved plan is stale", "saved plan is stale")
_MR_KEYS = ("id", "source", "target", "url", "author")
# What Terraform writes into the folder it runs in when something goes wrong.
_RESCUED = ("errored.tfstate", "crash.log")


@dataclass(frozen=True)
class ApplyRequest:
    plan_dir: Path
    approver: str | None  # --approved-by: checked against Jenkins where the build is verified
    confirm_destroy: int | None
    build: BuildContext
    timeout_minutes: float | None = 120.0
    color: bool = True
    accept_difference: bool = False  # the approver accepts a plan that is not the reviewed one


def _copy(src: Path, dest: Path) -> str | None:
    """Copy a plan file into the private folder; its sha256 there, or None when it is missing."""
    try:
        shutil.copyfile(src, dest)
    except (FileNotFoundError, IsADirectoryError):
        return None
    os.chmod(dest, 0o600)
    return sha256_file(dest)


def _sha(path: Path) -> str | None:
    return sha256_file(path) if path.is_file() else None


def _failure(exc: Exception) -> str:
    """The reason for the record: the line the CLI will print for this exception."""
    if "botocore" in sys.modules:
        from runners.aws.failures import as_runners_error

        translated = as_runners_error(exc)
        if translated is not None:
            return str(translated)
    return f"internal error: {type(exc).__name__}"


def _merge_request(value: dict[str, Any]) -> dict[str, Any]:
    """The manifest's merge request, for the record: known keys, plain values, short."""
    return {
        k: str(value[k])[:300]
        for k in _MR_KEYS
        if isinstance(value.get(k), str | int) and not isinstance(value.get(k), bool)
    }


class Applier:
    def __init__(
        self,
        target: Target,
        repo: GitRepo,
        environ: Mapping[str, str] | None = None,
        ledger_for: LedgerFactory = open_ledger,
        lock: LockFactory = lock_for,
        on_event: EventHook | None = None,
    ) -> None:
        """``target`` is from the working copy's runners.toml: it only says where to look."""
        self.here, self.repo = target, repo
        self.environ = os.environ if environ is None else environ
        self.ledger_for, self.lock_for, self.on_event = ledger_for, lock, on_event
        self.notify = target.env.notify
        self.ledger: Ledger | None = None

    def _ledger(self) -> Ledger:
        if self.ledger is None:
            raise RuntimeError("the ledger is opened when the run starts")
        return self.ledger

    def _emit(self, event: str, record: AuditRecord) -> None:
        if self.on_event is None:
            return
        try:
            record.notifications_failed.extend(self.on_event(self.notify, event, record))
        except Exception as exc:  # a notification never fails a change
            log.warn(f"notification '{event}' failed: {type(exc).__name__}")
            record.notifications_failed.append(f"{event}: {type(exc).__name__}")

    def run(self, request: ApplyRequest) -> AuditRecord:
        build, here = request.build, self.here
        self.ledger = self.ledger_for(here.config, here.stack, here.env)
        record = AuditRecord(
            kind="apply",
            result="started",
            stack=here.stack.name,
            environment=here.env.name,
            started_at=now(),
            triggered_by=build.triggered_by,
            approved_by=request.approver,
            build_cause=build.build_cause,
            build_url=build.build_url,
            branch=here.env.branch,
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
        except Exception as exc:  # an AWS failure the CLI reports in one line, or a bug: recorded
            record.finish("failed", _failure(exc))
            raise
        finally:
            self._append(record)
        return record

    def _append(self, record: AuditRecord) -> list[str]:
        key = self.environ.get(manifest_mod.SIGNING_KEY_ENV)
        if key:
            seal(record, key)
        return self._ledger().append(record)

    def _run(self, request: ApplyRequest, record: AuditRecord) -> None:
        if not request.plan_dir.is_dir():
            what = "is not a directory" if request.plan_dir.exists() else "does not exist"
            raise Refused(f"no plan directory at {request.plan_dir} (it {what})")
        try:
            manifest = manifest_mod.load(request.plan_dir / manifest_mod.NAME)
        except InputError as exc:
            raise Refused(str(exc)) from None
        if manifest.dr_region:
            # A rebuild's records go beside its state, in the backup region, from the start:
            # the environment's own bucket is in the region that is lost.
            self.ledger = self.ledger_for(
                self.here.config, self.here.stack, self.here.env, dr_region=manifest.dr_region
            )
        record.merge_request = _merge_request(manifest.merge_request)
        record.plan_sha256 = manifest.tfplan_sha256
        key = self.environ.get(manifest_mod.SIGNING_KEY_ENV) or None
        valid = manifest_mod.signature_valid(manifest, key) if key else None
        branch = self.here.env.branch
        if (manifest.stack, manifest.environment) != (self.here.stack.name, self.here.env.name):
            raise Refused(
                f"the plan is for stack {manifest.stack!r} in {manifest.environment!r}, "
                f"not {self.here.stack.name!r} in {self.here.env.name!r}"
            )
        # Where the key vouches for the manifest, the branch it names is the anchor:
        # a working copy edited to name another branch cannot pick the policy.
        if valid and manifest.environment_branch and manifest.environment_branch != branch:
            raise Refused(
                f"runners.toml here says {self.here.env.name}'s branch is {branch!r}; "
                f"the signed plan was made for branch {manifest.environment_branch!r}"
            )
        head = self.repo.environment_head(branch)
        record.commit = head.sha
        cfg = evidence.head_config(self.repo, self.here.config, head, branch)
        target = evidence.head_target(cfg, self.here.stack.name, self.here.env.name, branch)
        self.notify = target.env.notify
        self.ledger = self.ledger_for(cfg, target.stack, target.env, dr_region=manifest.dr_region)
        with tempfile.TemporaryDirectory(prefix="runners-apply-") as tmp:
            private = Path(tmp)
            os.chmod(private, 0o700)
            self._checked_apply(
                request, record, manifest, key, valid, head.sha, cfg, target, private
            )

    def _checked_apply(
        self,
        request: ApplyRequest,
        record: AuditRecord,
        manifest: manifest_mod.Manifest,
        key: str | None,
        valid: bool | None,
        head: str,
        cfg: Config,
        target: Target,
        private: Path,
    ) -> None:
        env, branch = target.env, target.env.branch
        rules = evidence.rules_of(env)
        planfile = private / "tfplan"
        plan, saved, expected_vars = self._plan_facts(request, manifest, head, target, planfile)
        signing = Signing(manifest_mod.key_id(key) if key else None, manifest.signing_key_id, valid)
        # What is wrong with the folder itself is known before any system of record is asked.
        reasons = check_plan(target.stack.name, env.name, rules, plan, signing)
        if reasons or saved is None:
            raise Refused("; ".join(reasons or plan.problems))
        backend = self._backend(cfg, target, manifest.dr_region, manifest.dr_drill)
        record.state = state_identity(backend, target.stack.dir)
        paths = evidence.change_paths(
            target, saved.snapshot, self.repo.relpath(cfg.path), expected_vars
        )
        change = evidence.the_change(
            self.repo,
            self._ledger(),
            target,
            head,
            None if manifest.dr_region else record.state,
            paths,
            key,
        )
        build = (
            evidence.from_jenkins(
                cfg,
                env,
                request.build,
                self.environ,
                evidence.expected_jobs(cfg, manifest.dr_region is not None),
            )
            if rules.verify_build
            else evidence.from_flags(request.build)
        )
        platform = evidence.from_platform(cfg, env, branch, change.commits, self.environ)
        approver = build.approver if rules.verify_build else request.approver
        source = (
            f"Jenkins (build {request.build.build_url})" if rules.verify_build else "--approved-by"
        )
        facts = ApplyFacts(
            stack=target.stack.name,
            env=env.name,
            rules=rules,
            plan=plan,
            signing=signing,
            people=People(
                approver=approver,
                source=source,
                claimed=request.approver if rules.verify_build else None,
                contributors=evidence.contributors(change.commits),
                platform_authors=platform.authors,
                identities=cfg.identities,
            ),
            build=build.facts,
            confirm_destroy=request.confirm_destroy,
            merge_requests=platform.merge_requests,
        )
        record.approved_by = approver
        if rules.verify_build:
            record.triggered_by, record.build_cause = build.triggered_by, build.cause
        record.evidence = {
            "head": f"{branch} {head}",
            "policy": f"{self.repo.relpath(cfg.path)} at {head[:12]}",
            "approved_by": source,
            "build_cause": "Jenkins" if rules.verify_build else "--build-cause",
            "signature": f"key {manifest_mod.key_id(key)}" if key and valid else "none",
            "change": f"{change.start[:12] if change.start else 'all history'}..{head[:12]}, "
            f"{len(change.commits)} commit(s)",
        }
        self._refuse_if(check(facts))
        log.step(
            f"checked without Terraform: the policy of {branch} at {head[:12]}, "
            f"{len(change.commits)} commit(s) of the change, the approver ({source})"
        )
        ws = cleanroom.prepare(
            self.repo, head, target, backend, private, request.timeout_minutes, request.color
        )
        facts = dataclasses.replace(facts, tools=cleanroom.tools(ws, saved))
        self._refuse_if(check(facts))
        log.step(
            f"init {target.stack.name} ({env.name}) in a clean copy of {branch} at {head[:12]}, "
            "lock file read-only"
        )
        ws.init(lockfile_readonly=True)
        examined = cleanroom.examine(ws, private / "src", saved, planfile, private, target)
        record.summary = summary_counts(examined.summary.to_dict())
        record.fingerprint = examined.fingerprint.to_dict()
        review = reviewed.review(
            examined.fingerprint,
            reviewed.gather(
                self.repo,
                self._ledger(),
                target.stack.name,
                env.name,
                change.start,
                head,
                reviewed.mark_for(cfg),
            ),
        )
        record.review = review.to_record()
        accepted = request.accept_difference and not review.identical
        if accepted:
            record.evidence["review"] = "the approver accepted the difference (--accept-difference)"
        log.step(f"{target.stack.name} ({env.name}): the plan is {review.summary()}")
        facts = dataclasses.replace(
            facts,
            terraform=examined.facts,
            review=ReviewFacts(review.identical, review.summary(), request.accept_difference),
        )
        self._refuse_if(check(facts))
        self._locked_apply(request, record, target, backend, ws, planfile)

    @staticmethod
    def _refuse_if(reasons: list[str]) -> None:
        if reasons:
            raise Refused("; ".join(reasons))

    def _plan_facts(
        self,
        request: ApplyRequest,
        manifest: manifest_mod.Manifest,
        head: str,
        target: Target,
        planfile: Path,
    ) -> tuple[PlanFacts, SavedPlan | None, dict[str, str | None]]:
        """The plan folder as it is: tfplan copied in private first and read from there."""
        tfplan_actual = _copy(request.plan_dir / "tfplan", planfile)
        saved: SavedPlan | None = None
        problems: list[str] = []
        if tfplan_actual is not None:
            try:
                saved = read_plan(planfile)
            except InputError as exc:
                problems.append(f"tfplan is not a readable plan ({exc})")
        if saved is not None and saved.snapshot is None:
            problems.append(
                "the plan file holds no configuration snapshot (tfconfig/), so its code cannot "
                "be compared with the branch: it was made by an older Terraform; plan again"
            )
        expected_vars = evidence.var_files_at_head(self.repo, head, target, manifest.dr_region)
        problems = (
            evidence.var_file_differences(manifest.var_files, expected_vars, target.env.branch)
            + problems
        )
        plan = PlanFacts(
            stack=manifest.stack,
            env=manifest.environment,
            tfplan_sha256=manifest.tfplan_sha256,
            plan_json_sha256=manifest.plan_json_sha256,
            tfplan_actual=tfplan_actual,
            plan_json_actual=_sha(request.plan_dir / "plan.json"),
            dirty=manifest.dirty,
            problems=tuple(problems),
        )
        return plan, saved, expected_vars

    def _rescue(self, folder: Path) -> None:
        """Keep what Terraform left in the throwaway folder for a person: a state it could not save."""
        for name in _RESCUED:
            left = folder / name
            if not left.is_file():
                continue
            dest = self.here.stack.dir / name
            shutil.copyfile(left, dest)
            os.chmod(dest, 0o600)
            log.warn(f"Terraform left {name}; kept at {dest}")

    def _backend(
        self, cfg: Config, target: Target, dr_region: str | None, drill: bool = False
    ) -> BackendConfig:
        if dr_region is None:
            return cfg.backend_for(target.stack, target.env)
        from runners.dr.drplan import dr_backend, drill_backend

        return (drill_backend if drill else dr_backend)(cfg, target, dr_region)

    def _locked_apply(
        self,
        request: ApplyRequest,
        record: AuditRecord,
        target: Target,
        backend: BackendConfig,
        ws: Any,
        planfile: Path,
    ) -> None:
        ledger = self._ledger()
        lock = self.lock_for(target.config, target.stack, target.env, backend)
        info = LockInfo.new(
            record.triggered_by or record.approved_by,
            request.build.build_url,
            f"apply of plan {(record.plan_sha256 or '')[:12]}",
        )
        lock.acquire(info)
        record.run_id = info.run_id
        log.step(f"took the runner lock {lock.store.name} (run id {info.run_id})")
        try:
            started = dataclasses.replace(
                record, id="", result="started", finished_at="", notifications_failed=[]
            )
            if not ledger.recorded_somewhere(self._append(started)):
                raise RunnersError(
                    "the audit record could not be written anywhere; nothing was applied"
                )
            self._emit("apply_started", record)
            log.step(
                f"apply the reviewed plan {(record.plan_sha256 or '')[:12]} to {target.env.name}"
            )
            try:
                ws.apply(planfile)
            except TerraformError as exc:
                if any(marker in exc.stderr for marker in _STALE):
                    raise Refused(
                        "Terraform rejected the plan as stale: the state changed since it was made; plan again"
                    ) from None
                raise
            finally:
                self._rescue(ws.dir)
        finally:
            try:
                lock.release()
            except RunnersError as exc:
                log.warn(str(exc))
                record.reason = (record.reason + "; " if record.reason else "") + str(exc)
