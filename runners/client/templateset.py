"""Template sets: the stacks a new client starts from, under ``terraform/templates/<name>/``.

A set is a folder with ``template.toml`` (its stacks, in the order a new
account is first applied, and what each is for) and ``stacks/<stack>/``:
Terraform files copied as they are, and ``tfvars.j2``, rendered once per
environment into ``<environment>.tfvars``. Its stacks call the project's
modules as ``../../modules/<name>``; ``runners init`` vendors those modules
into the client's repository beside them (README, "Template sets").

``standard`` is the team's set; a client's own set sits beside it, or is named
by its path (``--template ./sets/acme``).
"""

from __future__ import annotations

import re
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from runners.confread import Table
from runners.errors import ConfigError, UsageError

MANIFEST = "template.toml"
_MODULE_SOURCE = re.compile(r'^\s*source\s*=\s*"\.\./\.\./modules/([A-Za-z0-9_.-]+)"', re.M)
_NAME = re.compile(r"^[a-z][a-z0-9-]*$")


def terraform_dir() -> Path:
    """The library's ``terraform/`` (modules and template sets): beside the package in a
    source checkout or an editable install, else under ``share/runners`` (setup.cfg)."""
    here = Path(__file__).resolve().parent.parent.parent / "terraform"
    installed = Path(sys.prefix) / "share" / "runners" / "terraform"
    for candidate in (here, installed):
        if (candidate / "templates").is_dir() and (candidate / "modules").is_dir():
            return candidate
    raise UsageError(
        f"the runners installation has no template sets (looked in {here} and {installed}): "
        "reinstall runners"
    )


@dataclass(frozen=True)
class StackTemplate:
    name: str
    dir: Path
    purpose: str
    administrator: bool  # applied by an administrator, so not in runners.toml's [stacks]
    dr: dict[str, object] | None  # [dr.stacks.NAME] settings; None: not rebuilt elsewhere

    def modules(self) -> list[str]:
        """The project's modules this stack calls (``../../modules/<name>``)."""
        found: set[str] = set()
        for tf in sorted(self.dir.glob("*.tf")):
            found.update(_MODULE_SOURCE.findall(tf.read_text(encoding="utf-8")))
        return sorted(found)


@dataclass(frozen=True)
class TemplateSet:
    name: str
    dir: Path
    description: str
    stacks: tuple[StackTemplate, ...] = field(default_factory=tuple)

    def modules(self) -> list[str]:
        return sorted({m for s in self.stacks for m in s.modules()})

    def runner_stacks(self) -> list[StackTemplate]:
        """The stacks the runners plan and apply: every one runners.toml lists."""
        return [s for s in self.stacks if not s.administrator]


def available(root: Path | None = None) -> list[str]:
    base = (root or terraform_dir()) / "templates"
    return sorted(p.name for p in base.iterdir() if (p / MANIFEST).is_file())


def find(name: str, root: Path | None = None) -> TemplateSet:
    """The set called ``name`` in the library, or the folder ``name`` names."""
    given = Path(name).expanduser()
    if "/" in name or name.startswith("."):
        folder = given
    else:
        if not _NAME.match(name):
            raise UsageError(f"--template: expected a set name or a folder, got {name!r}")
        folder = (root or terraform_dir()) / "templates" / name
    if not (folder / MANIFEST).is_file():
        if folder.parent.name == "templates" and folder.parent.is_dir():
            known = ", ".join(available(folder.parent.parent)) or "none"
            raise UsageError(f"--template: no template set {name!r}; known: {known}")
        raise UsageError(f"--template: {folder} holds no {MANIFEST}")
    return load(folder)


def load(folder: Path) -> TemplateSet:
    path = folder / MANIFEST
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(path, "", f"cannot be read as TOML: {exc}") from None
    top = Table(path, "", data)
    top.only("description", "stacks")
    description = top.req_str("description")
    stacks = []
    for name, t in top.table("stacks", required=True).items():
        if not _NAME.match(name):
            raise top.fail(f"stacks.{name}", "stack names are lower-case letters, digits and '-'")
        t.only("purpose", "applied_by", "dr")
        who = t.choice("applied_by", ("runners", "administrator"), default="runners")
        stack_dir = folder / "stacks" / name
        if not stack_dir.is_dir():
            raise t.fail("", f"no folder {stack_dir}")
        stacks.append(
            StackTemplate(
                name=name,
                dir=stack_dir,
                purpose=t.req_str("purpose"),
                administrator=who == "administrator",
                dr=dict(t.table("dr").data) if t.has("dr") else None,
            )
        )
        t.check_unknown()
    top.check_unknown()
    return TemplateSet(folder.name, folder, description, tuple(stacks))
