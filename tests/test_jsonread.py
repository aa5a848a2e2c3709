"""The typed JSON reader, and plan JSON it must refuse rather than summarise.

Every broken plan from issue 14 is here: each is exit 2 and one line naming the
JSON path, in every output format, never a summary of the part that could be
read ("no changes" for a file runners could not read).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from runners import cli, jsonread
from runners.errors import InputError
from runners.terraform.planview import PlanView
from runners.terraform.protection import Protection
from runners.terraform.report import render_text
from runners.terraform.summary import summarize as summarize_plan
from tests.conftest import FIXTURES

PLAN = json.loads((FIXTURES / "plans" / "format-0.2.json").read_text())


def write(tmp_path: Path, doc: Any, name: str = "plan.json") -> Path:
    path = tmp_path / name
    path.write_text(doc if isinstance(doc, str) else json.dumps(doc))
    return path


def summarize(capsys: Any, path: Path, fmt: str) -> tuple[int, str, str]:
    code = cli.main(["summarize", str(path), "--format", fmt])
    out, err = capsys.readouterr()
    return code, out, err


def first_change(edit: Callable[[dict[str, Any]], None]) -> Callable[[dict[str, Any]], None]:
    return lambda doc: edit(doc["resource_changes"][0])


def change_of_first(edit: Callable[[dict[str, Any]], None]) -> Callable[[dict[str, Any]], None]:
    return lambda doc: edit(doc["resource_changes"][0]["change"])


BROKEN: list[tuple[str, Callable[[dict[str, Any]], None], str]] = [
    (
        "a null change",
        lambda d: d.__setitem__("resource_changes", [None]),
        "resource_changes[0]: expected an object (a resource change), got null",
    ),
    (
        "an entry that is true",
        lambda d: d["resource_changes"].__setitem__(1, True),
        "resource_changes[1]: expected an object (a resource change), got true",
    ),
    (
        "configuration = true",
        lambda d: d.__setitem__("configuration", True),
        "configuration: expected an object, got true",
    ),
    (
        'planned_values.outputs = "x"',
        lambda d: d["planned_values"].__setitem__("outputs", "x"),
        "planned_values.outputs: expected an object, got 'x'",
    ),
    (
        "actions = 7",
        change_of_first(lambda c: c.__setitem__("actions", 7)),
        "resource_changes[0].change.actions: expected a list of actions (strings), got 7",
    ),
    (
        "change = true",
        first_change(lambda r: r.__setitem__("change", True)),
        "resource_changes[0].change: expected an object (the change), got true",
    ),
    (
        "change = 42",
        first_change(lambda r: r.__setitem__("change", 42)),
        "resource_changes[0].change: expected an object (the change), got 42",
    ),
    (
        "actions[0] = {}",
        change_of_first(lambda c: c["actions"].__setitem__(0, {})),
        "resource_changes[0].change.actions: expected a list of actions (strings), got a list of 1",
    ),
    (
        "an action Terraform never writes",
        change_of_first(lambda c: c.__setitem__("actions", ["create", "create"])),
        "resource_changes[0].change.actions: expected one of Terraform's action lists",
    ),
    (
        "an address with a lone surrogate",
        first_change(lambda r: r.__setitem__("address", "null_resource.\ud800")),
        "resource_changes[0].address: expected a resource address (text without control characters), got 'null_resource.\\ud800'",
    ),
    (
        "an address with an escape sequence",
        first_change(lambda r: r.__setitem__("address", "x.\x1b[2Jy")),
        "resource_changes[0].address: expected a resource address (text without control characters), got 'x.\\x1b[2Jy'",
    ),
    (
        "a mask that is a number",
        change_of_first(lambda c: c.__setitem__("after_sensitive", 3)),
        "resource_changes[0].change.after_sensitive: expected true, false, or an object or list",
    ),
    (
        "replace_paths holding an object",
        change_of_first(lambda c: c.__setitem__("replace_paths", [[{}]])),
        "resource_changes[0].change.replace_paths: expected a list of attribute paths",
    ),
    (
        "an output change that is a list",
        lambda d: d["output_changes"].__setitem__("web_ip", []),
        "output_changes.web_ip: expected an object, got an empty list",
    ),
    (
        "resource_drift = {}",
        lambda d: d.__setitem__("resource_drift", {}),
        "resource_drift: expected a list of resource changes, got an empty object",
    ),
    (
        "errored = 'yes'",
        lambda d: d.__setitem__("errored", "yes"),
        "errored: expected true or false, got 'yes'",
    ),
]


@pytest.mark.parametrize(("name", "edit", "expected"), BROKEN, ids=[b[0] for b in BROKEN])
@pytest.mark.parametrize("fmt", ["text", "md", "json"])
def test_a_wrong_type_is_exit_2_naming_the_path(
    tmp_path: Path,
    capsys: Any,
    name: str,
    edit: Callable[[dict[str, Any]], None],
    expected: str,
    fmt: str,
) -> None:
    doc = copy.deepcopy(PLAN)
    edit(doc)
    path = write(tmp_path, doc)
    code, out, err = summarize(capsys, path, fmt)
    assert (code, out) == (2, ""), err
    assert err.startswith(f"error: {path}: {expected}"), err
    assert err.count("\n") == 1


def test_the_unedited_plan_summarizes(tmp_path: Path, capsys: Any) -> None:
    code, out, _ = summarize(capsys, write(tmp_path, PLAN), "json")
    assert code == 0
    assert json.loads(out)["add"] == 1


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            '{"format_version": "1.0", "resource_changes": ' + "[" * 100_000 + "]" * 100_000 + "}",
            "nested too deeply to read",
        ),
        (
            '{"format_version": "1.0", "resource_changes": [], "x": ' + "9" * 5_000 + "}",
            "a number has more than 4300 digits",
        ),
        (
            '{"format_version": "1.0", "resource_changes": [], "x": NaN}',
            "not JSON (NaN is not a JSON number)",
        ),
        (
            '{"format_version": "1.0", "resource_changes": [], "x": -Infinity}',
            "not JSON (-Infinity is not",
        ),
        ('{"format_version": "1.0",', "not JSON (Expecting property name"),
        (b'{"format_version": "\xff"}', "not JSON (not UTF-8 text)"),
    ],
    ids=["deep", "huge-int", "nan", "infinity", "truncated", "not-utf8"],
)
def test_documents_past_the_bounds(tmp_path: Path, capsys: Any, text: Any, expected: str) -> None:
    path = tmp_path / "plan.json"
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    code, out, err = summarize(capsys, path, "text")
    assert (code, out) == (2, "")
    assert err.startswith(f"error: {path}: {expected}"), err
    assert err.count("\n") == 1


@pytest.mark.parametrize("where", ["after", "after_sensitive"])
def test_values_nested_deeper_than_a_walk_can_follow(where: str) -> None:
    """A value deeper than the interpreter can recurse (built here, as no parser would
    hand it over): diffing, redacting and scrubbing it is refused, not a crash."""
    doc = copy.deepcopy(PLAN)
    deep: Any = True
    for _ in range(5_000):
        deep = [deep]
    doc["resource_changes"][0]["change"][where] = {"nested": deep}
    plan = PlanView(doc, "deep.json")
    with pytest.raises(InputError, match=r"^deep\.json: nested too deeply to read"):
        render_text(plan, summarize_plan(plan), Protection())


def test_a_lone_surrogate_in_a_value_prints_escaped(tmp_path: Path, capsys: Any) -> None:
    doc = copy.deepcopy(PLAN)
    doc["resource_changes"][0]["change"]["after"] = {"triggers": {"note": "a\ud800b"}}
    code, out, err = summarize(capsys, write(tmp_path, doc), "text")
    assert code == 0, err
    assert '"a\\ud800b"' in out


def test_node_names_paths_and_types() -> None:
    node = jsonread.Node({"a": [{"b c": 7}], "s": "x\x00"}, "f.json")
    item = node.at("a").at(0)
    assert item.path == "a[0]"
    with pytest.raises(InputError, match=r'^f\.json: a\[0\]\["b c"\]: expected a string, got 7$'):
        item.str("b c")
    with pytest.raises(InputError, match=r"^f\.json: s: expected text without control"):
        node.str("s", identifier=True)
    with pytest.raises(InputError, match=r"^f\.json: missing: expected an object, got nothing"):
        node.obj("missing", required=True)
    assert node.obj("missing").object() == {}
    assert [e.value for e in node.elements("a")] == [{"b c": 7}]
    with pytest.raises(InputError, match=r"^f\.json: expected an object, got 'x'$"):
        jsonread.Node("x", "f.json").object()


def test_load_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        jsonread.load(tmp_path / "absent.json")
    with pytest.raises(InputError, match="is a directory, expected a manifest"):
        jsonread.load(tmp_path, "a manifest")
    assert jsonread.load(write(tmp_path, {"k": 1})).int("k") == 1
