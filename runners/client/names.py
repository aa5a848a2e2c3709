"""The names a client's account is built with, in one place.

The bootstrap stack of the template sets (``terraform/templates/*/stacks/bootstrap``)
names things the same way: ``runners bootstrap`` makes some of them before Terraform
runs, and its import blocks only adopt them when both agree. ``tests/test_client_bootstrap.py``
plans the stack after a bootstrap and holds the two to each other.
"""

from __future__ import annotations

from dataclasses import dataclass

DUTIES = ("plan", "apply", "backup")
RUNNER_KEY_PREFIX = "runners/"  # state-backend's runner_key_prefix


@dataclass(frozen=True)
class AccountNames:
    """What one environment of one client is called in its account."""

    client: str
    environment: str
    backup_region: str

    @property
    def prefix(self) -> str:
        """``<client>-<environment>``: the bootstrap stack's ``local.name``."""
        return f"{self.client}-{self.environment}"

    def state_bucket(self) -> str:
        """The default state bucket; runners.toml's backend may name another."""
        return f"{self.prefix}-terraform-state"

    @property
    def replica_bucket(self) -> str:
        """backup-region's replica bucket: ``<name>-backup-<backup region>``."""
        return f"{self.prefix}-backup-{self.backup_region}"

    @property
    def backup_key_alias(self) -> str:
        return f"alias/{self.prefix}-backup"

    @property
    def replication_role(self) -> str:
        return f"{self.prefix}-s3-replication"

    @property
    def replication_policy(self) -> str:
        return f"replicate-to-{self.backup_region}"

    def runner_role(self, duty: str) -> str:
        """runner-role's role for ``duty``, named from the stack's ``<name>-runners``."""
        return f"{self.prefix}-runners-{duty}"


def state_key_alias(bucket: str) -> str:
    """state-backend's alias of the state key: ``alias/<bucket>``."""
    return f"alias/{bucket}"
