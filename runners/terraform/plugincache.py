"""Terraform's provider plugin cache, safe when several ``init`` run at once.

Terraform documents the plugin cache as not safe for concurrent ``init``:
two inits installing the same provider into an empty cache race, and one
fails ("failed to compute a checksum ... no such file or directory") or
leaves a half-written package for the next. Plans of several stacks at once
(``runners plan --affected --jobs N``), and two builds on one agent, share
the cache.

So every ``init`` holds a lock on the cache (``flock`` on a file inside it,
which also holds between processes): an **exclusive** lock when it may
install into the cache, a **shared** one when it can only read from it. It
only reads when every provider the stack's lock file pins is already in the
cache for this platform, or when the stack's configuration names no provider
and has no lock file (nothing to install). The first stack fills the cache
alone; the rest then initialise together.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import platform
import re
from collections.abc import Iterator
from pathlib import Path

LOCK_NAME = ".runners-init.lock"
_PROVIDER = re.compile(r'^\s*provider\s+"([^"]+)"\s*\{', re.M)
_VERSION = re.compile(r'^\s*version\s*=\s*"([^"]+)"', re.M)
# A configuration that needs a provider: a provider requirement or block, or a resource or
# data source of any type but Terraform's own (terraform_data, terraform_remote_state).
_NEEDS_PROVIDER = re.compile(
    r'^\s*(required_providers\b|provider\s+"|(resource|data|ephemeral)\s+"(?!terraform_))', re.M
)
_MODULE_SOURCE = re.compile(r'^\s*source\s*=\s*"([^"]*)"', re.M)


def target_platform() -> str:
    """Terraform's name for this machine: linux_amd64, darwin_arm64, ..."""
    machine = platform.machine().lower()
    arch = {"x86_64": "amd64", "aarch64": "arm64", "arm64": "arm64", "i686": "386"}.get(
        machine, machine
    )
    return f"{platform.system().lower()}_{arch}"


def pinned(lock_text: str) -> list[tuple[str, str]]:
    """(provider address, version) of every provider a ``.terraform.lock.hcl`` pins."""
    out = []
    blocks = list(_PROVIDER.finditer(lock_text))
    for i, block in enumerate(blocks):
        end = blocks[i + 1].start() if i + 1 < len(blocks) else len(lock_text)
        version = _VERSION.search(lock_text, block.end(), end)
        if version:
            out.append((block[1], version[1]))
    return out


def in_cache(cache: Path, provider: str, version: str, target: str) -> bool:
    """Is this provider version unpacked in the cache (Terraform's layout)?"""
    folder = cache / provider / version / target
    try:
        return folder.is_dir() and any(folder.iterdir())
    except OSError:
        return False


def needs_providers(stack_dir: Path) -> bool:
    """Does the configuration (with its local modules) name anything a provider supplies?

    Errs on the side of yes: a JSON configuration, or a module from anywhere
    but a local path, counts as needing providers.
    """
    seen: set[Path] = set()
    todo = [stack_dir.resolve()]
    while todo:
        folder = todo.pop()
        if folder in seen or not folder.is_dir():
            continue
        seen.add(folder)
        if any(folder.glob("*.tf.json")):
            return True
        for tf in folder.glob("*.tf"):
            text = tf.read_text(encoding="utf-8", errors="replace")
            if _NEEDS_PROVIDER.search(text):
                return True
            for source in _MODULE_SOURCE.findall(text):
                if not source.startswith(("./", "../")):
                    return True
                todo.append((folder / source).resolve())
    return False


def read_only(cache: Path, stack_dir: Path, lock_file: Path) -> bool:
    """True when ``init`` of this stack can only read from the cache, never install into it."""
    try:
        text = lock_file.read_text(encoding="utf-8")
    except FileNotFoundError:
        return not needs_providers(stack_dir)
    except OSError:
        return False
    target = target_platform()
    return all(in_cache(cache, p, v, target) for p, v in pinned(text))


@contextlib.contextmanager
def held(cache: Path | None, stack_dir: Path, lock_file: Path) -> Iterator[bool]:
    """Hold the cache's lock around an ``init``; yields whether it is exclusive."""
    if cache is None:
        yield False
        return
    cache.mkdir(parents=True, exist_ok=True)
    exclusive = not read_only(cache, stack_dir, lock_file)
    fd = os.open(cache / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        yield exclusive
    finally:
        os.close(fd)  # closing releases the lock
