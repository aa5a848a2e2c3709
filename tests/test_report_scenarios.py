"""The report of every fixture scenario, held line by line against Terraform's own plan text.

Each scenario is applied at v1 and planned at v2 with the embedded Terraform.
The report's nested attribute lines (``+``, ``-``, ``~`` per key, one level
deeper per object or list) must be exactly the lines with those symbols that
Terraform printed for the same resource in ``plan.txt``, in the same order and
at the same depth, and so must its outputs. Then the whole report is compared
with its golden file (ids, which Terraform makes at random, masked).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from runners.terraform.planview import PlanView
from runners.terraform.protection import Protection
from runners.terraform.report import ReportContext, render_markdown
from runners.terraform.secrets import Scrubber
from runners.terraform.summary import summarize
from tests.conftest import scenario_workspace

GOLDEN = Path(__file__).parent / "golden" / "report"
UPDATE = os.environ.get("RUNNERS_UPDATE_GOLDEN") == "1"
SCENARIOS = ["mixed", "destroy_all", "empty", "sensitive", "nested"]
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_HEADER = re.compile(
    r"^\s*# (\S+) (will be created|will be updated in-place|must be replaced|"
    r"will be replaced)"
)
_SYMBOL = re.compile(r"^( *)([-+~]) (.*)$")
Shown = tuple[int, str, str]  # depth, symbol, text


def _normal(text: str) -> str:
    text = text.partition(" # forces replacement")[0].rstrip()
    text = re.sub(r'^"([^"]+)"(\s*=)', r"\1\2", text)  # a map's quoted key
    return " ".join(text.split())


def terraform_lines(lines: list[str], base: int) -> list[Shown]:
    """The symbol lines of one block of Terraform's text; ``base``: the symbol column at depth 0."""
    out = []
    for line in lines:
        m = _SYMBOL.match(line)
        if m:
            out.append(((len(m[1]) - base) // 4, m[2], _normal(m[3])))
    return out


def plan_text_blocks(text: str) -> tuple[dict[str, list[Shown]], list[Shown]]:
    """Resource address -> its attribute lines, and the outputs' lines, from plan.txt."""
    lines = text.splitlines()
    blocks: dict[str, list[Shown]] = {}
    for i, line in enumerate(lines):
        m = _HEADER.match(line)
        if not m:
            continue
        start = next(j for j in range(i, len(lines)) if " resource " in lines[j]) + 1
        end = next(j for j in range(start, len(lines)) if lines[j] == "    }")
        blocks[m[1]] = terraform_lines(lines[start:end], base=6)
    outputs: list[Shown] = []
    if "Changes to Outputs:" in lines:
        first = lines.index("Changes to Outputs:") + 1
        body = []
        for line in lines[first:]:
            if not line.strip() or not line.startswith(" "):
                break
            body.append(line)
        outputs = terraform_lines(body, base=2)
    return blocks, outputs


def _diff_lines(block: str) -> list[Shown]:
    """The report's symbol lines in one ```diff block: symbol, a space, four spaces a level."""
    out = []
    for line in block.splitlines():
        if line[:1] in "+-~" and line[1:2] == " ":
            rest = line[2:]
            depth = (len(rest) - len(rest.lstrip(" "))) // 4
            out.append((depth, line[0], _normal(rest.strip())))
    return out


def report_blocks(report: str) -> tuple[dict[str, list[Shown]], list[Shown]]:
    blocks = {}
    for m in re.finditer(
        r"<details><summary>\S+ <code>(\S+)</code>.*?</summary>(.*?)</details>", report, re.S
    ):
        blocks[m[1]] = _diff_lines(m[2])
    outputs: list[Shown] = []
    if "#### Outputs" in report:
        section = report.split("#### Outputs", 1)[1].split("```diff", 1)[1].split("```", 1)[0]
        outputs = _diff_lines(section)
    return blocks, outputs


@pytest.mark.parametrize("name", SCENARIOS)
def test_the_report_shows_what_terraform_shows(tmp_path: Path, name: str) -> None:
    ws = scenario_workspace(tmp_path / name, name, capture=True)
    ws.plan(tmp_path / "tfplan", tmp_path / "plan.txt")
    ws.show_json(tmp_path / "tfplan", tmp_path / "plan.json")
    plan = PlanView.load(tmp_path / "plan.json")
    scrub = Scrubber.for_plan(plan).scrub
    text = scrub((tmp_path / "plan.txt").read_text())
    report = render_markdown(
        plan,
        summarize(plan),
        ReportContext(stack=name, environment="production", commit="0" * 40),
        Protection(),
    )

    expected, expected_outputs = plan_text_blocks(text)
    shown, shown_outputs = report_blocks(report)
    changed = {
        rc.address for rc in plan.resource_changes if rc.action in ("create", "update", "replace")
    }
    assert set(expected) == changed  # the parse of plan.txt found every block it should
    for address in changed:
        assert shown[address] == expected[address], address
    for address in set(shown) - changed:  # destroyed, forgotten, imported, moved: named only
        assert shown[address] == [], address
    assert shown_outputs == expected_outputs
    if name == "nested":  # the cases the scenario is there for
        assert (1, "+", "web-3 = (known after apply)") in shown["terraform_data.dns"]
        assert (2, "-", 'tier = "web"') in shown["terraform_data.settings"]
        assert (1, "+", 'zone = "b"') in shown_outputs

    masked = _UUID.sub("<id>", report)
    golden = GOLDEN / f"scenario-{name}.md"
    if UPDATE:
        golden.write_text(masked)
    assert golden.exists(), f"no golden file {golden}; run with RUNNERS_UPDATE_GOLDEN=1"
    assert masked == golden.read_text()
