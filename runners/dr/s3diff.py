"""What ``ship-s3`` must copy: a pure comparison of two bucket listings.

An object is shipped when the destination has the key with the same size and
a last-modified time no older than the source's: S3 stamps a copy with the
time it was made, and a replica with its source's time, so either way a
source object changed since it was shipped is newer than its copy. Keys
only in the destination are left alone: ship-s3 never deletes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

Action = Literal["copy", "same", "changed"]


@dataclass(frozen=True)
class Obj:
    key: str
    size: int
    modified: datetime


@dataclass(frozen=True)
class Item:
    source: Obj
    dest_key: str
    action: Action
    reason: str


def compare(
    source: Iterable[Obj], dest: Mapping[str, Obj], dest_key: Callable[[str], str]
) -> list[Item]:
    items = []
    for obj in source:
        target = dest_key(obj.key)
        copy = dest.get(target)
        if copy is None:
            items.append(Item(obj, target, "copy", "not in the destination"))
        elif copy.size == obj.size and copy.modified >= obj.modified:
            items.append(Item(obj, target, "same", "shipped"))
        else:
            why = "size differs" if copy.size != obj.size else "modified after it was shipped"
            items.append(Item(obj, target, "changed", f"{why} since the destination's copy"))
    return items


def lag(items: Sequence[Item], now: datetime) -> timedelta | None:
    """How far behind the destination is: the age of the oldest object it lacks, if any."""
    behind = [i.source.modified for i in items if i.action != "same"]
    return now - min(behind) if behind else None


def covers(rule_prefix: str, prefix: str) -> bool:
    """A replication rule with ``rule_prefix`` replicates every key under ``prefix``."""
    return prefix.startswith(rule_prefix)
