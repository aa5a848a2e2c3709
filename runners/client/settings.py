"""``[bootstrap]`` of runners.toml: what ``runners bootstrap`` and ``runners doctor`` look after.

``client`` is the first part of every name the bootstrap stack gives
(``<client>-<environment>-...``, ``runners.client.names``); ``stack`` is that
stack's folder, applied by an administrator and never listed in ``[stacks]``:
bootstrap writes its ``imports.tf`` there and doctor reads the runner
principals from its ``<environment>.tfvars``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from runners.client.inputs import CLIENT
from runners.confread import Table

DEFAULT_STACK = "terraform/stacks/bootstrap"


@dataclass(frozen=True)
class BootstrapSettings:
    client: str
    stack_dir: Path  # absolute
    rel_stack: str


def parse_bootstrap(table: Table, root: Path) -> BootstrapSettings | None:
    if not table.data:
        return None
    table.only("client", "stack")
    client = table.req_str("client")
    if not CLIENT.match(client):
        raise table.fail(
            "client",
            f"expected 2-12 lower-case letters and digits starting with a letter, got {client!r}",
        )
    rel = table.str("stack", default=DEFAULT_STACK) or DEFAULT_STACK
    rel_path = Path(rel)
    if rel_path.is_absolute() or ".." in rel_path.parts:
        raise table.fail("stack", f"expected a path inside the repository, got {rel!r}")
    table.check_unknown()
    return BootstrapSettings(client, (root / rel_path).resolve(), rel_path.as_posix())
