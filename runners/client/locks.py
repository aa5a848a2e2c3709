"""The stacks' ``.terraform.lock.hcl``, made once by ``runners init`` and committed with them.

A stack without a committed lock file cannot be applied: its first plan
writes one into the working tree, which makes the tree dirty, and the plan
contract refuses plans made from uncommitted changes. The providers come from
the agents' own configuration (the mirror in ``$RUNNERS_PROVIDER_MIRROR``,
else the registry), exactly as every plan gets them, through
``runners.terraform.engine``. Stacks with the same ``versions.tf`` share one
``terraform init`` in a scratch folder.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from runners.errors import RunnersError
from runners.terraform.workspace import LOCK_FILE

VERSIONS = "versions.tf"


@dataclass(frozen=True)
class LockOutcome:
    written: list[str]  # stack folders that got a lock file
    problem: str | None  # why none was made, in one line


def make_lock_files(stack_dirs: list[Path]) -> LockOutcome:
    from runners.terraform import binary
    from runners.terraform.engine import Terraform, base_environment

    groups: dict[str, list[Path]] = {}
    for stack in stack_dirs:
        versions = stack / VERSIONS
        if versions.is_file():
            groups.setdefault(versions.read_text(encoding="utf-8"), []).append(stack)
    written: list[str] = []
    try:
        tf = Terraform(binary.resolve(None), base_environment(None, quiet=True), timeout=900)
        for text, stacks in groups.items():
            scratch = Path(tempfile.mkdtemp(prefix="runners-init-lock-"))
            try:
                (scratch / VERSIONS).write_text(text, encoding="utf-8")
                tf.run(
                    ["init", "-backend=false", "-input=false", "-no-color"],
                    scratch,
                    extra_env={"TF_DATA_DIR": str(scratch / ".terraform")},
                    stream=False,
                )
                lock = (scratch / LOCK_FILE).read_bytes()
            finally:
                shutil.rmtree(scratch, ignore_errors=True)
            for stack in stacks:
                (stack / LOCK_FILE).write_bytes(lock)
                written.append(stack.name)
    except (RunnersError, OSError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return LockOutcome([], f"the providers could not be installed ({first})")
    return LockOutcome(sorted(written), None)
