"""Is this the plan that was reviewed? The environment's plan against the merge requests' plans.

A merge request into an environment is reviewed with its plan; after the
merge the environment's build plans again, and that is the plan an approver
approves. The two can differ: another change merged in between, or the
environment drifted. This module says whether they do.

The merge requests are those merged since the stack's last apply, found in
git (merge and squash commit messages: GitLab's "See merge request
group/project!12", GitHub's "Merge pull request #12" and "Title (#12)") and in
the ledger (a plan record of a merge request whose planned commit is now in
the branch's history since that apply). Each one's reviewed plan is its
newest plan record for this stack and environment, and its fingerprint is
compared, resource by resource, with this plan's. The plan is "identical to
the plan reviewed on merge request !12" when it does exactly what one of
them does; otherwise each difference is named.

``review`` is pure; ``gather`` reads git and the ledger. The plan records are
the merge-request zone's, which a merge request that runs code there can
write: docs/security.md says what that means for ``require_reviewed_plan``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from runners.audit.ledger import Ledger
from runners.audit.record import AuditRecord
from runners.change.fingerprint import Comparison, Fingerprint, Unreadable, compare, from_dict
from runners.gitrepo import GitRepo

if TYPE_CHECKING:
    from runners.config import Config
    from runners.stacks import Target

MAX_RECORDS = 1_000  # plan records read, newest first, looking for the merge requests' own

_GITLAB = re.compile(r"merge request \S*!(\d+)")
_GITHUB_MERGE = re.compile(r"^Merge pull request #(\d+) ", re.M)
_GITHUB_SQUASH = re.compile(r"\(#(\d+)\)\s*$", re.M)


def merge_request_ids(message: str) -> list[tuple[str, str]]:
    """(id, reference) of the merge requests a commit message names: ("12", "!12")."""
    found = [(m, f"!{m}") for m in _GITLAB.findall(message)]
    first = message.splitlines()[0] if message else ""
    found += [(m, f"#{m}") for m in _GITHUB_MERGE.findall(message)]
    found += [(m, f"#{m}") for m in _GITHUB_SQUASH.findall(first)]
    return list(dict.fromkeys(found))


@dataclass(frozen=True)
class Reviewed:
    """A merge request merged since the last apply, and the plan reviewed on it."""

    ref: str  # "!12" or "#12"
    fingerprint: Fingerprint | None  # None: no plan with a fingerprint was found for it
    planned_at: str | None = None
    record_id: str | None = None
    why_none: str | None = None


@dataclass(frozen=True)
class Review:
    """This plan against each merge request's reviewed plan."""

    merge_requests: tuple[Reviewed, ...]
    comparisons: tuple[tuple[Reviewed, Comparison], ...]

    @property
    def identical_to(self) -> str | None:
        """The merge request whose reviewed plan this one is, when there is one (the newest)."""
        for reviewed, comparison in reversed(self.comparisons):
            if comparison.identical:
                return reviewed.ref
        return None

    @property
    def identical(self) -> bool:
        return self.identical_to is not None

    def summary(self) -> str:
        """One sentence: for the build's approval form and the refusal."""
        if not self.merge_requests:
            return (
                "no merge request was merged since the stack's last apply, so no reviewed "
                "plan to compare this one with"
            )
        if self.identical_to:
            cmp = dict((r.ref, c) for r, c in self.comparisons)[self.identical_to]
            versions = cmp.versions()
            return f"identical to the plan reviewed on merge request {self.identical_to}" + (
                f" ({versions})" if versions else ""
            )
        parts = []
        for reviewed, comparison in self.comparisons:
            text = f"differs from the plan reviewed on merge request {reviewed.ref}: " + "; ".join(
                comparison.differences(3)
            )
            versions = comparison.versions()
            parts.append(text + (f" ({versions})" if versions else ""))
        for reviewed in self.merge_requests:
            if reviewed.fingerprint is None:
                parts.append(f"merge request {reviewed.ref}: {reviewed.why_none}")
        return "; ".join(parts)

    def markdown(self) -> str:
        """The report's paragraph."""
        if self.identical:
            return f"✅ This plan is {self.summary()}."
        if not self.merge_requests:
            return f"⚠ **Not a reviewed plan:** {self.summary()}."
        lines = ["⚠ **This plan is not the one reviewed:**"]
        for reviewed, comparison in self.comparisons:
            lines.append(f"- it differs from the plan reviewed on merge request {reviewed.ref}:")
            lines += [f"  - {d}" for d in comparison.differences(10)]
            versions = comparison.versions()
            if versions:
                lines.append(f"  - ({versions})")
        for reviewed in self.merge_requests:
            if reviewed.fingerprint is None:
                lines.append(f"- merge request {reviewed.ref}: {reviewed.why_none}")
        return "\n".join(lines)

    def to_record(self) -> dict[str, Any]:
        return {
            "summary": self.summary(),
            "identical_to": self.identical_to,
            "merge_requests": [
                {
                    "ref": r.ref,
                    "plan_record": r.record_id,
                    "fingerprint": r.fingerprint.sha256 if r.fingerprint else None,
                }
                for r in self.merge_requests
            ],
        }


def review(here: Fingerprint, merged: Iterable[Reviewed]) -> Review:
    """Compare this plan's fingerprint with the plan reviewed on each merged merge request."""
    found = tuple(merged)
    comparisons = tuple((r, compare(r.fingerprint, here)) for r in found if r.fingerprint)
    return Review(found, comparisons)


# -- gathering, from git and the ledger --------------------------------------------------------


def _fingerprint_of(record: AuditRecord) -> Fingerprint | None:
    if record.fingerprint is None:
        return None
    try:
        return from_dict(record.fingerprint, f"plan record {record.id}: fingerprint")
    except Unreadable:
        return None


def gather(
    repo: GitRepo,
    ledger: Ledger,
    stack: str,
    env: str,
    start: str | None,
    head: str,
    mark: str = "!",
) -> list[Reviewed]:
    """The merge requests merged after ``start`` (the last apply) up to ``head``, oldest first,
    each with the newest plan reviewed on it. ``mark``: "!" (GitLab) or "#" (GitHub)."""
    merged: dict[str, str] = {}  # id -> reference
    for _sha, message in reversed(repo.messages(start, head)):
        for mr_id, ref in merge_request_ids(message):
            merged.setdefault(mr_id, ref)
    plans: dict[str, AuditRecord] = {}
    for n, record in enumerate(ledger.plan_records(stack, env)):
        if n >= MAX_RECORDS:
            break
        mr_id = str((record.merge_request or {}).get("id") or "")
        if not mr_id or record.result not in ("planned", "no-changes") or mr_id in plans:
            continue
        if mr_id not in merged and _merged_by_commit(repo, record.commit, start, head):
            merged[mr_id] = f"{mark}{mr_id}"
        if mr_id in merged:
            plans[mr_id] = record
    out = []
    for mr_id, ref in merged.items():
        if mr_id not in plans:
            out.append(Reviewed(ref, None, why_none="no plan of it is in the ledger"))
            continue
        record = plans[mr_id]
        fingerprint = _fingerprint_of(record)
        out.append(
            Reviewed(
                ref,
                fingerprint,
                planned_at=record.started_at,
                record_id=record.id,
                why_none=None
                if fingerprint
                else "its plan record has no fingerprint (made by an older runners)",
            )
        )
    return out


def _merged_by_commit(repo: GitRepo, commit: str | None, start: str | None, head: str) -> bool:
    """The planned commit is in the branch since ``start``: the merge request was merged."""
    if not commit or not repo.has_commit(commit) or not repo.is_ancestor(commit, head):
        return False
    return start is None or not repo.is_ancestor(commit, start)


def for_target(
    target: Target,
    repo: GitRepo,
    ledger: Ledger,
    head: str,
    key: str | None,
) -> Callable[[Fingerprint], Review]:
    """The comparison for one stack's plan of ``head``, since its last apply.

    With the signing key, only a sealed apply record says where the change
    begins, as for the apply's authorship check.
    """
    from runners.audit.record import sealed_by
    from runners.change.evidence import change_start
    from runners.config import state_identity

    def run(fingerprint: Fingerprint) -> Review:
        stack, env, cfg = target.stack, target.env, target.config
        state = state_identity(cfg.backend_for(stack, env), stack.dir)
        trust = (lambda record: sealed_by(record, key)) if key else None
        last = ledger.last_applied(stack.name, env.name, state, trust)
        start = change_start(repo, last, head)
        merged = gather(repo, ledger, stack.name, env.name, start, head, mark_for(cfg))
        return review(fingerprint, merged)

    return run


def mark_for(cfg: Config) -> str:
    """How the platform writes a merge request's number: GitLab !12, GitHub #12."""
    repository = cfg.jenkins.repository
    return "#" if repository is not None and repository.platform == "github" else "!"
