"""The Markdown report: golden output, the comment size limit, ordering."""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path

import pytest

from runners.terraform.planview import PlanView
from runners.terraform.protection import Protection
from runners.terraform.report import ReportContext, render_markdown
from runners.terraform.summary import summarize
from tests.conftest import FIXTURES

GOLDEN = Path(__file__).parent / "golden" / "report"
UPDATE = os.environ.get("RUNNERS_UPDATE_GOLDEN") == "1"


def _check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if UPDATE:
        path.write_text(text)
    assert path.exists(), f"no golden file {path}; run with RUNNERS_UPDATE_GOLDEN=1 to create it"
    assert text == path.read_text()


@pytest.mark.parametrize("name", ["format-0.1", "format-0.2"])
def test_report_golden(name: str) -> None:
    plan = PlanView.load(FIXTURES / "plans" / f"{name}.json")
    ctx = ReportContext(
        stack="app",
        environment="production",
        commit="0123456789abcdef0123",
        merge_request="42",
        tfplan_sha256="ab" * 32,
    )
    _check_golden(f"{name}.md", render_markdown(plan, summarize(plan), ctx, Protection()))


def _big_plan(n: int) -> PlanView:
    doc = json.loads((FIXTURES / "plans" / "format-0.1.json").read_text())
    template = doc["resource_changes"][1]
    doc["resource_changes"] = []
    for i in range(n):
        rc = copy.deepcopy(template)
        rc["address"] = f"aws_instance.web[{i}]"
        rc["change"]["after"] = {
            "instance_type": "t3.large",
            "tags": {"Name": f"web-{i}", "Team": "ops" * 10},
        }
        doc["resource_changes"].append(rc)
    doc["resource_changes"].append(
        {
            "address": "aws_s3_bucket.logs",
            "mode": "managed",
            "type": "aws_s3_bucket",
            "name": "logs",
            "change": {"actions": ["delete"], "before": {"bucket": "logs"}, "after": None},
        }
    )
    return PlanView(doc)


def test_report_is_cut_to_the_limit_and_says_so() -> None:
    plan = _big_plan(3000)
    text = render_markdown(
        plan,
        summarize(plan),
        ReportContext(stack="app", environment="production"),
        Protection(),
        limit=60_000,
    )
    assert len(text) <= 60_000
    assert "This report is cut to fit a merge-request comment" in text
    assert "`plan.txt`" in text
    assert "details of" in text and "of 3001 resources left out" in text
    # The destroy is listed even though the details are cut.
    assert text.index("aws_s3_bucket.logs") < text.index("#### Changes")
    assert text.rstrip().endswith("</sub>")


def test_small_report_is_not_cut() -> None:
    plan = _big_plan(3)
    text = render_markdown(plan, summarize(plan), ReportContext(), Protection())
    assert "cut to fit" not in text
    assert text.count("<details>") == 4
