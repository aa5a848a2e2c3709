"""The pure readers and comparisons behind the apply's checks, property-tested.

The plan file's protocol buffer and msgpack, its configuration snapshot, the
backend comparison, the Jenkins build JSON, the var files and the manifest
reader: each either answers or raises its one documented error, whatever the
bytes, and a comparison of equal things finds nothing while any single change
is found.
"""

from __future__ import annotations

import contextlib
import json
import struct
import zipfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from runners.change import manifest as manifest_mod
from runners.change.cleanroom import backend_differences
from runners.change.evidence import is_auto_var_file, repo_path, var_file_differences
from runners.change.manifest import VarFile
from runners.errors import InputError
from runners.jenkins import buildcheck
from runners.terraform import planbinary, snapshot
from runners.terraform.planbinary import PlanBackend
from runners.terraform.planfile import lock_digest, read_plan

# -- a reference encoder for the subset cty writes: the decoder must invert it ----------


def pack(value: Any) -> bytes:
    if value is None:
        return b"\xc0"
    if value is True:
        return b"\xc3"
    if value is False:
        return b"\xc2"
    if isinstance(value, int):
        if 0 <= value <= 0x7F:
            return bytes([value])
        if -32 <= value < 0:
            return struct.pack(">b", value)
        return (
            b"\xd3" + struct.pack(">q", value) if value < 0 else b"\xcf" + struct.pack(">Q", value)
        )
    if isinstance(value, float):
        return b"\xcb" + struct.pack(">d", value)
    if isinstance(value, str):
        raw = value.encode()
        return (
            bytes([0xA0 | len(raw)]) if len(raw) < 32 else b"\xda" + struct.pack(">H", len(raw))
        ) + raw
    if isinstance(value, list):
        return b"\xdc" + struct.pack(">H", len(value)) + b"".join(pack(v) for v in value)
    if isinstance(value, dict):
        return (
            b"\xde"
            + struct.pack(">H", len(value))
            + b"".join(pack(k) + pack(v) for k, v in value.items())
        )
    raise TypeError(value)


VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | st.floats(allow_nan=False)
    | st.text(max_size=40),
    lambda inner: (
        st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=10), inner, max_size=5)
    ),
    max_leaves=20,
)


@given(VALUES)
def test_msgpack_decodes_what_was_encoded(value: Any) -> None:
    assert planbinary.unpack(pack(value)) == value


@given(st.binary(max_size=200))
def test_msgpack_never_fails_but_with_valueerror(data: bytes) -> None:
    with contextlib.suppress(ValueError):  # anything else fails the test
        planbinary.unpack(data)


def test_msgpack_depth_is_bounded() -> None:
    with pytest.raises(ValueError, match="nested too deeply"):
        planbinary.unpack(b"\x91" * 10_000 + b"\xc0")


def _field(number: int, payload: bytes | int) -> bytes:
    def varint(n: int) -> bytes:
        out = bytearray()
        while True:
            byte, n = n & 0x7F, n >> 7
            out.append(byte | (0x80 if n else 0))
            if not n:
                return bytes(out)

    if isinstance(payload, int):
        return varint(number << 3) + varint(payload)
    return varint(number << 3 | 2) + varint(len(payload)) + payload


@given(
    version=st.text(min_size=1, max_size=12),
    kind=st.sampled_from(["s3", "local", "gcs"]),
    config=st.dictionaries(st.text(max_size=8), st.text(max_size=8) | st.none(), max_size=4),
    workspace=st.sampled_from(["", "default", "staging"]),
    errored=st.booleans(),
)
def test_the_plan_record_is_read_back(
    version: str, kind: str, config: dict[str, Any], workspace: str, errored: bool
) -> None:
    backend = (
        _field(1, kind.encode())
        + _field(2, _field(1, pack(config)))
        + (_field(3, workspace.encode()) if workspace else b"")
    )
    raw = (
        _field(1, 3) + _field(13, backend) + _field(14, version.encode()) + _field(20, int(errored))
    )
    record = planbinary.read_record(raw)
    assert record.terraform_version == version
    assert record.backend == PlanBackend(kind, config, workspace or "default")
    assert record.errored is errored and not record.uses_state_store


@given(st.binary(max_size=300))
def test_a_plan_record_of_garbage_is_a_valueerror(data: bytes) -> None:
    with contextlib.suppress(ValueError):  # bad UTF-8 included; anything else fails the test
        planbinary.read_record(data)


# -- the snapshot ------------------------------------------------------------------------


def _installed(
    tmp_path: Path, files: dict[str, dict[str, bytes]]
) -> dict[str, snapshot.InstalledModule]:
    out = {}
    for key, content in files.items():
        folder = tmp_path / (key or "root")
        folder.mkdir(parents=True, exist_ok=True)
        for name, data in content.items():
            (folder / name).write_bytes(data)
        out[key] = snapshot.InstalledModule(key, "" if not key else "../m", folder, key or "stack")
    return out


FILES = st.dictionaries(
    st.sampled_from(["main.tf", "vars.tf", "x_override.tf", "o.tf.json"]),
    st.binary(max_size=30),
    min_size=1,
)


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(root=FILES, child=FILES, which=st.sampled_from(["add", "drop", "change"]))
def test_any_one_file_changed_added_or_dropped_is_a_difference(
    tmp_path_factory: pytest.TempPathFactory,
    root: dict[str, bytes],
    child: dict[str, bytes],
    which: str,
) -> None:
    tmp = tmp_path_factory.mktemp("snap")
    installed = _installed(tmp, {"": root, "m": child})
    same = snapshot.ConfigSnapshot(
        {
            "": snapshot.SnapshotModule("", "", ".", dict(root)),
            "m": snapshot.SnapshotModule("m", "../m", "../m", dict(child)),
        }
    )
    assert snapshot.differences(same, installed) == []
    planned = dict(child)
    if which == "add":
        planned["zz_override.tf"] = b"x"
    elif which == "drop":
        planned.pop(sorted(planned)[0])
    else:
        name = sorted(planned)[0]
        planned[name] = planned[name] + b"!"
    other = snapshot.ConfigSnapshot(
        {**same.modules, "m": snapshot.SnapshotModule("m", "../m", "../m", planned)}
    )
    (difference,) = snapshot.differences(other, installed)
    assert difference.startswith("m/")


def test_the_snapshot_and_the_tree_follow_terraforms_file_rule(tmp_path: Path) -> None:
    for name in ("a.tf", "b.tf.json", ".hidden.tf", "c.tf~", "#d.tf#", "e.tftest.hcl", "f.tfvars"):
        (tmp_path / name).write_text("x")
    (tmp_path / "#g.tf").write_text("x")  # Terraform reads this one
    assert sorted(snapshot.config_files(tmp_path)) == ["#g.tf", "a.tf", "b.tf.json"]


def test_a_module_the_plan_has_and_the_code_does_not(tmp_path: Path) -> None:
    installed = _installed(tmp_path, {"": {"main.tf": b"x"}})
    snap = snapshot.ConfigSnapshot(
        {
            "": snapshot.SnapshotModule("", "", ".", {"main.tf": b"x"}),
            "evil": snapshot.SnapshotModule(
                "evil", "git::https://x", ".terraform/modules/evil", {}
            ),
        }
    )
    assert snapshot.differences(snap, installed) == [
        "the plan has module 'evil' (git::https://x), which the reviewed code does not call"
    ]


def test_a_plan_zip_that_is_not_one(tmp_path: Path) -> None:
    bad = tmp_path / "tfplan"
    for content in (b"", b"PK\x03\x04 garbage", b"not a zip"):
        bad.write_bytes(content)
        with pytest.raises(InputError, match="not a Terraform plan file"):
            read_plan(bad)
    with zipfile.ZipFile(bad, "w") as zf:
        zf.writestr("tfplan", b"\xff\xff\xff")
    with pytest.raises(InputError, match="not a Terraform plan file"):
        read_plan(bad)


# -- backends, locks, var files ---------------------------------------------------------

S3 = {
    "bucket": "b",
    "key": "app/production.tfstate",
    "region": "eu-west-1",
    "secret_key": "hunter2",
}


@given(key=st.sampled_from(sorted(S3)), value=st.text(min_size=1, max_size=10))
def test_a_backend_setting_that_differs_is_named_never_shown(key: str, value: str) -> None:
    assert (
        backend_differences(PlanBackend("s3", dict(S3), "default"), "s3", dict(S3), "production")
        == []
    )
    if value == S3[key]:
        return
    (line,) = backend_differences(
        PlanBackend("s3", {**S3, key: value}, "default"), "s3", dict(S3), "production"
    )
    assert f"differ: {key})" in line
    assert "hunter2" not in line


def test_another_workspace_another_type_a_relative_file() -> None:
    assert backend_differences(PlanBackend("s3", dict(S3), "staging"), "s3", dict(S3), "p") == [
        "the plan writes Terraform workspace 'staging', not 'default'"
    ]
    assert (
        "to a local backend"
        in backend_differences(
            PlanBackend("local", {"path": "/x"}, "default"), "s3", dict(S3), "p"
        )[0]
    )
    assert (
        "relative to where Terraform runs"
        in backend_differences(
            PlanBackend("local", {"path": None}, "default"), "local", {"path": None}, "p"
        )[0]
    )


@pytest.mark.parametrize(
    ("content", "same_as_none"),
    [(None, True), (b"# header only\n\n", True), (b'provider "x" {\n  version = "1"\n}\n', False)],
)
def test_a_lock_file_that_locks_nothing_is_no_lock_file(
    content: bytes | None, same_as_none: bool
) -> None:
    assert (lock_digest(content) is None) is same_as_none


def test_var_files_the_plan_read_against_the_head() -> None:
    head = {"s/production.tfvars": "a" * 64, "s/x.auto.tfvars": None}
    read = [
        VarFile("s/production.tfvars", True, "b" * 64),
        VarFile("/tmp/evil.tfvars", False, "c" * 64),
        VarFile("s/extra.tfvars", True, "d" * 64),
    ]
    assert var_file_differences(read, head, "production") == [
        "var file s/production.tfvars differs from production's head",
        "the plan read var file /tmp/evil.tfvars, which is outside the repository",
        "the plan read var file s/extra.tfvars, which neither runners.toml nor the stack's "
        "folder at production gives it",
        "production's head gives var file s/x.auto.tfvars, which the plan did not read",
    ]
    assert repo_path("terraform/stacks/app", "../../../../outside.tfvars") is None
    assert (
        repo_path("terraform/stacks/app", "../shared/x.tfvars")
        == "terraform/stacks/shared/x.tfvars"
    )
    assert [
        n for n in ("terraform.tfvars", "a.auto.tfvars.json", "b.tfvars") if is_auto_var_file(n)
    ] == [
        "terraform.tfvars",
        "a.auto.tfvars.json",
    ]


# -- Jenkins' build JSON --------------------------------------------------------------------

JENKINS = "https://ci.example.com/jenkins/"


@pytest.mark.parametrize(
    ("url", "where"),
    [
        (f"{JENKINS}job/terraform/job/production/7/", ("terraform/production", 7)),
        (f"{JENKINS}job/a/job/feature%252Fx/12/", ("a/feature%2Fx", 12)),
        (f"{JENKINS}job/terraform/job/production/7/console", None),
        (f"{JENKINS}job/terraform/job/production/lastBuild/", None),
        ("https://ci.example.com.evil/jenkins/job/t/1/", None),
        ("http://ci.example.com/jenkins/job/t/1/", None),
        ("https://ci.example.com/other/job/t/1/", None),
        (f"{JENKINS}job/t/1/?x=1", None),
    ],
)
def test_a_build_url_belongs_to_this_jenkins_or_is_refused(
    url: str, where: tuple[str, int] | None
) -> None:
    assert buildcheck.locate(url, JENKINS) == where


def test_the_build_json_jenkins_writes() -> None:
    data = {
        "_class": "org.jenkinsci.plugins.workflow.job.WorkflowRun",
        "number": 7,
        "building": True,
        "actions": [
            {
                "_class": "hudson.model.CauseAction",
                "causes": [
                    {"_class": "jenkins.branch.BranchIndexingCause"},
                    {"_class": "hudson.model.Cause$UserIdCause", "userId": "olivia"},
                ],
            },
            {},
            {
                "_class": "org.jenkinsci.plugins.workflow.support.steps.input.ApproverAction",
                "userId": "bob",
            },
            {
                "_class": "org.jenkinsci.plugins.workflow.support.steps.input.ApproverAction",
                "userId": "alice",
            },
            {
                "_class": "somebody.Else",
                "userId": "mallory",
                "causes": [{"_class": "hudson.model.Cause$UserIdCause", "userId": "mallory"}],
            },
        ],
    }
    record = buildcheck.parse("u", "terraform/production", data)
    assert record.starters == ("olivia",)
    assert record.approvers == ("bob", "alice")
    assert record.building
    assert buildcheck.problems(record, ("terraform/production",)) == []
    with pytest.raises(ValueError):
        buildcheck.parse("u", "j", {"actions": []})


# -- the manifest reader --------------------------------------------------------------------

JSONS = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=6)
    ),
    max_leaves=25,
)


@settings(max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(doc=JSONS, base=st.booleans())
def test_any_json_is_a_manifest_or_one_input_error(
    tmp_path_factory: pytest.TempPathFactory, doc: Any, base: bool
) -> None:
    path = tmp_path_factory.mktemp("m") / "manifest.json"
    if base and isinstance(doc, dict):
        doc = {
            "schema": 2,
            "stack": "a",
            "environment": "e",
            "tfplan_sha256": "a" * 64,
            "plan_json_sha256": "b" * 64,
            "terraform_version": "1",
            "git": {},
            **doc,
        }
    path.write_text(json.dumps(doc))
    try:
        manifest_mod.load(path)
    except InputError as exc:
        assert "\n" not in str(exc) and str(exc).startswith(str(path))
