"""Argument helpers shared by subcommands: typed flags and the config they name."""

from __future__ import annotations

import argparse
import math
import os
from pathlib import Path
from typing import TYPE_CHECKING

MAX_MINUTES = 7 * 24 * 60  # a week: longer than any Terraform step or Jenkins build
MAX_COUNT = 1_000_000

if TYPE_CHECKING:
    from runners.config import Config


def load_config(args: argparse.Namespace) -> Config:
    from runners import config as config_mod
    from runners.confpath import find_config

    return config_mod.load(find_config(getattr(args, "config", None)))


def optional_config(args: argparse.Namespace) -> Config | None:
    """The config when one is named or found; None when there is simply none."""
    from runners.confpath import find_config

    path = find_config(getattr(args, "config", None))
    explicit = bool(getattr(args, "config", None) or os.environ.get("RUNNERS_CONFIG"))
    if not explicit and not path.exists():
        return None
    from runners import config as config_mod

    return config_mod.load(path)


def minutes(text: str) -> float:
    """``--timeout MINUTES``: a finite, positive number of minutes, at most a week."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and 0 < value <= MAX_MINUTES):
        raise argparse.ArgumentTypeError(
            f"expected minutes, more than 0 and at most {MAX_MINUTES} (a week), got {text!r}"
        )
    return value


def count(text: str) -> int:
    """A number of things (``--confirm-destroy N``, ``--max-deletions N``): 0 or more."""
    try:
        value = int(text, 10)
    except ValueError:
        value = -1
    if not 0 <= value <= MAX_COUNT:
        raise argparse.ArgumentTypeError(f"expected a whole number, 0 or more, got {text!r}")
    return value


# -- path flags ------------------------------------------------------------------------------
# Every path a command takes is made absolute against the working directory as
# it is parsed: Terraform runs in the stack's folder, so a relative --out or
# --plan-dir handed on as it was given would name another place there (a plan
# stage writing plans/demo/.runners-staging-*/tfplan under the stack failed
# that way). ``tests/test_path_flags.py`` holds every subcommand to these types.


def input_path(text: str) -> Path:
    """A file or folder runners only reads (--plan-dir, --file, PLAN_JSON): made absolute.

    Reading from anywhere is fine: what is read is checked for what it is
    (a plan folder against its systems of record), not for where it lies.
    """
    return Path(os.path.abspath(text))


def new_folder_path(text: str) -> Path:
    """A folder runners creates as a repository of its own (init DIR): made absolute.

    Unlike --out it need not lie inside the repository the command runs in:
    a new client's repository usually lies beside it.
    """
    return Path(os.path.abspath(text))


def output_path(text: str) -> Path:
    """A file or folder runners writes (--out, --markdown, --junit): made absolute.

    A relative one must stay inside the repository the command runs in (the
    git work tree holding the working directory, else the working directory):
    on a Jenkins agent, a relative path that climbs out of the workspace lands
    in another job's workspace or the agent's home, and it is nearly always a
    path meant for another working directory. Symbolic links are followed for
    the check. An absolute path is the caller's explicit choice and is taken
    as given (the pipelines pass ``$WORKSPACE/...``).
    """
    given = Path(text)
    if given.is_absolute():
        return given
    cwd = Path.cwd()
    resolved = (cwd / given).resolve()
    root = repository_root(cwd)
    if not resolved.is_relative_to(root):
        raise argparse.ArgumentTypeError(
            f"{text!r} is outside the repository {root} (a relative path is taken from the "
            f"working directory {cwd}); give a path inside it, or an absolute path"
        )
    return resolved


def repository_root(cwd: Path) -> Path:
    """The git work tree holding ``cwd`` (a ``.git`` folder or file), else ``cwd`` itself."""
    here = cwd.resolve()
    for folder in (here, *here.parents):
        if (folder / ".git").exists():
            return folder
    return here


MAX_JOBS = 64


def jobs(text: str) -> int:
    """``--jobs N``: how many at once, a whole number from 1 to 64."""
    try:
        value = int(text, 10)
    except ValueError:
        value = 0
    if not 1 <= value <= MAX_JOBS:
        raise argparse.ArgumentTypeError(
            f"expected a whole number of stacks at once, 1 to {MAX_JOBS}, got {text!r}"
        )
    return value
