"""The plan contract: may this saved plan be applied here, now, by these people?

A pure function of facts gathered beforehand (``evidence`` gathers them), so
every rule can be tested without Terraform, git or Jenkins, and property-
tested: breaking any one condition of a valid apply must refuse it. Each
refusal is one line saying what differs.

The facts come in two rounds. The first needs no Terraform: the manifest and
the files beside it, the signature, the var files, the people (from git,
Jenkins and the Git platform). The second comes from Terraform, run in a
clean copy of the branch head: the plan's configuration against that code,
its backend against the environment's, its prior state against the current
one, the tools, and the protected resources it destroys. ``check`` takes
whichever rounds are there; a round not yet gathered is ``None``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

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


class IdentityLike(Protocol):
    @property
    def git_emails(self) -> tuple[str, ...]: ...

    @property
    def platform_users(self) -> tuple[str, ...]: ...


@dataclass(frozen=True)
class Rules:
    """The environment's rules, from runners.toml as committed at the branch head."""

    require_approval: bool
    approvers: tuple[str, ...]
    allow_self_approval: bool
    require_manual_trigger: bool
    verify_build: bool = False
    require_mr_approvals: int = 0
    approval_reason: str | None = None  # why approval is required, for the refusal
    require_reviewed_plan: bool = False


@dataclass(frozen=True)
class PlanFacts:
    """What the manifest says the plan is, and the files beside it now."""

    stack: str
    env: str
    tfplan_sha256: str  # recorded
    plan_json_sha256: str
    tfplan_actual: str | None  # None: missing
    plan_json_actual: str | None
    dirty: bool = False
    problems: tuple[str, ...] = ()  # an unreadable tfplan, no snapshot, var files that differ


@dataclass(frozen=True)
class Signing:
    key_id_here: str | None  # None: this apply holds no key
    key_id_plan: str | None  # the key the manifest says signed it
    valid: bool | None  # None: nothing to check with


@dataclass(frozen=True)
class Contributor:
    name: str
    email: str
    commit: str
    what: str  # "wrote" or "committed"


@dataclass(frozen=True)
class People:
    """Who approves, and who wrote the change."""

    approver: str | None  # the one checked: Jenkins' record when verified, else the flag
    source: str  # where ``approver`` came from, for the refusal
    claimed: str | None = None  # --approved-by, when Jenkins is the source
    contributors: tuple[Contributor, ...] = ()
    platform_authors: tuple[str, ...] = ()  # merge-request authors (platform user names)
    identities: Mapping[str, IdentityLike] = field(default_factory=dict)


@dataclass(frozen=True)
class BuildFacts:
    verified: bool  # read from Jenkins
    cause: str | None = None  # the flag, when not verified
    starters: tuple[str, ...] = ()  # users of the build's UserIdCauses (Jenkins)
    problems: tuple[str, ...] = ()  # what Jenkins says is wrong with the build


@dataclass(frozen=True)
class MergeRequest:
    ref: str  # "!12" or "#12"
    author: str
    approvers: tuple[str, ...]  # platform user names, current approvals
    contributors: tuple[Contributor, ...] = ()


@dataclass(frozen=True)
class MergeRequests:
    requests: tuple[MergeRequest, ...] = ()
    orphans: tuple[str, ...] = ()  # commits of the change behind no merged merge request


@dataclass(frozen=True)
class TerraformFacts:
    """Round two: from Terraform, in a clean copy of the branch head."""

    code_differences: tuple[str, ...]
    backend_differences: tuple[str, ...]
    plan_lineage: str | None
    plan_serial: int | None
    state_lineage: str | None
    state_serial: int | None
    protected: tuple[str, ...]
    rendered_plan_json_sha256: str | None = None
    errored: bool = False


@dataclass(frozen=True)
class ToolFacts:
    """The plan's Terraform and provider locks against these, before ``init`` runs."""

    plan_version: str
    here_version: str
    plan_lock_sha256: str | None  # of the locks, not the file (planfile.lock_digest)
    head_lock_sha256: str | None


@dataclass(frozen=True)
class ReviewFacts:
    """This plan, recomputed from the file being applied, against the merge requests' reviewed plans."""

    identical: bool
    summary: str  # "identical to the plan reviewed on merge request !12", or what differs
    accepted: bool = False  # the approver accepts the difference (--accept-difference)


@dataclass(frozen=True)
class ApplyFacts:
    stack: str
    env: str
    rules: Rules
    plan: PlanFacts
    signing: Signing
    people: People
    build: BuildFacts
    confirm_destroy: int | None = None
    merge_requests: MergeRequests | None = None  # None: not required
    tools: ToolFacts | None = None  # None: not read yet
    terraform: TerraformFacts | None = None  # None: round two not run yet
    review: ReviewFacts | None = None  # None: not compared yet


def _norm(text: str) -> str:
    return " ".join(text.split()).lower()


def same_person(
    who: str, name: str, email: str, identities: Mapping[str, IdentityLike] | None = None
) -> bool:
    """Is Jenkins user ``who`` the person with this git name and email?

    Matched on the name, the email, or the email's local part, in any case or
    spacing; and through ``[identities]``, which lists a user's other emails.
    """
    w, n, e = _norm(who), _norm(name), _norm(email)
    if not w:
        return False
    if w in (n, e) or (e and w == e.split("@")[0]):
        return True
    known = (identities or {}).get(who.strip()) or (identities or {}).get(w)
    return known is not None and e in known.git_emails


def same_platform_user(
    who: str, user: str, identities: Mapping[str, IdentityLike] | None = None
) -> bool:
    w, u = _norm(who), _norm(user)
    if not w or not u:
        return False
    if w == u:
        return True
    known = (identities or {}).get(who.strip()) or (identities or {}).get(w)
    return known is not None and u in known.platform_users


def _platform_user_wrote(user: str, c: Contributor, identities: Mapping[str, IdentityLike]) -> bool:
    """Is platform user ``user`` the git contributor ``c``: by name, or through [identities]?"""
    if same_person(user, c.name, c.email):
        return True
    u = _norm(user)
    return any(
        u in known.platform_users
        and (_norm(c.email) in known.git_emails or same_person(jenkins_id, c.name, c.email))
        for jenkins_id, known in identities.items()
    )


def _authorship(approver: str, people: People) -> str | None:
    for c in people.contributors:
        if same_person(approver, c.name, c.email, people.identities):
            return f"{approver} {c.what} commit {c.commit[:12]} of this change"
    for user in people.platform_authors:
        if same_platform_user(approver, user, people.identities):
            return f"{approver} opened a merge request of this change (as {user})"
    return None


def _plan_files(p: PlanFacts) -> list[str]:
    reasons = []
    for name, recorded, actual in (
        ("tfplan", p.tfplan_sha256, p.tfplan_actual),
        ("plan.json", p.plan_json_sha256, p.plan_json_actual),
    ):
        if actual is None:
            reasons.append(f"{name} is missing from the plan directory")
        elif actual != recorded:
            reasons.append(
                f"{name} does not match the manifest (sha256 {actual[:12]}, reviewed {recorded[:12]}): "
                "tampered or truncated"
            )
    return reasons


def _signing(env: str, rules: Rules, s: Signing) -> list[str]:
    if s.key_id_here is None:
        if rules.require_approval:
            return [
                f"{env} requires approval ({rules.approval_reason}), so its plans must be "
                "signed, and this apply holds no signing key (RUNNERS_PLAN_SIGNING_KEY)"
            ]
        return []
    if s.key_id_plan is not None and s.key_id_plan != s.key_id_here:
        return [
            f"the plan was signed with key {s.key_id_plan}, this apply holds key {s.key_id_here}"
        ]
    if not s.valid:
        return [
            "the manifest's signature is missing or wrong: it was not written by a plan run holding the signing key"
        ]
    return []


def _approval(f: ApplyFacts) -> list[str]:
    rules, people = f.rules, f.people
    if not rules.require_approval:
        return []
    if not rules.approvers:
        return [
            f"{f.env} requires approval ({rules.approval_reason}) but runners.toml names no "
            f"approvers for it (environments.{f.env}.approvers)"
        ]
    reasons = []
    if people.claimed and people.approver and _norm(people.claimed) != _norm(people.approver):
        reasons.append(
            f"--approved-by says {people.claimed}, but {people.source} records {people.approver}"
        )
    if not people.approver:
        reasons.append(f"this environment requires an approver and {people.source} names none")
        return reasons
    if not rules.allow_self_approval:
        wrote = _authorship(people.approver, people)
        if wrote:
            reasons.append(f"{wrote} and may not approve it")
    if people.approver not in rules.approvers:
        reasons.append(
            f"{people.approver} is not an approver for {f.env} ({', '.join(rules.approvers)})"
        )
    return reasons


def _build(f: ApplyFacts) -> list[str]:
    rules, build = f.rules, f.build
    reasons = list(build.problems)
    if not rules.require_manual_trigger:
        return reasons
    if build.verified:
        if not build.starters:
            reasons.append(
                "this environment requires a build started by a person, and Jenkins records "
                "no hudson.model.Cause$UserIdCause for this build"
            )
        return reasons
    cause = (build.cause or "").strip()
    if not cause:
        reasons.append(
            "this environment requires a build started by a person; no build cause was passed"
        )
    elif not started_by_person(cause):
        reasons.append(
            f"this environment requires a build started by a person; the build cause is {build.cause}"
        )
    return reasons


def _merge_requests(f: ApplyFacts) -> list[str]:
    need = f.rules.require_mr_approvals
    mrs = f.merge_requests
    if need <= 0 or mrs is None:
        return []
    reasons = [
        f"commit {sha[:12]} reached {f.env} without a merged merge request, "
        f"and {f.env} requires {need} approval(s) on each"
        for sha in mrs.orphans
    ]
    ids = f.people.identities
    for mr in mrs.requests:
        independent = [
            a
            for a in mr.approvers
            if not same_platform_user(a, mr.author)
            and not any(_platform_user_wrote(a, c, ids) for c in mr.contributors)
        ]
        if len(set(independent)) < need:
            reasons.append(
                f"merge request {mr.ref} has {len(set(independent))} approval(s) from people "
                f"other than its authors; {f.env} requires {need}"
            )
    return reasons


def _protected(f: ApplyFacts, protected: tuple[str, ...]) -> list[str]:
    if not protected or f.confirm_destroy == len(protected):
        return []
    given = "none" if f.confirm_destroy is None else str(f.confirm_destroy)
    return [
        f"the plan destroys or replaces {len(protected)} protected resource(s) "
        f"({', '.join(protected[:3])}{', ...' if len(protected) > 3 else ''}); "
        f"--confirm-destroy {len(protected)} is required, got {given}"
    ]


def _terraform(f: ApplyFacts, t: TerraformFacts) -> list[str]:
    reasons = list(t.code_differences) + list(t.backend_differences)
    if t.errored:
        reasons.append("the plan was made by a Terraform run that failed; it cannot be applied")
    if t.rendered_plan_json_sha256 is not None and f.plan.plan_json_actual not in (
        None,
        t.rendered_plan_json_sha256,
    ):
        reasons.append("plan.json is not what tfplan says (terraform show -json differs)")
    if t.plan_lineage is None and t.state_lineage is not None:
        reasons.append(
            "the plan is stale: it was made against a new, empty state, and the state now "
            f"exists (lineage {t.state_lineage}); plan again"
        )
    elif t.plan_lineage != t.state_lineage:
        reasons.append(
            f"the plan was made against another state (lineage {t.plan_lineage}), not the "
            f"environment's (lineage {t.state_lineage or 'none: it is empty'})"
        )
    elif t.plan_serial is not None and t.plan_serial != t.state_serial:
        reasons.append(
            f"the plan is stale: it was made against state serial {t.plan_serial}, the state is "
            f"at serial {t.state_serial}; plan again"
        )
    return reasons + _protected(f, t.protected)


def _tools(t: ToolFacts) -> list[str]:
    reasons = []
    if t.here_version != t.plan_version:
        reasons.append(
            f"Terraform is {t.here_version} here but the plan was made with {t.plan_version}"
        )
    if t.head_lock_sha256 != t.plan_lock_sha256:
        reasons.append(
            ".terraform.lock.hcl at the branch head differs from the plan's (provider versions or hashes changed)"
        )
    return reasons


def _review(f: ApplyFacts, r: ReviewFacts) -> list[str]:
    if not f.rules.require_reviewed_plan or r.identical or r.accepted:
        return []
    return [
        f"{f.env} requires the plan reviewed on the merge request (require_reviewed_plan), and "
        f"this plan is not it: {r.summary}; an approver who accepts the difference gives "
        "--accept-difference"
    ]


def check_plan(stack: str, env: str, rules: Rules, plan: PlanFacts, signing: Signing) -> list[str]:
    """What is wrong with the plan folder itself: checked before any system of record is asked."""
    reasons = _signing(env, rules, signing)
    if (plan.stack, plan.env) != (stack, env):
        reasons.append(
            f"the plan is for stack {plan.stack!r} in {plan.env!r}, not {stack!r} in {env!r}"
        )
    reasons += _plan_files(plan)
    if plan.dirty:
        reasons.append(
            "the plan was made from uncommitted changes, so no commit says what it applies"
        )
    return reasons + list(plan.problems)


def check(f: ApplyFacts) -> list[str]:
    """Every reason this plan may not be applied; empty when it may."""
    reasons = check_plan(f.stack, f.env, f.rules, f.plan, f.signing)
    reasons += _approval(f)
    reasons += _build(f)
    reasons += _merge_requests(f)
    if f.tools is not None:
        reasons += _tools(f.tools)
    if f.terraform is not None:
        reasons += _terraform(f, f.terraform)
    if f.review is not None:
        reasons += _review(f, f.review)
    return list(dict.fromkeys(reasons))
