"""The CLI configuration runners gives Terraform, and the caller's settings it drops.

The adversarial cases run the real CLI and the embedded Terraform: a caller
who sets ``TF_CLI_ARGS_plan``/``TF_CLI_ARGS_apply`` or points
``TF_CLI_CONFIG_FILE`` at a ``dev_overrides`` config must change nothing that
is planned or applied.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from runners.errors import UsageError
from runners.terraform import cliconfig
from runners.terraform.engine import base_environment
from tests.conftest import PERSON, SIGNED, GitRepoHelper, run_cli


def _mirror(tmp_path: Path, *providers: str) -> Path:
    root = tmp_path / "mirror"
    for address in providers:
        target = root / address / "1.0.0" / "linux_amd64"
        target.mkdir(parents=True)
        (target / f"terraform-provider-{address.rsplit('/', 1)[1]}_v1.0.0").write_text("")
    root.mkdir(exist_ok=True)
    return root


def test_mirror_lists_what_it_holds_and_the_rest_goes_direct(tmp_path: Path) -> None:
    root = _mirror(tmp_path, "registry.terraform.io/hashicorp/aws", "example.com/acme/thing")
    packed = root / "registry.terraform.io" / "hashicorp" / "null"
    packed.mkdir(parents=True)
    (packed / "terraform-provider-null_3.2.0_linux_amd64.zip").write_bytes(b"PK")
    mirror = cliconfig.read_mirror(root, "test")
    assert mirror.providers == (
        "example.com/acme/thing",
        "registry.terraform.io/hashicorp/aws",
        "registry.terraform.io/hashicorp/null",
    )
    text = cliconfig.render(mirror)
    listed = ", ".join(f'"{p}"' for p in mirror.providers)
    assert f'path    = "{root.resolve()}"' in text
    assert f"include = [{listed}]" in text and f"exclude = [{listed}]" in text
    assert "dev_overrides" not in text and "plugin_cache_dir" not in text


def test_no_mirror_installs_direct_only() -> None:
    text = cliconfig.render(None)
    assert "direct {}" in text and "filesystem_mirror" not in text


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda p: p / "missing", "does not exist or is not a folder"),
        (lambda p: p, "holds no provider"),
    ],
)
def test_bad_mirror_is_one_line(tmp_path: Path, make, expected: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(UsageError) as err:
        cliconfig.resolve_mirror(None, {cliconfig.MIRROR_ENV: str(make(tmp_path))})
    assert str(err.value).startswith(f"{cliconfig.MIRROR_ENV}: provider mirror ")
    assert expected in str(err.value) and "\n" not in str(err.value)
    assert err.value.exit_code == 2


def test_environment_variable_wins_over_the_config(tmp_path: Path) -> None:
    env_mirror = _mirror(tmp_path / "a", "registry.terraform.io/hashicorp/aws")
    conf_mirror = _mirror(tmp_path / "b", "registry.terraform.io/hashicorp/aws")
    chosen = cliconfig.resolve_mirror(conf_mirror, {cliconfig.MIRROR_ENV: str(env_mirror)})
    assert chosen is not None and chosen.path == env_mirror.resolve()
    chosen = cliconfig.resolve_mirror(conf_mirror, {})
    assert chosen is not None and chosen.path == conf_mirror.resolve()


def test_base_environment_drops_the_callers_settings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    evil = tmp_path / "evil.tfrc"
    evil.write_text('provider_installation {\n  dev_overrides {\n  "hashicorp/aws" = "/x"\n }\n}\n')
    env = base_environment(
        tmp_path / "cache",
        {
            "HOME": str(tmp_path),
            "XDG_CACHE_HOME": str(tmp_path / "xdg"),
            "TF_CLI_CONFIG_FILE": str(evil),
            "TERRAFORM_CONFIG": str(evil),
            "TF_CLI_ARGS": "-no-color",
            "TF_CLI_ARGS_apply": "-target=aws_instance.x",
            "TF_REATTACH_PROVIDERS": "{}",
            "TF_WORKSPACE": "other",
            "TF_VAR_cache_auth_token": "kept",
        },
    )
    assert not any(k.startswith("TF_CLI_ARGS") for k in env)
    assert {"TERRAFORM_CONFIG", "TF_REATTACH_PROVIDERS", "TF_WORKSPACE"}.isdisjoint(env)
    assert env["TF_VAR_cache_auth_token"] == "kept"
    ours = Path(env["TF_CLI_CONFIG_FILE"])
    assert ours != evil and ours.parent == tmp_path / "xdg" / "runners" / "terraform-cli"
    assert ours.read_text() == cliconfig.render(None)
    warning = capsys.readouterr().err.strip().splitlines()
    assert len(warning) == 1 and warning[0].startswith("warning: ignoring TERRAFORM_CONFIG, ")
    assert "TF_CLI_ARGS_apply" in warning[0] and "TF_CLI_CONFIG_FILE" in warning[0]


def test_a_configured_mirror_that_is_missing_stops_the_plan(client_repo: GitRepoHelper) -> None:
    cfg = client_repo.root / "runners.toml"
    cfg.write_text(
        cfg.read_text().replace(
            'terraform = "embedded"', 'terraform = "embedded"\nprovider_mirror = "no-such-mirror"'
        )
    )
    client_repo.commit("a mirror that is not there")
    r = run_cli(
        "plan", "--stack", "app", "--env", "development", "--out", "p", cwd=client_repo.root
    )
    assert r.returncode == 2, r.stderr
    assert r.stderr.strip().splitlines()[-1] == (
        f"error: {cfg}: runners.provider_mirror: provider mirror "
        f"{client_repo.root / 'no-such-mirror'} does not exist or is not a folder"
    )


def test_callers_cli_args_change_nothing_planned_or_applied(
    client_repo: GitRepoHelper, tmp_path: Path
) -> None:
    hostile = {
        "TF_CLI_ARGS_plan": "-target=terraform_data.web",
        "TF_CLI_ARGS_apply": "-target=terraform_data.web",
        "TF_CLI_ARGS": "-lock=false",
    }
    out = tmp_path / "plan"
    common = ("--stack", "app", "--env", "production", "--no-color")
    r = run_cli("plan", *common, "--out", str(out), cwd=client_repo.root, env={**hostile, **SIGNED})
    assert r.returncode == 0, r.stderr
    assert "warning: ignoring TF_CLI_ARGS, TF_CLI_ARGS_apply, TF_CLI_ARGS_plan" in r.stderr
    summary = json.loads((out / "manifest.json").read_text())["summary"]
    assert summary["add"] == 3, summary  # a -target would have planned one
    r = run_cli(
        "apply", *common, "--plan-dir", str(out), "--approved-by", "alice", *PERSON,
        cwd=client_repo.root, env={**hostile, **SIGNED},
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    state = json.loads((client_repo.root.parent / "state" / "app-production.tfstate").read_text())
    assert {res["name"] for res in state["resources"]} == {"db", "web", "thing"}


PROVIDER_STACK = """\
terraform {
  backend "local" {}
  required_providers {
    aws = { source = "hashicorp/aws", version = ">= 5.70.0, < 6.0.0" }
  }
}

provider "aws" {
  region                      = "eu-west-1"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
}

data "aws_partition" "current" {}

resource "terraform_data" "seen" {
  input = data.aws_partition.current.partition
}
"""


def test_callers_dev_overrides_never_run(
    git_repo: GitRepoHelper, tmp_path: Path, provider_mirror: Path
) -> None:
    # The caller's CLI config swaps the AWS provider for a script that leaves
    # a mark when Terraform starts it. runners' own config must win: the real
    # provider from the mirror plans, the script never runs.
    marker = tmp_path / "EXECUTED"
    evil = tmp_path / "evil"
    evil.mkdir()
    script = evil / "terraform-provider-aws"
    script.write_text(f"#!/bin/sh\ntouch {marker}\nexit 1\n")
    script.chmod(0o755)
    rc = tmp_path / "evil.tfrc"
    rc.write_text(
        textwrap.dedent(f"""\
            provider_installation {{
              dev_overrides {{
                "hashicorp/aws" = "{evil}"
              }}
              direct {{}}
            }}
            """)
    )
    git_repo.write("terraform/stacks/app/main.tf", PROVIDER_STACK)
    git_repo.write(
        "runners.toml",
        f"""\
        [runners]
        terraform = "embedded"
        provider_mirror = "{provider_mirror}"

        [environments.production]
        branch = "production"
        region = "eu-west-1"

        [environments.production.backend]
        path = "{tmp_path}/state.tfstate"

        [stacks.app]
        dir = "terraform/stacks/app"
        """,
    )
    git_repo.write(".gitignore", ".runners/\n")
    git_repo.commit("a stack with the AWS provider")
    r = run_cli(
        "plan", "--stack", "app", "--env", "production", "--out", str(tmp_path / "plan"),
        "--no-color", cwd=git_repo.root, env={"TF_CLI_CONFIG_FILE": str(rc)},
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert "warning: ignoring TF_CLI_CONFIG_FILE" in r.stderr
    assert "development overrides" not in r.stdout + r.stderr
    assert not marker.exists()
    lock = (git_repo.root / "terraform/stacks/app/.terraform.lock.hcl").read_text()
    assert 'provider "registry.terraform.io/hashicorp/aws"' in lock
