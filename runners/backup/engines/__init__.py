"""The backup engines, one module per resource kind, registered here by hand and only here.

``ENGINES`` is the registry: policies name kinds from it, and commands look
engines up in it by kind, never by attribute lookup on user input.
"""

from __future__ import annotations

from runners.backup.engines.aurora_cluster import AuroraCluster
from runners.backup.engines.base import Clients, Engine
from runners.backup.engines.ebs_volume import EbsVolume
from runners.backup.engines.ec2_instance import Ec2Instance
from runners.backup.engines.rds_instance import RdsInstance

ENGINES: dict[str, type[Engine]] = {
    cls.kind: cls for cls in (EbsVolume, Ec2Instance, RdsInstance, AuroraCluster)
}

__all__ = ["ENGINES", "Clients", "Engine"]
