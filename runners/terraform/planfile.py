"""Facts read from a saved binary plan (a zip Terraform writes with -out).

The plan carries the state snapshot it was made against, the dependency lock
file, the configuration it was made from (``tfconfig/``, see ``snapshot``) and,
in its ``tfplan`` entry, the backend it will write to and the Terraform
version (see ``planbinary``). So the serial and lineage of the state, the lock
file, the code and the target of a plan all come from the plan itself, never
from a file beside it that anyone holding the plan folder could rewrite.
"""

from __future__ import annotations

import json
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

from runners.errors import InputError
from runners.fsutil import sha256_bytes
from runners.terraform import planbinary, snapshot

LOCK_FILE = ".terraform.lock.hcl"


def lock_digest(content: bytes | None) -> str | None:
    """sha256 of a dependency lock file's locks; None when it locks nothing.

    Terraform puts a lock file in every plan, a bare header when the
    configuration uses no provider plugin and none is on disk; that header and
    no file at all mean the same thing: nothing pinned.
    """
    if content is None:
        return None
    lines = [
        line.strip()
        for line in content.decode("utf-8", "replace").splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    return sha256_bytes("\n".join(lines).encode("utf-8")) if lines else None


@dataclass(frozen=True)
class PlanFileFacts:
    state_serial: int | None
    state_lineage: str | None
    lock_file_sha256: str | None


@dataclass(frozen=True)
class SavedPlan:
    """Everything the apply checks that the plan file itself says."""

    facts: PlanFileFacts
    record: planbinary.PlanRecord
    snapshot: snapshot.ConfigSnapshot | None  # None: made by a Terraform without snapshots
    lock_file: bytes | None


def _state(zf: zipfile.ZipFile, names: set[str]) -> PlanFileFacts:
    state = json.loads(zf.read("tfstate")) if "tfstate" in names else {}
    if not isinstance(state, dict):
        raise ValueError("tfstate is not a JSON object")
    lock = zf.read(LOCK_FILE) if LOCK_FILE in names else None
    lineage = state.get("lineage") or None
    serial = state.get("serial") if lineage else None
    if serial is not None and (isinstance(serial, bool) or not isinstance(serial, int)):
        raise ValueError("tfstate serial is not an integer")
    return PlanFileFacts(
        state_serial=serial,
        state_lineage=str(lineage) if lineage else None,
        lock_file_sha256=sha256_bytes(lock) if lock is not None else None,
    )


def read_facts(path: Path) -> PlanFileFacts:
    try:
        with zipfile.ZipFile(path) as zf:
            return _state(zf, set(zf.namelist()))
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except (zipfile.BadZipFile, ValueError, RecursionError, KeyError) as exc:
        raise InputError(f"{path}: not a Terraform plan file ({exc})") from None


def read_plan(path: Path) -> SavedPlan:
    """The whole of what a saved plan says about itself; InputError when it is not one."""
    try:
        with zipfile.ZipFile(path) as zf:
            names = set(zf.namelist())
            if "tfplan" not in names:
                raise ValueError("no tfplan entry")
            facts = _state(zf, names)
            record = planbinary.read_record(zf.read("tfplan"))
            snap = snapshot.read(zf)
            lock = zf.read(LOCK_FILE) if LOCK_FILE in names else None
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except (
        zipfile.BadZipFile,
        zlib.error,
        NotImplementedError,
        ValueError,
        RecursionError,
        KeyError,
        EOFError,
    ) as exc:
        raise InputError(f"{path}: not a Terraform plan file ({exc})") from None
    return SavedPlan(facts, record, snap, lock)
