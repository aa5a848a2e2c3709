"""What runners needs from git, through GitPython: commits, authors, changed paths, trees."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from runners.errors import UsageError


@dataclass(frozen=True)
class Author:
    name: str
    email: str

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"


class GitRepo:
    """A working tree. Opening it is deferred to first use."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @cached_property
    def _repo(self):  # type: ignore[no-untyped-def]
        import git

        try:
            return git.Repo(self.path, search_parent_directories=True)
        except (git.InvalidGitRepositoryError, git.NoSuchPathError):
            raise UsageError(f"{self.path}: not inside a git repository") from None

    @property
    def root(self) -> Path:
        return Path(self._repo.working_tree_dir).resolve()

    def _commit(self, ref: str):  # type: ignore[no-untyped-def]
        import git
        from gitdb.exc import BadName, BadObject  # type: ignore[import-untyped]

        try:
            return self._repo.commit(ref)
        except (BadName, BadObject, ValueError, git.BadName):
            raise UsageError(f"{self.root}: unknown git ref {ref!r}") from None

    def head(self) -> str:
        return str(self._commit("HEAD").hexsha)

    def resolve(self, ref: str) -> str:
        return str(self._commit(ref).hexsha)

    def branch(self) -> str | None:
        """The checked-out branch; Jenkins checks out detached, so its variables come first."""
        for var in ("BRANCH_NAME", "GIT_LOCAL_BRANCH"):
            if os.environ.get(var):
                return os.environ[var]
        if os.environ.get("GIT_BRANCH"):
            return os.environ["GIT_BRANCH"].removeprefix("origin/")
        if self._repo.head.is_detached:
            return None
        return str(self._repo.active_branch.name)

    def branch_head(self, branch: str) -> str:
        """The commit a branch points at: HEAD when it is the checked-out branch
        (Jenkins checks out detached), else the local ref, else origin's."""
        if self.branch() == branch:
            return self.head()
        for ref in (branch, f"origin/{branch}", f"refs/remotes/origin/{branch}"):
            try:
                return str(self._repo.commit(ref).hexsha)
            except Exception:  # noqa: S112  # GitPython raises several types for a missing ref
                continue
        raise UsageError(
            f"{self.root}: branch {branch!r} not found (locally or as origin/{branch})"
        )

    def author(self, ref: str = "HEAD") -> Author:
        commit = self._commit(ref)
        return Author(str(commit.author.name), str(commit.author.email))

    def changed_files(self, base: str, head: str) -> list[str]:
        """Paths changed on ``head`` since it forked from ``base`` (both sides of renames)."""
        base_c, head_c = self._commit(base), self._commit(head)
        forks = self._repo.merge_base(base_c, head_c)
        start = forks[0] if forks else base_c
        paths: set[str] = set()
        for d in start.diff(head_c):
            if d.a_path:
                paths.add(d.a_path)
            if d.b_path:
                paths.add(d.b_path)
        return sorted(paths)

    def tree_id(self, ref: str, rel_path: str) -> str | None:
        """The git tree (or blob) id of a path at a commit; None when absent there."""
        commit = self._commit(ref)
        try:
            return (
                str(commit.tree[rel_path].hexsha)
                if rel_path not in ("", ".")
                else str(commit.tree.hexsha)
            )
        except KeyError:
            return None

    def is_dirty(self, rel_paths: list[str]) -> bool:
        """Uncommitted or untracked changes under any of the given paths."""
        if not rel_paths:
            return False
        status = self._repo.git.status("--porcelain", "--untracked-files=all", "--", *rel_paths)
        return bool(str(status).strip())

    def relpath(self, path: Path) -> str:
        rel = path.resolve().relative_to(self.root).as_posix()
        return "" if rel == "." else rel
