"""From config names to a ready Terraform workspace for one stack in one environment."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from runners.config import Config, Environment, Stack
from runners.errors import ConfigError, InputError, TerraformError, UsageError
from runners.gitrepo import GitRepo
from runners.terraform import binary as tf_binary
from runners.terraform.engine import Terraform, base_environment
from runners.terraform.modules import local_closure
from runners.terraform.workspace import Workspace


@dataclass(frozen=True)
class Target:
    config: Config
    stack: Stack
    env: Environment


def select(cfg: Config, stack_name: str, env_name: str) -> Target:
    stack = cfg.stack(stack_name)
    env = cfg.environment(env_name)
    if env.name not in stack.environments:
        raise UsageError(
            f"{cfg.path}: stack {stack.name!r} is not deployed to environment {env.name!r} "
            f"(stacks.{stack.name}.environments = {list(stack.environments)})"
        )
    if not stack.dir.is_dir():
        raise ConfigError(
            cfg.path,
            f"stacks.{stack.name}.dir",
            f"{stack.rel_dir} does not exist or is not a directory",
        )
    return Target(cfg, stack, env)


def workspace(
    target: Target, timeout_minutes: float | None = None, color: bool = True
) -> Workspace:
    cfg = target.config
    tf = Terraform(
        binary=tf_binary.resolve(cfg.terraform),
        env=base_environment(
            cfg.plugin_cache_dir, provider_mirror=cfg.provider_mirror, mirror_source=str(cfg.path)
        ),
        timeout=timeout_minutes * 60 if timeout_minutes else None,
        lock_timeout=cfg.lock_timeout,
    )
    return Workspace(
        tf=tf,
        dir=target.stack.dir,
        data_dir=cfg.root / ".runners" / "tf" / target.stack.name / target.env.name,
        backend=cfg.backend_for(target.stack, target.env),
        var_files=target.stack.var_files.get(target.env.name, ()),
        color=color,
    )


def code_closure(repo: GitRepo, stack_dir: Path) -> list[str]:
    """Repo-relative folders whose content decides what this stack plans.

    A configuration Terraform cannot parse fails here first; it is reported as
    a Terraform failure (exit 1), as ``terraform init`` would report it.
    """
    try:
        folders = local_closure(stack_dir)
    except InputError as exc:
        raise TerraformError(f"invalid Terraform configuration: {exc}") from None
    return [repo.relpath(p) for p in folders if p.is_dir()]
