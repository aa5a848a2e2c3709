"""Meta-tests over the backup engines: registry, contract, and declared AWS operations."""

from __future__ import annotations

import ast
import importlib
import inspect
from pathlib import Path
from types import ModuleType

import boto3
import pytest

from runners.aws.session import SessionFactory
from runners.backup import demo, operations
from runners.backup.engines import ENGINES, Engine
from runners.backup.engines.base import Clients
from runners.backup.engines.ec2snapshots import Ec2SnapshotEngine
from runners.backup.selection import KINDS

SERVICES = ("ec2", "rds", "kms", "sts")
BACKUP_DIR = Path(__file__).parent.parent / "runners" / "backup"


def method_maps() -> dict[str, dict[str, str]]:
    return {
        s: boto3.client(s, region_name="us-east-1").meta.method_to_api_mapping for s in SERVICES
    }


def names_in(module: ModuleType) -> set[str]:
    """Attribute names and string constants: calls, method references and paginator names."""
    tree = ast.parse(Path(inspect.getfile(module)).read_text())
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            found.add(node.attr)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            found.add(node.value)
    return found


def aws_modules() -> list[ModuleType]:
    mods = []
    for path in sorted(BACKUP_DIR.rglob("*.py")):
        name = ".".join(path.relative_to(BACKUP_DIR.parent.parent).with_suffix("").parts)
        mods.append(importlib.import_module(name))
    return [*mods, importlib.import_module("runners.aws.session")]


def test_the_registry_lists_every_engine_under_its_kind() -> None:
    assert tuple(ENGINES) == KINDS  # what policies may name is what the registry holds
    for kind, cls in ENGINES.items():
        assert issubclass(cls, Engine) and cls.kind == kind
        assert cls.copy_pool in ("ebs", "rds") and cls.family and cls.label
        assert not inspect.isabstract(cls)
        assert hasattr(inspect.getmodule(cls), "AWS_OPERATIONS")


def test_an_engine_missing_a_method_cannot_be_built() -> None:
    class Half(Ec2SnapshotEngine):  # discovery and creation missing
        kind = "half"

    with pytest.raises(TypeError, match="abstract"):
        Half(clients=None)  # type: ignore[arg-type]


@pytest.mark.parametrize("module", aws_modules(), ids=lambda m: m.__name__)
def test_declared_operations_match_the_code(module: ModuleType) -> None:
    maps = method_maps()
    names = names_in(module)
    found = {s: {maps[s][n] for n in names if n in maps[s]} for s in SERVICES}
    declared = getattr(module, "AWS_OPERATIONS", {})
    for service in SERVICES:
        assert found[service] == set(declared.get(service, ())), f"{module.__name__}: {service}"


def test_the_runner_role_needs_exactly_the_union() -> None:
    union: dict[str, set[str]] = {}
    for module in aws_modules():
        if module is demo:  # seeds the embedded AWS for `make demo`; not the runner's role
            continue
        for service, ops in getattr(module, "AWS_OPERATIONS", {}).items():
            union.setdefault(service, set()).update(ops)
    assert {s: set(o) for s, o in operations.aws_operations().items()} == {
        s: o for s, o in union.items() if o
    }
    assert "ec2:CreateVolume" not in operations.iam_actions()
    assert "sts:AssumeRole" in operations.iam_actions()


def test_the_clients_protocol_is_what_session_factory_offers() -> None:
    for name in ("default_region", "ec2", "rds", "kms"):
        assert hasattr(Clients, name) and callable(getattr(SessionFactory, name))
