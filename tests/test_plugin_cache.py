"""Concurrent ``terraform init`` of stacks sharing providers and one plugin cache.

With the real hashicorp/aws provider from the machine's filesystem mirror
(the built-in provider of the embedded Terraform installs nothing, so it
cannot show the race). First Terraform alone, to show the race is real; then
through runners, whose lock (runners.terraform.plugincache) lets one init
fill the cache and the others share it.
"""

from __future__ import annotations

import io
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from runners.terraform import binary, plugincache
from runners.terraform.engine import Terraform, base_environment
from runners.terraform.workspace import Workspace

AWS = "registry.terraform.io/hashicorp/aws"
STACK = """\
terraform {
  required_providers {
    aws = { source = "hashicorp/aws", version = "5.100.0" }
  }
}
"""
INITS = 5


def stacks(root: Path, n: int) -> list[Path]:
    out = []
    for i in range(n):
        folder = root / f"stack-{i}"
        folder.mkdir(parents=True)
        (folder / "main.tf").write_text(STACK)
        out.append(folder)
    return out


def all_at_once(work: list[threading.Thread]) -> None:
    for t in work:
        t.start()
    for t in work:
        t.join()


@pytest.mark.slow
def test_terraform_alone_races_for_an_empty_cache(provider_mirror: Path, tmp_path: Path) -> None:
    """Why runners locks: Terraform's own concurrent installs into one cache fail."""
    failures: list[str] = []
    for round_ in range(10):
        cache = tmp_path / f"cache-{round_}"
        env = base_environment(cache, provider_mirror=provider_mirror, quiet=True)
        results: list[subprocess.CompletedProcess[str]] = []

        def bare_init(
            folder: Path,
            env: dict[str, str] = env,
            results: list[subprocess.CompletedProcess[str]] = results,
        ) -> None:
            results.append(
                subprocess.run(
                    [*binary.resolve().argv, "init", "-input=false", "-no-color"],
                    cwd=folder,
                    env={**env, "TF_DATA_DIR": str(folder / ".terraform")},
                    capture_output=True,
                    text=True,
                )
            )

        folders = stacks(tmp_path / f"bare-{round_}", INITS)
        all_at_once([threading.Thread(target=bare_init, args=(f,)) for f in folders])
        failures += [r.stderr for r in results if r.returncode != 0]
        if failures:
            break
    assert failures, "ten rounds of concurrent inits never raced: is the cache safe now?"
    assert any("Failed to install provider" in f for f in failures), failures[0]


@pytest.mark.slow
def test_runners_fills_the_cache_once_then_inits_share_it(
    provider_mirror: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spans: list[tuple[float, float, bool]] = []
    real_held = plugincache.held

    @contextmanager
    def timed(cache: Path | None, stack_dir: Path, lock_file: Path) -> Iterator[bool]:
        with real_held(cache, stack_dir, lock_file) as exclusive:
            start = time.monotonic()
            try:
                yield exclusive
            finally:
                spans.append((start, time.monotonic(), exclusive))

    monkeypatch.setattr(plugincache, "held", timed)
    for round_ in range(2):
        cache = tmp_path / f"cache-{round_}"
        tf = Terraform(
            binary.resolve(), base_environment(cache, provider_mirror=provider_mirror, quiet=True)
        )
        errors: list[Exception] = []

        def init(folder: Path, tf: Terraform = tf, errors: list[Exception] = errors) -> None:
            ws = Workspace(tf, folder, folder / ".terraform", color=False)
            try:
                ws.tf.run(["version"], folder, stream=False)  # warm, outside the lock
                ws.init()
            except Exception as exc:
                errors.append(exc)

        spans.clear()
        folders = stacks(tmp_path / f"runners-{round_}", INITS)
        tf.console_out = tf.console_err = io.BytesIO()
        all_at_once([threading.Thread(target=init, args=(f,)) for f in folders])
        assert errors == []
        assert plugincache.in_cache(cache, AWS, "5.100.0", plugincache.target_platform())
        for folder in folders:  # each stack has its provider and a lock file naming it
            assert (folder / ".terraform.lock.hcl").is_file()
            assert any((folder / ".terraform" / "providers" / AWS).glob("5.100.0/*"))
        # No init ran beside an exclusive one: an install never met another init.
        exclusive = [s for s in spans if s[2]]
        assert exclusive, "the first init into an empty cache must hold it alone"
        for start, end, _ in exclusive:
            others = [s for s in spans if (s[0], s[1]) != (start, end)]
            assert all(o[1] <= start or o[0] >= end for o in others)

    # With lock files committed and the cache full, every init only reads: all shared.
    spans.clear()
    errors: list[Exception] = []
    cache = tmp_path / "cache-1"
    tf = Terraform(
        binary.resolve(), base_environment(cache, provider_mirror=provider_mirror, quiet=True)
    )
    tf.console_out = tf.console_err = io.BytesIO()
    folders = sorted((tmp_path / "runners-1").iterdir())

    def again(folder: Path) -> None:
        try:
            Workspace(tf, folder, folder / ".terraform", color=False).init()
        except Exception as exc:
            errors.append(exc)

    all_at_once([threading.Thread(target=again, args=(f,)) for f in folders])
    assert errors == []
    assert len(spans) == INITS and not any(s[2] for s in spans)


def test_what_an_init_may_install(tmp_path: Path) -> None:
    cache, target = tmp_path / "cache", plugincache.target_platform()
    lock = tmp_path / "stack" / ".terraform.lock.hcl"
    lock.parent.mkdir()
    (lock.parent / "main.tf").write_text('resource "terraform_data" "x" {}\n')
    assert plugincache.read_only(cache, lock.parent, lock)  # no provider, no lock file
    (lock.parent / "main.tf").write_text('resource "aws_s3_bucket" "b" {}\n')
    assert not plugincache.read_only(cache, lock.parent, lock)  # a provider, no lock file yet
    lock.write_text(
        '# This file is maintained automatically by "terraform init".\n'
        'provider "registry.terraform.io/hashicorp/aws" {\n'
        '  version     = "5.100.0"\n'
        '  constraints = "5.100.0"\n'
        "  hashes = [\n"
        '    "h1:abc=",\n'
        "  ]\n"
        "}\n"
        'provider "registry.terraform.io/hashicorp/random" {\n'
        '  version = "3.6.0"\n'
        "}\n"
    )
    assert plugincache.pinned(lock.read_text()) == [
        (AWS, "5.100.0"),
        ("registry.terraform.io/hashicorp/random", "3.6.0"),
    ]
    assert not plugincache.read_only(cache, lock.parent, lock)
    (cache / AWS / "5.100.0" / target).mkdir(parents=True)
    (cache / AWS / "5.100.0" / target / "terraform-provider-aws").write_text("x")
    assert not plugincache.read_only(cache, lock.parent, lock)  # random is still missing
    (cache / "registry.terraform.io/hashicorp/random/3.6.0" / target).mkdir(parents=True)
    (cache / "registry.terraform.io/hashicorp/random/3.6.0" / target / "p").write_text("x")
    assert plugincache.read_only(cache, lock.parent, lock)


def test_a_module_from_elsewhere_may_need_providers(tmp_path: Path) -> None:
    stack = tmp_path / "stack"
    (tmp_path / "modules" / "local").mkdir(parents=True)
    stack.mkdir()
    (stack / "main.tf").write_text('module "m" {\n  source = "../modules/local"\n}\n')
    (tmp_path / "modules" / "local" / "main.tf").write_text(
        'data "terraform_remote_state" "s" {}\n'
    )
    assert not plugincache.needs_providers(stack)
    (tmp_path / "modules" / "local" / "main.tf").write_text('data "aws_caller_identity" "me" {}\n')
    assert plugincache.needs_providers(stack)  # through the local module
    (stack / "main.tf").write_text('module "m" {\n  source = "git::https://x/y.git"\n}\n')
    assert plugincache.needs_providers(stack)
