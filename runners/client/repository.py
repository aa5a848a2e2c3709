"""Writing a new client's repository: the rendered files, lock files, one commit, two branches.

Everything is made in a staging folder beside the destination and moved into
place only when complete, so an interrupted ``runners init`` leaves nothing
behind. A destination that is already a runners repository is left exactly as
it is; one that holds anything else is refused. Nothing is ever overwritten.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from runners.client.locks import LockOutcome, make_lock_files
from runners.client.render import ENVIRONMENTS, Rendered
from runners.errors import RunnersError, UsageError

CONFIG = "runners.toml"
FIRST_BRANCH = "production"


class Existing(Enum):
    ABSENT = "absent"
    EMPTY = "empty"
    RUNNERS = "runners"  # a git repository with runners.toml at its root
    OTHER = "other"


def existing(dest: Path) -> Existing:
    """What is at ``dest`` now."""
    if not dest.exists() and not dest.is_symlink():
        return Existing.ABSENT
    if not dest.is_dir():
        raise UsageError(f"{dest}: exists and is not a directory")
    if (dest / CONFIG).is_file() and (dest / ".git").exists():
        return Existing.RUNNERS
    return Existing.EMPTY if not any(dest.iterdir()) else Existing.OTHER


@dataclass(frozen=True)
class Created:
    path: Path
    commit: str
    branches: tuple[str, ...]
    locks: LockOutcome


class GitFailed(RunnersError):
    """git said no; the line is git's own last line."""


class PushFailed(RunnersError):
    """The repository was made; pushing it was not."""


def create(dest: Path, rendered: Rendered, stack_names: list[str]) -> Created:
    state = existing(dest)
    if state in (Existing.RUNNERS, Existing.OTHER):
        raise UsageError(f"{dest}: not empty")  # the command says what to do; this is a guard
    dest.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{dest.name}.runners-init-", dir=dest.parent))
    try:
        os.chmod(staging, 0o777 & ~_umask())  # mkdtemp's 0700 is for the staging only
        for rel, text in sorted(rendered.files.items()):
            path = staging / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        locks = make_lock_files([staging / "terraform" / "stacks" / s for s in stack_names])
        commit = _commit(staging)
        if state is Existing.EMPTY:
            dest.rmdir()
        os.rename(staging, dest)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return Created(dest, commit, (FIRST_BRANCH, "development"), locks)


def push(repo: Path, remote: str) -> None:
    """Both branches to ``remote``, as ``origin``."""
    _git(repo, "remote", "add", "origin", remote)
    try:
        _git(repo, "push", "--quiet", "--set-upstream", "origin", *ENVIRONMENTS[::-1])
    except GitFailed as exc:
        raise PushFailed(
            f"{repo} was made, but pushing to {remote} failed ({exc}); push it with: "
            f"git -C {repo} push --set-upstream origin production development"
        ) from None


def _commit(repo: Path) -> str:
    _git(repo, "init", "--quiet", f"--initial-branch={FIRST_BRANCH}")
    _git(repo, "add", "--all")
    _git(
        repo,
        *_identity(repo),
        "commit",
        "--quiet",
        "--message",
        "Initial layout from runners init\n\nrunners.toml, the template set's stacks, the vendored "
        "modules, the merge-request Jenkinsfile, CODEOWNERS and the README.",
    )
    _git(repo, "branch", "development")
    return _git(repo, "rev-parse", "HEAD")


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def _identity(repo: Path) -> list[str]:
    """``-c user.*`` only when git has no identity of its own (a fresh service account)."""
    if os.environ.get("GIT_AUTHOR_EMAIL") or os.environ.get("EMAIL"):
        return []
    with contextlib.suppress(GitFailed):
        if _git(repo, "config", "user.email"):
            return []
    return ["-c", "user.name=runners init", "-c", f"user.email=runners-init@{socket.gethostname()}"]


def _git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", *args],
        cwd=repo,
        check=False,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
    )
    if done.returncode != 0:
        said = done.stderr.strip().splitlines()
        raise GitFailed(f"git {args[0]}: {said[-1] if said else f'exited {done.returncode}'}")
    return done.stdout.strip()
