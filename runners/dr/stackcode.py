"""What a stack's own code says that disaster recovery needs: its backend type, its variables.

A plain scan of the top-level ``*.tf`` files. It is only a cross-check (a
``[dr.stacks]`` variable the stack does not declare would be ignored by
Terraform with a warning, and a volume would come back empty), so it need
not be a full HCL parser: declarations are at the top level by definition.
"""

from __future__ import annotations

import re
from pathlib import Path

_BACKEND = re.compile(r'^\s*backend\s+"([A-Za-z0-9_]+)"', re.MULTILINE)
_VARIABLE = re.compile(r'^variable\s+"?([A-Za-z_][A-Za-z0-9_-]*)"?\s*\{', re.MULTILINE)


def _sources(stack_dir: Path) -> list[str]:
    return [
        tf.read_text(encoding="utf-8", errors="replace") for tf in sorted(stack_dir.glob("*.tf"))
    ]


def backend_type(stack_dir: Path) -> str | None:
    """The backend the stack's code declares (``backend "s3" {}``), if any."""
    for text in _sources(stack_dir):
        found = _BACKEND.search(text)
        if found:
            return found.group(1)
    return None


def declared_variables(stack_dir: Path) -> set[str]:
    return {name for text in _sources(stack_dir) for name in _VARIABLE.findall(text)}
