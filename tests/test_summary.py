"""The plan summary agrees with Terraform's own counts, on every plan format."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from runners.terraform.planview import PlanView
from runners.terraform.protection import Protection
from runners.terraform.report import ReportContext, render_markdown, render_text
from runners.terraform.summary import parse_plan_line, summarize
from tests.conftest import FIXTURES, ScenarioPlans, run_cli

CORPUS = Path(__file__).parent.parent.parent / "shared" / "plan-corpus" / "terraform-show-json"
CORPUS_FILES = sorted(CORPUS.glob("*.json")) if CORPUS.is_dir() else []


def _counts_by_the_rule(doc: dict) -> dict[str, int]:
    """The corpus README's rule, applied independently of runners' code."""
    add = change = destroy = 0
    for rc in doc.get("resource_changes") or []:
        if rc.get("mode") != "managed":
            continue
        acts = rc["change"]["actions"]
        add += "create" in acts
        change += acts == ["update"]
        destroy += "delete" in acts
    return {"add": add, "change": change, "destroy": destroy}


@pytest.mark.skipif(not CORPUS_FILES, reason="../shared/plan-corpus is not present")
@pytest.mark.parametrize("path", CORPUS_FILES, ids=lambda p: p.stem)
def test_corpus_counts_match_terraform_rule(path: Path) -> None:
    doc = json.loads(path.read_text())
    summary = summarize(PlanView(doc, str(path)))
    expected = _counts_by_the_rule(doc)
    assert {"add": summary.add, "change": summary.change, "destroy": summary.destroy} == expected


@pytest.mark.skipif(not CORPUS_FILES, reason="../shared/plan-corpus is not present")
def test_corpus_specific_shapes() -> None:
    by_name = {p.name.split("__")[0]: summarize(PlanView.load(p)) for p in CORPUS_FILES}
    assert (by_name["requires-replace"].replace, by_name["requires-replace"].replaces) == (
        1,
        ["test_instance.test"],
    )
    assert by_name["drift"].drift == 1
    assert by_name["moved"].change == 1
    assert by_name["multi-resource-update"].move == 1
    assert by_name["sensitive-values"].sensitive_redacted == 2
    assert by_name["plan-error"].errored


@pytest.mark.skipif(not CORPUS_FILES, reason="../shared/plan-corpus is not present")
@pytest.mark.parametrize("path", CORPUS_FILES, ids=lambda p: p.stem)
def test_corpus_renders_without_sensitive_values(path: Path) -> None:
    plan = PlanView.load(path)
    summary = summarize(plan)
    text = render_text(plan, summary, Protection()) + render_markdown(
        plan, summary, ReportContext(), Protection()
    )
    for rc in plan.resource_changes:
        for side, mask in (("before", rc.before_sensitive), ("after", rc.after_sensitive)):
            value = rc.change.get(side)
            if isinstance(mask, dict) and isinstance(value, dict):
                for key, marked in mask.items():
                    secret = value.get(key)
                    if marked is True and isinstance(secret, str) and len(secret) > 2:
                        assert json.dumps(secret) not in text, f"{rc.address}.{key} leaked"


def test_generated_plan_matches_terraforms_plan_line(scenario_plan: ScenarioPlans) -> None:
    console, plan_json = scenario_plan("mixed")
    printed = parse_plan_line(console)
    assert printed is not None, console
    summary = summarize(PlanView.load(plan_json))
    assert {
        "import": summary.import_,
        "add": summary.add,
        "change": summary.change,
        "destroy": summary.destroy,
    } == printed
    # What the Plan line does not show, checked against the scenario's own design.
    assert summary.replace == 2
    assert sorted(summary.replaces) == ["terraform_data.replace_cbd", "terraform_data.replace_me"]
    assert summary.forgets == ["terraform_data.forget_me"]
    assert summary.import_ == 1
    assert sorted(summary.destroys) == [
        "module.pool.terraform_data.member[1]",
        "module.pool.terraform_data.member[2]",
        "terraform_data.delete_me",
    ]


def test_destroy_everything_matches(scenario_plan: ScenarioPlans) -> None:
    console, plan_json = scenario_plan("destroy_all")
    summary = summarize(PlanView.load(plan_json))
    assert parse_plan_line(console) == {"import": 0, "add": 0, "change": 0, "destroy": 4}
    assert (summary.destroy, len(summary.destroys)) == (4, 4)


def test_no_changes_has_no_plan_line(scenario_plan: ScenarioPlans) -> None:
    console, plan_json = scenario_plan("empty")
    summary = summarize(PlanView.load(plan_json))
    assert parse_plan_line(console) is None
    assert (
        not summary.has_changes
        and summary.plan_line() == "Plan: 0 to add, 0 to change, 0 to destroy."
    )


def test_sensitive_values_are_redacted_everywhere(scenario_plan: ScenarioPlans) -> None:
    _console, plan_json = scenario_plan("sensitive")
    raw = plan_json.read_text()
    assert "second-SECRET-value" in raw  # the plan JSON itself holds the secret...
    plan = PlanView.load(plan_json)
    summary = summarize(plan, Protection(types=("terraform_data",)))
    rendered = (
        render_text(plan, summary, Protection())
        + render_markdown(plan, summary, ReportContext(stack="s", environment="e"), Protection())
        + json.dumps(summary.to_dict())
    )
    assert "SECRET" not in rendered  # ...and nothing rendered from it does
    assert summary.sensitive_redacted >= 3
    assert "(sensitive value)" in rendered
    assert 'input.user: "admin" -> "admin2"' in rendered  # non-sensitive changes still show


def test_protected_types_and_addresses_are_flagged() -> None:
    plan = PlanView.load(FIXTURES / "plans" / "format-0.1.json")
    by_default = summarize(plan)
    assert by_default.protected == ["aws_db_instance.main", "aws_s3_bucket.logs"]
    narrowed = summarize(plan, Protection(types=(), addresses=("aws_s3_*",)))
    assert narrowed.protected == ["aws_s3_bucket.logs"]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("format-0.1", {"add": 1, "change": 1, "destroy": 2, "replace": 1, "read": 1, "drift": 0}),
        ("format-0.2", {"add": 1, "change": 1, "destroy": 1, "replace": 1, "read": 0, "drift": 1}),
    ],
)
def test_old_formats(name: str, expected: dict[str, int]) -> None:
    plan = PlanView.load(FIXTURES / "plans" / f"{name}.json")
    summary = summarize(plan)
    assert {k: getattr(summary, k) for k in expected} == expected
    text = render_text(plan, summary, Protection())
    assert "new-pw-0.2" not in text and "old-pw-0.2" not in text and "new-out-0.2" not in text


def test_destroys_and_replaces_come_first_in_the_report() -> None:
    plan = PlanView.load(FIXTURES / "plans" / "format-0.1.json")
    text = render_text(plan, summarize(plan), Protection())
    lines = [ln for ln in text.splitlines() if ln.startswith(("-", "~", "+"))]
    assert lines[0].startswith("- aws_s3_bucket.logs")
    assert lines[1].startswith("-/+ aws_db_instance.main")
    assert lines[2].startswith("~ aws_instance.web")


def test_summarize_cli_json_has_the_documented_keys() -> None:
    result = run_cli("summarize", str(FIXTURES / "plans" / "format-0.1.json"), "--format", "json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    for key in ("add", "change", "destroy", "replace", "import", "forget"):
        assert isinstance(data[key], int)
    assert data["destroys"] == ["aws_s3_bucket.logs", "aws_db_instance.main"][:1]
    assert data["replaces"] == ["aws_db_instance.main"]
    assert data["protected"] == ["aws_db_instance.main", "aws_s3_bucket.logs"]
    assert isinstance(data["sensitive_redacted"], int)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not json at all", "not JSON"),
        ('{"format_version": "1.0", "values": {}}', "not a Terraform plan JSON"),
        ("[1, 2, 3]", "not a Terraform plan JSON"),
    ],
)
def test_summarize_cli_rejects_non_plans_with_exit_2(
    tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "x.json"
    path.write_text(content)
    result = run_cli("summarize", str(path))
    assert result.returncode == 2
    assert result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1 and message in result.stderr
    assert "Traceback" not in result.stderr


def test_summarize_cli_missing_file(tmp_path: Path) -> None:
    result = run_cli("summarize", str(tmp_path / "absent.json"))
    assert (result.returncode, result.stderr.strip()) == (
        2,
        f"error: {tmp_path / 'absent.json'}: no such file",
    )
