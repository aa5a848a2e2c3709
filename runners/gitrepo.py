"""What runners needs from git, through GitPython: commits, authors, changed paths, trees.

The apply reads the environment branch's head from git itself: the remote's
branch, fetched, when the repository has an ``origin`` (as a Jenkins checkout
does), else the local branch. Never ``HEAD``, never ``BRANCH_NAME``: those say
what is checked out, not what was merged.
"""

from __future__ import annotations

import os
import tarfile
import tempfile
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from runners.errors import RunnersError, UsageError

REMOTE = "origin"
_SEP, _END = "\x1f", "\x1e"


@dataclass(frozen=True)
class Author:
    name: str
    email: str

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"


@dataclass(frozen=True)
class Commit:
    sha: str
    author: Author
    committer: Author
    subject: str


@dataclass(frozen=True)
class Head:
    """The environment branch's head commit, and the ref it was read from."""

    sha: str
    ref: str  # refs/remotes/origin/production, or refs/heads/production without a remote


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
        """The checked-out branch, for the record (a manifest's ``git.branch``, a plan record).

        Jenkins checks out detached, so its variables come first. Never a fact
        to decide on: the environment branch's head is ``environment_head``.
        """
        for var in ("BRANCH_NAME", "GIT_LOCAL_BRANCH"):
            if os.environ.get(var):
                return os.environ[var]
        if os.environ.get("GIT_BRANCH"):
            return os.environ["GIT_BRANCH"].removeprefix("origin/")
        if self._repo.head.is_detached:
            return None
        return str(self._repo.active_branch.name)

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

    # -- the environment branch, as git has it --------------------------------

    def remote_url(self, name: str = REMOTE) -> str | None:
        import git

        try:
            return str(self._repo.git.remote("get-url", name)).strip() or None
        except git.GitCommandError:
            return None

    def environment_head(self, branch: str) -> Head:
        """The branch's head: fetched from ``origin`` when there is one, else the local branch."""
        import git

        try:
            self._repo.git.check_ref_format("--branch", branch)
        except git.GitCommandError:
            raise UsageError(f"{branch!r} is not a valid git branch name") from None
        if self.remote_url() is not None:
            ref = f"refs/remotes/{REMOTE}/{branch}"
            try:
                self._repo.git.fetch("--no-tags", "--quiet", REMOTE, f"+refs/heads/{branch}:{ref}")
            except git.GitCommandError as exc:
                last = (str(exc.stderr).strip().splitlines() or ["git fetch failed"])[-1]
                raise RunnersError(
                    f"cannot fetch branch {branch!r} from {REMOTE} ({self.remote_url()}): "
                    f"{last.strip().removeprefix('stderr: ').strip(chr(39))}"
                ) from None
        else:
            ref = f"refs/heads/{branch}"
        try:
            sha = str(self._repo.git.rev_parse("--verify", "--quiet", f"{ref}^{{commit}}")).strip()
        except git.GitCommandError:
            sha = ""
        if not sha:
            raise UsageError(f"{self.root}: branch {branch!r} not found ({ref})")
        return Head(sha, ref)

    def blob(self, ref: str, rel_path: str) -> bytes | None:
        """The bytes of a file at a commit; None when the commit has no such file."""
        commit = self._commit(ref)
        try:
            item = commit.tree[rel_path]
        except KeyError:
            return None
        if item.type != "blob":
            return None
        return bytes(item.data_stream.read())

    def file_names(self, ref: str, folder: str) -> list[str]:
        """The names of the files directly in ``folder`` at a commit."""
        commit = self._commit(ref)
        try:
            tree = commit.tree[folder] if folder not in ("", ".") else commit.tree
        except KeyError:
            return []
        if tree.type != "tree":
            return []
        return sorted(str(item.name) for item in tree.blobs)

    def export(self, ref: str, dest: Path) -> None:
        """Write the commit's whole tree into ``dest`` (``git archive``), nothing else."""
        self._commit(ref)
        with tempfile.TemporaryFile() as tar_file:
            self._repo.archive(tar_file, treeish=ref, format="tar")
            tar_file.seek(0)
            with tarfile.open(fileobj=tar_file) as tar:
                tar.extractall(dest, filter="data")

    def is_ancestor(self, ancestor: str, ref: str) -> bool:
        import git

        try:
            self._repo.git.merge_base("--is-ancestor", ancestor, ref)
        except git.GitCommandError:
            return False
        return True

    def merge_base(self, a: str, b: str) -> str | None:
        import git

        try:
            return str(self._repo.git.merge_base(a, b)).strip() or None
        except git.GitCommandError:
            return None

    def has_commit(self, sha: str) -> bool:
        import git

        try:
            self._repo.git.cat_file("-e", f"{sha}^{{commit}}")
        except git.GitCommandError:
            return False
        return True

    def commits_touching(self, start: str | None, head: str, paths: list[str]) -> list[Commit]:
        """Who changed ``paths`` after ``start`` up to ``head`` (all history without a start).

        Every non-merge commit that touches them, on any branch merged in
        (``--full-history``), and every merge whose own content touches them
        (a conflict resolved by hand, or an "evil merge": ``diff-tree --cc``
        is not empty). A clean merge writes nothing, so its author is not one.
        """
        span = f"{start}..{head}" if start else head
        fmt = _SEP.join(("%H", "%an", "%ae", "%cn", "%ce", "%s")) + _END
        found = self._log(span, fmt, "--full-history", "--no-merges", "--", *paths)
        merges = self._log(span, fmt, "--merges")
        for commit in merges:
            touched = str(
                self._repo.git.diff_tree(
                    "--cc", "--no-commit-id", "--name-only", "-r", commit.sha, "--", *paths
                )
            ).strip()
            if touched:
                found.append(commit)
        return found

    def messages(self, start: str | None, head: str) -> list[tuple[str, str]]:
        """(sha, full message) of every commit after ``start`` up to ``head``."""
        span = f"{start}..{head}" if start else head
        out = str(self._repo.git.log(f"--format=%H{_SEP}%B{_END}", span))
        found = []
        for chunk in out.split(_END):
            sha, _, message = chunk.strip("\n").partition(_SEP)
            if sha:
                found.append((sha, message))
        return found

    def _log(self, span: str, fmt: str, *args: str) -> list[Commit]:
        out = str(self._repo.git.log(f"--format={fmt}", span, *args))
        commits = []
        for chunk in out.split(_END):
            parts = chunk.strip("\n").split(_SEP)
            if len(parts) != 6:
                continue
            sha, an, ae, cn, ce, subject = parts
            commits.append(Commit(sha, Author(an, ae), Author(cn, ce), subject))
        return commits

    def relpath(self, path: Path) -> str:
        rel = path.resolve().relative_to(self.root).as_posix()
        return "" if rel == "." else rel
