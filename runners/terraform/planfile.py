"""Facts read from a saved binary plan (a zip Terraform writes with -out).

The plan carries the state snapshot it was made against and the dependency
lock file, so the serial and lineage of the state, and the lock file the plan
was made with, come from the plan itself rather than from another backend call.
"""

from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass
from pathlib import Path

from runners.errors import InputError
from runners.fsutil import sha256_bytes


@dataclass(frozen=True)
class PlanFileFacts:
    state_serial: int | None
    state_lineage: str | None
    lock_file_sha256: str | None


def read_facts(path: Path) -> PlanFileFacts:
    try:
        with zipfile.ZipFile(path) as zf:
            names = set(zf.namelist())
            state = json.loads(zf.read("tfstate")) if "tfstate" in names else {}
            lock = zf.read(".terraform.lock.hcl") if ".terraform.lock.hcl" in names else None
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except (zipfile.BadZipFile, json.JSONDecodeError, KeyError) as exc:
        raise InputError(f"{path}: not a Terraform plan file ({exc})") from None
    lineage = state.get("lineage") or None
    serial = state.get("serial") if lineage else None
    return PlanFileFacts(
        state_serial=int(serial) if serial is not None else None,
        state_lineage=str(lineage) if lineage else None,
        lock_file_sha256=sha256_bytes(lock) if lock is not None else None,
    )
