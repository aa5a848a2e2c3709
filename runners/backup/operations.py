"""The AWS operations the backup code calls: the runner's IAM policy must allow exactly these.

Each module that calls AWS declares ``AWS_OPERATIONS``; a meta-test checks the
declarations against the code, and this is their union.
"""

from __future__ import annotations

from types import ModuleType

from runners.aws import session
from runners.backup import images, kms
from runners.backup.engines import (
    aurora_cluster,
    ebs_volume,
    ec2_instance,
    ec2snapshots,
    rds_instance,
    rdssnapshots,
)

MODULES: tuple[ModuleType, ...] = (
    session,
    kms,
    images,
    ec2snapshots,
    ebs_volume,
    ec2_instance,
    rdssnapshots,
    rds_instance,
    aurora_cluster,
)


def aws_operations(modules: tuple[ModuleType, ...] = MODULES) -> dict[str, frozenset[str]]:
    union: dict[str, set[str]] = {}
    for module in modules:
        for service, ops in module.AWS_OPERATIONS.items():
            union.setdefault(service, set()).update(ops)
    return {service: frozenset(ops) for service, ops in sorted(union.items())}


def iam_actions() -> list[str]:
    """``ec2:CreateSnapshot`` and so on, sorted, as an IAM policy lists them."""
    return sorted(f"{service}:{op}" for service, ops in aws_operations().items() for op in ops)
