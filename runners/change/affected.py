"""Which stacks a merge request touches.

A pure decision over (changed paths, each stack's directory closure): a stack
is affected when a changed file lies in its directory or in a local module it
uses, directly or through another module. A change to the config file itself
affects every stack, since it may change any stack's backend or variables.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Affected:
    stack: str
    reasons: tuple[str, ...]  # the changed paths (or the config) that pulled it in


def _under(path: str, folder: str) -> bool:
    return folder in ("", ".") or path == folder or path.startswith(folder.rstrip("/") + "/")


def affected_stacks(
    changed: Iterable[str],
    closures: Mapping[str, Iterable[str]],
    config_path: str | None = None,
) -> list[Affected]:
    """``closures`` maps stack name to repo-relative folders: its own, then its modules'."""
    paths = sorted(set(changed))
    config_changed = config_path is not None and config_path in paths
    out = []
    for stack in sorted(closures):
        folders = list(closures[stack])
        reasons = [p for p in paths if any(_under(p, f) for f in folders)]
        if config_changed:
            reasons.append(str(config_path))
        if reasons:
            out.append(Affected(stack, tuple(dict.fromkeys(reasons))))
    return out
