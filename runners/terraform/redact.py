"""Hide every value Terraform marks sensitive, and count what was hidden.

``before_sensitive``/``after_sensitive`` mirror the shape of the value they
describe: ``true`` marks the value at that position (and all below it)
sensitive, a dict or list recurses. Anything not mirrored is not sensitive.
"""

from __future__ import annotations

from typing import Any

SENSITIVE = "(sensitive value)"


def redact(value: Any, mask: Any) -> Any:
    """A copy of ``value`` with every masked position replaced by a marker."""
    if mask is True:
        return None if value is None else SENSITIVE
    if isinstance(mask, dict) and isinstance(value, dict):
        return {k: redact(v, mask.get(k, False)) for k, v in value.items()}
    if isinstance(mask, list) and isinstance(value, list):
        return [redact(v, mask[i] if i < len(mask) else False) for i, v in enumerate(value)]
    return value


def is_sensitive(mask: Any, path: tuple[Any, ...]) -> bool:
    """Whether the value at ``path`` is covered by ``mask``."""
    node = mask
    for step in path:
        if node is True:
            return True
        if isinstance(node, dict):
            node = node.get(step, False)
        elif isinstance(node, list) and isinstance(step, int) and step < len(node):
            node = node[step]
        else:
            return False
    return _any_true(node)


def _any_true(mask: Any) -> bool:
    if mask is True:
        return True
    if isinstance(mask, dict):
        return any(_any_true(v) for v in mask.values())
    if isinstance(mask, list):
        return any(_any_true(v) for v in mask)
    return False


def sensitive_paths(mask: Any, prefix: tuple[Any, ...] = ()) -> set[tuple[Any, ...]]:
    """Every position a mask marks, as attribute paths."""
    if mask is True:
        return {prefix}
    out: set[tuple[Any, ...]] = set()
    if isinstance(mask, dict):
        for k, v in mask.items():
            if v:  # False, {} and [] mark nothing below
                out |= sensitive_paths(v, (*prefix, k))
    elif isinstance(mask, list):
        for i, v in enumerate(mask):
            if v:
                out |= sensitive_paths(v, (*prefix, i))
    return out


def count_sensitive(before_mask: Any, after_mask: Any) -> int:
    """How many distinct positions are hidden across the before and after values."""
    if not before_mask and not after_mask:  # False, {} or []: nothing marked (the common case)
        return 0
    return len(sensitive_paths(before_mask) | sensitive_paths(after_mask))
