"""Class 3: self-approval, through a merge and otherwise.

The author check took HEAD's author; in the Jenkins flow HEAD is the merge,
so whoever merged was "the author" and anyone who wrote the change could
approve it. Now the change is every commit since the stack's last apply (the
state bucket's ledger says which), its authors and committers from git, the
merge requests' authors from GitLab, matched through [identities].
"""

from __future__ import annotations

from tests.adversary.conftest import refused
from tests.adversary.world import BOB, Attempt

CONFIRM = ("--confirm-destroy", "1")


def _approved_by(attempt: Attempt, who: str) -> dict[str, str]:
    url = attempt.world.jenkins.running_build("production/terraform", "olivia", [who])
    return attempt.world.env(BUILD_URL=url)


def test_self_approval_through_a_merge(attempt: Attempt) -> None:
    """Bob committed to Dana's merge request; Olivia merged; Bob approves in Jenkins."""
    merge = attempt.git("log", "-1", "--format=%an <%ae>")
    assert merge == "Olivia Ops <olivia@example.com>"  # HEAD's author is not Bob
    refused(
        attempt,
        attempt.apply(*CONFIRM, env=_approved_by(attempt, "bob")),
        f"bob wrote commit {attempt.world.commits['c2'][:12]} of this change and may not approve it",
    )


def test_self_approval_under_another_email(attempt: Attempt, tmp_path: object) -> None:
    """Bob commits as robert@home.example; [identities.bob] says that is Bob."""
    attempt.write("terraform/stacks/app/notes.tf", "# capacity notes\n")
    attempt.git("add", "-A")
    attempt.git("commit", "-q", "-m", "notes", author="Robert B <robert@home.example>")
    attempt.git("push", "-q", "origin", "production")
    sha = attempt.git("rev-parse", "HEAD")
    attempt.world.platform.merged(3, "rob", [sha], approvers=["carol"])
    from pathlib import Path

    out = attempt.plan_into(Path(str(tmp_path)) / "p")
    refused(
        attempt,
        attempt.apply(*CONFIRM, plan=out, env=_approved_by(attempt, "bob")),
        f"bob wrote commit {sha[:12]} of this change and may not approve it",
    )


def test_the_merge_request_author_approves(attempt: Attempt) -> None:
    """Alice opened the merge request (as alice.gl on GitLab) though Dana wrote its commits."""
    for mr in attempt.world.platform.merge_requests:
        if mr.number == 2:
            mr.author = "alice"
    refused(
        attempt,
        attempt.apply(*CONFIRM),
        "alice opened a merge request of this change (as alice) and may not approve it",
    )


def test_a_conflict_resolved_in_the_merge_makes_the_merger_an_author(attempt: Attempt) -> None:
    """A merge whose own content touches the stack: who resolved it wrote code."""
    attempt.git("checkout", "-q", "-b", "side", "HEAD~1")
    attempt.write("terraform/stacks/app/production.tfvars", 'web_input = "v3"\n')
    attempt.git("commit", "-q", "-am", "v3", author=BOB)
    attempt.git("checkout", "-q", "production")
    attempt.write("terraform/stacks/app/production.tfvars", 'web_input = "v4"\n')
    attempt.git("commit", "-q", "-am", "v4", author=BOB)
    attempt.git(
        "merge", "-q", "side", "-m", "merge", "-X", "ours", author="Alice A <alice@example.com>"
    )
    # An "evil merge": the merge commit carries a change neither side made.
    attempt.write("terraform/stacks/app/production.tfvars", 'web_input = "alice was here"\n')
    attempt.git("add", "-A")
    attempt.git("commit", "-q", "--amend", "--no-edit", author="Alice A <alice@example.com>")
    attempt.git("push", "-q", "-f", "origin", "production")
    merge = attempt.git("rev-parse", "HEAD")
    out = attempt.plan_into(attempt.where / "merged")  # the production build plans the head
    result = attempt.apply(*CONFIRM, plan=out)
    refused(
        attempt, result, f"alice wrote commit {merge[:12]} of this change and may not approve it"
    )


def test_spellings_of_the_author_when_the_flag_is_the_source(attempt: Attempt) -> None:
    """With verify_build off, --approved-by is checked in every spelling."""
    cfg = attempt.repo / "runners.toml"
    cfg.write_text(
        cfg.read_text().replace(
            "require_mr_approvals = 1", "require_mr_approvals = 1\nverify_build = false"
        )
    )
    attempt.git("commit", "-q", "-am", "no Jenkins here", author="Carol C <carol@example.com>")
    attempt.git("push", "-q", "origin", "production")
    sha = attempt.git("rev-parse", "HEAD")
    attempt.world.platform.merged(4, "carol", [sha], approvers=["dave"])
    for spelling in ("BOB", " bob ", "bob@example.com", "Bob Builder", "bob builder"):
        r = attempt.apply(
            *CONFIRM,
            "--approved-by",
            spelling,
            "--build-cause",
            "hudson.model.Cause$UserIdCause",
        )
        refused(attempt, r, "wrote commit")


def test_a_forged_ledger_record_does_not_shorten_the_change(attempt: Attempt) -> None:
    """Anyone who may write the ledger (plans write records) claims M was already applied."""
    import json

    from runners.audit.record import AuditRecord, now

    world = attempt.world
    forged = AuditRecord(
        kind="apply",
        result="applied",
        stack="app",
        environment="production",
        started_at=now(),
        commit=world.commits["m"],
        state=f"s3://{world.bucket}/app/production.tfstate",
        seal="0" * 64,
    )
    key = (
        f"runners/audit/{forged.started_at[:10].replace('-', '/')}/app/production/{forged.id}.json"
    )
    world.s3.put_object(Bucket=world.bucket, Key=key, Body=json.dumps(forged.to_dict()).encode())
    try:
        refused(
            attempt,
            attempt.apply(*CONFIRM, env=_approved_by(attempt, "bob")),
            f"bob wrote commit {world.commits['c2'][:12]} of this change and may not approve it",
        )
    finally:
        world.s3.delete_object(Bucket=world.bucket, Key=key)
