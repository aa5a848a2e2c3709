"""The runner roles' policy grants exactly the AWS calls the runners make.

The documents are what Terraform hands to IAM: the provider-free
terraform/modules/runner-role/policies module evaluated by the embedded
Terraform. The calls are the union of every module's AWS_OPERATIONS, which
test_aws_operations.py holds to the source.
"""

from __future__ import annotations

import json
import re
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from runners.aws import callscan, iam, operations
from runners.backup import tags as backup_tags
from runners.dr.tags import VERIFY as VERIFY_TAG
from tests import runnerpolicy

INPUTS = runnerpolicy.INPUTS
SOURCE_TAG = INPUTS["backup_tag_key"]  # on what a policy selects
TAG = INPUTS["snapshot_tag_key"]  # on every snapshot the runners make
RUNNER_SID = "Runner"


@pytest.fixture(scope="module")
def documents(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    return runnerpolicy.documents(tmp_path_factory.mktemp("policies"))


# Modules that only ever talk to the embedded AWS, never with a runner role.
EMBEDDED_ONLY = {
    "runners.demo": "creates the demo's state bucket in the moto server",
    "runners.aws.embedded": "requests the load balancers' certificates in the moto server",
    "runners.backup.demo": "seeds volumes, an instance, a database and a key in the moto server",
    "runners.dr.demo": "seeds images, volumes, a database, a key and a state replica in moto",
}


def declared() -> dict[str, frozenset[str]]:
    return operations.union(
        d for d in operations.declarations("runners") if d.module not in EMBEDDED_ONLY
    )


def merged(*maps: dict[str, frozenset[str]]) -> dict[str, frozenset[str]]:
    out: dict[str, frozenset[str]] = {}
    for m in maps:
        for service, ops in m.items():
            out[service] = out.get(service, frozenset()) | ops
    return out


def coverage_failures(ops: dict[str, frozenset[str]], docs: dict[str, dict[str, Any]]) -> list[str]:
    return [
        f"{action} (needed by {', '.join(needed_by)}) is granted by no {RUNNER_SID} statement"
        for action, needed_by in iam.uncovered(ops, docs, RUNNER_SID).items()
    ]


def test_policy_grants_every_operation_the_code_declares(
    documents: dict[str, dict[str, Any]],
) -> None:
    failures = coverage_failures(declared(), documents)
    assert not failures, "\n".join(failures)


def test_runner_statements_grant_nothing_the_code_does_not_need(
    documents: dict[str, dict[str, Any]],
) -> None:
    granted = iam.runner_actions(documents, RUNNER_SID)
    extra = iam.unneeded(granted, declared())
    assert not extra, [f"{action} in {granted[action]}" for action in extra]


def test_a_new_aws_call_the_policy_lacks_fails_the_guard(
    documents: dict[str, dict[str, Any]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The code gains a call (declared, so the meta-test passes); the policy check must fail."""
    package = tmp_path / "fakerunners"
    (package / "restore").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "restore" / "__init__.py").write_text("")
    (package / "restore" / "volumes.py").write_text(
        textwrap.dedent("""
        from mypy_boto3_ec2 import EC2Client

        AWS_OPERATIONS = {"ec2": frozenset({"ModifyVolume", "DescribeVolumes"})}

        def grow(ec2: EC2Client, volume_id: str) -> None:
            ec2.describe_volumes(VolumeIds=[volume_id])
            ec2.modify_volume(VolumeId=volume_id, Size=100)
    """)
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        fake = operations.declarations("fakerunners")
    finally:
        for name in [n for n in sys.modules if n.startswith("fakerunners")]:
            del sys.modules[name]
    assert [d.module for d in fake] == ["fakerunners.restore.volumes"]
    # The declaration matches the code, so the meta-test is satisfied...
    source = fake[0].path.read_text()
    assert callscan.check(fake[0].operations, callscan.scan_source(source)) == []
    # ...and the policy check is what catches the missing permission: exactly it, and
    # nothing the rest of the code already needs.
    before = set(coverage_failures(declared(), documents))
    after = set(coverage_failures(merged(declared(), operations.union(fake)), documents))
    assert after - before == {
        "ec2:ModifyVolume (needed by ec2 ModifyVolume) is granted by no Runner statement"
    }


def test_a_runner_statement_granting_more_than_the_code_needs_fails(
    documents: dict[str, dict[str, Any]],
) -> None:
    widened = json.loads(json.dumps(documents))
    widened["backup"]["Statement"][0]["Action"].append("ec2:ModifyVolume")
    extra = iam.unneeded(iam.runner_actions(widened, RUNNER_SID), declared())
    assert extra == ["ec2:ModifyVolume"]


def actions(doc: dict[str, Any], effect: str = "Allow") -> list[tuple[str, str]]:
    return [
        (str(s.get("Sid")), a)
        for s in doc["Statement"]
        if s["Effect"] == effect
        for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
    ]


READ = re.compile(r"^[a-z0-9-]+:(Describe|Get|List)[A-Za-z0-9*]*$|^apigateway:GET$")


def test_plan_role_only_reads_apart_from_locks_and_records(
    documents: dict[str, dict[str, Any]],
) -> None:
    # Writing: Terraform's lock file, the runners' locks and audit records,
    # and encrypting those objects with the state key.
    writers = {"StateLockFile", "RunnerRecords", "StateKey"}
    writes = [
        (sid, a)
        for sid, a in actions(documents["plan"])
        if not READ.match(a) and sid not in writers
    ]
    assert writes == []
    for stmt in documents["plan"]["Statement"]:
        if stmt["Sid"] in {"StateLockFile", "RunnerRecords"}:
            assert all(r.startswith(INPUTS["state_bucket_arn"] + "/") for r in stmt["Resource"])


def test_the_policy_knows_the_tags_the_backup_code_writes() -> None:
    assert TAG == backup_tags.MANAGED_BY
    module = Path(__file__).parent.parent / "terraform/modules/runner-role"
    for path in (module / "variables.tf", module / "policies/variables.tf"):
        assert f'default     = "{backup_tags.MANAGED_BY}"' in path.read_text(), path
    assert f'"{backup_tags.COPIED_TO}"' in (module / "policies/main.tf").read_text()


# Source statements: creating a snapshot is authorised on the volume, instance,
# database or cluster it is taken of, which must carry the source tag.
SOURCE_SIDS = {"RunnerSnapshotTaggedVolumes", "RunnerSnapshotTaggedDatabases"}
LINK_SIDS = {"RunnerLinkOwnSnapshots", "RunnerLinkOwnDbSnapshots"}


def test_backup_role_deletes_and_snapshots_only_what_carries_the_tag(
    documents: dict[str, dict[str, Any]],
) -> None:
    for stmt in documents["backup"]["Statement"]:
        acts = stmt["Action"]
        sid = stmt["Sid"]
        condition = json.dumps(stmt.get("Condition", {}))
        # verify-restore's throwaways carry their own tag, not the backup tag.
        throwaway = sid.startswith("RunnerVerifyRestore")
        mark = VERIFY_TAG if throwaway else SOURCE_TAG if sid in SOURCE_SIDS else TAG
        ec2_rds = [a for a in acts if a.startswith(("ec2:", "rds:")) and a != "ec2:CreateTags"]
        if sid == "RunnerSnapshotInstanceVolumes":
            # The one unconditioned create: it also needs the tagged instance.
            assert acts == ["ec2:CreateSnapshots"] and stmt["Resource"][0].endswith(":volume/*")
        elif any(a.split(":")[1].startswith(("Delete", "Create", "Copy")) for a in ec2_rds):
            assert f"/{mark}" in condition, sid
        if sid in LINK_SIDS:
            assert stmt["Condition"] == {
                "Null": {f"aws:ResourceTag/{TAG}": "false"},
                "ForAllValues:StringEquals": {
                    "aws:TagKeys": [backup_tags.COPIED_TO, backup_tags.DEVICE]
                },
            }
        elif sid == "RunnerTagImageCopies":  # tags on ship's own image copies only
            assert stmt["Condition"] == {"Null": {f"aws:RequestTag/{TAG}": "false"}}
            assert stmt["Resource"] == ["arn:aws:ec2:*::image/*"]
        elif "ec2:CreateTags" in acts:
            actions = ["CopySnapshot", "CreateSnapshot", "CreateSnapshots", "CreateVolume"]
            assert stmt["Condition"] == {"StringEquals": {"ec2:CreateAction": actions}}
        if any(a.startswith("rds:") and not a.startswith("rds:Describe") for a in acts):
            if throwaway:
                assert all(re.search(THROWAWAY_RDS, r) for r in stmt["Resource"]), sid
            elif sid in SOURCE_SIDS:
                assert [r.rsplit(":", 2)[-2:] for r in stmt["Resource"]] == [
                    ["db", "*"],
                    ["cluster", "*"],
                ]
            else:
                assert stmt["Resource"] == [
                    "arn:aws:rds:*:123456789012:snapshot:runners-*",
                    "arn:aws:rds:*:123456789012:cluster-snapshot:runners-*",
                ], sid


# What verify-restore's RDS statements may name: its throwaways, the runners'
# own snapshots it restores from, and the groups a restore is made with.
THROWAWAY_RDS = r":(db|cluster):runners-verify-\*$|:(snapshot|cluster-snapshot):runners-\*$|:(og|pg|cluster-pg|subgrp):\*$"


def test_verify_restore_deletes_only_its_own_throwaways(
    documents: dict[str, dict[str, Any]],
) -> None:
    deletes = {
        a: s
        for s in documents["backup"]["Statement"]
        for a in s["Action"]
        if a in {"ec2:DeleteVolume", "rds:DeleteDBInstance", "rds:DeleteDBCluster"}
    }
    assert set(deletes) == {"ec2:DeleteVolume", "rds:DeleteDBInstance", "rds:DeleteDBCluster"}
    for action, stmt in deletes.items():
        assert stmt["Condition"] == {"Null": {f"aws:ResourceTag/{VERIFY_TAG}": "false"}}, action
        if action.startswith("rds:"):
            assert all(r.endswith(":runners-verify-*") for r in stmt["Resource"])


def test_ship_s3_writes_only_the_backup_bucket_and_deletes_nothing(
    documents: dict[str, dict[str, Any]],
) -> None:
    ship = [s for s in documents["backup"]["Statement"] if s["Sid"].startswith("RunnerShipS3")]
    writes = [s for s in ship if any(a in s["Action"] for a in ("s3:PutObject",))]
    assert [w["Resource"] for w in writes] == [[INPUTS["backup_bucket_arn"] + "/*"]]
    assert not [a for s in ship for a in s["Action"] if "Delete" in a]


def test_apply_is_denied_the_runners_safety_net(documents: dict[str, dict[str, Any]]) -> None:
    denies = {s["Sid"]: s for s in documents["apply"]["Statement"] if s["Effect"] == "Deny"}
    net = denies["DenyChangingTheRunnersSafetyNet"]["Resource"]
    assert INPUTS["state_bucket_arn"] in net
    assert "arn:aws:s3:::acme-backup-eu-central-1" in net
    assert {
        f"arn:aws:iam::123456789012:role/acme-runners-{d}" for d in ("plan", "apply", "backup")
    } <= set(net)
    assert {"s3:PutBucket*", "s3:DeleteBucket*", "s3:DeleteObjectVersion"} <= set(
        denies["DenyChangingTheRunnersSafetyNet"]["Action"]
    )
    assert set(denies["DenyDeletingBackups"]["Action"]) == {
        "ec2:DeleteSnapshot",
        "rds:DeleteDBClusterSnapshot",
        "rds:DeleteDBSnapshot",
    }


def test_caller_may_only_assume_the_three_roles(documents: dict[str, dict[str, Any]]) -> None:
    (stmt,) = documents["caller"]["Statement"]
    assert stmt["Action"] == ["sts:AssumeRole"]
    assert sorted(stmt["Resource"]) == [
        f"arn:aws:iam::123456789012:role/acme-runners-{d}" for d in ("apply", "backup", "plan")
    ]


def test_no_document_uses_not_action_or_not_resource(documents: dict[str, dict[str, Any]]) -> None:
    # iam.uncovered reads Action lists only; NotAction would fool it.
    for doc in documents.values():
        for stmt in doc["Statement"]:
            assert not {"NotAction", "NotResource", "NotPrincipal"} & set(stmt)
            assert re.fullmatch(r"[A-Za-z0-9]+", stmt["Sid"]), stmt["Sid"]
