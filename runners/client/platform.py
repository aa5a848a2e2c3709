"""What the Git platform says of a branch: whether it exists, and whether it is protected.

GitLab: ``GET /projects/:path/repository/branches/:name`` (``protected``), the
token in ``PRIVATE-TOKEN``. GitHub: ``GET /repos/:owner/:repo/branches/:name``
(``protected``), the token as ``Authorization: Bearer``. A 404 is a branch
that does not exist. The API and token are ``[jenkins.comments]``'s, the ones
``runners comment`` posts with. Plain git shows no protection at all.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

import requests

from runners.jenkins.comment import headers
from runners.jenkins.settings import Comments, Repository


@dataclass(frozen=True)
class BranchState:
    exists: bool
    protected: bool | None  # None: the platform did not say


class PlatformUnavailable(Exception):
    """The platform cannot be asked (no API, no token) or did not answer; the reason."""


def api_root(repo: Repository, comments: Comments) -> str | None:
    """The platform's API: ``[jenkins.comments] api_url``, else from the clone URL's host."""
    if comments.api_url:
        return comments.api_url
    parts = urlsplit(repo.url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    origin = f"{parts.scheme}://{parts.netloc}"
    if repo.platform == "gitlab":
        return f"{origin}/api/v4"
    if repo.platform == "github":
        return "https://api.github.com" if parts.hostname == "github.com" else f"{origin}/api/v3"
    return None


def branch_url(repo: Repository, api: str, branch: str) -> str:
    owner, name = repo.owner_and_name
    if repo.platform == "gitlab":
        project = quote(f"{owner}/{name}", safe="")
        return f"{api}/projects/{project}/repository/branches/{quote(branch, safe='')}"
    return f"{api}/repos/{owner}/{name}/branches/{quote(branch, safe='')}"


def branch_state(
    repo: Repository,
    comments: Comments,
    branch: str,
    environ: Mapping[str, str],
    timeout: float = 30.0,
) -> BranchState:
    if repo.platform not in ("gitlab", "github"):
        raise PlatformUnavailable("plain git shows no branch protection")
    api = api_root(repo, comments)
    if api is None:
        raise PlatformUnavailable(
            f"no {repo.platform} API for {repo.url} (set [jenkins.comments] api_url)"
        )
    token = environ.get(comments.token_env, "")
    if not token:
        raise PlatformUnavailable(f"${comments.token_env} is not set")
    url = branch_url(repo, api, branch)
    try:
        answer = requests.get(url, headers=headers(repo.platform, token), timeout=timeout)
    except requests.RequestException as exc:
        raise PlatformUnavailable(
            f"{urlsplit(url).netloc} did not answer ({type(exc).__name__})"
        ) from None
    if answer.status_code == 404:
        return BranchState(False, None)
    if answer.status_code >= 300:
        raise PlatformUnavailable(f"{repo.platform} answered HTTP {answer.status_code} for {url}")
    try:
        body = answer.json()
    except ValueError:
        raise PlatformUnavailable(f"{repo.platform} answered no JSON for {url}") from None
    protected = body.get("protected") if isinstance(body, dict) else None
    return BranchState(True, protected if isinstance(protected, bool) else None)
