"""Gather what the plan contract checks, each fact from its system of record.

Round one, before any Terraform runs:

- the policy: runners.toml as committed at the environment branch's head
  (``git show``), never the working copy's;
- the var files the plan read, against the blobs at that head;
- who wrote the change: authors and committers in git since the stack's
  last apply (the state bucket's ledger says which commit), plus the merge
  requests' authors on the Git platform;
- who started the build and who approved it: Jenkins' record of the build;
- the merge requests' approvals: the Git platform.

Round two, Terraform in a clean copy of that head, is ``cleanroom``.
"""

from __future__ import annotations

import fnmatch
import posixpath
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from runners import config as config_mod
from runners.audit.ledger import Ledger
from runners.change import contract
from runners.change.manifest import VarFile
from runners.ci import BuildContext
from runners.config import Config, Environment
from runners.errors import ConfigError, Refused, RunnersError, UsageError
from runners.fsutil import sha256_bytes
from runners.gitrepo import Commit, GitRepo, Head
from runners.stacks import Target, select
from runners.terraform.snapshot import ConfigSnapshot

# What Terraform loads by itself from the directory it runs in.
AUTO_VAR_FILES = (
    "terraform.tfvars",
    "terraform.tfvars.json",
    "*.auto.tfvars",
    "*.auto.tfvars.json",
)


def is_auto_var_file(name: str) -> bool:
    return any(fnmatch.fnmatchcase(name, pattern) for pattern in AUTO_VAR_FILES)


# -- the policy ---------------------------------------------------------------


def head_config(repo: GitRepo, here: Config, head: Head, branch: str) -> Config:
    """runners.toml as committed at the branch head; the working copy's only says where it is."""
    if not here.path.resolve().is_relative_to(repo.root):
        raise Refused(
            f"{here.path} is outside the repository {repo.root}, so its committed version "
            f"at {branch} cannot be read"
        )
    rel = repo.relpath(here.path)
    raw = repo.blob(head.sha, rel)
    where = f"{rel} at {branch} ({head.sha[:12]})"
    if raw is None:
        raise Refused(f"there is no {where}: the environment's rules cannot be read")
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(where, "", f"not valid TOML: {exc}") from None
    try:
        return config_mod.parse(here.path, data)
    except ConfigError as exc:
        prefix = f"{exc.path}: {exc.key}: " if exc.key else f"{exc.path}: "
        raise ConfigError(where, exc.key, str(exc).removeprefix(prefix)) from None


def head_target(cfg: Config, stack: str, env: str, branch: str) -> Target:
    try:
        return select(cfg, stack, env)
    except UsageError as exc:
        raise Refused(f"as committed at {branch}: {exc}") from None


def rules_of(env: Environment) -> contract.Rules:
    return contract.Rules(
        require_approval=env.require_approval,
        approvers=env.approvers,
        allow_self_approval=env.allow_self_approval,
        require_manual_trigger=env.require_manual_trigger,
        verify_build=env.verify_build,
        require_mr_approvals=env.require_mr_approvals,
        approval_reason=env.approval_reason,
        require_reviewed_plan=env.require_reviewed_plan,
    )


# -- var files ----------------------------------------------------------------


def repo_path(stack_rel: str, given: str) -> str | None:
    """A var file's path relative to the repository root; None when it lies outside it."""
    if Path(given).is_absolute():
        return None
    rel = posixpath.normpath(posixpath.join(stack_rel or ".", given))
    return None if rel == ".." or rel.startswith("../") else rel


def var_files_at_head(
    repo: GitRepo, head: str, target: Target, dr_region: str | None = None
) -> dict[str, str | None]:
    """Every var file the head's config and code give this plan: path -> sha256 (None: absent).

    A rebuild in ``dr_region`` also reads the stack's DR variable files for
    that region (``[dr.stacks.NAME] var_files`` of the head's config).
    """
    stack = target.stack
    out: dict[str, str | None] = {}
    given_files = list(stack.var_files.get(target.env.name, ()))
    recovery = target.config.dr.stacks.get(stack.name) if dr_region else None
    if recovery is not None and dr_region:
        given_files += recovery.dr_var_files(dr_region)
    for given in given_files:
        rel = repo_path(stack.rel_dir, given)
        if rel is None:
            out[given] = None
            continue
        blob = repo.blob(head, rel)
        out[rel] = sha256_bytes(blob) if blob is not None else None
    for name in repo.file_names(head, stack.rel_dir):
        if is_auto_var_file(name):
            rel = posixpath.join(stack.rel_dir, name) if stack.rel_dir else name
            blob = repo.blob(head, rel)
            out[rel] = sha256_bytes(blob) if blob is not None else None
    return out


def var_file_differences(
    recorded: Iterable[VarFile], expected: Mapping[str, str | None], branch: str
) -> list[str]:
    """How the var files the plan read differ from the head's (pure)."""
    out = []
    seen = set()
    for vf in recorded:
        seen.add(vf.path)
        if not vf.in_repo:
            out.append(f"the plan read var file {vf.path}, which is outside the repository")
        elif vf.path not in expected:
            out.append(
                f"the plan read var file {vf.path}, which neither runners.toml nor the stack's "
                f"folder at {branch} gives it"
            )
        elif expected[vf.path] is None:
            out.append(f"the plan read var file {vf.path}, which is not at {branch}'s head")
        elif expected[vf.path] != vf.sha256:
            out.append(f"var file {vf.path} differs from {branch}'s head")
    for path in sorted(set(expected) - seen):
        out.append(f"{branch}'s head gives var file {path}, which the plan did not read")
    return out


# -- who wrote the change -------------------------------------------------------


def change_paths(
    target: Target, snapshot: ConfigSnapshot | None, config_rel: str, var_files: Iterable[str]
) -> list[str]:
    """The repository paths whose commits make up this stack's change."""
    stack_rel = target.stack.rel_dir or "."
    paths = {stack_rel, config_rel}
    for mod in (snapshot.modules.values() if snapshot else ()) or ():
        if mod.local:
            rel = posixpath.normpath(posixpath.join(stack_rel, mod.dir))
            if rel != ".." and not rel.startswith("../"):
                paths.add(rel)
    paths.update(p for p in var_files if repo_path("", p) is not None)
    return sorted(paths)


def change_start(repo: GitRepo, last_applied: str | None, head: str) -> str | None:
    """Where the change begins: the last applied commit, else all history (fail closed)."""
    if not last_applied or not repo.has_commit(last_applied):
        return None
    if repo.is_ancestor(last_applied, head):
        return last_applied
    return repo.merge_base(last_applied, head)


def contributors(commits: Iterable[Commit]) -> tuple[contract.Contributor, ...]:
    out = []
    for c in commits:
        out.append(contract.Contributor(c.author.name, c.author.email, c.sha, "wrote"))
        if (c.committer.name, c.committer.email) != (c.author.name, c.author.email):
            out.append(
                contract.Contributor(c.committer.name, c.committer.email, c.sha, "committed")
            )
    return tuple(out)


@dataclass(frozen=True)
class Change:
    start: str | None
    commits: tuple[Commit, ...]


def the_change(
    repo: GitRepo,
    ledger: Ledger,
    target: Target,
    head: str,
    state: str | None,
    paths: list[str],
    key: str | None = None,
) -> Change:
    """The commits since the last apply; with a key, only a sealed record says when that was."""
    from runners.audit.record import sealed_by

    trust = (lambda record: sealed_by(record, key)) if key else None
    last = ledger.last_applied(target.stack.name, target.env.name, state, trust)
    start = change_start(repo, last, head)
    return Change(start, tuple(repo.commits_touching(start, head, paths)))


# -- Jenkins -----------------------------------------------------------------


@dataclass(frozen=True)
class BuildEvidence:
    facts: contract.BuildFacts
    approver: str | None
    triggered_by: str | None
    cause: str | None


def from_flags(build: BuildContext) -> BuildEvidence:
    return BuildEvidence(
        contract.BuildFacts(verified=False, cause=build.build_cause),
        approver=None,
        triggered_by=build.triggered_by,
        cause=build.build_cause,
    )


def expected_jobs(cfg: Config, dr: bool) -> tuple[str, ...]:
    """The jobs whose builds may apply: the production zone's (``runners jobs sync`` makes them).

    Never a merge-request zone's job: its pipeline comes from the branch built,
    so its ``input`` step could name anyone as approver.
    """
    from runners.jenkins.jobs import PRODUCTION_JOB

    settings = cfg.jenkins
    zone = settings.production_folder
    jobs = [settings.full_name(f"{zone}/{PRODUCTION_JOB}")]
    if dr:
        jobs.append(settings.full_name(f"{zone}/dr"))
    return tuple(jobs)


def from_jenkins(
    cfg: Config,
    env: Environment,
    build: BuildContext,
    environ: Mapping[str, str],
    jobs: tuple[str, ...],
) -> BuildEvidence:
    """The build's causes and approver, read from Jenkins with runners' own token."""
    from runners.jenkins import client as jenkins_client
    from runners.jenkins.errors import (
        JenkinsError,
        JenkinsForbidden,
        JenkinsUnauthorized,
        JenkinsUnreachable,
    )

    settings = cfg.jenkins
    if not settings.url or not settings.user:
        raise ConfigError(
            cfg.path,
            f"environments.{env.name}.verify_build",
            "is on (the default where approval is required), so [jenkins] needs url and user "
            "to read the build; set verify_build = false to take --approved-by and "
            "--build-cause on trust",
        )
    if not build.build_url:
        facts = contract.BuildFacts(
            verified=True,
            problems=(
                "no build URL ($BUILD_URL): this environment's applies run inside the Jenkins "
                "build that approved them, and runners reads that build",
            ),
        )
        return BuildEvidence(facts, None, None, None)
    client = jenkins_client.connect(settings, cfg.path, environ)
    try:
        record = client.build_at(build.build_url)
    except JenkinsUnreachable as exc:
        raise RunnersError(f"cannot verify the build: {exc}") from None
    except (JenkinsUnauthorized, JenkinsForbidden) as exc:
        raise UsageError(f"cannot verify the build: {exc}") from None
    except JenkinsError as exc:
        facts = contract.BuildFacts(verified=True, problems=(f"{exc}",))
        return BuildEvidence(facts, None, None, None)
    if record is None:
        facts = contract.BuildFacts(
            verified=True,
            problems=(f"Jenkins has no build at {build.build_url}",),
        )
        return BuildEvidence(facts, None, None, None)
    from runners.jenkins import buildcheck

    facts = contract.BuildFacts(
        verified=True,
        starters=record.starters,
        problems=tuple(buildcheck.problems(record, jobs)),
    )
    return BuildEvidence(
        facts,
        approver=record.approvers[-1] if record.approvers else None,
        triggered_by=record.starters[0] if record.starters else None,
        cause=",".join(record.causes) or None,
    )


# -- the Git platform ------------------------------------------------------------


@dataclass(frozen=True)
class PlatformEvidence:
    authors: tuple[str, ...]
    merge_requests: contract.MergeRequests | None


def from_platform(
    cfg: Config,
    env: Environment,
    branch: str,
    commits: Iterable[Commit],
    environ: Mapping[str, str],
) -> PlatformEvidence:
    from runners.jenkins.mergerequests import MergeRequestInfo, platform_api

    required = env.require_mr_approvals > 0
    api = platform_api(cfg.jenkins, cfg.path, environ, required)
    if api is None:
        return PlatformEvidence((), None)
    found: dict[str, MergeRequestInfo] = {}
    by_mr: dict[str, list[Commit]] = {}
    orphans = []
    for commit in commits:
        merged = [
            mr for mr in api.merge_requests_of(commit.sha) if mr.merged and mr.target == branch
        ]
        if not merged:
            orphans.append(commit.sha)
        for mr in merged:
            found.setdefault(mr.ref, mr)
            by_mr.setdefault(mr.ref, []).append(commit)
    authors = tuple(sorted({mr.author for mr in found.values() if mr.author}))
    if not required:
        return PlatformEvidence(authors, None)
    requests = tuple(
        contract.MergeRequest(
            ref=mr.ref,
            author=mr.author,
            approvers=tuple(api.approvers(mr)),
            contributors=contributors(by_mr[mr.ref]),
        )
        for mr in found.values()
    )
    return PlatformEvidence(authors, contract.MergeRequests(requests, tuple(orphans)))
