"""Every AWS operation the runners call, gathered from the modules that call them.

The convention: a module that calls AWS declares, at module level,

    AWS_OPERATIONS: dict[str, frozenset[str]] = {"ec2": frozenset({"CreateSnapshot"})}

boto3 service name to the API operation names it calls (CamelCase, as in IAM
actions), counting those behind paginators and waiters. This module walks the
package, imports each module and collects the declarations; a meta-test holds
each declaration to the calls in its module's source (``runners.aws.callscan``)
and the runner IAM role's policy to the union (``runners.aws.iam``).
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import botocore.session

from runners.errors import InputError

ATTRIBUTE = "AWS_OPERATIONS"

OperationMap = Mapping[str, frozenset[str]]


@dataclass(frozen=True)
class Declaration:
    module: str
    path: Path
    operations: OperationMap


@cache
def botocore_session() -> object:
    return botocore.session.get_session()


@cache
def service_operations(service: str) -> frozenset[str]:
    """The operation names (CamelCase) botocore's model gives ``service``; empty when unknown."""
    session = botocore_session()
    if service not in session.get_available_services():  # type: ignore[attr-defined]
        return frozenset()
    model = session.get_service_model(service)  # type: ignore[attr-defined]
    return frozenset(model.operation_names)


def module_names(package: str) -> list[str]:
    """``package`` and every module below it, by import name."""
    root = importlib.import_module(package)
    names = [package]
    for info in pkgutil.walk_packages(getattr(root, "__path__", []), prefix=f"{package}."):
        # A __main__ module runs its program when imported; it only dispatches.
        if not info.name.endswith(".__main__"):
            names.append(info.name)
    return names


def check_declaration(module: str, value: object) -> dict[str, frozenset[str]]:
    """The declaration as a plain dict, or InputError naming what is wrong with it."""
    if not isinstance(value, Mapping):
        raise InputError(
            f"{module}.{ATTRIBUTE}: expected a dict of service to frozenset, "
            f"got {type(value).__name__}"
        )
    out: dict[str, frozenset[str]] = {}
    for service, ops in value.items():
        known = service_operations(service) if isinstance(service, str) else frozenset()
        if not known:
            raise InputError(f"{module}.{ATTRIBUTE}: {service!r} is not a boto3 service name")
        if not isinstance(ops, frozenset) or not all(isinstance(op, str) for op in ops):
            raise InputError(
                f"{module}.{ATTRIBUTE}[{service!r}]: expected a frozenset of operation names"
            )
        unknown = sorted(ops - known)
        if unknown:
            verb = "is not an operation" if len(unknown) == 1 else "are not operations"
            raise InputError(
                f"{module}.{ATTRIBUTE}[{service!r}]: {', '.join(unknown)} {verb} of {service} "
                "(use the CamelCase API name, e.g. DescribeSnapshots)"
            )
        out[service] = frozenset(ops)
    return out


def declarations(package: str = "runners") -> list[Declaration]:
    """Each module of ``package`` that declares AWS_OPERATIONS, with its checked declaration."""
    found = []
    for name in module_names(package):
        module = importlib.import_module(name)
        if ATTRIBUTE not in vars(module):
            continue
        ops = check_declaration(name, vars(module)[ATTRIBUTE])
        found.append(Declaration(name, Path(str(module.__file__)), ops))
    return found


def union(decls: Iterable[Declaration]) -> dict[str, frozenset[str]]:
    """Service to every operation any of ``decls`` declares."""
    merged: dict[str, set[str]] = {}
    for decl in decls:
        for service, ops in decl.operations.items():
            merged.setdefault(service, set()).update(ops)
    return {service: frozenset(ops) for service, ops in sorted(merged.items())}
