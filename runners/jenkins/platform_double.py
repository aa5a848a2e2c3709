"""A GitLab and GitHub REST double on 127.0.0.1: merge-request comments, commits, approvals.

``runners comment`` posts to it; ``runners apply`` reads from it which merged
merge requests brought a commit and who approved them. The shapes are the
platforms' documented ones:

- GitLab (``/api/v4``): ``POST /projects/:id/merge_requests/:iid/notes``,
  ``GET`` the same (``id``, ``body``, ``author.username``, ``system``;
  ``per_page``/``page``, ``sort`` newest first unless ``asc``), ``PUT .../notes/:note_id`` (403 on another
  user's note); ``GET /user`` (the token's ``username``);
  ``GET /projects/:id/repository/commits/:sha/merge_requests`` (``iid``,
  ``author.username``, ``target_branch``, ``state``);
  ``GET /projects/:id/merge_requests/:iid/approvals``
  (``approved_by[].user.username``); the token in ``PRIVATE-TOKEN``.
- GitHub (``/api/v3``): ``POST /repos/:o/:r/issues/:n/comments``, ``GET``
  the same (``id``, ``body``, ``user.login``; ``per_page``/``page``, oldest first),
  ``PATCH /repos/:o/:r/issues/comments/:id`` (403 on another user's
  comment); ``GET /user`` (the token's ``login``);
  ``GET /repos/:o/:r/commits/:sha/pulls`` (``number``, ``user.login``,
  ``base.ref``, ``merged_at``); ``GET /repos/:o/:r/pulls/:n/reviews``
  (``user.login``, ``state``, oldest first, ``per_page``/``page``); the token
  as ``Authorization: Bearer``.
- Both: a branch (``GET /projects/:id/repository/branches/:name``,
  ``GET /repos/:o/:r/branches/:name``) with its ``name`` and ``protected``,
  404 when there is none; what ``runners doctor`` reads.

A wrong token is 401 (a POST is answered ``status`` whatever the token, so a
test can make it fail); anything else unknown is 404.
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
BOT = "runners-bot"  # the user TOKEN belongs to


@dataclass
class Note:
    """A GitLab note or GitHub issue comment on one merge request (``thread``: its API path)."""

    id: int
    thread: str
    author: str
    body: str
    system: bool = False  # GitLab's own notes ("added 1 commit")


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
_GITLAB_NOTES = re.compile(r"^/api/v4/projects/[^/]+/merge_requests/\d+/notes$")
_GITLAB_NOTE = re.compile(r"^(/api/v4/projects/[^/]+/merge_requests/\d+/notes)/(\d+)$")
_GITHUB_COMMENTS = re.compile(r"^/api/v3/repos/[^/]+/[^/]+/issues/\d+/comments$")
_GITHUB_COMMENT = re.compile(r"^/api/v3/repos/[^/]+/[^/]+/issues/comments/(\d+)$")
_USER = re.compile(r"^/api/v[34]/user$")


class Platform:
    """Records every POST (answering ``status``), GET and edit; serves ``merge_requests``.

    A POST that succeeds with the token keeps the comment in ``notes``, written
    by ``user``; an edit (PUT on GitLab, PATCH on GitHub) changes it in place.
    """

    def __init__(self, token: str = TOKEN, user: str = BOT) -> None:
        self.posts: list[dict[str, Any]] = []
        self.gets: list[str] = []
        self.edits: list[dict[str, Any]] = []
        self.status = 201
        self.edit_status: int | None = None  # answer every edit this, when set
        self.token = token
        self.user = user
        self.notes: list[Note] = []
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

            def _token(self) -> str:
                return self.headers.get("PRIVATE-TOKEN") or (
                    self.headers.get("Authorization") or ""
                ).removeprefix("Bearer ")

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
                platform.posts.append(
                    {"path": self.path, "headers": dict(self.headers), "json": body}
                )
                if platform.status >= 300 or self._token() != platform.token:
                    return self._send(platform.status, {"message": "refused"})
                note = platform.add_note(self.path, platform.user, body["body"])
                self._send(platform.status, platform.render(note))

            def _edit(self, method: str) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
                platform.edits.append({"method": method, "path": self.path, "json": body})
                if self._token() != platform.token:
                    return self._send(401, {"message": "401 Unauthorized"})
                status, answer = platform.edit(method, self.path, body.get("body"))
                self._send(status, answer)

            def do_PUT(self) -> None:
                self._edit("PUT")

            def do_PATCH(self) -> None:
                self._edit("PATCH")

            def do_GET(self) -> None:
                platform.gets.append(self.path)
                if self._token() != platform.token:
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

    def add_note(self, thread: str, author: str, body: str, *, system: bool = False) -> Note:
        """A comment on the merge request whose notes/comments API path is ``thread``."""
        note = Note(len(self.notes) + 1, urlsplit(thread).path, author, body, system)
        self.notes.append(note)
        return note

    def thread(self, thread: str) -> list[Note]:
        return [n for n in self.notes if n.thread == thread]

    def render(self, note: Note) -> dict[str, Any]:
        if note.thread.startswith("/api/v4/"):
            author = {"id": hash(note.author) % 10_000, "username": note.author}
            return {"id": note.id, "body": note.body, "author": author, "system": note.system}
        return {"id": note.id, "body": note.body, "user": {"login": note.author}}

    def edit(self, method: str, path: str, body: str | None) -> tuple[int, Any]:
        gitlab, github = _GITLAB_NOTE.match(path), _GITHUB_COMMENT.match(path)
        if not ((method == "PUT" and gitlab) or (method == "PATCH" and github)):
            return 404, {"message": f"no route for {method} {unquote(path)}"}
        number = int(gitlab[2] if gitlab else github[1])  # type: ignore[index]
        note = next((n for n in self.notes if n.id == number), None)
        if note is None or (gitlab and note.thread != gitlab[1]):
            return 404, {"message": "404 Not found"}
        if self.edit_status is not None:
            return self.edit_status, {"message": "refused"}
        if note.author != self.user:  # both platforms refuse an edit of another's comment
            return 403, {"message": "403 Forbidden"}
        if not isinstance(body, str):
            return 400, {"message": "body is missing"}
        note.body = body
        return 200, self.render(note)

    def answer(self, raw_path: str) -> tuple[int, Any]:
        split = urlsplit(raw_path)
        path, query = split.path, dict(parse_qsl(split.query))
        if _USER.match(path):
            key = "username" if path.startswith("/api/v4/") else "login"
            return 200, {"id": hash(self.user) % 10_000, key: self.user}
        if _GITLAB_NOTES.match(path) or _GITHUB_COMMENTS.match(path):
            gitlab = path.startswith("/api/v4/")
            size, page = int(query.get("per_page", 20 if gitlab else 30)), int(query.get("page", 1))
            notes = [self.render(n) for n in self.thread(path)]
            if gitlab and query.get("sort", "desc") == "desc":  # GitLab's default: newest first
                notes.reverse()
            return 200, notes[(page - 1) * size : page * size]
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
