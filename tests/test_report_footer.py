"""The report's footer: the build, the full plan.txt, and what happens next in the form's words.

The approver reads the footer, then answers the production job's form, so the
words it quotes are checked against pipelines/production.Jenkinsfile itself,
not only against runners.jenkins.form.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from runners import config
from runners.change.next_steps import next_steps
from runners.change.planner import artifact_url
from runners.jenkins import form
from runners.terraform.planview import PlanView
from runners.terraform.protection import Protection
from runners.terraform.report import ReportContext, render_markdown
from runners.terraform.summary import summarize
from tests.conftest import FIXTURES
from tests.test_report import _big_plan, _check_golden

ROOT = Path(__file__).parent.parent
PRODUCTION = ROOT / "pipelines" / "production.Jenkinsfile"
BUILD = "https://jenkins.acme.example/job/acme/job/merge-requests/job/terraform-mr/7/"
PLAN_TXT = BUILD + "artifact/plans/app/plan.txt"

TOML = """\
[jenkins]
url = "https://jenkins.acme.example"
folder = "acme"

[environments.production]
branch = "production"
region = "eu-west-1"
approvers = ["alice", "bob"]

[environments.production.backend]
bucket = "acme-state"
key = "{stack}/{env}.tfstate"
use_lockfile = true

[stacks.app]
dir = "terraform/stacks/app"
"""


def _cfg(tmp_path: Path) -> config.Config:
    path = tmp_path / "runners.toml"
    path.write_text(TOML)
    return config.load(path)


def _context(tmp_path: Path, protected: int, merge_request: str | None = "42") -> ReportContext:
    cfg = _cfg(tmp_path)
    env = cfg.environment("production")
    return ReportContext(
        stack="app",
        environment="production",
        commit="0123456789abcdef0123",
        merge_request=merge_request,
        tfplan_sha256="ab" * 32,
        build_url=BUILD,
        plan_text_url=PLAN_TXT,
        next_steps=next_steps(cfg, env, "app", merge_request=merge_request, protected=protected),
    )


def test_merge_request_report_footer_golden(tmp_path: Path) -> None:
    """format-0.1 destroys or replaces two resources of types protected by default."""
    plan = PlanView.load(FIXTURES / "plans" / "format-0.1.json")
    summary = summarize(plan, Protection())
    assert len(summary.protected) == 2
    text = render_markdown(plan, summary, _context(tmp_path, len(summary.protected)), Protection())
    _check_golden("footer-merge-request.md", text)
    footer = text[text.index("**What happens next:**") :]
    assert f"[The build]({BUILD})" in footer
    assert f"[the full plan, `plan.txt`]({PLAN_TXT})" in footer
    job = "acme/production/terraform"
    assert (
        f"[`{job}`](https://jenkins.acme.example/job/acme/job/production/job/terraform/)" in footer
    )
    assert "the approver types **2** in `CONFIRM_DESTROY`" in footer


def test_no_protected_resource_asks_for_no_confirm_destroy(tmp_path: Path) -> None:
    plan = PlanView.load(FIXTURES / "plans" / "format-0.1.json")
    none_protected = Protection(types=())
    summary = summarize(plan, none_protected)
    text = render_markdown(plan, summary, _context(tmp_path, 0), none_protected)
    assert "**What happens next:**" in text
    assert "CONFIRM_DESTROY" not in text


def test_the_footer_survives_the_comment_limit(tmp_path: Path) -> None:
    """A plan far past 60,000 characters is cut, never the footer that says what to do."""
    plan = _big_plan(3000)
    summary = summarize(plan, Protection())
    ctx = _context(tmp_path, len(summary.protected))
    text = render_markdown(plan, summary, ctx, Protection(), limit=60_000)
    assert len(text) <= 60_000
    assert "This report is cut to fit a merge-request comment" in text
    assert f"[`plan.txt`]({PLAN_TXT})" in text  # the cut note links the full plan
    for step in ctx.next_steps:
        assert step in text
    assert f"[The build]({BUILD})" in text
    assert text.rstrip().endswith("</sub>")


def _jenkinsfile_form() -> tuple[str, str, str]:
    """The production job's input step: its question, its OK button, CONFIRM_DESTROY's help."""
    text = PRODUCTION.read_text()
    question = re.search(r'message: "(Apply \$\{stack\} to \$\{env\.RUNNERS_ENV\}\?)', text)
    ok = re.search(r"ok: '([^']*)'", text)
    confirm = re.search(
        r"string\(name: '" + form.CONFIRM_DESTROY + r"'.*?description: '([^']*)'", text, re.S
    )
    assert question and ok and confirm, "the input step of production.Jenkinsfile changed shape"
    return question.group(1), ok.group(1), confirm.group(1)


def test_the_footer_quotes_the_production_form_word_for_word(tmp_path: Path) -> None:
    question, ok, confirm_help = _jenkinsfile_form()
    steps = " ".join(_context(tmp_path, 3).next_steps)
    asked = question.replace("${stack}", "app").replace("${env.RUNNERS_ENV}", "production")
    assert f"“{asked}”" in steps
    assert f"“{ok}”" in steps
    assert f"`CONFIRM_DESTROY` (“{confirm_help}”)" in steps
    assert "types **3**" in steps


def _form_parameter(text: str, kind: str, name: str) -> str:
    """A parameter's description, its Groovy string literals joined (a long one is split with +)."""
    found = re.search(
        kind + r"\(name: '" + name + r"'.*?description: ((?:'[^']*'\s*\+?\s*)+)\)", text, re.S
    )
    assert found, f"production.Jenkinsfile has no {kind} {name}"
    return "".join(re.findall(r"'([^']*)'", found[1]))


def test_the_difference_the_report_offers_is_on_the_production_form(tmp_path: Path) -> None:
    """The report tells the approver to tick ACCEPT_DIFFERENCE: the form has it, in those words."""
    text = PRODUCTION.read_text()
    assert "parameters: [confirmDestroy(), acceptDifference()]" in text
    help_text = _form_parameter(text, "booleanParam", form.ACCEPT_DIFFERENCE)
    assert _form_parameter(text, "string", form.CONFIRM_DESTROY) == form.CONFIRM_DESTROY_HELP
    cfg = _cfg(tmp_path)
    steps = " ".join(
        next_steps(
            cfg,
            cfg.environment("production"),
            "app",
            merge_request=None,
            protected=0,
            reviewed=False,
        )
    )
    assert f"`{form.ACCEPT_DIFFERENCE}` (“{help_text}”)" in steps
    # and the apply gets it: the ticked box becomes --accept-difference, nothing else does
    assert "${ACCEPT_DIFFERENCE:+--accept-difference}" in text
    assert "ACCEPT_DIFFERENCE=${approval.ACCEPT_DIFFERENCE ? 'yes' : ''}" in text


@pytest.mark.parametrize(
    ("workspace", "path", "expected"),
    [
        ("/ws", "/ws/plans/app/plan.txt", BUILD + "artifact/plans/app/plan.txt"),
        ("/ws", "/elsewhere/plan.txt", None),  # not archived from the workspace: no link
        (None, "/ws/plans/app/plan.txt", None),  # outside Jenkins
    ],
)
def test_artifact_url(
    monkeypatch: pytest.MonkeyPatch, workspace: str | None, path: str, expected: str | None
) -> None:
    if workspace is None:
        monkeypatch.delenv("WORKSPACE", raising=False)
    else:
        monkeypatch.setenv("WORKSPACE", workspace)
    assert artifact_url(BUILD, Path(path)) == expected
    assert artifact_url(None, Path(path)) is None
    assert os.environ.get("WORKSPACE") == workspace
