"""The files ``dr prepare`` leaves for people and for ``dr plan``.

In the stack's folder: ``dr.auto.tfvars.json`` (the variables),
``runbook.md`` and ``dr.json`` (what was prepared, when, from what). Each is
written to a temp file and renamed; ``dr.json`` goes last, so a folder whose
``dr.json`` names the variables' hash holds a complete preparation.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from runners.dr.model import Preparation
from runners.errors import InputError
from runners.fsutil import atomic_write_text, sha256_bytes, sha256_file

TFVARS = "dr.auto.tfvars.json"
RUNBOOK = "runbook.md"
META = "dr.json"
SCHEMA = "runners.dr-prepare/1"


def write(out_dir: Path, prep: Preparation, runbook: str) -> None:
    variables = json.dumps(prep.variables, indent=2, sort_keys=True) + "\n"
    atomic_write_text(out_dir / TFVARS, variables)
    atomic_write_text(out_dir / RUNBOOK, runbook)
    atomic_write_text(out_dir / META, json.dumps(meta(prep, variables), indent=2) + "\n")


def meta(prep: Preparation, variables: str) -> dict[str, Any]:
    rpo = prep.rpo_achieved()
    return {
        "schema": SCHEMA,
        "stack": prep.stack,
        "environment": prep.environment,
        "source_region": prep.source_region,
        "target_region": prep.target_region,
        "policy": prep.policy,
        "prepared_at": prep.prepared_at.isoformat(),
        "state": prep.state,
        "state_serial": prep.state_serial,
        "rpo_achieved_seconds": int(rpo.total_seconds()) if rpo is not None else None,
        "rpo_met": prep.rpo_met(),
        "tfvars_sha256": sha256_bytes(variables.encode("utf-8")),
        "restores": [
            {
                "variable": str(r.slot),
                "address": r.address,
                "kind": r.kind,
                "source_id": r.source_id,
                "snapshot_id": r.snapshot_id,
                "taken_at": r.taken_at.isoformat(),
                "via": r.via or None,
            }
            for r in prep.restores
        ],
        "images": [
            {
                "variable": str(i.slot),
                "source_image": i.source_image,
                "target_image": i.target_image,
                "found_by": i.found_by,
            }
            for i in prep.images
        ],
        "zones": [list(pair) for pair in prep.zones],
        "kms_key": prep.kms_key,
        "starts_empty": [
            {"address": u.address, "what": u.what, "accepted": u.accepted} for u in prep.unrestored
        ],
        "regional_literals": [
            {
                "where": lit.where,
                "text": lit.text,
                "variable": lit.variable,
                "mapped_by": lit.mapped_by,
            }
            for lit in prep.literals
        ],
        "var_files": list(prep.var_files),
        "missing": [{"what": m.what, "why": m.why} for m in prep.missing],
    }


@dataclass(frozen=True)
class Prepared:
    """A complete earlier preparation found in a folder."""

    tfvars: Path
    stack: str
    environment: str
    target_region: str
    prepared_at: datetime
    missing: int
    edited: bool  # the variables were changed by hand after prepare wrote them

    def age(self, now: datetime) -> timedelta:
        return now - self.prepared_at


def load(out_dir: Path) -> Prepared | None:
    """The preparation in ``out_dir``; None when there is none; InputError when it is damaged."""
    meta_path = out_dir / META
    if not meta_path.is_file():
        return None
    try:
        data = json.loads(meta_path.read_text(encoding="utf-8"))
        if data.get("schema") != SCHEMA:
            raise ValueError(f"schema {data.get('schema')!r}")
        prepared = Prepared(
            tfvars=(out_dir / TFVARS).resolve(),
            stack=str(data["stack"]),
            environment=str(data["environment"]),
            target_region=str(data["target_region"]),
            prepared_at=datetime.fromisoformat(str(data["prepared_at"])),
            missing=len(data.get("missing") or []),
            edited=False,
        )
        recorded = str(data["tfvars_sha256"])
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise InputError(f"{meta_path}: not a dr prepare record ({exc})") from None
    if not prepared.tfvars.is_file():
        raise InputError(f"{prepared.tfvars}: missing; run dr prepare again")
    return replace(prepared, edited=sha256_file(prepared.tfvars) != recorded)
