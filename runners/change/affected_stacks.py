"""Find the stacks a change touches in a client repository (git + Terraform's loader)."""

from __future__ import annotations

from runners.change.affected import Affected, affected_stacks
from runners.config import Config
from runners.gitrepo import GitRepo
from runners.stacks import code_closure


def find_affected(cfg: Config, repo: GitRepo, base: str, head: str) -> list[Affected]:
    changed = repo.changed_files(base, head)
    closures = {
        name: code_closure(repo, stack.dir) if stack.dir.is_dir() else [repo.relpath(stack.dir)]
        for name, stack in cfg.stacks.items()
    }
    config_rel = repo.relpath(cfg.path) if cfg.path.is_relative_to(repo.root) else None
    return affected_stacks(changed, closures, config_rel)
