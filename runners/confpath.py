"""Where runners.toml is: found without loading the config machinery (for fast commands)."""

from __future__ import annotations

import os
from pathlib import Path

CONFIG_NAME = "runners.toml"


def find_config(explicit: str | None, cwd: Path | None = None) -> Path:
    """--config, then RUNNERS_CONFIG, then runners.toml in cwd or its nearest parent."""
    chosen = explicit or os.environ.get("RUNNERS_CONFIG")
    if chosen:
        return Path(chosen).expanduser().resolve()
    here = (cwd or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        candidate = folder / CONFIG_NAME
        if candidate.is_file():
            return candidate
    return here / CONFIG_NAME
