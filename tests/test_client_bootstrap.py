"""runners bootstrap against the embedded AWS: what Terraform needs before it can run, once.

A second run changes nothing; a dry run writes nothing; a bucket name another
account holds (the behaviour layer answers as S3 does, since moto has one
account) is exit 1 naming it, before anything is made; no credentials is exit
2. With the real provider, the bootstrap stack then plans to import every
resource bootstrap made and replaces none of them.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import boto3
import pytest

from runners.aws.behaviour import Behaviour
from runners.aws.embedded import EmbeddedAWS
from runners.client import documents, imports
from tests.conftest import run_cli

STATE = "acme-production-terraform-state"
REPLICA = "acme-production-backup-eu-central-1"


pytestmark = pytest.mark.usefixtures("with_lock_mirror")  # init's lock files, never the registry


@pytest.fixture(scope="module")
def template_repo(tmp_path_factory: pytest.TempPathFactory, lock_mirror: Path) -> Path:
    from runners.terraform.cliconfig import MIRROR_ENV

    work = tmp_path_factory.mktemp("bootstrap-repo")
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
        cwd=work,
        env={MIRROR_ENV: str(lock_mirror)},
    )
    assert done.returncode == 0, done.stderr
    return work / "acme"


@pytest.fixture
def repo(template_repo: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "acme"
    shutil.copytree(template_repo, copy, symlinks=True)
    return copy


def bootstrap(repo: Path, *extra: str, env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    return run_cli("bootstrap", "--env", "production", *extra, cwd=repo, env=env)


def lines(done) -> list[str]:  # type: ignore[no-untyped-def]
    return [ln for ln in done.stdout.splitlines() if ln.split(" ", 1)[0] in ACTIONS]


ACTIONS = {"created", "updated", "unchanged", "would"}


def test_bootstrap_makes_the_state_bucket_and_its_replica(repo: Path, aws: EmbeddedAWS) -> None:
    done = bootstrap(repo)
    assert done.returncode == 0, done.stderr
    s3 = boto3.client("s3", region_name="eu-west-1")
    assert s3.get_bucket_versioning(Bucket=STATE)["Status"] == "Enabled"
    sse = s3.get_bucket_encryption(Bucket=STATE)["ServerSideEncryptionConfiguration"]["Rules"][0]
    key = boto3.client("kms", region_name="eu-west-1").describe_key(KeyId=f"alias/{STATE}")
    assert sse["ApplyServerSideEncryptionByDefault"] == {
        "SSEAlgorithm": "aws:kms",
        "KMSMasterKeyID": key["KeyMetadata"]["Arn"],
    }
    assert sse["BucketKeyEnabled"] is True
    blocked = s3.get_public_access_block(Bucket=STATE)["PublicAccessBlockConfiguration"]
    assert all(blocked.values()) and len(blocked) == 4
    lock = s3.get_object_lock_configuration(Bucket=STATE)["ObjectLockConfiguration"]
    assert lock["ObjectLockEnabled"] == "Enabled"
    assert lock["Rule"]["DefaultRetention"]["Mode"] == documents.OBJECT_LOCK_MODE
    assert lock["Rule"]["DefaultRetention"]["Days"] == documents.OBJECT_LOCK_DAYS
    policy = json.loads(s3.get_bucket_policy(Bucket=STATE)["Policy"])
    erasing = next(s for s in policy["Statement"] if s["Sid"] == "DenyErasingRunnerRecords")
    assert sorted(erasing["Resource"]) == [
        f"arn:aws:s3:::{STATE}/runners/audit/*",
        f"arn:aws:s3:::{STATE}/runners/plan-records/*",
    ]
    assert erasing["Effect"] == "Deny" and "s3:DeleteObjectVersion" in erasing["Action"]
    backup_s3 = boto3.client("s3", region_name="eu-central-1")
    assert backup_s3.get_bucket_versioning(Bucket=REPLICA)["Status"] == "Enabled"
    rule = s3.get_bucket_replication(Bucket=STATE)["ReplicationConfiguration"]["Rules"][0]
    assert rule["Destination"]["Bucket"] == f"arn:aws:s3:::{REPLICA}"
    role = boto3.client("iam").get_role(RoleName="acme-production-s3-replication")["Role"]
    assert role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {
        "Service": "s3.amazonaws.com"
    }
    ids = json.loads((repo / "terraform/stacks/bootstrap/bootstrapped.json").read_text())
    assert ids["production"]["state_key"] == key["KeyMetadata"]["KeyId"]
    assert (repo / "terraform/stacks/bootstrap/imports.tf").read_text() == imports.imports_tf()
    assert all(ln.startswith("created") for ln in lines(done)), done.stdout


def test_a_second_run_changes_nothing(repo: Path, aws: EmbeddedAWS) -> None:
    assert bootstrap(repo).returncode == 0
    files = {p: p.read_bytes() for p in (repo / "terraform/stacks/bootstrap").iterdir()}
    again = bootstrap(repo)
    assert again.returncode == 0, again.stderr
    assert lines(again) and all(ln.startswith("unchanged") for ln in lines(again)), again.stdout
    assert re.search(r"^0 of \d+ items changed$", again.stdout, re.M), again.stdout
    assert {p: p.read_bytes() for p in (repo / "terraform/stacks/bootstrap").iterdir()} == files


def test_a_run_puts_back_only_what_changed(repo: Path, aws: EmbeddedAWS) -> None:
    assert bootstrap(repo).returncode == 0
    s3 = boto3.client("s3", region_name="eu-west-1")
    s3.put_bucket_versioning(Bucket=STATE, VersioningConfiguration={"Status": "Suspended"})
    s3.delete_public_access_block(Bucket=STATE)
    again = bootstrap(repo)
    assert again.returncode == 0, again.stderr
    changed = [ln for ln in lines(again) if not ln.startswith("unchanged")]
    assert changed == [
        f"updated       bucket {STATE}: versioning",
        f"updated       bucket {STATE}: public access blocked",
    ]
    assert s3.get_bucket_versioning(Bucket=STATE)["Status"] == "Enabled"


def test_a_dry_run_writes_nothing(repo: Path, aws: EmbeddedAWS) -> None:
    done = bootstrap(repo, "--dry-run")
    assert done.returncode == 0, done.stderr
    assert lines(done) and all(ln.startswith("would create") for ln in lines(done))
    assert boto3.client("s3").list_buckets()["Buckets"] == []
    assert boto3.client("kms", region_name="eu-west-1").list_aliases()["Aliases"] == [] or all(
        a["AliasName"].startswith("alias/aws/")
        for a in boto3.client("kms", region_name="eu-west-1").list_aliases()["Aliases"]
    )
    assert not (repo / "terraform/stacks/bootstrap/bootstrapped.json").exists()


def test_without_credentials_it_is_exit_2(
    repo: Path, aws: EmbeddedAWS, monkeypatch: pytest.MonkeyPatch
) -> None:
    for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(var)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(repo / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(repo / "none"))
    done = bootstrap(repo)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines()[-1].startswith("error: no AWS credentials found")


def test_credentials_of_another_account_are_refused(repo: Path, aws: EmbeddedAWS) -> None:
    toml = repo / "runners.toml"
    toml.write_text(
        toml.read_text().replace('account_id = "123456789012"', 'account_id = "210987654321"')
    )
    done = bootstrap(repo)
    assert done.returncode == 2
    assert "the AWS credentials are for account 123456789012" in done.stderr
    assert boto3.client("s3").list_buckets()["Buckets"] == []


@pytest.mark.parametrize(
    ("taken", "where"),
    [
        (STATE, "environments.production.backend.bucket"),
        (REPLICA, "[bootstrap] client"),
    ],
)
def test_a_bucket_name_another_account_holds_is_exit_1_naming_it(
    repo: Path, layer: Behaviour, taken: str, where: str
) -> None:
    layer.owned_elsewhere(taken)
    done = bootstrap(repo)
    assert done.returncode == 1
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith(f"error: bucket {taken} belongs to another AWS account"), last
    assert where in last
    assert boto3.client("s3").list_buckets()["Buckets"] == []  # found before anything is made
    assert "bucket of another account" in layer.counts


def test_a_create_that_loses_the_race_for_the_name_is_exit_1(repo: Path, layer: Behaviour) -> None:
    """The name was free when looked at, and another account took it before the create."""
    original = layer.foreign_buckets.__contains__
    heads: list[str] = []

    def after_first_look(name: object) -> bool:
        if name == STATE and heads:
            return True
        if name == STATE:
            heads.append(STATE)
            return False
        return bool(original(name))

    class Watched(set[str]):
        def __contains__(self, name: object) -> bool:
            return after_first_look(name)

        def __bool__(self) -> bool:
            return True

    layer.foreign_buckets = Watched()
    done = bootstrap(repo)
    assert done.returncode == 1
    assert f"bucket {STATE} belongs to another AWS account" in done.stderr
    assert "BucketAlreadyExists" in layer.raised


@pytest.mark.slow
def test_the_bootstrap_stack_adopts_what_bootstrap_made(
    repo: Path, provider_mirror: Path, tmp_path: Path
) -> None:
    """The real provider plans the bootstrap stack after a bootstrap: every import block
    imports, nothing it imports is replaced or destroyed."""
    from runners.aws.embedded import write_provider_override
    from runners.terraform import binary
    from runners.terraform.engine import Terraform, base_environment

    with _provider_aws(tmp_path) as provider_aws:
        done = bootstrap(repo, env=provider_aws.environ())
        assert done.returncode == 0, done.stderr
        stack = repo / "terraform/stacks/bootstrap"
        write_provider_override(stack)
        env = base_environment(None, provider_mirror=provider_mirror, quiet=True)
        env.update(provider_aws.environ())
        tf = Terraform(binary.embedded_binary(), env, timeout=900)
        data = {"TF_DATA_DIR": str(tmp_path / "tf")}
        backend = [
            f"-backend-config={k}={v}"
            for k, v in {
                "bucket": STATE,
                "key": "bootstrap/terraform.tfstate",
                "region": "eu-west-1",
                "use_path_style": "true",
                "use_lockfile": "true",
            }.items()
        ]
        tf.run(["init", "-input=false", "-no-color", *backend], stack, extra_env=data, stream=False)
        plan = tmp_path / "tfplan"
        tf.run(
            ["plan", "-input=false", "-no-color", "-var-file=production.tfvars", f"-out={plan}"],
            stack,
            extra_env=data,
            stream=False,
            ok_codes=(0, 2),
        )
        shown = tmp_path / "plan.json"
        tf.run(["show", "-json", str(plan)], stack, extra_env=data, stdout_file=shown, stream=False)
    changes = json.loads(shown.read_text())["resource_changes"]
    imported = {
        rc["address"]: rc["change"]["actions"] for rc in changes if rc["change"].get("importing")
    }
    assert sorted(imported) == sorted(address for address, _ in imports.ADDRESSES)
    assert [a for a, actions in imported.items() if "delete" in actions] == []
    assert [rc["address"] for rc in changes if "delete" in rc["change"]["actions"]] == []


def _provider_aws(tmp_path: Path):  # type: ignore[no-untyped-def]
    from runners.aws.embedded import running

    return running(log_path=tmp_path / "moto.log", for_provider=True)
