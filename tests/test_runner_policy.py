"""The runner roles' policy grants exactly the AWS calls the runners make.

The documents are what Terraform hands to IAM: the provider-free
terraform/modules/runner-role/policies module evaluated by the embedded
Terraform. The calls are the union of every module's AWS_OPERATIONS, which
test_aws_operations.py holds to the source.
"""

from __future__ import annotations

import fnmatch
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
from runners.errors import TerraformError
from runners.terraform.evaluate import variable_values
from tests import runnerpolicy

INPUTS = runnerpolicy.INPUTS
SOURCE_TAG = INPUTS["backup_tag_key"]  # on what a policy selects
TAG = INPUTS["snapshot_tag_key"]  # on every snapshot the runners make
RUNNER_SID = "Runner"


@pytest.fixture(scope="module")
def outputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return runnerpolicy.evaluate(tmp_path_factory.mktemp("policies"))


@pytest.fixture(scope="module")
def documents(outputs: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return runnerpolicy.documents(Path(), outputs)


@pytest.fixture(scope="module")
def trust(outputs: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return runnerpolicy.trust_documents(Path(), outputs)


# Modules that only ever talk to the embedded AWS, never with a runner role.
EMBEDDED_ONLY = {
    "runners.aws.embedded": "requests the load balancers' certificates in the moto server",
    "runners.backup.demo": "seeds volumes, an instance, a database and a key in the moto server",
    "runners.dr.demo": "seeds images, volumes, a database, a key and a state replica in moto",
}


# Modules run with a person's own credentials, never with a runner role: the runner roles do
# not exist before bootstrap, and may not change the state bucket or the roles after it.
ADMINISTRATOR_ONLY = {
    "runners.client.bootstrap": "makes the state bucket, its replica, their keys and the "
    "replication role before any runner role exists",
    "runners.client.doctor.checks_aws": "an operator's check of the account: bucket settings, "
    "the runner roles' trust, IAM's simulator",
}


def declared() -> dict[str, frozenset[str]]:
    return operations.union(
        d
        for d in operations.declarations("runners")
        if d.module not in EMBEDDED_ONLY and d.module not in ADMINISTRATOR_ONLY
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


def test_plan_role_only_reads_apart_from_its_records_and_terraforms_lock(
    documents: dict[str, dict[str, Any]],
) -> None:
    # Writing: Terraform's lock file, its own plan records, and encrypting
    # those objects with the state key.
    writers = {"StateLockFile", "RunnerPlanRecords", "StateKey"}
    writes = [
        (sid, a)
        for sid, a in actions(documents["plan"])
        if not READ.match(a) and sid not in writers
    ]
    assert writes == []
    [records] = [s for s in documents["plan"]["Statement"] if s["Sid"] == "RunnerPlanRecords"]
    assert records["Action"] == ["s3:PutObject"]
    assert records["Resource"] == [INPUTS["state_bucket_arn"] + "/runners/plan-records/*"]


# -- S3 as the roles may touch it: records, locks, state --------------------------------

BUCKET = INPUTS["state_bucket_arn"]
KEYS = {
    "apply record": f"{BUCKET}/runners/audit/2026/03/01/app/production/1a2b.json",
    "plan record": f"{BUCKET}/runners/plan-records/2026/03/01/app/production/3c4d.json",
    "lock-file-shaped key among the apply records": f"{BUCKET}/runners/audit/x.tflock",
    "stack lock": f"{BUCKET}/runners/locks/app/production.lock",
    "terraform lock file": f"{BUCKET}/stacks/app/production.tfstate.tflock",
    "state": f"{BUCKET}/stacks/app/production.tfstate",
}


def allowed(doc: dict[str, Any], action: str, resource: str) -> bool:
    """IAM's decision for one call, for statements without conditions (asserted)."""

    def matches(stmt: dict[str, Any]) -> bool:
        acts = stmt["Action"] if isinstance(stmt["Action"], list) else [stmt["Action"]]
        res = stmt["Resource"] if isinstance(stmt["Resource"], list) else [stmt["Resource"]]
        hit = any(fnmatch.fnmatchcase(action.lower(), a.lower()) for a in acts) and any(
            fnmatch.fnmatchcase(resource, r) for r in res
        )
        assert not (hit and "Condition" in stmt), f"{stmt['Sid']} has a condition"
        return hit

    statements = doc["Statement"]
    if any(s["Effect"] == "Deny" and matches(s) for s in statements):
        return False
    return any(s["Effect"] == "Allow" and matches(s) for s in statements)


def may(documents: dict[str, dict[str, Any]], action: str, key: str) -> set[str]:
    return {duty for duty in runnerpolicy.DUTIES if allowed(documents[duty], action, KEYS[key])}


def test_no_role_may_erase_or_rewrite_a_record(documents: dict[str, dict[str, Any]]) -> None:
    for key in ("apply record", "plan record"):
        for action in (
            "s3:DeleteObject",
            "s3:DeleteObjectVersion",
            "s3:PutObjectRetention",
            "s3:BypassGovernanceRetention",
        ):
            assert may(documents, action, key) == set(), (action, key)


def test_each_role_writes_only_its_own_records(documents: dict[str, dict[str, Any]]) -> None:
    assert may(documents, "s3:PutObject", "apply record") == {"apply"}
    assert may(documents, "s3:PutObject", "lock-file-shaped key among the apply records") == {
        "apply"
    }
    assert may(documents, "s3:PutObject", "plan record") == {"plan"}
    assert may(documents, "s3:PutObject", "state") == {"apply"}


def test_only_the_apply_role_may_take_or_remove_a_stack_lock(
    documents: dict[str, dict[str, Any]],
) -> None:
    assert may(documents, "s3:PutObject", "stack lock") == {"apply"}
    assert may(documents, "s3:DeleteObject", "stack lock") == {"apply"}
    # Terraform's own lock file: every plan takes and releases it.
    assert may(documents, "s3:PutObject", "terraform lock file") == {"plan", "apply"}
    assert may(documents, "s3:DeleteObject", "terraform lock file") == {"plan", "apply"}


def test_the_s3_evaluator_can_say_yes_and_no() -> None:
    doc = {
        "Statement": [
            {"Sid": "A", "Effect": "Allow", "Action": ["s3:*Object"], "Resource": [f"{BUCKET}/*"]},
            {"Sid": "D", "Effect": "Deny", "Action": "s3:DeleteObject", "Resource": KEYS["state"]},
        ]
    }
    assert allowed(doc, "s3:PutObject", KEYS["state"])
    assert not allowed(doc, "s3:DeleteObject", KEYS["state"])
    assert not allowed(doc, "s3:PutBucketPolicy", BUCKET)


# -- Trust: one principal, one duty -------------------------------------------------------

# A principal as STS sees it: an IAM ARN, or a Jenkins token (provider, aud, sub).
Principal = tuple[str, ...]


def principals(trust: dict[str, dict[str, Any]]) -> set[Principal]:
    """Every principal any trust policy names, and every token its conditions admit."""
    found: set[Principal] = set()
    for doc in trust.values():
        for stmt in doc["Statement"]:
            for arn in stmt["Principal"].get("AWS", []):
                found.add(("aws", arn))
            federated = stmt["Principal"].get("Federated")
            if federated:
                cond = stmt["Condition"]["StringEquals"]
                auds = next(v for k, v in cond.items() if k.endswith(":aud"))
                subs = next(v for k, v in cond.items() if k.endswith(":sub"))
                found.update(("oidc", federated, a, s) for a in auds for s in subs)
    return found


def assumes(doc: dict[str, Any], who: Principal) -> bool:
    """Whether the trust policy lets ``who`` assume the role (StringEquals only, asserted)."""
    for stmt in doc["Statement"]:
        assert stmt["Effect"] == "Allow", "a trust policy here only allows"
        assert set(stmt.get("Condition", {})) <= {"StringEquals"}, stmt["Sid"]
        cond = stmt.get("Condition", {}).get("StringEquals", {})
        if who[0] == "aws":
            if who[1] in stmt["Principal"].get("AWS", []) and "sts:AssumeRole" in stmt["Action"]:
                # An external ID is something the caller presents; it never names a duty.
                assert set(cond) <= {"sts:ExternalId"}
                return True
        elif stmt["Principal"].get("Federated") == who[1]:
            if "sts:AssumeRoleWithWebIdentity" not in stmt["Action"]:
                continue
            values = {k.rsplit(":", 1)[-1]: v for k, v in cond.items()}
            assert set(values) == {"aud", "sub"}, "tokens are told apart by aud and sub"
            if who[2] in values["aud"] and who[3] in values["sub"]:
                return True
    return False


def duties_of(trust: dict[str, dict[str, Any]]) -> dict[Principal, set[str]]:
    return {who: {d for d, doc in trust.items() if assumes(doc, who)} for who in principals(trust)}


def test_no_principal_can_assume_two_duties(trust: dict[str, dict[str, Any]]) -> None:
    duties = duties_of(trust)
    assert len(duties) == 3 + 2 + 2 + 1  # three keys, and the Jenkins jobs by audience
    assert {who: d for who, d in duties.items() if len(d) != 1} == {}
    assert duties[("aws", INPUTS["plan_principal_arns"][0])] == {"plan"}
    production_job = INPUTS["jenkins_oidc"]["apply_subjects"][0]
    provider = INPUTS["jenkins_oidc"]["provider_arn"]
    assert duties[("oidc", provider, "runners-apply", production_job)] == {"apply"}
    assert duties[("oidc", provider, "runners-plan", production_job)] == {"plan"}


def test_a_merge_request_job_is_trusted_by_no_role(trust: dict[str, dict[str, Any]]) -> None:
    provider = INPUTS["jenkins_oidc"]["provider_arn"]
    mr_job = "https://jenkins.acme.internal/job/acme/job/merge-requests/job/terraform/job/MR-7/"
    for audience in ("runners-plan", "runners-apply", "runners-backup"):
        assert not any(assumes(doc, ("oidc", provider, audience, mr_job)) for doc in trust.values())


def test_the_trust_check_catches_a_principal_with_two_duties(
    trust: dict[str, dict[str, Any]],
) -> None:
    widened = json.loads(json.dumps(trust))
    widened["apply"]["Statement"][0]["Principal"]["AWS"].append(INPUTS["plan_principal_arns"][0])
    assert duties_of(widened)[("aws", INPUTS["plan_principal_arns"][0])] == {"plan", "apply"}


def test_the_apply_role_trusts_the_production_job_by_its_sub(
    trust: dict[str, dict[str, Any]],
) -> None:
    [jobs] = [s for s in trust["apply"]["Statement"] if "Federated" in s["Principal"]]
    issuer = INPUTS["jenkins_oidc"]["issuer"]
    assert (
        jobs["Condition"]["StringEquals"][f"{issuer}:sub"]
        == INPUTS["jenkins_oidc"]["apply_subjects"]
    )
    assert jobs["Condition"]["StringEquals"][f"{issuer}:aud"] == ["runners-apply"]
    for doc in trust.values():  # the session may carry the build and the approver
        for stmt in doc["Statement"]:
            assert {"sts:SetSourceIdentity", "sts:TagSession"} <= set(stmt["Action"])


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"apply_principal_arns": INPUTS["plan_principal_arns"]},
            "apply_principal_arns and plan_principal_arns share a principal",
        ),
        (
            {"backup_principal_arns": INPUTS["apply_principal_arns"]},
            "backup_principal_arns shares a principal",
        ),
        (
            {"plan_principal_arns": ["arn:aws:iam::111122223333:root"]},
            "plan_principal_arns must be IAM user or role ARNs",
        ),
        (
            {"jenkins_oidc": {**INPUTS["jenkins_oidc"], "audiences": {"plan": "x", "apply": "x"}}},
            "jenkins_oidc.audiences must differ per duty",
        ),
    ],
)
def test_one_principal_for_two_duties_is_a_validation_error(
    tmp_path: Path, change: dict[str, Any], message: str
) -> None:
    with pytest.raises(TerraformError) as err:
        runnerpolicy.evaluate(tmp_path, {**INPUTS, **change})
    assert "Invalid value for variable" in str(err.value)
    assert message in " ".join(err.value.stderr.split())


def test_the_runner_role_module_refuses_the_same_principal_for_plan_and_apply(
    tmp_path: Path,
) -> None:
    module = Path(__file__).parent.parent / "terraform/modules/runner-role"
    tfvars = tmp_path / "same.tfvars"
    same = INPUTS["plan_principal_arns"][0]
    tfvars.write_text(
        f'plan_principal_arns   = ["{same}"]\n'
        f'apply_principal_arns  = ["{same}"]\n'
        'backup_principal_arns = ["arn:aws:iam::111122223333:user/acme-runners-backup"]\n'
        'regions               = ["eu-west-1", "eu-central-1"]\n'
        f'state_bucket_arn      = "{BUCKET}"\n'
        'state_kms_key_arn     = "arn:aws:kms:eu-west-1:123456789012:key/state"\n'
        'bucket_name_prefix    = "acme-"\n'
        'backup_kms_key_arns   = ["arn:aws:kms:eu-west-1:123456789012:key/data"]\n'
    )
    with pytest.raises(TerraformError) as err:
        variable_values(module, [tfvars], tmp_path / "work")
    assert "apply_principal_arns and plan_principal_arns share a principal" in " ".join(
        err.value.stderr.split()
    )
    tfvars.write_text(tfvars.read_text().replace(f'apply_principal_arns  = ["{same}"]', ""))
    with pytest.raises(TerraformError, match="Invalid value for variable"):
        variable_values(module, [tfvars], tmp_path / "work2")  # apply has no principal now


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


def test_each_callers_principal_may_only_assume_its_own_role(
    documents: dict[str, dict[str, Any]],
) -> None:
    for duty in runnerpolicy.DUTIES:
        (stmt,) = documents[f"caller_{duty}"]["Statement"]
        assert stmt["Action"] == ["sts:AssumeRole", "sts:SetSourceIdentity", "sts:TagSession"]
        assert stmt["Resource"] == [f"arn:aws:iam::123456789012:role/acme-runners-{duty}"]


def test_no_document_uses_not_action_or_not_resource(documents: dict[str, dict[str, Any]]) -> None:
    # iam.uncovered reads Action lists only; NotAction would fool it.
    for doc in documents.values():
        for stmt in doc["Statement"]:
            assert not {"NotAction", "NotResource", "NotPrincipal"} & set(stmt)
            assert re.fullmatch(r"[A-Za-z0-9]+", stmt["Sid"]), stmt["Sid"]
