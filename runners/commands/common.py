"""Argument helpers shared by subcommands."""

from __future__ import annotations

import argparse
import os
from typing import TYPE_CHECKING

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
