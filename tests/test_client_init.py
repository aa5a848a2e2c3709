"""runners init: a client's repository from a template set, in one command.

The generated runners.toml and one stack are golden files
(``tests/golden/init/``): after changing a template on purpose, run
``RUNNERS_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/test_client_init.py``
and review the diff.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from runners import config as config_mod
from runners.client import inputs, templateset
from runners.client.inputs import InitRequest
from runners.client.render import render
from runners.errors import UsageError
from runners.jenkins.library import pipelines_dir
from tests.conftest import run_cli

GOLDEN = Path(__file__).parent / "golden" / "init"
UPDATE = os.environ.get("RUNNERS_UPDATE_GOLDEN") == "1"
ACME = (
    "--client",
    "acme",
    "--account",
    "123456789012",
    "--region",
    "eu-west-1",
    "--backup-region",
    "eu-central-1",
)
GOLDEN_REQUEST = InitRequest(
    "acme",
    "123456789012",
    "eu-west-1",
    "eu-central-1",
    servers=3,
    remote="https://gitlab.example.com/acme/infrastructure.git",
    approvers=("alice", "bob"),
    jenkins_url="https://jenkins.acme.internal/",
)


pytestmark = pytest.mark.usefixtures("with_lock_mirror")  # init's lock files, never the registry


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=repo, check=True, capture_output=True, text=True
    ).stdout.strip()


def tree(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".git" not in p.relative_to(root).parts
    }


def _check_golden(rel: str, text: str) -> None:
    path = GOLDEN / rel
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    assert path.exists(), f"no golden file {path}; run with RUNNERS_UPDATE_GOLDEN=1 to create it"
    assert text == path.read_text(), f"{rel} differs from {path}"


def test_runners_toml_is_the_golden_one() -> None:
    files = render(GOLDEN_REQUEST, templateset.find("standard")).files
    _check_golden("runners.toml", files["runners.toml"])


@pytest.mark.parametrize(
    "name", ["main.tf", "variables.tf", "outputs.tf", "production.tfvars", "development.tfvars"]
)
def test_the_servers_stack_is_the_golden_one(name: str) -> None:
    files = render(GOLDEN_REQUEST, templateset.find("standard")).files
    _check_golden(f"stacks/servers/{name}", files[f"terraform/stacks/servers/{name}"])


def test_init_makes_a_repository_on_two_branches(tmp_path: Path) -> None:
    dest = tmp_path / "acme-infra"
    done = run_cli("init", str(dest), *ACME, "--servers", "3", "--approver", "alice", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    top = sorted(p.name for p in dest.iterdir())
    assert top == [
        ".git",
        ".gitignore",
        "CODEOWNERS",
        "Jenkinsfile",
        "README.md",
        "runners.toml",
        "terraform",
    ]
    assert sorted(p.name for p in (dest / "terraform").iterdir()) == ["modules", "stacks"]
    stacks = sorted(p.name for p in (dest / "terraform/stacks").iterdir())
    assert stacks == sorted(s.name for s in templateset.find("standard").stacks)
    # What docs/jenkins.md says the client's repository must not hold.
    assert not list(dest.rglob("*.xml.j2")) and not (dest / "pipelines").exists()
    assert not list(dest.rglob(".terraformrc")) and not list(dest.rglob("terraform.rc"))
    assert (dest / "Jenkinsfile").read_bytes() == (
        pipelines_dir().parent / "Jenkinsfile"
    ).read_bytes()
    # One commit, on production and development alike; nothing left uncommitted.
    assert git(dest, "rev-parse", "production") == git(dest, "rev-parse", "development")
    assert git(dest, "rev-list", "--count", "production") == "1"
    assert git(dest, "status", "--porcelain", "--untracked-files=all") == ""
    assert git(dest, "branch", "--show-current") == "production"
    cfg = config_mod.load(dest / "runners.toml")
    assert set(cfg.environments) == {"development", "production"}
    assert "bootstrap" not in cfg.stacks  # applied by an administrator, never by the runners
    assert cfg.environments["production"].approvers == ("alice",)
    assert cfg.bootstrap is not None and cfg.bootstrap.client == "acme"
    assert cfg.jenkins.backup_policies == ("daily",) and "daily" in cfg.policies
    assert set(cfg.dr.stacks) <= set(cfg.stacks)
    servers = (dest / "terraform/stacks/servers/production.tfvars").read_text()
    assert [f"app-{i}" in servers for i in (1, 2, 3, 4)] == [True, True, True, False]
    # The modules the stacks call are in the repository: nothing outside it is needed.
    for stack in (dest / "terraform/stacks").iterdir():
        for tf in stack.glob("*.tf"):
            for module in templateset._MODULE_SOURCE.findall(tf.read_text()):
                assert (dest / "terraform/modules" / module / "main.tf").is_file(), module
    assert not (dest / "terraform/modules/demo-service").exists()
    assert oct(dest.stat().st_mode & 0o777) != oct(0o700)  # not the staging folder's mode


def test_init_writes_the_lock_files_from_the_provider_mirror(
    tmp_path: Path, provider_mirror: Path
) -> None:
    dest = tmp_path / "acme-infra"
    env = {"RUNNERS_PROVIDER_MIRROR": str(provider_mirror)}
    done = run_cli("init", str(dest), *ACME, cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stderr
    for stack in (dest / "terraform/stacks").iterdir():
        lock = stack / ".terraform.lock.hcl"
        assert 'provider "registry.terraform.io/hashicorp/aws"' in lock.read_text(), stack.name
    assert git(dest, "ls-files", "terraform/stacks/servers/.terraform.lock.hcl")


def test_a_second_init_changes_nothing_and_says_so(tmp_path: Path) -> None:
    dest = tmp_path / "acme-infra"
    assert run_cli("init", str(dest), *ACME, cwd=tmp_path).returncode == 0
    before, head = tree(dest), git(dest, "rev-parse", "HEAD")
    again = run_cli(
        "init", str(dest), *ACME, "--servers", "5", "--template", "standard", cwd=tmp_path
    )
    assert again.returncode == 0
    assert "already a runners repository; nothing changed" in again.stdout
    assert tree(dest) == before and git(dest, "rev-parse", "HEAD") == head


def test_init_pushes_both_branches_to_the_remote(tmp_path: Path) -> None:
    remote = tmp_path / "server" / "acme" / "infra.git"
    remote.mkdir(parents=True)
    git(remote, "init", "--bare", "--quiet")
    dest = tmp_path / "acme-infra"
    done = run_cli("init", str(dest), *ACME, "--remote", str(remote), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    heads = git(remote, "for-each-ref", "--format=%(refname:short)", "refs/heads")
    assert sorted(heads.split()) == ["development", "production"]
    assert git(remote, "rev-parse", "production") == git(dest, "rev-parse", "HEAD")
    assert config_mod.load(dest / "runners.toml").jenkins.repository is not None


def test_a_push_that_fails_leaves_the_repository_and_says_how_to_push(tmp_path: Path) -> None:
    dest = tmp_path / "acme-infra"
    done = run_cli(
        "init", str(dest), *ACME, "--remote", str(tmp_path / "no-such.git"), cwd=tmp_path
    )
    assert done.returncode == 1
    assert done.stderr.strip().splitlines()[-1].startswith("error: ")
    assert "push it with: git -C" in done.stderr
    assert git(dest, "rev-parse", "production")


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (("--account", "12345678901"), "--account: expected a 12-digit AWS account id"),
        (("--account", "12345678901a"), "--account: expected a 12-digit AWS account id"),
        (("--region", "eu-west-9"), "--region: 'eu-west-9' is not an AWS region"),
        (("--region", "Europe"), "--region: 'Europe' is not an AWS region"),
        (("--backup-region", "eu-west-1"), "--backup-region: must differ from --region"),
        (("--backup-region", "cn-north-1"), "S3 replication and snapshot copies stay within"),
        (("--client", "Acme"), "--client: expected 2-12 lower-case letters"),
        (("--servers", "0"), "--servers: expected 1 to 50"),
        (("--template", "nosuchset"), "--template: no template set 'nosuchset'; known: standard"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    tmp_path: Path, change: tuple[str, str], expected: str
) -> None:
    args = list(ACME)
    if change[0] in args:
        args[args.index(change[0]) + 1] = change[1]
    else:
        args += list(change)
    dest = tmp_path / "acme-infra"
    done = run_cli("init", str(dest), *args, cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and expected in lines[0], lines
    assert not dest.exists() and list(tmp_path.iterdir()) == []  # no staging left either


def test_a_non_empty_folder_that_is_not_a_runners_repository_is_refused(tmp_path: Path) -> None:
    dest = tmp_path / "something"
    dest.mkdir()
    (dest / "notes.txt").write_text("mine\n")
    done = run_cli("init", str(dest), *ACME, cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.strip() == (
        f"error: {dest}: not empty and not a runners repository (no runners.toml and .git); "
        "give an empty or new folder"
    )
    assert sorted(p.name for p in dest.iterdir()) == ["notes.txt"]


def test_an_empty_folder_is_used(tmp_path: Path) -> None:
    dest = tmp_path / "empty"
    dest.mkdir()
    assert run_cli("init", str(dest), *ACME, cwd=tmp_path).returncode == 0
    assert (dest / "runners.toml").is_file()


def test_a_client_set_beside_the_standard_one(tmp_path: Path) -> None:
    own = tmp_path / "sets" / "small"
    shutil.copytree(templateset.find("standard").dir, own)
    for stack in ("edge", "messaging"):
        shutil.rmtree(own / "stacks" / stack)
    manifest = own / "template.toml"
    text = manifest.read_text()
    manifest.write_text(text[: text.index("[stacks.edge]")])
    dest = tmp_path / "small-infra"
    done = run_cli("init", str(dest), *ACME, "--template", str(own), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    cfg = config_mod.load(dest / "runners.toml")
    assert set(cfg.stacks) == {"account", "logging", "network", "data", "servers"}
    assert not (dest / "terraform/modules/api-gateway").exists()  # only what the stacks call


def test_a_set_calling_a_module_runners_lacks_leaves_nothing(tmp_path: Path) -> None:
    own = tmp_path / "sets" / "broken"
    shutil.copytree(templateset.find("standard").dir, own)
    main = own / "stacks" / "data" / "main.tf"
    main.write_text(main.read_text().replace('"../../modules/rds"', '"../../modules/rds-v9"'))
    dest = tmp_path / "acme-infra"
    done = run_cli("init", str(dest), *ACME, "--template", str(own), cwd=tmp_path)
    assert done.returncode == 2
    assert "calls ../../modules/rds-v9" in done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sets"]


def test_the_code_owners_guard_what_decides_how_the_account_is_changed(tmp_path: Path) -> None:
    req = InitRequest(
        "acme", "123456789012", "eu-west-1", "eu-central-1", code_owners=("@acme/ops",)
    )
    owners = render(req, templateset.find("standard")).files["CODEOWNERS"]
    guarded = {line.split()[0] for line in owners.splitlines() if line and not line.startswith("#")}
    assert {"/runners.toml", "/Jenkinsfile", "/CODEOWNERS", "/pipelines/"} <= guarded
    assert "/terraform/stacks/bootstrap/" in guarded
    assert all(
        line.split()[1:] == ["@acme/ops"] for line in owners.splitlines() if line.startswith("/")
    )


@settings(max_examples=60, deadline=None)
@given(
    account=st.text(alphabet="0123456789a ", min_size=0, max_size=14),
    region=st.sampled_from([*sorted(inputs.known_regions())[:6], "eu-west-9", "", "EU-WEST-1"]),
)
def test_inputs_are_accepted_exactly_when_they_name_an_account_and_two_regions(
    account: str, region: str
) -> None:
    ok = account.isdigit() and len(account) == 12 and region in inputs.known_regions()
    backup = "eu-central-1" if region != "eu-central-1" else "eu-west-1"
    try:
        InitRequest("acme", account, region, backup)
    except UsageError as exc:
        assert not ok, exc
        assert "\n" not in str(exc)
    else:
        assert ok


def test_an_installed_runners_carries_every_template_and_module_file() -> None:
    """setup.cfg's data_files put them under share/runners, where templateset looks."""
    import configparser
    import fnmatch

    root = Path(__file__).resolve().parent.parent
    parser = configparser.ConfigParser()
    parser.read(root / "setup.cfg")
    installed: dict[str, str] = {}  # source folder -> file pattern
    for target, source in parser.items("options.data_files"):
        if target.startswith("share/runners/terraform"):
            folder, _, pattern = source.strip().rpartition("/")
            assert target == f"share/runners/{folder}", (target, source)
            installed[folder] = pattern
    standard = templateset.find("standard")
    needed = [
        p.relative_to(root)
        for folder in (
            "terraform/templates",
            *(f"terraform/modules/{m}" for m in standard.modules()),
        )
        for p in (root / folder).rglob("*")
        if p.is_file() and ".terraform" not in p.parts
    ]
    missing = [
        str(f)
        for f in needed
        if not fnmatch.fnmatchcase(f.name, installed.get(f.parent.as_posix(), "\0"))
    ]
    assert needed and missing == []
