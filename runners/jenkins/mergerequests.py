"""Merge requests behind a change, and their approvals, from the Git platform itself.

The apply asks the platform (GitLab or GitHub, the one ``[jenkins.repository]``
names) which merged merge requests brought each commit of the change, who
opened them and who approved them:

- GitLab: ``GET /projects/:id/repository/commits/:sha/merge_requests`` and
  ``GET /projects/:id/merge_requests/:iid/approvals`` (``approved_by[].user.username``);
- GitHub: ``GET /repos/:owner/:repo/commits/:sha/pulls`` and
  ``GET /repos/:owner/:repo/pulls/:number/reviews``, where a user's latest
  review that is not a comment decides (``APPROVED``; a later
  ``CHANGES_REQUESTED`` or ``DISMISSED`` takes an approval back).

The token is ``[jenkins.comments] token_env``'s (the comment's token). A
platform that cannot be reached is exit 1, a token it refuses exit 2.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

import requests

from runners.errors import ConfigError, RunnersError, UsageError
from runners.jenkins.comment import headers
from runners.jenkins.settings import JenkinsSettings

_PAGES = 20  # at most this many pages of reviews (100 each) per pull request


@dataclass(frozen=True)
class MergeRequestInfo:
    ref: str  # "!12" (GitLab) or "#12" (GitHub)
    number: int
    author: str
    target: str
    merged: bool


@dataclass(frozen=True)
class PlatformApi:
    kind: str  # gitlab | github
    api: str
    project: str  # "group/sub/project" or "owner/repo"
    token: str
    token_env: str
    timeout: float = 30.0

    def _get(self, path: str) -> requests.Response:
        url = f"{self.api}{path}"
        try:
            response = requests.get(
                url, headers=headers(self.kind, self.token), timeout=self.timeout
            )
        except requests.RequestException as exc:
            raise RunnersError(
                f"cannot reach {self.kind} at {urlsplit(self.api).netloc} ({type(exc).__name__}) "
                "to read the change's merge requests"
            ) from None
        if response.status_code in (401, 403):
            raise UsageError(
                f"{self.kind} refused the token in ${self.token_env} (HTTP {response.status_code}) "
                f"reading {path}"
            )
        if response.status_code >= 300 and response.status_code != 404:
            raise RunnersError(f"{self.kind} answered HTTP {response.status_code} for {path}")
        return response

    def _json(self, path: str) -> Any:
        response = self._get(path)
        if response.status_code == 404:
            return None
        try:
            return response.json()
        except ValueError:
            raise RunnersError(f"{self.kind}: {path} did not answer JSON") from None

    def merge_requests_of(self, sha: str) -> list[MergeRequestInfo]:
        """The merge requests that brought commit ``sha`` (open, closed or merged)."""
        if self.kind == "gitlab":
            data = self._json(
                f"/projects/{quote(self.project, safe='')}/repository/commits/{sha}/merge_requests"
            )
            return [
                MergeRequestInfo(
                    ref=f"!{mr['iid']}",
                    number=int(mr["iid"]),
                    author=str((mr.get("author") or {}).get("username") or ""),
                    target=str(mr.get("target_branch") or ""),
                    merged=mr.get("state") == "merged",
                )
                for mr in data or []
                if isinstance(mr, dict) and isinstance(mr.get("iid"), int)
            ]
        data = self._json(f"/repos/{self.project}/commits/{sha}/pulls")
        return [
            MergeRequestInfo(
                ref=f"#{pr['number']}",
                number=int(pr["number"]),
                author=str((pr.get("user") or {}).get("login") or ""),
                target=str((pr.get("base") or {}).get("ref") or ""),
                merged=bool(pr.get("merged_at")),
            )
            for pr in data or []
            if isinstance(pr, dict) and isinstance(pr.get("number"), int)
        ]

    def approvers(self, mr: MergeRequestInfo) -> list[str]:
        """Who approves the merge request now (platform user names)."""
        if self.kind == "gitlab":
            data = self._json(
                f"/projects/{quote(self.project, safe='')}/merge_requests/{mr.number}/approvals"
            )
            users = (data or {}).get("approved_by") or [] if isinstance(data, dict) else []
            return [
                str(u["user"]["username"])
                for u in users
                if isinstance(u, dict)
                and isinstance(u.get("user"), dict)
                and u["user"].get("username")
            ]
        latest: dict[str, str] = {}
        for page in range(1, _PAGES + 1):
            reviews = self._json(
                f"/repos/{self.project}/pulls/{mr.number}/reviews?per_page=100&page={page}"
            )
            if not isinstance(reviews, list) or not reviews:
                break
            for review in reviews:  # oldest first, as GitHub lists them
                if not isinstance(review, dict):
                    continue
                user = str((review.get("user") or {}).get("login") or "")
                state = str(review.get("state") or "")
                if user and state in ("APPROVED", "CHANGES_REQUESTED", "DISMISSED"):
                    latest[user] = state
            if len(reviews) < 100:
                break
        return [user for user, state in latest.items() if state == "APPROVED"]


def platform_api(
    settings: JenkinsSettings, config_path: object, environ: Mapping[str, str], required: bool
) -> PlatformApi | None:
    """The platform API of the configured repository; None when there is none to ask.

    ``required`` (merge-request approvals are required): no platform or no
    token is exit 2, naming the setting. Otherwise the merge requests' authors
    are simply not added.
    """
    repo = settings.repository
    platform = settings.comments.platform or (repo.platform if repo else None)
    if repo is None or platform not in ("gitlab", "github"):
        if required:
            raise ConfigError(
                config_path,
                "jenkins.repository",
                "require_mr_approvals needs the repository's platform (gitlab or github) "
                "and url, to read the merge requests",
            )
        return None
    token = environ.get(settings.comments.token_env, "")
    if not token:
        if required:
            raise UsageError(
                f"${settings.comments.token_env} is not set: require_mr_approvals reads the "
                f"merge requests from {platform} with it ({config_path}: "
                "jenkins.comments.token_env names the variable)"
            )
        return None
    owner, name = repo.owner_and_name
    return PlatformApi(
        kind=platform,
        api=settings.comments.api_url or _default_api(platform, repo.url),
        project=f"{owner}/{name}",
        token=token,
        token_env=settings.comments.token_env,
        timeout=settings.request_timeout,
    )


def _default_api(platform: str, clone_url: str) -> str:
    scp_like = "://" not in clone_url and ":" in clone_url
    host = (
        clone_url.split(":", 1)[0].rsplit("@", maxsplit=1)[-1]
        if scp_like
        else urlsplit(clone_url).hostname
    )
    if platform == "gitlab":
        return f"https://{host}/api/v4"
    return "https://api.github.com" if host == "github.com" else f"https://{host}/api/v3"
