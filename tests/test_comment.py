"""runners comment against a local HTTP double of the GitLab notes and GitHub comments APIs."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from runners.jenkins import comment
from runners.jenkins.settings import Comments
from tests.conftest import run_cli
from tests.platform_double import TOKEN, Platform


@pytest.fixture
def platform() -> Iterator[Platform]:
    double = Platform()
    yield double
    double.stop()


@pytest.fixture
def report(tmp_path: Path) -> Path:
    path = tmp_path / "report.md"
    path.write_text("### Terraform plan: `app`\n\nPlan: 1 to add, 0 to change, 0 to destroy.\n")
    return path


def comment_on(mr: str, report: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    """runners comment on a GitLab merge request, with a token."""
    env = {"CHANGE_URL": mr, "RUNNERS_MR_TOKEN": TOKEN}
    return run_cli("comment", "--file", str(report), cwd=cwd, env=env)


def github_config(tmp_path: Path, api: str) -> Path:
    path = tmp_path / "runners.toml"
    path.write_text(
        '[environments.production]\nbranch = "production"\nregion = "eu-west-1"\n'
        '[stacks.app]\ndir = "terraform/stacks/app"\n'
        f'[jenkins.comments]\nplatform = "github"\napi_url = "{api}"\ntoken_env = "GH_TOKEN"\n'
    )
    return path


def test_gitlab_merge_request_gets_a_note(platform: Platform, report: Path, tmp_path: Path) -> None:
    mr = f"{platform.url}/acme/infra/-/merge_requests/7"
    result = comment_on(mr, report, tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"comment: posted to {mr}\n"
    [post] = platform.posts
    assert post["path"] == "/api/v4/projects/acme%2Finfra/merge_requests/7/notes"
    assert post["headers"]["PRIVATE-TOKEN"] == TOKEN
    assert post["json"] == {"body": comment.marker("plans") + "\n" + report.read_text()}


def test_github_pull_request_gets_an_issue_comment(
    platform: Platform, report: Path, tmp_path: Path
) -> None:
    cfg = github_config(tmp_path, f"{platform.url}/api/v3")
    pr = f"{platform.url}/acme/infra/pull/9"
    result = run_cli(
        "comment",
        "--file",
        str(report),
        "--config",
        str(cfg),
        env={"CHANGE_URL": pr, "GH_TOKEN": TOKEN},
    )
    assert result.returncode == 0, result.stderr
    [post] = platform.posts
    assert post["path"] == "/api/v3/repos/acme/infra/issues/9/comments"
    assert post["headers"]["Authorization"] == f"Bearer {TOKEN}"
    assert post["json"]["body"].startswith("<!-- runners:plan-comment key=plans -->\n### Terraform")


def test_no_token_skips_and_exits_0(
    platform: Platform, report: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("RUNNERS_MR_TOKEN", raising=False)
    mr = f"{platform.url}/acme/infra/-/merge_requests/7"
    result = run_cli("comment", "--file", str(report), cwd=tmp_path, env={"CHANGE_URL": mr})
    assert (result.returncode, result.stdout) == (
        0,
        "comment: skipped: $RUNNERS_MR_TOKEN is not set\n",
    )
    assert platform.posts == []


def test_not_a_merge_request_skips(report: Path, tmp_path: Path) -> None:
    result = run_cli(
        "comment", "--file", str(report), cwd=tmp_path, env={"RUNNERS_MR_TOKEN": TOKEN}
    )
    assert result.returncode == 0
    assert "skipped: not a merge-request build" in result.stdout


@pytest.mark.parametrize("status", [401, 404, 500])
def test_a_refused_post_warns_and_never_fails(
    platform: Platform, report: Path, tmp_path: Path, status: int
) -> None:
    platform.status = status
    mr = f"{platform.url}/acme/infra/-/merge_requests/7"
    result = comment_on(mr, report, tmp_path)
    assert result.returncode == 0
    assert result.stdout == "comment: not posted\n"
    assert f"warning: comment: gitlab answered HTTP {status}" in result.stderr
    assert "the build goes on" in result.stderr
    assert TOKEN not in result.stderr + result.stdout


def test_an_unreachable_platform_warns_and_never_fails(report: Path, tmp_path: Path) -> None:
    from runners.aws.embedded import free_port

    mr = f"http://127.0.0.1:{free_port()}/acme/infra/-/merge_requests/7"
    result = comment_on(mr, report, tmp_path)
    assert result.returncode == 0
    assert "warning: comment: cannot reach 127.0.0.1:" in result.stderr
    assert TOKEN not in result.stderr + result.stdout


def test_an_unreadable_report_is_exit_2(tmp_path: Path) -> None:
    result = run_cli("comment", "--file", str(tmp_path / "nope.md"), cwd=tmp_path)
    assert result.returncode == 2
    assert (
        result.stderr.strip()
        == f"error: {tmp_path / 'nope.md'}: cannot read the report: No such file or directory"
    )


@pytest.mark.parametrize(
    ("mr", "settings", "expected"),
    [
        (
            "https://gitlab.acme.test/g/sub/proj/-/merge_requests/12",
            Comments(),
            "https://gitlab.acme.test/api/v4/projects/g%2Fsub%2Fproj/merge_requests/12/notes",
        ),
        (
            "https://acme.test/gitlab/g/proj/-/merge_requests/3",
            Comments(api_url="https://acme.test/gitlab/api/v4"),
            "https://acme.test/gitlab/api/v4/projects/g%2Fproj/merge_requests/3/notes",
        ),
        (
            "https://github.com/acme/infra/pull/5",
            Comments(),
            "https://api.github.com/repos/acme/infra/issues/5/comments",
        ),
        (
            "https://ghe.acme.test/acme/infra/pull/5",
            Comments(),
            "https://ghe.acme.test/api/v3/repos/acme/infra/issues/5/comments",
        ),
    ],
)
def test_where_the_comment_goes(mr: str, settings: Comments, expected: str) -> None:
    assert comment.target_for(mr, settings, None).post_url == expected


def test_an_unknown_url_is_a_value_error_and_long_reports_are_cut() -> None:
    with pytest.raises(ValueError, match=re.escape("set [jenkins.comments] platform")):
        comment.target_for("https://bitbucket.example/acme/infra/pull-requests/1", Comments(), None)
    cut = comment.fit("x" * 70_000, comment.LIMITS["github"])
    assert len(cut) == comment.LIMITS["github"]
    assert cut.endswith("The full report is in the build's artifacts.\n")
