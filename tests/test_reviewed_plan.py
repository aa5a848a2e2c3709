"""Is the environment's plan the one reviewed on the merge request? End to end, with real plans.

A merge request is planned as the merge-request zone plans it (no signing
key), merged with the platform's merge message, and the branch is planned
again as the production zone plans it. The report, the manifest and the
audit record say whether the two plans do the same; with
``require_reviewed_plan`` the apply refuses a plan that does not, unless the
approver accepts the difference. The fingerprint is recomputed from the plan
file at apply: a manifest that claims otherwise changes nothing.
"""

from __future__ import annotations

import json
from pathlib import Path

from runners.change.manifest import sign
from tests.conftest import SIGNED, SIGNING_KEY, GitRepoHelper, run_cli
from tests.test_apply import apply, assert_refused, ledger, plan

DANA = "Dana Dev <dana@example.com>"
APPROVED = ("--approved-by", "alice")


def merge_request_plan(repo: GitRepoHelper, number: str, branch: str, out: Path) -> None:
    """What the merge-request zone runs on the merge request's head: no signing key."""
    repo.git("checkout", "-q", branch)
    r = run_cli(
        "plan",
        "--affected",
        "--base",
        "production",
        "--head",
        branch,
        "--out",
        str(out),
        "--mr",
        number,
        "--source",
        branch,
        "--target",
        "production",
        "--no-color",
        cwd=repo.root,
    )
    repo.git("checkout", "-q", "production")
    assert r.returncode == 0, r.stderr


def change_web(repo: GitRepoHelper, branch: str, value: str) -> None:
    repo.git("checkout", "-q", "-b", branch, "production")
    main_tf = repo.root / "terraform/stacks/app/main.tf"
    text = main_tf.read_text()
    start = text.index('resource "terraform_data" "web"')
    end = text.index("}", start)
    main_tf.write_text(
        text[:start] + f'resource "terraform_data" "web" {{\n  input = "{value}"\n' + text[end:]
    )
    repo.commit(f"web: {value}", author=DANA)
    repo.git("checkout", "-q", "production")


def merge(repo: GitRepoHelper, branch: str, number: str) -> None:
    """As GitLab writes a merge commit."""
    repo.git(
        "merge",
        "-q",
        "--no-ff",
        "-m",
        f"Merge branch '{branch}' into 'production'\n\nSee merge request acme/infra!{number}",
        branch,
    )


def bootstrap(repo: GitRepoHelper, tmp_path: Path) -> None:
    cfg = repo.root / "runners.toml"
    cfg.write_text(
        cfg.read_text().replace(
            "require_approval = true", "require_approval = true\nrequire_reviewed_plan = true"
        )
    )
    repo.commit("production applies only reviewed plans", author="Olivia Ops <olivia@example.com>")
    out = tmp_path / "initial"
    plan(repo, out)
    assert apply(repo, out, *APPROVED, "--accept-difference").returncode == 0


def test_the_plan_reviewed_on_the_merge_request_is_named_and_applies(
    client_repo: GitRepoHelper, tmp_path: Path
) -> None:
    bootstrap(client_repo, tmp_path)
    change_web(client_repo, "feature/web", "v2")
    merge_request_plan(client_repo, "7", "feature/web", tmp_path / "mr-7")
    merge(client_repo, "feature/web", "7")
    out = tmp_path / "production"
    plan(client_repo, out)

    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["review"]["summary"] == "identical to the plan reviewed on merge request !7"
    assert manifest["review"]["identical_to"] == "!7"
    report = (out / "report.md").read_text()
    assert "✅ This plan is identical to the plan reviewed on merge request !7." in report
    [mr_plan] = [r for r in ledger(client_repo) if r["merge_request"].get("id") == "7"]
    prod_plan = ledger(client_repo)[-1]
    assert prod_plan["review"]["identical_to"] == "!7"
    assert mr_plan["fingerprint"]["sha256"] == prod_plan["fingerprint"]["sha256"]
    assert "v2" not in json.dumps(prod_plan["fingerprint"])  # hashes, not values

    r = apply(client_repo, out, *APPROVED)
    assert r.returncode == 0, r.stderr
    applied = ledger(client_repo)[-1]
    assert applied["result"] == "applied"
    assert applied["review"]["identical_to"] == "!7"
    assert applied["fingerprint"]["sha256"] == mr_plan["fingerprint"]["sha256"]


def test_a_plan_that_differs_says_what_and_needs_the_approver_to_accept_it(
    client_repo: GitRepoHelper, tmp_path: Path
) -> None:
    bootstrap(client_repo, tmp_path)
    change_web(client_repo, "feature/web", "v2")
    merge_request_plan(client_repo, "8", "feature/web", tmp_path / "mr-8")
    # Merged, and then someone else's change lands before production is planned.
    merge(client_repo, "feature/web", "8")
    main_tf = client_repo.root / "terraform/stacks/app/main.tf"
    main_tf.write_text(
        main_tf.read_text()
        .replace('engine   = "postgres"', 'engine   = "mysql"')
        .replace('input = "v2"', 'input = "v3"')
    )
    client_repo.commit("db: mysql; web: v3", author=DANA)
    out = tmp_path / "production"
    plan(client_repo, out)

    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["review"]["identical_to"] is None
    assert manifest["review"]["summary"] == (
        "differs from the plan reviewed on merge request !8: only in this plan: "
        "terraform_data.db; different attributes: terraform_data.web (input)"
    )
    report = (out / "report.md").read_text()
    assert "⚠ **This plan is not the one reviewed:**" in report
    assert "ACCEPT_DIFFERENCE" in report  # what the approver must do, in the form's words

    # Even a signed manifest that says it is the reviewed plan changes nothing: the apply
    # recomputes the fingerprint from the plan file and the reviewed ones from the ledger.
    body = {k: v for k, v in manifest.items() if k not in ("signature", "signing_key_id")}
    body["review"] = {"summary": "identical", "identical_to": "!8", "merge_requests": []}
    body["fingerprint"] = json.loads((tmp_path / "mr-8" / "app" / "manifest.json").read_text())[
        "fingerprint"
    ]
    forged = tmp_path / "forged"
    forged.mkdir()
    for name in ("tfplan", "plan.json", "plan.txt", "report.md"):
        (forged / name).write_bytes((out / name).read_bytes())
    (forged / "manifest.json").write_text(json.dumps(sign(body, SIGNING_KEY)))
    assert_refused(apply(client_repo, forged, *APPROVED), "this plan is not it")

    refused = apply(client_repo, out, *APPROVED)
    assert_refused(refused, "requires the plan reviewed on the merge request")
    assert_refused(refused, "differs from the plan reviewed on merge request !8")
    assert ledger(client_repo)[-1]["review"]["identical_to"] is None

    accepted = apply(client_repo, out, *APPROVED, "--accept-difference")
    assert accepted.returncode == 0, accepted.stderr
    record = ledger(client_repo)[-1]
    assert record["result"] == "applied"
    assert record["evidence"]["review"] == (
        "the approver accepted the difference (--accept-difference)"
    )


def test_a_stack_applied_without_any_merge_request_has_no_reviewed_plan(
    client_repo: GitRepoHelper, tmp_path: Path
) -> None:
    out = tmp_path / "initial"
    plan(client_repo, out, env=SIGNED)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["review"]["summary"].startswith("no merge request was merged")
    assert "Not a reviewed plan" in (out / "report.md").read_text()
