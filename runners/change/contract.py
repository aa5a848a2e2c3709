"""The plan contract: may this saved plan be applied here, now, by these people?

A pure function of facts gathered beforehand, so every rule can be tested
without Terraform or git, and property-tested: breaking any one condition of
a valid apply must refuse it. Each refusal is one line saying what differs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Build causes (Jenkins' class names) that mean a person started the build;
# UserCause is the pre-1.427 name of UserIdCause.
_HUMAN_CAUSES = frozenset({"UserIdCause", "UserCause"})


def started_by_person(build_cause: str) -> bool:
    """True when one of the causes (comma-separated, full or short class names) is a person.

    Exact class names only: a substring test would take a plugin's
    ``GitLabWebHookUserCause``-style name, or anything containing "user", for a person.
    """
    names = (part.strip().replace("$", ".").rsplit(".", 1)[-1] for part in build_cause.split(","))
    return any(name in _HUMAN_CAUSES for name in names)


@dataclass(frozen=True)
class Approval:
    require_approval: bool
    approvers: tuple[str, ...]
    allow_self_approval: bool
    require_manual_trigger: bool


@dataclass(frozen=True)
class ApplyFacts:
    # what the plan run recorded
    manifest_stack: str
    manifest_env: str
    manifest_tfplan_sha256: str
    manifest_plan_json_sha256: str
    manifest_commit: str | None
    manifest_trees: dict[str, str | None]
    manifest_dirty: bool
    manifest_terraform_version: str
    manifest_lock_sha256: str | None
    authors: tuple[str, ...]  # identities of the change's author: git name, email, MR author id
    protected: tuple[str, ...]
    # what is here now
    stack: str
    env: str
    tfplan_sha256: str | None  # None: the file is missing
    plan_json_sha256: str | None
    head_commit: str
    head_trees: dict[str, str | None]
    # the run
    approver: str | None
    triggered_by: str | None
    build_cause: str | None
    confirm_destroy: int | None
    signature_ok: bool | None = None  # None: no signing key configured here
    rules: Approval = field(default_factory=lambda: Approval(False, (), False, False))


@dataclass(frozen=True)
class ToolFacts:
    """Checked once Terraform is initialised: the tools must be the plan's tools."""

    terraform_version: str
    lock_sha256: str | None


def _same_person(approver: str, authors: tuple[str, ...]) -> bool:
    who = approver.strip().lower()
    for author in authors:
        a = author.strip().lower()
        if a and (who == a or who == a.split("@")[0]):
            return True
    return False


def check_plan(f: ApplyFacts) -> list[str]:
    """Every reason this plan may not be applied; empty when it may."""
    reasons: list[str] = []
    if f.signature_ok is False:
        reasons.append(
            "the manifest's signature is missing or wrong: it was not written by a plan run holding the signing key"
        )
    if (f.manifest_stack, f.manifest_env) != (f.stack, f.env):
        reasons.append(
            f"the plan is for stack {f.manifest_stack!r} in {f.manifest_env!r}, "
            f"not {f.stack!r} in {f.env!r}"
        )
    for name, recorded, actual in (
        ("tfplan", f.manifest_tfplan_sha256, f.tfplan_sha256),
        ("plan.json", f.manifest_plan_json_sha256, f.plan_json_sha256),
    ):
        if actual is None:
            reasons.append(f"{name} is missing from the plan directory")
        elif actual != recorded:
            reasons.append(
                f"{name} does not match the manifest (sha256 {actual[:12]}, reviewed {recorded[:12]}): "
                "tampered or truncated"
            )
    if f.manifest_dirty:
        reasons.append(
            "the plan was made from uncommitted changes, so no commit says what it applies"
        )
    if f.manifest_commit != f.head_commit and not _same_code(f):
        reasons.append(
            f"the plan was made at commit {str(f.manifest_commit)[:12]}, the branch is at "
            f"{f.head_commit[:12]}, and the stack's code differs between them"
        )
    rules = f.rules
    if rules.require_approval:
        if not f.approver:
            reasons.append(
                "this environment requires an approver and none was given (--approved-by)"
            )
        elif not rules.allow_self_approval and _same_person(f.approver, f.authors):
            reasons.append(f"{f.approver} wrote this change and may not approve it")
        elif f.approver not in rules.approvers:
            reasons.append(
                f"{f.approver} is not an approver for {f.env} ({', '.join(rules.approvers)})"
            )
    if f.protected and f.confirm_destroy != len(f.protected):
        given = "none" if f.confirm_destroy is None else str(f.confirm_destroy)
        reasons.append(
            f"the plan destroys or replaces {len(f.protected)} protected resource(s) "
            f"({', '.join(f.protected[:3])}{', ...' if len(f.protected) > 3 else ''}); "
            f"--confirm-destroy {len(f.protected)} is required, got {given}"
        )
    if rules.require_manual_trigger:
        cause = (f.build_cause or "").strip()
        if not cause:
            reasons.append(
                "this environment requires a build started by a person; no build cause was passed"
            )
        elif not started_by_person(cause):
            reasons.append(
                f"this environment requires a build started by a person; the build cause is {f.build_cause}"
            )
    return reasons


def _same_code(f: ApplyFacts) -> bool:
    """After a merge the commit differs; the plan still holds if the stack's trees do not."""
    if not f.manifest_trees:
        return False
    if set(f.manifest_trees) != set(f.head_trees):
        return False
    return all(
        f.manifest_trees[k] == f.head_trees[k] and f.head_trees[k] is not None
        for k in f.manifest_trees
    )


def check_tools(f: ApplyFacts, tools: ToolFacts) -> list[str]:
    reasons = []
    if tools.terraform_version != f.manifest_terraform_version:
        reasons.append(
            f"Terraform is {tools.terraform_version} here but the plan was made with "
            f"{f.manifest_terraform_version}"
        )
    if tools.lock_sha256 != f.manifest_lock_sha256:
        reasons.append(
            ".terraform.lock.hcl differs from the plan run's (provider versions or hashes changed)"
        )
    return reasons
