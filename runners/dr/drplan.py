"""``dr plan``: the ordinary plan of a stack, pointed at the backup region.

The stack, its code, its environment's variable files and approval rules are
the environment's own; three things change:

- the DR variables (``dr.auto.tfvars.json``) are passed last, so they win;
- the state is ``[dr.backend]`` (the environment's backend settings overlaid,
  with ``{stack}``, ``{env}`` and ``{region}`` filled in), never the
  environment's own state, which still describes the lost region;
- Terraform's data directory is separate, so the two never mix.

The plan folder is then what ``runners plan`` makes, and ``runners apply``
applies it under the normal contract: Terraform applies a saved plan to the
state recorded in the plan, whatever the working directory was initialised
with.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from pathlib import Path

from runners import log
from runners.config import BackendConfig, Config
from runners.dr import outputs, statefile
from runners.errors import ConfigError, InputError
from runners.fsutil import atomic_write_bytes
from runners.stacks import Target, workspace
from runners.terraform.workspace import Workspace

REUSE = timedelta(hours=1)


def prepare_folder(region: str, stack: str, base: Path | None = None) -> Path:
    """Where ``dr prepare`` writes a stack's files when no --out is given."""
    return (base or Path.cwd()) / "dr" / region / stack


def dr_backend(cfg: Config, target: Target, region: str) -> BackendConfig:
    stack, env = target.stack, target.env
    if not cfg.dr.backend:
        raise ConfigError(
            cfg.path,
            "dr.backend",
            "is required for dr plan: where the rebuilt stack keeps its state, "
            f"apart from {env.name}'s own state (see docs/dr.md)",
        )
    own = cfg.backend_for(stack, env)
    merged = statefile.overlay(own, statefile.fill(cfg.dr.backend, stack.name, env.name, region))
    here = statefile.locate(stack.dir, merged, cfg.path)
    if here == statefile.locate(stack.dir, own, cfg.path):
        raise ConfigError(
            cfg.path,
            "dr.backend",
            f"gives {here}, {env.name}'s own state; the rebuilt stack needs a state of its own "
            '(for example key = "dr/{stack}/{env}-{region}.tfstate")',
        )
    return merged


def drill_backend(cfg: Config, target: Target, region: str) -> BackendConfig:
    """A drill's state: the rebuild's location, with ``.drill`` before ``.tfstate``.

    In the same bucket and under the same prefix as the rebuild's, so the
    same permissions cover it, and never the same object: a drill never
    touches a real rebuild's state, nor the environment's.
    """
    out = dict(dr_backend(cfg, target, region))
    for name in ("key", "path"):
        value = out.get(name)
        if isinstance(value, str) and value:
            out[name] = f"{value.removesuffix('.tfstate')}.drill.tfstate"
    return out


def dr_workspace(
    target: Target, region: str, tfvars: Path, timeout: float | None, drill: bool = False
) -> Workspace:
    """The environment's workspace, pointed at the rebuild.

    Variable files, last wins: the environment's, the stack's DR files for the
    region (``[dr.stacks.NAME] var_files``: reviewed replacements of regional
    values, such as certificates), then what ``dr prepare`` wrote.
    """
    ws = workspace(target, timeout)
    recovery = target.config.dr.stack(target.stack.name, target.config.path)
    backend = (drill_backend if drill else dr_backend)(target.config, target, region)
    kind = "drill" if drill else "dr"
    return dataclasses.replace(
        ws,
        backend=backend,
        data_dir=ws.data_dir.parent / f"{target.env.name}-{kind}-{region}",
        var_files=(*ws.var_files, *recovery.dr_var_files(region), str(tfvars.resolve())),
    )


def usable(
    folder: Path, stack: str, env: str, region: str, now: datetime
) -> outputs.Prepared | None:
    """An earlier preparation in ``folder`` for this stack, environment and region, if fresh."""
    prepared = outputs.load(folder)
    if prepared is None:
        return None
    if (prepared.stack, prepared.environment, prepared.target_region) != (stack, env, region):
        raise InputError(
            f"{folder / outputs.META}: prepared for {prepared.stack} ({prepared.environment}) "
            f"in {prepared.target_region}, not {stack} ({env}) in {region}"
        )
    age = prepared.age(now)
    if age > REUSE:
        log.step(
            f"the preparation in {folder} is {int(age.total_seconds() // 60)} min old: "
            "preparing again, so the newest shipped copies are used"
        )
        return None
    return prepared


def adopt(prepared: outputs.Prepared, folder: Path) -> Path:
    """Copy an earlier preparation into the plan folder, so the folder is complete on its own."""
    source = prepared.tfvars.parent
    if source.resolve() != folder.resolve():
        folder.mkdir(parents=True, exist_ok=True)
        for name in (outputs.TFVARS, outputs.RUNBOOK, outputs.META):
            if (source / name).is_file():
                atomic_write_bytes(folder / name, (source / name).read_bytes())
    return folder / outputs.TFVARS
