"""Argument helpers shared by subcommands: typed flags and the config they name."""

from __future__ import annotations

import argparse
import math
import os
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
