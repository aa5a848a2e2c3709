"""Signing, and merge-request approvals read from GitLab (and GitHub, against the same double).

Signing is mandatory where approval is required: no key at apply refuses
rather than skips, and the plan says which key signed it. A merge request
behind the change needs ``require_mr_approvals`` approvals from people other
than its authors, as the platform records them now.
"""

from __future__ import annotations

from pathlib import Path

from runners.jenkins.mergerequests import MergeRequestInfo, PlatformApi
from tests.adversary.conftest import refused
from tests.adversary.world import Attempt, read_manifest, write_manifest
from tests.platform_double import TOKEN, Platform

CONFIRM = ("--confirm-destroy", "1")


def test_no_key_at_apply_refuses(attempt: Attempt) -> None:
    refused(
        attempt,
        attempt.apply(*CONFIRM, env=attempt.world.env(RUNNERS_PLAN_SIGNING_KEY=None)),
        "production requires approval (it lists approvers), so its plans must be signed, "
        "and this apply holds no signing key",
    )


def test_another_key_is_named_by_its_id(attempt: Attempt) -> None:
    signed_with = read_manifest(attempt.plan)["signing_key_id"]
    refused(
        attempt,
        attempt.apply(*CONFIRM, env=attempt.world.env(RUNNERS_PLAN_SIGNING_KEY="another-key")),
        f"the plan was signed with key {signed_with}, this apply holds key",
    )


def test_an_unsigned_plan(attempt: Attempt) -> None:
    write_manifest(attempt.plan, read_manifest(attempt.plan))  # signature dropped
    refused(attempt, attempt.apply(*CONFIRM), "signature is missing or wrong")


def test_a_merge_request_without_approvals(attempt: Attempt) -> None:
    for mr in attempt.world.platform.merge_requests:
        mr.approvers = []
    refused(
        attempt,
        attempt.apply(*CONFIRM),
        "merge request !2 has 0 approval(s) from people other than its authors; production requires 1",
    )


def test_a_merge_request_approved_only_by_its_authors(attempt: Attempt) -> None:
    for mr in attempt.world.platform.merge_requests:
        if mr.number == 2:
            mr.approvers = ["dana", "bob"]  # its author, and the author of C2
    refused(attempt, attempt.apply(*CONFIRM), "merge request !2 has 0 approval(s)")


def test_a_commit_pushed_straight_to_the_branch(attempt: Attempt, tmp_path: Path) -> None:
    attempt.write("terraform/stacks/app/notes.tf", "# pushed, not merged\n")
    attempt.git("add", "-A")
    attempt.git("commit", "-q", "-m", "quick fix")
    attempt.git("push", "-q", "origin", "production")
    sha = attempt.git("rev-parse", "HEAD")
    out = attempt.plan_into(tmp_path / "p")
    refused(
        attempt,
        attempt.apply(*CONFIRM, plan=out),
        f"commit {sha[:12]} reached production without a merged merge request",
    )


def test_no_platform_token_is_a_setup_error(attempt: Attempt) -> None:
    r = attempt.apply(*CONFIRM, env=attempt.world.env(RUNNERS_MR_TOKEN=None))
    assert r.returncode == 2, r.stderr
    assert r.stderr.strip().splitlines()[-1].startswith("error: $RUNNERS_MR_TOKEN is not set")
    assert attempt.world.state() == attempt.world.objects["app/production.tfstate"]


def test_github_reviews_a_later_change_request_withdraws_an_approval() -> None:
    platform = Platform()
    try:
        api = PlatformApi("github", f"{platform.url}/api/v3", "acme/infra", TOKEN, "GH_TOKEN")
        platform.merged(
            9,
            "dana",
            ["a" * 40],
            reviews=[("carol", "APPROVED"), ("erin", "APPROVED"), ("carol", "CHANGES_REQUESTED")],
        )
        platform.merged(10, "dana", ["b" * 40], target="main")
        (mr,) = api.merge_requests_of("a" * 40)
        assert mr == MergeRequestInfo("#9", 9, "dana", "production", True)
        assert api.approvers(mr) == ["erin"]
        assert [m.target for m in api.merge_requests_of("b" * 40)] == ["main"]
        assert api.merge_requests_of("c" * 40) == []
    finally:
        platform.stop()


def test_github_reviews_are_read_page_by_page() -> None:
    platform = Platform()
    try:
        api = PlatformApi("github", f"{platform.url}/api/v3", "acme/infra", TOKEN, "GH_TOKEN")
        reviews = [(f"user{i}", "COMMENTED") for i in range(150)] + [("zed", "APPROVED")]
        platform.merged(11, "dana", ["d" * 40], reviews=reviews)
        (mr,) = api.merge_requests_of("d" * 40)
        assert api.approvers(mr) == ["zed"]
        assert sum("/pulls/11/reviews" in g for g in platform.gets) == 2
    finally:
        platform.stop()
