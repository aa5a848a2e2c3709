"""Handing what ``runners bootstrap`` made to Terraform: import blocks for the bootstrap stack.

Two files in the stack's folder. ``bootstrapped.json`` holds, by environment,
the ids bootstrap found or made (each run updates its own environment's
entry). ``imports.tf`` holds one ``import`` block per resource, for the
environment being planned, read from that file: the stack's first apply in an
environment adopts each resource as it is, and ``state-backend`` and
``backup-region`` own them from then on. An environment bootstrap has not
run for imports nothing. Import ids may be any expression of variables,
locals and functions (Terraform 1.6), and ``for_each`` on an import block
came with 1.7; the stack requires 1.10.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from runners.client.bootstrap import Made, Target
from runners.client.names import state_key_alias
from runners.errors import InputError
from runners.fsutil import atomic_write_text

IMPORTS_FILE = "imports.tf"
IDS_FILE = "bootstrapped.json"

# Resource address in the bootstrap stack -> the id it is imported by (a key of the ids).
_STATE = "module.state"
_BACKUP = "module.backup_region"
_BUCKET_PARTS = (
    "aws_s3_bucket_versioning",
    "aws_s3_bucket_server_side_encryption_configuration",
    "aws_s3_bucket_public_access_block",
    "aws_s3_bucket_ownership_controls",
    "aws_s3_bucket_policy",
)
ADDRESSES: tuple[tuple[str, str], ...] = (
    (f"{_STATE}.aws_kms_key.state", "state_key"),
    (f"{_STATE}.aws_kms_alias.state", "state_alias"),
    (f"{_STATE}.aws_s3_bucket.state", "state_bucket"),
    *((f"{_STATE}.{kind}.state", "state_bucket") for kind in _BUCKET_PARTS),
    (f"{_STATE}.aws_s3_bucket_object_lock_configuration.state", "state_bucket"),
    (f"{_BACKUP}.aws_kms_key.backup", "backup_key"),
    (f"{_BACKUP}.aws_kms_alias.backup", "backup_alias"),
    (f"{_BACKUP}.aws_s3_bucket.replica", "replica_bucket"),
    *((f"{_BACKUP}.{kind}.replica", "replica_bucket") for kind in _BUCKET_PARTS),
    (f"{_BACKUP}.aws_iam_role.replication", "replication_role"),
    (f"{_BACKUP}.aws_iam_role_policy.replication", "replication_policy"),
    (f'{_BACKUP}.aws_s3_bucket_replication_configuration.source["state"]', "state_bucket"),
)


@dataclass(frozen=True)
class Written:
    path: Path
    changed: bool


def ids_for(target: Target, made: Made) -> dict[str, str]:
    """The id of everything bootstrap made, by the key the import blocks use."""
    names = target.names
    if made.state_key_id is None or made.backup_key_id is None:
        raise InputError("bootstrap made no keys: nothing to import")
    return {
        "state_bucket": target.bucket,
        "state_key": made.state_key_id,
        "state_alias": state_key_alias(target.bucket),
        "replica_bucket": names.replica_bucket,
        "backup_key": made.backup_key_id,
        "backup_alias": names.backup_key_alias,
        "replication_role": names.replication_role,
        "replication_policy": f"{names.replication_role}:{names.replication_policy}",
    }


def imports_tf() -> str:
    """The import blocks, the same for every environment (the ids come from ``IDS_FILE``)."""
    out = [
        "# Written by `runners bootstrap --env ENV`: what it made before Terraform could run,",
        f"# adopted by this stack's first apply in each environment. The ids are in {IDS_FILE},",
        "# by environment; an environment bootstrap has not run for imports nothing. Once",
        "# adopted, the blocks do nothing: keep them as the record of where these came from.",
        "",
        "locals {",
        f'  bootstrapped = jsondecode(file("${{path.module}}/{IDS_FILE}"))',
        "  adopted      = { for env, ids in local.bootstrapped : env => ids if env == var.environment }",
        "}",
    ]
    for address, key in ADDRESSES:
        out += [
            "",
            "import {",
            "  for_each = local.adopted",
            f"  to       = {address}",
            f"  id       = each.value.{key}",
            "}",
        ]
    return "\n".join(out) + "\n"


def literal_blocks(ids: dict[str, str]) -> str:
    """The same blocks with the ids written in, for a stack that is not the template's."""
    out = []
    for address, key in ADDRESSES:
        out += ["import {", f"  to = {address}", f"  id = {json.dumps(ids[key])}", "}", ""]
    return "\n".join(out)


def write(stack_dir: Path, environment: str, ids: dict[str, str]) -> list[Written]:
    """Record ``ids`` for ``environment`` beside the import blocks; each file only if it changes."""
    path = stack_dir / IDS_FILE
    known: dict[str, dict[str, str]] = {}
    if path.exists():
        try:
            loaded = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise InputError(f"{path}: not the JSON runners bootstrap writes ({exc})") from None
        if not isinstance(loaded, dict) or not all(isinstance(v, dict) for v in loaded.values()):
            raise InputError(f"{path}: expected an object of environments, each of ids")
        known = loaded
    known[environment] = ids
    out = []
    for target, text in (
        (path, json.dumps(dict(sorted(known.items())), indent=2, sort_keys=True) + "\n"),
        (stack_dir / IMPORTS_FILE, imports_tf()),
    ):
        same = target.exists() and target.read_text(encoding="utf-8") == text
        if not same:
            atomic_write_text(target, text)
        out.append(Written(target, not same))
    return out
