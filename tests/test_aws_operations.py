"""Every module that calls AWS declares exactly the operations it calls.

The scan reads each module's source (runners/aws/callscan.py); the cases
below show what it catches, so a gap in the scanner shows up here rather than
as a missing IAM permission at 3 a.m.
"""

from __future__ import annotations

import importlib
import inspect
import re
import textwrap

import pytest

from runners.aws import callscan, operations
from runners.errors import InputError


def test_every_module_declares_the_aws_calls_it_makes() -> None:
    failures = []
    for name in operations.module_names("runners"):
        module = importlib.import_module(name)
        scan = callscan.scan_source(inspect.getsource(module), name)
        declared = vars(module).get(operations.ATTRIBUTE)
        if declared is not None:
            declared = operations.check_declaration(name, declared)
        failures += [f"{name}: {problem}" for problem in callscan.check(declared, scan)]
    assert not failures, "\n".join(failures)


def findings(source: str, declared: dict[str, frozenset[str]] | None) -> list[str]:
    return callscan.check(declared, callscan.scan_source(textwrap.dedent(source)))


ENGINE = """
    from mypy_boto3_ec2 import EC2Client

    class Engine:
        def __init__(self, ec2: EC2Client) -> None:
            self.ec2 = ec2

        def run(self) -> None:
            for page in self.ec2.get_paginator("describe_snapshots").paginate():
                pass
            self.ec2.create_snapshot(VolumeId="vol-1")
            self.ec2.get_waiter("snapshot_completed").wait(SnapshotIds=["snap-1"])
"""


def test_a_complete_declaration_passes() -> None:
    assert findings(ENGINE, {"ec2": frozenset({"DescribeSnapshots", "CreateSnapshot"})}) == []


@pytest.mark.parametrize(
    ("missing", "expected"),
    [
        ("CreateSnapshot", "calls ec2 CreateSnapshot, which AWS_OPERATIONS does not declare"),
        ("DescribeSnapshots", "paginator self.ec2.get_paginator('describe_snapshots')"),
    ],
)
def test_an_undeclared_call_is_named(missing: str, expected: str) -> None:
    declared = {"ec2": frozenset({"DescribeSnapshots", "CreateSnapshot"}) - {missing}}
    found = findings(ENGINE, declared)
    assert any(expected in f for f in found), found


def test_a_waiter_counts_as_the_operation_it_polls() -> None:
    source = """
        import boto3
        def wait(session):
            rds = session.client("rds")
            rds.get_waiter("db_snapshot_available").wait(DBSnapshotIdentifier="x")
    """
    assert findings(source, {"rds": frozenset({"DescribeDBSnapshots"})}) == []
    assert "calls rds DescribeDBSnapshots" in findings(source, {"rds": frozenset()})[0]


def test_calling_aws_without_any_declaration_fails() -> None:
    source = """
        import boto3
        def lookup(ssm):
            return ssm.get_parameter(Name="/aws/service/debian/release/13/latest/amd64")
    """
    assert findings(source, None) == [
        "calls AWS (line 4: ssm.get_parameter(Name='/aws/service/debian/release/13/latest/amd64')) "
        "but declares no AWS_OPERATIONS"
    ]


def test_s3_transfer_helpers_count_as_their_api_calls() -> None:
    source = """
        from mypy_boto3_s3 import S3Client
        def ship(s3: S3Client) -> None:
            s3.download_file("bucket", "key", "/tmp/x")
    """
    assert findings(source, {"s3": frozenset({"HeadObject", "GetObject"})}) == []
    assert findings(source, {"s3": frozenset({"GetObject"})})[0].endswith(
        "calls s3 HeadObject, which AWS_OPERATIONS does not declare"
    )


def test_a_paginator_named_by_a_variable_must_be_marked() -> None:
    source = """
        import boto3
        def pages(client, op):
            return client.get_paginator(op).paginate()
    """
    assert "cannot be checked" in findings(source, {"ec2": frozenset()})[0]
    marked = source.replace("paginate()", "paginate()  # aws-ops: dynamic")
    assert findings(marked, {"ec2": frozenset()}) == []


def test_a_declared_operation_never_called_fails() -> None:
    found = findings(
        ENGINE, {"ec2": frozenset({"DescribeSnapshots", "CreateSnapshot", "DeleteSnapshot"})}
    )
    assert found == ["declares ec2 DeleteSnapshot but never calls it"]


def test_code_without_aws_imports_is_left_alone() -> None:
    source = """
        def tidy(cache):
            cache.delete_object("x")
            return {}.get("y")
    """
    assert findings(source, None) == []


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"ec3": frozenset({"CreateSnapshot"})}, "'ec3' is not a boto3 service name"),
        ({"ec2": frozenset({"create_snapshot"})}, "create_snapshot is not an operation of ec2"),
        ({"ec2": {"CreateSnapshot"}}, "expected a frozenset of operation names"),
        (["ec2"], "expected a dict of service to frozenset"),
    ],
)
def test_bad_declarations_name_the_module_and_the_problem(value: object, message: str) -> None:
    with pytest.raises(InputError, match=re.escape("runners.fake.AWS_OPERATIONS")) as err:
        operations.check_declaration("runners.fake", value)
    assert message in str(err.value)


PROVIDER = """
    class Engine:
        def run(self, region: str) -> None:
            ec2 = self.clients.ec2(region)
            send(ec2.create_snapshot, {"VolumeId": "vol-1"})
            for page in self.clients.ec2(region).get_paginator("describe_volumes").paginate():
                pass
"""


def test_a_client_providers_method_is_a_client_and_a_handed_on_method_a_call() -> None:
    declared = {"ec2": frozenset({"CreateSnapshot", "DescribeVolumes"})}
    assert findings(PROVIDER, declared) == []
    missing = findings(PROVIDER, {"ec2": frozenset({"DescribeVolumes"})})
    assert any("calls ec2 CreateSnapshot" in f for f in missing), missing


def test_an_operation_named_in_a_table_counts_as_used_but_not_as_declared() -> None:
    source = """
        import boto3
        SHAPE = {"create": "create_db_snapshot"}
        def run(clients, region):
            getattr(clients.rds(region), SHAPE["create"])()
    """
    assert findings(source, {"rds": frozenset({"CreateDBSnapshot"})}) == []
    unused = findings(source, {"rds": frozenset({"CreateDBSnapshot", "DeleteDBSnapshot"})})
    assert unused == ["declares rds DeleteDBSnapshot but never calls it"]
