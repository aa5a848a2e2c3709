"""Round two of the checks: Terraform, in a clean copy of the environment branch's head.

The head's whole tree is exported (``git archive``) into a private folder and
initialised there with the backend the head's runners.toml gives, the lock
file read-only, in a data directory of its own. With that Terraform:

- the plan's configuration snapshot is compared, file by file, with the
  modules ``init`` resolved: local ones from the export, remote ones fresh
  from the sources the reviewed code pins;
- the plan's backend with the backend ``init`` resolved from the same code and
  config (the values are compared, never printed: they may hold credentials);
- the lineage and serial of the plan's prior state with the state there now;
- the plan's Terraform version and lock file with these;
- the protected resources it destroys or replaces, and its change fingerprint
  (runners.change.fingerprint), from ``show -json`` of the very file that will
  be applied.

The apply then runs in that same folder, so the working copy's files (an
ignored override, an untracked var file, an edited template) play no part.
"""

from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runners.change import contract
from runners.change.fingerprint import Fingerprint, of_plan
from runners.config import BackendConfig
from runners.fsutil import sha256_file
from runners.gitrepo import GitRepo
from runners.stacks import Target, workspace
from runners.terraform.planbinary import PlanBackend
from runners.terraform.planfile import LOCK_FILE, SavedPlan, lock_digest
from runners.terraform.planview import PlanView
from runners.terraform.snapshot import InstalledModule, differences, is_local_source
from runners.terraform.summary import Summary, summarize
from runners.terraform.workspace import Workspace


@dataclass(frozen=True)
class Examined:
    facts: contract.TerraformFacts
    summary: Summary
    fingerprint: Fingerprint  # of the very file being applied, never the manifest's word


def prepare(
    repo: GitRepo,
    head: str,
    target: Target,
    backend: BackendConfig,
    private: Path,
    timeout_minutes: float | None,
    color: bool,
) -> Workspace:
    """Export the head and make the workspace Terraform will check and apply in."""
    src = private / "src"
    src.mkdir()
    repo.export(head, src)
    ws = workspace(target, timeout_minutes, color=color)
    return dataclasses.replace(
        ws,
        dir=src / target.stack.rel_dir if target.stack.rel_dir else src,
        data_dir=private / "tf",
        backend=backend,
        var_files=(),
    )


def installed_modules(ws: Workspace, src: Path) -> dict[str, InstalledModule]:
    """Every module ``init`` resolved, keyed like the plan's snapshot."""
    root = ws.dir.resolve()
    out = {"": InstalledModule("", "", root, _label(root, src.resolve()))}
    try:
        data = json.loads((ws.data_dir / "modules" / "modules.json").read_text())
    except FileNotFoundError:
        return out
    for mod in data.get("Modules") or ():
        key, source, folder = mod.get("Key") or "", mod.get("Source") or "", mod.get("Dir") or "."
        if not key:
            continue
        path = (root / folder).resolve()
        label = (
            _label(path, src.resolve()) if is_local_source(source) else f"module {key} ({source})"
        )
        out[key] = InstalledModule(key, source, path, label)
    return out


def _label(path: Path, src: Path) -> str:
    try:
        rel = path.relative_to(src).as_posix()
    except ValueError:
        return str(path)
    return "" if rel == "." else rel


def resolved_backend(ws: Workspace) -> tuple[str, dict[str, Any]]:
    """The backend ``init`` resolved from the reviewed code and config: type and settings."""
    try:
        data = json.loads((ws.data_dir / "terraform.tfstate").read_text())
    except FileNotFoundError:  # no backend block: Terraform's default, a local file
        return "local", {"path": None, "workspace_dir": None}
    backend = data.get("backend") or {}
    return str(backend.get("type") or "local"), dict(backend.get("config") or {})


def describe(kind: str, settings: dict[str, Any]) -> str:
    if kind == "s3":
        return f"s3://{settings.get('bucket')}/{settings.get('key')}"
    if kind == "local":
        return str(settings.get("path") or "terraform.tfstate (in the working directory)")
    return f"a {kind} backend"


def backend_differences(
    plan: PlanBackend | None,
    kind: str,
    expected: dict[str, Any],
    env: str,
    uses_state_store: bool = False,
) -> list[str]:
    """How the plan's backend differs from the environment's (pure)."""
    if plan is None:
        return ["the plan names no backend to write its state to"]
    out = []
    if uses_state_store:
        out.append("the plan writes its state through a state_store, which runners cannot check")
    if plan.workspace != "default":
        out.append(f"the plan writes Terraform workspace {plan.workspace!r}, not 'default'")
    if plan.type != kind:
        out.append(
            f"the plan writes its state to a {plan.type} backend ({describe(plan.type, plan.config)}); "
            f"{env}'s is {describe(kind, expected)}"
        )
        return out
    keys = sorted(
        k
        for k in set(plan.config) | set(expected)
        if _normal(plan.config.get(k)) != _normal(expected.get(k))
    )
    if keys:
        out.append(
            f"the plan writes its state to {describe(plan.type, plan.config)}, not to {env}'s state "
            f"{describe(kind, expected)} (the backend settings differ: {', '.join(keys)})"
        )
    if kind == "local":
        path = plan.config.get("path")
        if not isinstance(path, str) or not os.path.isabs(path):
            out.append(
                f"the plan's state is {describe(kind, plan.config)}, a file relative to where "
                "Terraform runs; give it an absolute path in runners.toml"
            )
    return out


def _normal(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, list | tuple):
        return [_normal(v) for v in value]
    if isinstance(value, dict):
        return {k: _normal(v) for k, v in value.items() if v is not None}
    return value


def _state(path: Path) -> tuple[str | None, int | None]:
    raw = path.read_bytes() if path.exists() else b""
    if not raw.strip():
        return None, None
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        return "(unreadable state)", None
    lineage = data.get("lineage") if isinstance(data, dict) else None
    serial = data.get("serial") if isinstance(data, dict) else None
    return (
        str(lineage) if lineage else None,
        serial if isinstance(serial, int) and not isinstance(serial, bool) else None,
    )


def tools(ws: Workspace, saved: SavedPlan) -> contract.ToolFacts:
    """The Terraform here and the head's lock file, against the plan's; before ``init``."""
    lock = ws.dir / LOCK_FILE
    return contract.ToolFacts(
        plan_version=saved.record.terraform_version,
        here_version=ws.version(),
        plan_lock_sha256=lock_digest(saved.lock_file),
        head_lock_sha256=lock_digest(lock.read_bytes() if lock.is_file() else None),
    )


def examine(
    ws: Workspace, src: Path, saved: SavedPlan, planfile: Path, private: Path, target: Target
) -> Examined:
    """Round two's facts; ``ws`` (in the export ``src``) has been initialised."""
    shown = private / "plan.json"
    ws.show_json(planfile, shown)
    os.chmod(shown, 0o600)
    view = PlanView.load(shown)
    summary = summarize(view, target.config.protection)
    code = (
        differences(saved.snapshot, installed_modules(ws, src))
        if saved.snapshot is not None
        else ["the plan file holds no configuration snapshot (tfconfig/)"]
    )
    kind, expected = resolved_backend(ws)
    pulled = private / "state.json"
    ws.pull_state(pulled)
    os.chmod(pulled, 0o600)
    lineage, serial = _state(pulled)
    pulled.unlink()
    facts = contract.TerraformFacts(
        code_differences=tuple(code),
        backend_differences=tuple(
            backend_differences(
                saved.record.backend,
                kind,
                expected,
                target.env.name,
                saved.record.uses_state_store,
            )
        ),
        plan_lineage=saved.facts.state_lineage,
        plan_serial=saved.facts.state_serial,
        state_lineage=lineage,
        state_serial=serial,
        protected=tuple(summary.protected),
        rendered_plan_json_sha256=sha256_file(shown),
        errored=saved.record.errored,
    )
    return Examined(facts, summary, of_plan(view))
