"""``runners comment``: the plan report as a comment on the merge request being built.

GitLab (the notes API) and GitHub (issue comments, which is what a pull
request's conversation is) are supported. The merge request comes from
Jenkins' ``CHANGE_URL``; the platform and API from ``[jenkins.comments]``,
else from that URL. A comment is a notification: without a token it is
skipped, and a failure to post is a warning, never a failed build.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

import requests

from runners import log
from runners.jenkins.settings import Comments

# What each platform accepts in one comment body, in characters.
LIMITS = {"gitlab": 1_000_000, "github": 65_536}

_GITLAB = re.compile(r"^(?P<origin>https?://[^/]+)(?P<path>/.+?)/-/merge_requests/(?P<iid>\d+)/?$")
_GITHUB = re.compile(r"^(?P<origin>https?://[^/]+)(?P<path>/[^/]+/[^/]+)/pull/(?P<number>\d+)/?$")


@dataclass(frozen=True)
class Target:
    platform: str
    post_url: str


def target_for(mr_url: str, comments: Comments, repo_platform: str | None) -> Target:
    """Where the comment goes. Raises ValueError when the URL says nothing usable."""
    platform = comments.platform or (repo_platform if repo_platform in LIMITS else None)
    gitlab, github = _GITLAB.match(mr_url), _GITHUB.match(mr_url)
    if platform is None:
        platform = "gitlab" if gitlab else "github" if github else None
    if platform == "gitlab" and gitlab:
        api = comments.api_url or f"{gitlab['origin']}/api/v4"
        root = urlsplit(api).path.removesuffix("/api/v4")
        project = gitlab["path"].removeprefix(root).strip("/")
        return Target(
            "gitlab",
            f"{api}/projects/{quote(project, safe='')}/merge_requests/{gitlab['iid']}/notes",
        )
    if platform == "github" and github:
        origin = github["origin"]
        default = (
            "https://api.github.com"
            if urlsplit(origin).hostname == "github.com"
            else f"{origin}/api/v3"
        )
        api = comments.api_url or default
        return Target("github", f"{api}/repos{github['path']}/issues/{github['number']}/comments")
    raise ValueError(
        f"cannot tell a {platform or 'GitLab or GitHub'} merge request from {mr_url!r}; "
        "set [jenkins.comments] platform and api_url"
    )


def fit(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    note = "\n\n> **Cut to fit a comment.** The full report is in the build's artifacts.\n"
    return text[: limit - len(note)] + note


def headers(platform: str, token: str) -> dict[str, str]:
    if platform == "gitlab":
        return {"PRIVATE-TOKEN": token}
    return {
        "Authorization": f"Bearer {token}",
        "Accept": "application/vnd.github+json",
        "X-GitHub-Api-Version": "2022-11-28",
    }


def post(
    text: str,
    mr_url: str | None,
    comments: Comments,
    repo_platform: str | None,
    environ: Mapping[str, str],
    timeout: float = 30.0,
) -> str:
    """Post; return the one line to print. Never raises for a failed post."""
    if not mr_url:
        return "comment: skipped: not a merge-request build (no CHANGE_URL; give --url)"
    token = environ.get(comments.token_env, "")
    if not token:
        return f"comment: skipped: ${comments.token_env} is not set"
    try:
        target = target_for(mr_url, comments, repo_platform)
    except ValueError as exc:
        log.warn(f"comment: {exc}; the build goes on")
        return "comment: not posted"
    body = fit(text, LIMITS[target.platform])
    try:
        response = requests.post(
            target.post_url,
            json={"body": body},
            headers=headers(target.platform, token),
            timeout=timeout,
        )
    except requests.RequestException as exc:
        host = urlsplit(target.post_url).netloc
        log.warn(f"comment: cannot reach {host} ({type(exc).__name__}); the build goes on")
        return "comment: not posted"
    if response.status_code >= 300:
        log.warn(
            f"comment: {target.platform} answered HTTP {response.status_code} "
            f"{response.reason} for {mr_url}; the build goes on"
        )
        return "comment: not posted"
    return f"comment: posted to {mr_url}"
