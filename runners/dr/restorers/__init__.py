"""The restorers ``verify-restore`` uses, one module per kind of restored resource.

``RESTORERS`` is the registry, by backup kind: the verify workflow looks a
snapshot's kind up here, never by attribute lookup.
"""

from __future__ import annotations

from runners.dr.restorers.base import Facts, Restorer, Throwaway, Wait
from runners.dr.restorers.cluster import ClusterRestorer
from runners.dr.restorers.database import DatabaseRestorer
from runners.dr.restorers.volume import VolumeRestorer

CLASSES: tuple[type[Restorer], ...] = (VolumeRestorer, DatabaseRestorer, ClusterRestorer)
RESTORERS: dict[str, type[Restorer]] = {kind: cls for cls in CLASSES for kind in cls.kinds}

__all__ = ["CLASSES", "RESTORERS", "Facts", "Restorer", "Throwaway", "Wait"]
