"""``runners comment``: the plan report as a comment on the merge request being built.

GitLab (the notes API) and GitHub (issue comments, which is what a pull
request's conversation is) are supported. The merge request comes from
Jenkins' ``CHANGE_URL``; the platform and API from ``[jenkins.comments]``,
else from that URL. A comment is a notification: without a token it is
skipped, and a failure to post is a warning, never a failed build.

A merge request gets one comment per stack set (``--key``), edited in place
on every push, the way Atlantis keeps one plan comment: the newest plan on
top, the earlier ones collapsed in a ``<details>`` block below it, as many
as the platform's size limit holds. runners finds its comment by a hidden
marker at the top of the body *and* by author: a marker anyone can type, so
only a comment written by the token's own user is ever edited. When the
user, the list or the edit cannot be read or made, it posts a new comment
instead (a warning says why): the newest plan always reaches the reviewer.
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


# Hidden markers (HTML comments render as nothing on both platforms). A report
# can hold any text a pushed branch puts in a resource, so _defang breaks the
# marker prefix in it: only runners' own markers appear in a body as written.
_PREFIX = "<!-- runners:"
_EARLIER = "<!-- runners:earlier-plans -->"
_ITEM = "<!-- runners:earlier-plan -->"
_END = "<!-- runners:earlier-plans-end -->"
_DROPPED = "<!-- runners:earlier-plans-dropped -->"
KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,99}$")
PER_PAGE = 100
MAX_PAGES = 50  # 5,000 comments: past that, post a new one rather than read on
_COMMIT = re.compile(r"<sub>commit `([0-9a-f]{7,40})`")


@dataclass(frozen=True)
class Target:
    platform: str
    post_url: str  # list and create the merge request's comments
    user_url: str  # who the token belongs to
    edit_base: str  # + "/<id>": one comment, to edit

    def edit_url(self, comment_id: int) -> str:
        return f"{self.edit_base}/{comment_id}"

    def list_url(self, page: int) -> str:
        order = "&sort=asc&order_by=created_at" if self.platform == "gitlab" else ""
        return f"{self.post_url}?per_page={PER_PAGE}&page={page}{order}"


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
        notes = f"{api}/projects/{quote(project, safe='')}/merge_requests/{gitlab['iid']}/notes"
        return Target("gitlab", notes, f"{api}/user", notes)
    if platform == "github" and github:
        origin = github["origin"]
        default = (
            "https://api.github.com"
            if urlsplit(origin).hostname == "github.com"
            else f"{origin}/api/v3"
        )
        api = comments.api_url or default
        repo = f"{api}/repos{github['path']}/issues"
        return Target(
            "github", f"{repo}/{github['number']}/comments", f"{api}/user", f"{repo}/comments"
        )
    raise ValueError(
        f"cannot tell a {platform or 'GitLab or GitHub'} merge request from {mr_url!r}; "
        "set [jenkins.comments] platform and api_url"
    )


def fit(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    note = "\n\n> **Cut to fit a comment.** The full report is in the build's artifacts.\n"
    return text[: limit - len(note)] + note


def marker(key: str) -> str:
    return f"{_PREFIX}plan-comment key={key} -->"


def _defang(text: str) -> str:
    return text.replace(_PREFIX, "<!-- runners :")


def split_body(body: str) -> tuple[str, list[str], bool]:
    """A body runners wrote: its plan, the earlier ones (newest first), whether some were dropped."""
    rest = body.partition("\n")[2]
    current, _, earlier = rest.partition(_EARLIER)
    inside = earlier.partition(_END)[0]
    items = [_ITEM + chunk for chunk in inside.split(_ITEM)[1:]]
    return current.strip("\n"), [i.strip("\n") for i in items], _DROPPED in earlier


def _as_earlier(current: str) -> str:
    commit = _COMMIT.search(current)
    title = f"commit {commit[1][:12]}" if commit else "an earlier push"
    return f"{_ITEM}\n<details><summary>Plan for {title}</summary>\n\n{current}\n\n</details>"


def compose(report: str, key: str, previous: str | None, limit: int) -> str:
    """The comment's body: the new report, then earlier plans collapsed, within ``limit``.

    ``previous`` is runners' own earlier body for the same key. The oldest
    earlier plans are dropped first when the body would pass the limit.
    """
    head = marker(key) + "\n"
    items: list[str] = []
    dropped = False
    if previous is not None:
        prev_current, prev_items, dropped = split_body(previous)
        items = [_as_earlier(prev_current), *prev_items]

    def section(kept: list[str], dropped: bool) -> str:
        if not kept and not dropped:
            return ""
        note = (
            f"{_DROPPED}\n_Older plans are not kept here, to fit the comment: they are in "
            "the earlier builds' artifacts._\n"
            if dropped
            else ""
        )
        n = len(kept)
        return (
            f"\n\n{_EARLIER}\n<details><summary>{n} earlier plan{'s' if n != 1 else ''} "
            "on this merge request</summary>\n\n"
            + "\n\n".join(kept)
            + f"\n{_END}\n{note}\n</details>\n"
        )

    reserve = len(section([], True))
    current = fit(_defang(report), limit - len(head) - reserve)
    while items and len(head) + len(current) + len(section(items, dropped)) > limit:
        items.pop()
        dropped = True
    return head + current + section(items, dropped)


def headers(platform: str, token: str) -> dict[str, str]:
    if platform == "gitlab":
        return {"PRIVATE-TOKEN": token}
    return {
        "Authorization": f"Bearer {token}",
        "Accept": "application/vnd.github+json",
        "X-GitHub-Api-Version": "2022-11-28",
    }


@dataclass(frozen=True)
class Own:
    id: int
    body: str


def _author(platform: str, item: Mapping[str, object]) -> str | None:
    who = item.get("author" if platform == "gitlab" else "user")
    if isinstance(who, Mapping):
        name = who.get("username" if platform == "gitlab" else "login")
        return name if isinstance(name, str) else None
    return None


def find_own(session: requests.Session, target: Target, key: str, timeout: float) -> Own | None:
    """The newest comment the token's user wrote for ``key``; None when there is none.

    Raises requests.RequestException or ValueError when the platform's answers
    cannot be read: the caller then posts a new comment.
    """
    who = session.get(target.user_url, timeout=timeout)
    who.raise_for_status()
    me = _author(target.platform, {"author" if target.platform == "gitlab" else "user": who.json()})
    if not me:
        raise ValueError(f"{target.user_url} names no user")
    head = marker(key) + "\n"
    found: Own | None = None
    for page in range(1, MAX_PAGES + 1):
        answer = session.get(target.list_url(page), timeout=timeout)
        answer.raise_for_status()
        items = answer.json()
        if not isinstance(items, list):
            raise ValueError(f"{target.post_url} answered no list")
        for item in items:
            body = item.get("body") if isinstance(item, dict) else None
            if (
                isinstance(body, str)
                and body.startswith(head)
                and _author(target.platform, item) == me
                and not item.get("system")
                and isinstance(item.get("id"), int)
            ):
                found = Own(item["id"], body)  # oldest first: the last one wins
        if len(items) < PER_PAGE:
            return found
    raise ValueError(f"more than {MAX_PAGES * PER_PAGE} comments on the merge request")


def post(
    text: str,
    mr_url: str | None,
    comments: Comments,
    repo_platform: str | None,
    environ: Mapping[str, str],
    timeout: float = 30.0,
    key: str = "plans",
) -> str:
    """Post, or update runners' own comment for ``key``; return the one line to print.

    Never raises for a failed post or edit.
    """
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
    limit = LIMITS[target.platform]
    host = urlsplit(target.post_url).netloc
    session = requests.Session()
    session.headers.update(headers(target.platform, token))
    try:
        own = find_own(session, target, key, timeout)
    except (requests.RequestException, ValueError) as exc:
        reason = (
            f"HTTP {exc.response.status_code}"
            if isinstance(exc, requests.HTTPError) and exc.response is not None
            else type(exc).__name__
            if isinstance(exc, requests.RequestException)
            else str(exc)
        )
        log.warn(
            f"comment: cannot find runners' earlier comment on {host} ({reason}); posting a new one"
        )
        own = None
    if own is not None:
        edit = session.put if target.platform == "gitlab" else session.patch
        try:
            done = edit(
                target.edit_url(own.id),
                json={"body": compose(text, key, own.body, limit)},
                timeout=timeout,
            )
            if done.status_code < 300:
                return f"comment: updated on {mr_url}"
            reason = f"HTTP {done.status_code} {done.reason}"
        except requests.RequestException as exc:
            reason = type(exc).__name__
        log.warn(f"comment: {target.platform} refused the edit ({reason}); posting a new one")
    body = compose(text, key, None, limit)
    try:
        response = session.post(target.post_url, json={"body": body}, timeout=timeout)
    except requests.RequestException as exc:
        log.warn(f"comment: cannot reach {host} ({type(exc).__name__}); the build goes on")
        return "comment: not posted"
    if response.status_code >= 300:
        log.warn(
            f"comment: {target.platform} answered HTTP {response.status_code} "
            f"{response.reason} for {mr_url}; the build goes on"
        )
        return "comment: not posted"
    return f"comment: posted to {mr_url}"
