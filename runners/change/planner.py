"""Plan one stack into a directory of reviewable, fingerprinted artifacts.

Steps: init with the environment's backend, ``plan -out`` (whose own rendering
of the plan becomes ``plan.txt``), then ``show -json``. Everything is made in a
staging folder inside the output directory and moved into place only when
complete, the manifest last, so an interrupted or failed run never leaves a
plan that could be applied.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import shutil
import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runners import __version__, log
from runners.change import manifest as manifest_mod
from runners.change.fingerprint import Fingerprint, of_plan
from runners.change.next_steps import next_steps
from runners.change.reviewed import Review
from runners.ci import BuildContext
from runners.fsutil import atomic_write_text, replace_into, sha256_file
from runners.gitrepo import GitRepo
from runners.stacks import Target
from runners.terraform.planfile import read_facts
from runners.terraform.planview import PlanView
from runners.terraform.report import ReportContext, render_markdown
from runners.terraform.report import warm_up as report_warm_up
from runners.terraform.secrets import Scrubber
from runners.terraform.summary import Summary, summarize
from runners.terraform.workspace import Workspace

ARTIFACTS = ("tfplan", "plan.json", "plan.txt", "report.md")
SECRET_MODE = 0o600  # tfplan and plan.json carry secret values in clear


@dataclass
class PlanOutcome:
    target: Target
    out_dir: Path
    summary: Summary
    has_changes: bool
    manifest: dict[str, Any]
    report: str
    fingerprint: Fingerprint | None = None
    review: Review | None = None


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def git_facts(repo: GitRepo, folders: list[Path], files: tuple[Path, ...] = ()) -> dict[str, Any]:
    """The commit, and whether the stack's folders, var files or config differ from it.

    For the record: the apply compares the plan's own configuration with the
    branch head instead. ``dirty`` is kept because a signed manifest vouches
    for it, and it covers files the configuration only reads (templates).
    """
    head = repo.head()
    closure = [repo.relpath(p) for p in folders if p.is_dir()]
    extra = [repo.relpath(p) for p in files if p.resolve().is_relative_to(repo.root)]
    return {
        "commit": head,
        "branch": repo.branch(),
        "author": vars(repo.author(head)),
        "trees": {folder: repo.tree_id(head, folder) for folder in closure},
        "dirty": repo.is_dirty(closure + extra),
    }


def var_file_facts(
    repo: GitRepo, ws: Workspace, leave_out: Path | None = None
) -> list[dict[str, Any]]:
    """sha256 of every var file the plan reads: those given, and those Terraform loads itself.

    Read from disk, not git, so an ignored or untracked file shows as what it is.
    """
    from runners.change.evidence import is_auto_var_file

    files = [(ws.dir / given).resolve() for given in ws.var_files]
    files += sorted(
        p.resolve() for p in ws.dir.iterdir() if is_auto_var_file(p.name) and p.is_file()
    )
    out = []
    for path in dict.fromkeys(files):
        if leave_out is not None and path == leave_out.resolve():
            continue
        in_repo = path.is_relative_to(repo.root)
        out.append(
            {
                "path": repo.relpath(path) if in_repo else str(path),
                "in_repo": in_repo,
                "sha256": sha256_file(path),
            }
        )
    return out


def plan_stack(
    target: Target,
    ws: Workspace,
    out_dir: Path,
    build: BuildContext,
    repo: GitRepo,
    dr: tuple[str, Path] | None = None,
    drill: bool = False,
    review_of: Callable[[Fingerprint], Review | None] | None = None,
) -> PlanOutcome:
    """Plan into ``out_dir``. ``dr``: (region, variables file) of a disaster-recovery plan.

    ``drill``: the plan is a ``dr drill``'s, into the drill's own state (the
    apply then expects that backend, not the rebuild's). ``review_of``:
    compares the plan with the reviewed ones (an environment's own plan).
    """
    stack, env, cfg = target.stack, target.env, target.config
    out_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".runners-staging-", dir=out_dir))
    try:
        if not ws.init_started:
            log.step(f"init {stack.name} ({env.name}) with {ws.tf.binary.source}")
        ws.init()
        lock_sha = sha256_file(ws.lock_file) if ws.lock_file.exists() else None
        # git is read and the report template loaded while Terraform plans: they
        # share nothing with it, and all take time.
        background = ThreadPoolExecutor(max_workers=1)
        var_files = tuple(
            ws.dir / v for v in ws.var_files if not (dr and Path(v).resolve() == dr[1].resolve())
        )
        git_future = background.submit(
            git_facts, repo, ws.local_module_dirs(), (cfg.path, *var_files)
        )
        background.submit(report_warm_up)
        background.shutdown(wait=False)
        log.step(f"plan {stack.name} ({env.name})")
        started = _now()
        has_changes = ws.plan(staging / "tfplan", staging / "plan.txt")
        ws.show_json(staging / "tfplan", staging / "plan.json")
        os.chmod(staging / "tfplan", SECRET_MODE)
        os.chmod(staging / "plan.json", SECRET_MODE)
        plan = PlanView.load(staging / "plan.json")
        summary = summarize(plan, cfg.protection)
        scrub_plan_text(plan, staging / "plan.txt")
        fingerprint = of_plan(plan)
        review = review_of(fingerprint) if review_of is not None else None
        if review is not None:
            log.step(f"{stack.name} ({env.name}): {review.summary()}")
        git = git_future.result()
        if git["dirty"]:
            log.warn(
                f"uncommitted changes under {stack.rel_dir} or its modules: "
                "the plan will not be applyable"
            )
        facts = read_facts(staging / "tfplan")
        tfplan_sha = sha256_file(staging / "tfplan")
        manifest = {
            "schema": manifest_mod.SCHEMA,
            "runners_version": __version__,
            "stack": stack.name,
            "stack_dir": stack.rel_dir,
            "environment": env.name,
            "environment_branch": env.branch,
            "var_files": var_file_facts(repo, ws, dr[1] if dr else None),
            "dr": (
                {"region": dr[0], "tfvars_sha256": sha256_file(dr[1]), "drill": drill}
                if dr
                else None
            ),
            "created_at": started,
            "has_changes": has_changes,
            "tfplan_sha256": tfplan_sha,
            "plan_json_sha256": sha256_file(staging / "plan.json"),
            "terraform_version": summary.terraform_version or "unknown",
            "terraform_binary": ws.tf.binary.source,
            "lock_file_sha256": lock_sha,
            "state": {"serial": facts.state_serial, "lineage": facts.state_lineage},
            "git": git,
            "merge_request": {
                "id": build.merge_request,
                "source": build.source_branch,
                "target": build.target_branch,
                "url": build.merge_request_url,
                "author": build.merge_request_author,
            },
            "build": {
                "url": build.build_url,
                "tag": build.build_tag,
                "triggered_by": build.triggered_by,
            },
            "summary": summary.to_dict(),
            "fingerprint": fingerprint.to_dict(),
            "review": review.to_record() if review is not None else None,
        }
        key = os.environ.get(manifest_mod.SIGNING_KEY_ENV)
        if key:
            manifest = manifest_mod.sign(manifest, key)
            log.step(f"signed the manifest with key {manifest['signing_key_id']}")
        report = render_markdown(
            plan,
            summary,
            ReportContext(
                stack=stack.name,
                environment=env.name,
                commit=git["commit"],
                merge_request=build.merge_request,
                tfplan_sha256=tfplan_sha,
                build_url=build.build_url,
                plan_text_url=artifact_url(build.build_url, out_dir / "plan.txt"),
                review=review.markdown() if review is not None else None,
                next_steps=next_steps(
                    cfg,
                    env,
                    stack.name,
                    merge_request=build.merge_request,
                    protected=len(summary.protected),
                    reviewed=review.identical if review is not None else None,
                )
                if has_changes and not dr
                else (),
            ),
            cfg.protection,
            cfg.report_max_chars,
        )
        (staging / "report.md").write_text(report, encoding="utf-8")
        _publish(staging, out_dir, manifest)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return PlanOutcome(target, out_dir, summary, has_changes, manifest, report, fingerprint, review)


def artifact_url(build_url: str | None, path: Path) -> str | None:
    """Where Jenkins serves a file the build archives: ``$BUILD_URL/artifact/<path in workspace>``.

    None outside a Jenkins workspace: the file is only in the plan folder.
    """
    workspace = os.environ.get("WORKSPACE")
    if not build_url or not workspace:
        return None
    try:
        rel = path.resolve().relative_to(Path(workspace).resolve()).as_posix()
    except ValueError:
        return None
    return f"{build_url.rstrip('/')}/artifact/{rel}"


def scrub_plan_text(plan: PlanView, text_file: Path) -> None:
    """Scrub Terraform's own plan text and print it to the log in place of the raw diff."""
    text = Scrubber.for_plan(plan).scrub(text_file.read_text(encoding="utf-8"))
    text_file.write_text(text, encoding="utf-8")
    stream = log.out()
    stream.write(text)
    stream.flush()


def _publish(staging: Path, out_dir: Path, manifest: dict[str, Any]) -> None:
    """Move finished artifacts into place: old manifest out first, new one in last."""
    with contextlib.suppress(FileNotFoundError):
        (out_dir / manifest_mod.NAME).unlink()
    for name in ARTIFACTS:
        replace_into(staging / name, out_dir / name)
    atomic_write_text(
        out_dir / manifest_mod.NAME, json.dumps(manifest, indent=2, sort_keys=True) + "\n"
    )


def drift_check(target: Target, ws: Workspace, out_dir: Path | None) -> tuple[Summary, bool, str]:
    """Plan without keeping the plan: the summary, whether prod drifted, the report."""
    cfg = target.config
    with tempfile.TemporaryDirectory(prefix="runners-drift-") as tmp:
        private = Path(tmp)
        os.chmod(private, 0o700)
        log.step(f"init {target.stack.name} ({target.env.name}) with {ws.tf.binary.source}")
        ws.init()
        log.step(f"drift plan {target.stack.name} ({target.env.name}); the plan is not kept")
        has_changes = ws.plan(private / "tfplan", private / "plan.txt")
        ws.show_json(private / "tfplan", private / "plan.json")
        plan = PlanView.load(private / "plan.json")
        scrub_plan_text(plan, private / "plan.txt")
        summary = summarize(plan, cfg.protection)
        report = render_markdown(
            plan,
            summary,
            ReportContext(stack=target.stack.name, environment=target.env.name),
            cfg.protection,
            cfg.report_max_chars,
        )
        if out_dir is not None:
            out_dir.mkdir(parents=True, exist_ok=True)
            atomic_write_text(out_dir / "report.md", report)
            atomic_write_text(
                out_dir / "plan.txt", (private / "plan.txt").read_text(encoding="utf-8")
            )
    drifted = has_changes or summary.drift > 0
    return summary, drifted, report
