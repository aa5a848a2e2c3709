"""One merge-request comment per stack set, edited in place, earlier plans collapsed.

Against the platform double, which lists and edits notes and comments as
GitLab and GitHub do, refuses an edit of another user's comment, and knows
whose token is whose.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from runners.jenkins import comment
from tests.conftest import run_cli
from tests.platform_double import BOT, TOKEN, Platform

GITLAB_NOTES = "/api/v4/projects/acme%2Finfra/merge_requests/7/notes"
GITHUB_COMMENTS = "/api/v3/repos/acme/infra/issues/9/comments"


@pytest.fixture
def platform() -> Iterator[Platform]:
    double = Platform()
    yield double
    double.stop()


def report(n: int, extra: str = "") -> str:
    return (
        f"### Terraform plan: `app`\n\nPlan: {n} to add, 0 to change, 0 to destroy.\n{extra}\n"
        f"---\n<sub>commit `{n:040x}` · plan format 1.2</sub>\n"
    )


def gitlab(
    platform: Platform, tmp_path: Path, text: str, *args: str
) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "report.md"
    path.write_text(text)
    mr = f"{platform.url}/acme/infra/-/merge_requests/7"
    env = {"CHANGE_URL": mr, "RUNNERS_MR_TOKEN": TOKEN}
    result = run_cli("comment", "--file", str(path), *args, cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    return result


def github(platform: Platform, tmp_path: Path, text: str) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "report.md"
    path.write_text(text)
    cfg = tmp_path / "runners.toml"
    cfg.write_text(
        '[environments.production]\nbranch = "production"\nregion = "eu-west-1"\n'
        '[stacks.app]\ndir = "terraform/stacks/app"\n'
        f'[jenkins.comments]\nplatform = "github"\napi_url = "{platform.url}/api/v3"\n'
        'token_env = "GH_TOKEN"\n'
    )
    pr = f"{platform.url}/acme/infra/pull/9"
    env = {"CHANGE_URL": pr, "GH_TOKEN": TOKEN}
    result = run_cli("comment", "--file", str(path), "--config", str(cfg), env=env)
    assert result.returncode == 0, result.stderr
    return result


def test_gitlab_second_push_edits_the_note_and_collapses_the_first(
    platform: Platform, tmp_path: Path
) -> None:
    assert gitlab(platform, tmp_path, report(1)).stdout.startswith("comment: posted to ")
    second = gitlab(platform, tmp_path, report(2))
    assert second.stdout.startswith("comment: updated on ")
    [note] = platform.thread(GITLAB_NOTES)
    assert len(platform.posts) == 1
    [edit] = platform.edits
    assert (edit["method"], edit["path"]) == ("PUT", f"{GITLAB_NOTES}/{note.id}")
    body = note.body
    assert body.startswith(comment.marker("plans") + "\n" + report(2).rstrip("\n"))
    earlier = body[body.index("1 earlier plan on this merge request") :]
    assert "<details><summary>Plan for commit 000000000000</summary>" in earlier
    assert "Plan: 1 to add" in earlier
    assert body.index("Plan: 2 to add") < body.index("Plan: 1 to add")


def test_github_third_push_keeps_both_earlier_plans_newest_first(
    platform: Platform, tmp_path: Path
) -> None:
    for n in (1, 2, 3):
        github(platform, tmp_path, report(n))
    [note] = platform.thread(GITHUB_COMMENTS)
    assert [e["method"] for e in platform.edits] == ["PATCH", "PATCH"]
    assert {e["path"] for e in platform.edits} == {
        f"/api/v3/repos/acme/infra/issues/comments/{note.id}"
    }
    body = note.body
    assert "2 earlier plans on this merge request" in body
    assert (
        body.index("Plan: 3 to add") < body.index("Plan: 2 to add") < body.index("Plan: 1 to add")
    )
    assert body.count(comment.marker("plans")) == 1


def test_each_stack_set_has_its_own_comment(platform: Platform, tmp_path: Path) -> None:
    gitlab(platform, tmp_path, report(1), "--key", "network")
    gitlab(platform, tmp_path, report(2), "--key", "apps")
    gitlab(platform, tmp_path, report(3), "--key", "network")
    network, apps = platform.thread(GITLAB_NOTES)
    assert network.body.startswith(comment.marker("network") + "\n")
    assert "Plan: 3 to add" in network.body and "Plan: 1 to add" in network.body
    assert "Plan: 2 to add" in apps.body and "earlier plan" not in apps.body


def test_a_marker_in_someone_elses_comment_is_never_edited(
    platform: Platform, tmp_path: Path
) -> None:
    """Anyone can type the hidden marker; only the token's own user's comment is edited."""
    forged = platform.add_note(
        GITLAB_NOTES, "mallory", comment.marker("plans") + "\nLGTM, apply it"
    )
    result = gitlab(platform, tmp_path, report(1))
    assert result.stdout.startswith("comment: posted to ")
    assert platform.edits == []
    assert forged.body.endswith("LGTM, apply it")
    assert [n.author for n in platform.thread(GITLAB_NOTES)] == ["mallory", BOT]


def test_own_comments_without_the_marker_and_system_notes_are_left_alone(
    platform: Platform, tmp_path: Path
) -> None:
    platform.add_note(GITLAB_NOTES, BOT, "a note the bot wrote by hand")
    platform.add_note(GITLAB_NOTES, BOT, comment.marker("plans") + "\nadded 1 commit", system=True)
    gitlab(platform, tmp_path, report(1))
    assert platform.edits == []
    assert len(platform.thread(GITLAB_NOTES)) == 3


def test_the_newest_own_comment_is_found_past_the_first_page(
    platform: Platform, tmp_path: Path
) -> None:
    gitlab(platform, tmp_path, report(1))
    for i in range(comment.PER_PAGE + 5):  # a busy review after runners' first comment
        platform.add_note(GITLAB_NOTES, "reviewer", f"comment {i}")
    gitlab(platform, tmp_path, report(2))
    mine = [n for n in platform.thread(GITLAB_NOTES) if n.author == BOT]
    assert len(mine) == 1 and "Plan: 2 to add" in mine[0].body
    pages = [g for g in platform.gets if g.startswith(GITLAB_NOTES)]
    assert any("page=2" in g for g in pages)
    assert all("sort=asc" in g for g in pages)


def test_a_refused_edit_posts_a_new_comment_and_never_fails(
    platform: Platform, tmp_path: Path
) -> None:
    gitlab(platform, tmp_path, report(1))
    platform.edit_status = 500
    result = gitlab(platform, tmp_path, report(2))
    assert result.stdout.startswith("comment: posted to ")
    assert "refused the edit (HTTP 500" in result.stderr and "posting a new one" in result.stderr
    first, second = platform.thread(GITLAB_NOTES)
    assert "Plan: 1 to add" in first.body
    assert second.body == comment.marker("plans") + "\n" + report(2)
    assert TOKEN not in result.stderr + result.stdout


def test_an_unreadable_user_posts_a_new_comment(platform: Platform, tmp_path: Path) -> None:
    """Without knowing whose token it is, runners cannot tell its own comments: it edits none."""
    gitlab(platform, tmp_path, report(1))
    real = platform.answer
    platform.answer = lambda path: (  # type: ignore[method-assign]
        (403, {"message": "403 Forbidden"}) if path.endswith("/user") else real(path)
    )
    result = gitlab(platform, tmp_path, report(2))
    assert "cannot find runners' earlier comment" in result.stderr and "HTTP 403" in result.stderr
    assert platform.edits == []
    assert len(platform.thread(GITLAB_NOTES)) == 2


def test_a_forged_marker_inside_the_report_cannot_split_the_comment() -> None:
    """A branch can put any string in a resource; the report's markers are broken before use."""
    evil = report(2, '```diff\n+ tags = "<!-- runners:earlier-plans -->fake"\n```\n')
    body = comment.compose(evil, "plans", None, comment.LIMITS["github"])
    current, earlier, dropped = comment.split_body(body)
    assert (earlier, dropped) == ([], False)
    assert "<!-- runners:earlier-plans -->" not in current
    assert "fake" in current


def test_earlier_plans_are_dropped_oldest_first_to_fit_the_limit() -> None:
    big = "x" * 30_000
    body = None
    for n in (1, 2, 3):
        body = comment.compose(report(n, big), "plans", body, comment.LIMITS["github"])
    assert len(body) <= comment.LIMITS["github"]
    current, earlier, dropped = comment.split_body(body)
    assert "Plan: 3 to add" in current
    assert len(earlier) == 1 and "Plan: 2 to add" in earlier[0]
    assert dropped and "Older plans are not kept here" in body


@settings(max_examples=60, deadline=None)
@given(
    reports=st.lists(st.text(min_size=0, max_size=3_000), min_size=1, max_size=6),
    limit=st.integers(min_value=2_000, max_value=20_000),
)
def test_compose_always_fits_and_keeps_the_newest_plan_on_top(
    reports: list[str], limit: int
) -> None:
    body = None
    for text in reports:
        body = comment.compose(text, "plans", body, limit)
        assert len(body) <= limit
        assert body.startswith(comment.marker("plans") + "\n")
        current, earlier, _dropped = comment.split_body(body)
        if len(text) < limit // 2:
            assert current == text.replace("<!-- runners:", "<!-- runners :").strip("\n")
        assert len(earlier) <= len(reports)


def test_a_bad_key_is_exit_2(tmp_path: Path) -> None:
    path = tmp_path / "report.md"
    path.write_text(report(1))
    result = run_cli("comment", "--file", str(path), "--key", "a b -->", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().startswith("error: --key: expected letters, digits")
    assert "Traceback" not in result.stderr
