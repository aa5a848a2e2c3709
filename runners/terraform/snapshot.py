"""The configuration snapshot inside a saved plan, and how it compares with a tree on disk.

``terraform plan -out`` stores every configuration file it read under
``tfconfig/`` in the plan's zip: ``tfconfig/m-<module key>/<file>`` per module
(``m-`` is the root), plus ``tfconfig/modules.json`` mapping each module key
to its source and its directory relative to the root. ``terraform apply`` of
that plan evaluates this snapshot, not the working directory, so the snapshot
is what must be compared with the reviewed code.

A module directory's configuration files are chosen by Terraform's own rule
(``internal/configs``: ``.tf`` and ``.tf.json``, skipping names that start with
``.``, end with ``~``, or start and end with ``#``); the comparison uses the
same rule on disk, so a file Terraform would read but git does not hold, or
the other way round, is a difference.
"""

from __future__ import annotations

import json
import posixpath
import zipfile
from dataclasses import dataclass
from pathlib import Path

PREFIX = "tfconfig/"
MANIFEST = PREFIX + "modules.json"


@dataclass(frozen=True)
class SnapshotModule:
    key: str  # "" for the root module; "a.b" for module "b" called by module "a"
    source: str  # the source as written in the call ("" for the root)
    dir: str  # relative to the root module's directory, as Terraform recorded it
    files: dict[str, bytes]

    @property
    def local(self) -> bool:
        return self.key == "" or is_local_source(self.source)


@dataclass(frozen=True)
class ConfigSnapshot:
    modules: dict[str, SnapshotModule]


def is_local_source(source: str) -> bool:
    return source.startswith(("./", "../"))


def is_config_file(name: str) -> bool:
    """Terraform's rule for the files of a module directory (configs.IsIgnoredFile and the .tf matcher)."""
    ignored = (
        name.startswith(".") or name.endswith("~") or (name.startswith("#") and name.endswith("#"))
    )
    return not ignored and name.endswith((".tf", ".tf.json"))


def config_files(directory: Path) -> dict[str, bytes]:
    """The configuration files Terraform reads in ``directory``, by name."""
    if not directory.is_dir():
        return {}
    return {
        p.name: p.read_bytes()
        for p in sorted(directory.iterdir())
        if is_config_file(p.name) and p.is_file()
    }


def read(zf: zipfile.ZipFile) -> ConfigSnapshot | None:
    """The snapshot of an open plan zip; None when the plan has none (Terraform before 0.12)."""
    names = set(zf.namelist())
    if MANIFEST not in names:
        return None
    try:
        records = json.loads(zf.read(MANIFEST))
    except (ValueError, RecursionError) as exc:
        raise ValueError(f"{MANIFEST} is not JSON ({exc})") from None
    if not isinstance(records, list):
        raise ValueError(f"{MANIFEST}: expected a list of modules")
    modules: dict[str, SnapshotModule] = {}
    for record in records:
        if not isinstance(record, dict) or not isinstance(record.get("Key"), str):
            raise ValueError(f"{MANIFEST}: a module record without a Key")
        key, source, folder = record["Key"], record.get("Source") or "", record.get("Dir") or "."
        if not isinstance(source, str) or not isinstance(folder, str):
            raise ValueError(f"{MANIFEST}: module {key!r}: Source and Dir must be strings")
        modules[key] = SnapshotModule(key, source, folder, {})
    if "" not in modules:
        raise ValueError(f"{MANIFEST}: no root module")
    for name in sorted(names):
        if not name.startswith(PREFIX + "m-") or name.endswith("/"):
            continue
        folder, _, filename = name[len(PREFIX) + 2 :].rpartition("/")
        if folder not in modules or not filename or "/" in filename:
            raise ValueError(f"{name}: a file of no module named in {MANIFEST}")
        modules[folder].files[filename] = zf.read(name)
    return ConfigSnapshot(modules)


@dataclass(frozen=True)
class InstalledModule:
    """A module as ``init`` resolved it from the reviewed code, on disk."""

    key: str
    source: str
    path: Path  # absolute
    label: str  # how a reader names it: a repository path, or "module KEY (SOURCE)"


def differences(snapshot: ConfigSnapshot, installed: dict[str, InstalledModule]) -> list[str]:
    """Every way the plan's configuration differs from the reviewed code; empty when identical."""
    out: list[str] = []
    for key in sorted(set(snapshot.modules) - set(installed)):
        mod = snapshot.modules[key]
        out.append(
            f"the plan has module {key!r} ({mod.source or mod.dir}), which the reviewed code does not call"
        )
    for key in sorted(set(installed) - set(snapshot.modules)):
        out.append(
            f"the reviewed code calls module {key!r} ({installed[key].source}), which the plan lacks"
        )
    for key in sorted(set(snapshot.modules) & set(installed)):
        mod, there = snapshot.modules[key], installed[key]
        if mod.source != there.source:
            out.append(
                f"module {key!r}: the plan's source is {mod.source!r}, the reviewed code's {there.source!r}"
            )
            continue
        reviewed = config_files(there.path)
        for name in sorted(set(mod.files) | set(reviewed)):
            where = posixpath.join(there.label, name) if there.label else name
            if name not in reviewed:
                out.append(f"{where} is in the plan but not in the reviewed code")
            elif name not in mod.files:
                out.append(f"{where} is in the reviewed code but the plan was made without it")
            elif mod.files[name] != reviewed[name]:
                out.append(f"{where} differs from the reviewed code")
    return out
