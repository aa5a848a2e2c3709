"""The Terraform CLI configuration runners owns, and the caller's settings it drops.

Every Terraform run gets a CLI config file written by runners: a
``filesystem_mirror`` for the providers a configured mirror holds, ``direct``
(the registry each lock-file entry names) for the rest, nothing else. No
``dev_overrides``, no other mirror, no implicit local plugin folders: an
explicit ``provider_installation`` block turns those off, and setting
``TF_CLI_CONFIG_FILE`` stops Terraform reading ``~/.terraformrc`` and the
``*.tfrc`` files beside it.

Whoever starts the runner can also steer Terraform through its environment:
``TF_CLI_ARGS_apply=-target=...`` narrows an apply to what was not reviewed,
a CLI config of their own can swap a provider for a local build,
``TF_REATTACH_PROVIDERS`` points Terraform at a provider process already
running, ``TF_WORKSPACE`` selects another state. Those variables are dropped,
with one warning line naming them.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass
from pathlib import Path

from runners import log
from runners.errors import UsageError

MIRROR_ENV = "RUNNERS_PROVIDER_MIRROR"

# Names Terraform reads that change what runs or what it applies. TF_CLI_ARGS
# and every TF_CLI_ARGS_<command> are matched by prefix.
_DROPPED_PREFIXES = ("TF_CLI_ARGS",)
_DROPPED = (
    "TF_CLI_CONFIG_FILE",
    "TERRAFORM_CONFIG",  # the older name of TF_CLI_CONFIG_FILE, still read
    "TF_REATTACH_PROVIDERS",
    "TF_WORKSPACE",
    "TF_PLUGIN_CACHE_MAY_BREAK_DEPENDENCY_LOCK_FILE",
)


def drop_caller_settings(env: MutableMapping[str, str], *, warn: bool = True) -> list[str]:
    """Remove the caller's CLI config and argument variables from ``env``; return their names."""
    dropped = sorted(name for name in env if name in _DROPPED or name.startswith(_DROPPED_PREFIXES))
    for name in dropped:
        del env[name]
    if dropped and warn:
        log.warn(
            f"ignoring {', '.join(dropped)} from the environment: "
            "runners gives Terraform its own CLI configuration and arguments"
        )
    return dropped


@dataclass(frozen=True)
class ProviderMirror:
    """A Terraform filesystem mirror and the provider addresses it holds."""

    path: Path
    providers: tuple[str, ...]  # e.g. registry.terraform.io/hashicorp/aws


def read_mirror(path: Path, source: str) -> ProviderMirror:
    """The providers a mirror folder holds, in either of Terraform's layouts.

    Unpacked: ``HOST/NAMESPACE/TYPE/VERSION/TARGET/``; packed:
    ``HOST/NAMESPACE/TYPE/terraform-provider-TYPE_VERSION_TARGET.zip``.
    ``source`` names where the path came from, for the one-line error.
    """
    if not path.is_dir():
        raise UsageError(f"{source}: provider mirror {path} does not exist or is not a folder")
    found = []
    for type_dir in sorted(path.glob("*/*/*")):
        if not type_dir.is_dir():
            continue
        if any(v.is_dir() and any(v.iterdir()) for v in type_dir.iterdir()) or any(
            type_dir.glob("terraform-provider-*.zip")
        ):
            found.append(type_dir.relative_to(path).as_posix())
    if not found:
        raise UsageError(
            f"{source}: provider mirror {path} holds no provider "
            "(expected HOST/NAMESPACE/TYPE/VERSION/TARGET folders, "
            "e.g. registry.terraform.io/hashicorp/aws/5.100.0/linux_amd64)"
        )
    return ProviderMirror(path.resolve(), tuple(found))


def resolve_mirror(
    configured: Path | None, environ: Mapping[str, str], config_source: str = "runners.toml"
) -> ProviderMirror | None:
    """The mirror to use: ``$RUNNERS_PROVIDER_MIRROR`` wins over ``[runners] provider_mirror``."""
    named = environ.get(MIRROR_ENV)
    if named:
        return read_mirror(Path(named).expanduser(), MIRROR_ENV)
    if configured is not None:
        return read_mirror(configured, f"{config_source}: runners.provider_mirror")
    return None


def render(mirror: ProviderMirror | None) -> str:
    """The CLI config text: the mirror's providers from the mirror, the rest direct."""
    lines = ["# Written by runners for every Terraform run; edits are overwritten.", ""]
    lines.append("provider_installation {")
    if mirror is not None:
        listed = ", ".join(f'"{p}"' for p in mirror.providers)
        lines += [
            "  filesystem_mirror {",
            f"    path    = {_hcl_string(str(mirror.path))}",
            f"    include = [{listed}]",
            "  }",
            "  direct {",
            f"    exclude = [{listed}]",
            "  }",
        ]
    else:
        lines += ["  direct {}"]
    lines += ["}", ""]
    return "\n".join(lines)


def _hcl_string(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("${", "$${")
    return f'"{escaped}"'


def write(folder: Path, mirror: ProviderMirror | None) -> Path:
    """Write the CLI config into ``folder`` (named by its content) and return its path.

    Named by content so concurrent runs with different mirrors never share a
    file, and written to a temporary name first, then renamed, so Terraform
    never reads half of one.
    """
    text = render(mirror)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"terraform-{hashlib.sha256(text.encode()).hexdigest()[:16]}.tfrc"
    try:
        if path.read_text() == text:
            return path
    except OSError:
        pass
    # Unique per thread too: several stacks are planned at once from one process.
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)
    return path


def discover_mirror(
    provider: str = "registry.terraform.io/hashicorp/aws", root: Path = Path("/"), depth: int = 3
) -> Path | None:
    """A mirror on this machine that holds ``provider``: the folder holding ``registry.terraform.io``.

    For the test suite and ``make lint``, which find the machine image's
    mirror themselves; runs configured by ``runners.toml`` name theirs. Looks ``depth`` levels below ``root``, skipping the kernel's
    pseudo file systems.
    """
    host = provider.split("/", 1)[0]
    frontier = [root]
    for _level in range(depth):
        below: list[Path] = []
        for folder in frontier:
            try:
                entries = sorted(os.scandir(folder), key=lambda e: e.name)
            except OSError:
                continue
            for entry in entries:
                if not entry.is_dir(follow_symlinks=False) or entry.name in ("proc", "sys", "dev"):
                    continue
                if entry.name == host and any((Path(entry.path).parent / provider).glob("*/*")):
                    return Path(entry.path).parent
                below.append(Path(entry.path))
        frontier = below
    return None
