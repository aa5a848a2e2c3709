"""A GitLab and GitHub REST double on 127.0.0.1: merge-request comments, commits, approvals.

``runners comment`` posts to it; ``runners apply`` reads from it which merged
merge requests brought a commit and who approved them. The shapes are the
platforms' documented ones:

- GitLab (``/api/v4``): ``POST /projects/:id/merge_requests/:iid/notes``;
  ``GET /projects/:id/repository/commits/:sha/merge_requests`` (``iid``,
  ``author.username``, ``target_branch``, ``state``);
  ``GET /projects/:id/merge_requests/:iid/approvals``
  (``approved_by[].user.username``); the token in ``PRIVATE-TOKEN``.
- GitHub (``/api/v3``): ``POST /repos/:o/:r/issues/:n/comments``;
  ``GET /repos/:o/:r/commits/:sha/pulls`` (``number``, ``user.login``,
  ``base.ref``, ``merged_at``); ``GET /repos/:o/:r/pulls/:n/reviews``
  (``user.login``, ``state``, oldest first, ``per_page``/``page``); the token
  as ``Authorization: Bearer``.
- Both: a branch (``GET /projects/:id/repository/branches/:name``,
  ``GET /repos/:o/:r/branches/:name``) with its ``name`` and ``protected``,
  404 when there is none; what ``runners doctor`` reads.

A wrong token is 401; anything else unknown is 404.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

TOKEN = "glpat-double-7f3a9c"  # noqa: S105  # the double's own, on loopback


@dataclass
class MergeRequest:
    number: int
    author: str
    commits: set[str]
    target: str = "production"
    merged: bool = True
    approvers: list[str] = field(default_factory=list)  # GitLab
    reviews: list[tuple[str, str]] = field(default_factory=list)  # GitHub: (login, state)


_GITLAB_COMMIT = re.compile(
    r"^/api/v4/projects/[^/]+/repository/commits/([0-9a-f]+)/merge_requests$"
)
_GITLAB_APPROVALS = re.compile(r"^/api/v4/projects/[^/]+/merge_requests/(\d+)/approvals$")
_GITHUB_COMMIT = re.compile(r"^/api/v3/repos/[^/]+/[^/]+/commits/([0-9a-f]+)/pulls$")
_GITHUB_REVIEWS = re.compile(r"^/api/v3/repos/[^/]+/[^/]+/pulls/(\d+)/reviews$")
_GITLAB_BRANCH = re.compile(r"^/api/v4/projects/[^/]+/repository/branches/([^/]+)$")
_GITHUB_BRANCH = re.compile(r"^/api/v3/repos/[^/]+/[^/]+/branches/([^/]+)$")


class Platform:
    """Records every POST (answering ``status``) and every GET; serves ``merge_requests``."""

    def __init__(self, token: str = TOKEN) -> None:
        self.posts: list[dict[str, Any]] = []
        self.gets: list[str] = []
        self.status = 201
        self.token = token
        self.merge_requests: list[MergeRequest] = []
        self.projects: set[str] = set()  # "acme/infra": the only project paths served (empty: any)
        self.branches: dict[str, bool] = {}  # branch name -> protected
        platform = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                return None

            def _send(self, status: int, body: Any) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                platform.posts.append(
                    {"path": self.path, "headers": dict(self.headers), "json": json.loads(body)}
                )
                self._send(platform.status, {"id": 1})

            def do_GET(self) -> None:
                platform.gets.append(self.path)
                given = self.headers.get("PRIVATE-TOKEN") or (
                    self.headers.get("Authorization") or ""
                ).removeprefix("Bearer ")
                if given != platform.token:
                    return self._send(401, {"message": "401 Unauthorized"})
                status, body = platform.answer(self.path)
                self._send(status, body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def merged(self, number: int, author: str, commits: list[str], **kw: Any) -> MergeRequest:
        mr = MergeRequest(number, author, set(commits), **kw)
        self.merge_requests.append(mr)
        return mr

    def answer(self, raw_path: str) -> tuple[int, Any]:
        split = urlsplit(raw_path)
        path, query = split.path, dict(parse_qsl(split.query))
        if m := _GITLAB_COMMIT.match(path):
            return 200, [
                {
                    "iid": mr.number,
                    "author": {"username": mr.author},
                    "target_branch": mr.target,
                    "state": "merged" if mr.merged else "opened",
                }
                for mr in self.merge_requests
                if m[1] in mr.commits
            ]
        if m := _GITLAB_APPROVALS.match(path):
            mr = self._mr(int(m[1]))
            if mr is None:
                return 404, {"message": "404 Not found"}
            return 200, {
                "iid": mr.number,
                "approved": bool(mr.approvers),
                "approved_by": [{"user": {"username": u, "name": u}} for u in mr.approvers],
            }
        if m := _GITHUB_COMMIT.match(path):
            return 200, [
                {
                    "number": mr.number,
                    "user": {"login": mr.author},
                    "base": {"ref": mr.target},
                    "merged_at": "2026-11-30T10:00:00Z" if mr.merged else None,
                }
                for mr in self.merge_requests
                if m[1] in mr.commits
            ]
        if m := _GITHUB_REVIEWS.match(path):
            mr = self._mr(int(m[1]))
            if mr is None:
                return 404, {"message": "Not Found"}
            size, page = int(query.get("per_page", 30)), int(query.get("page", 1))
            reviews = [{"user": {"login": u}, "state": s} for u, s in mr.reviews]
            return 200, reviews[(page - 1) * size : page * size]
        if m := _GITLAB_BRANCH.match(path) or _GITHUB_BRANCH.match(path):
            name = unquote(m[1])
            if name not in self.branches:
                return 404, {"message": "404 Branch Not Found"}
            return 200, {"name": name, "protected": self.branches[name], "merged": False}
        return 404, {"message": f"no route for {unquote(path)}"}

    def _mr(self, number: int) -> MergeRequest | None:
        return next((mr for mr in self.merge_requests if mr.number == number), None)
