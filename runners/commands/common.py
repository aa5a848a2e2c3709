"""Argument helpers shared by subcommands."""

from __future__ import annotations

import argparse
import os

from runners import config as config_mod
from runners.config import Config


def load_config(args: argparse.Namespace) -> Config:
    return config_mod.load(config_mod.find_config(getattr(args, "config", None)))


def optional_config(args: argparse.Namespace) -> Config | None:
    """The config when one is named or found; None when there is simply none."""
    path = config_mod.find_config(getattr(args, "config", None))
    explicit = bool(getattr(args, "config", None) or os.environ.get("RUNNERS_CONFIG"))
    if not explicit and not path.exists():
        return None
    return config_mod.load(path)
