"""A Jenkins REST double: the endpoints runners calls, answering as Jenkins documents them.

Jenkins cannot be installed on these machines, so the jobs and trigger tests
run python-jenkins and requests against this threaded ``http.server`` on
127.0.0.1. It implements, with the JSON shapes of Jenkins' remote API:

- basic auth with API tokens: a wrong user or token is 401, no credentials or
  a missing permission is 403 (as with anonymous read disabled);
- ``crumbIssuer/api/json``; a POST that sends a crumb must send the issued one;
- items in folders (``job/a/job/b/``): ``api/json``, ``config.xml`` GET and
  POST, ``createItem?name=`` (400 if it exists, 404 if the folder does not);
- ``build`` and ``buildWithParameters`` (201 and a ``Location`` queue item;
  ``build`` on a parameterized job is 400, as in Jenkins);
- credentials stores (the Credentials and Folders plugins' REST API):
  ``credentials/store/system/`` at the root and ``credentials/store/folder/``
  on every folder and multibranch job, ``api/json`` listing the domains and
  ``domain/D/api/json`` the credentials' IDs (403 without the permission);
- ``build`` on a multibranch job: a scan request, recorded in ``scans``;
- ``queue/item/N/api/json``: ``why`` while waiting, then ``executable`` or
  ``cancelled`` once it left the queue;
- builds: ``N/api/json`` (``building``, ``result``, parameters, causes),
  ``N/consoleText`` and ``N/logText/progressiveText?start=`` (``X-Text-Size``,
  ``X-More-Data``);
- what ``runners apply`` reads of the build it runs in: the causes as Jenkins
  core exports them (a ``hudson.model.CauseAction`` whose ``causes`` hold a
  ``hudson.model.Cause$UserIdCause`` with ``userId``), one
  ``org.jenkinsci.plugins.workflow.support.steps.input.ApproverAction`` with
  ``userId`` per approved ``input`` step (pipeline-input-step), and a replay's
  ``org.jenkinsci.plugins.workflow.cps.replay.ReplayCause``; the ``tree=``
  filter is honoured as Jenkins does (only the named fields, plus ``_class``);
- 404 for anything else.

Stored configs are re-serialized the way Jenkins does it (XML 1.1 declaration,
``plugin="name@version"`` attributes), so the code under test must not compare
configs byte for byte. Builds advance one console line per progressiveText
request and queue items one step per poll, so tests are deterministic and
need no sleeps. ``declarative_run`` adds what a Declarative pipeline run puts
in a job's config (its triggers and a property tracker).
"""

from __future__ import annotations

import base64
import json
import re
import threading
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlsplit

CRUMB = "double-crumb-5f1e"
CRUMB_FIELD = "Jenkins-Crumb"
PERMISSIONS = frozenset({"read", "build", "configure", "create", "credentials"})

ITEM_CLASS = {
    "flow-definition": "org.jenkinsci.plugins.workflow.job.WorkflowJob",
    "project": "hudson.model.FreeStyleProject",
    "com.cloudbees.hudson.plugins.folder.Folder": "com.cloudbees.hudson.plugins.folder.Folder",
    "org.jenkinsci.plugins.workflow.multibranch.WorkflowMultiBranchProject": "org.jenkinsci.plugins.workflow.multibranch.WorkflowMultiBranchProject",
}
CONTAINERS = frozenset(
    {
        "com.cloudbees.hudson.plugins.folder.Folder",
        "org.jenkinsci.plugins.workflow.multibranch.WorkflowMultiBranchProject",
    }
)
# What Jenkins stamps on elements when it saves a config.
PLUGIN_OF_TAG = {
    "flow-definition": "workflow-job@1436.vfa_244484591f",
    "com.cloudbees.hudson.plugins.folder.Folder": "cloudbees-folder@6.955.v81e2a_35c08d3",
    "org.jenkinsci.plugins.workflow.multibranch.WorkflowMultiBranchProject": "workflow-multibranch@795.ve0cb_1f45ca_9a_",
}
PLUGIN_OF_CLASS = {
    "org.jenkinsci.plugins.workflow.cps.CpsScmFlowDefinition": "workflow-cps@3894.vd0f0248b_a_fc4",
    "hudson.plugins.git.GitSCM": "git@5.2.2",
    "io.jenkins.plugins.gitlabbranchsource.GitLabSCMSource": "gitlab-branch-source@704.vc7f1202b_3a_a_",
}


@dataclass
class Script:
    """How the next build of a job behaves."""

    console: list[str]
    result: str = "SUCCESS"
    queue_polls: int = 2  # queue-item reads before an executor takes it
    cancel: bool = False  # someone cancels it while it waits
    interloper: bool = False  # another build takes nextBuildNumber first


@dataclass
class Build:
    number: int
    lines: list[str]
    result: str
    params: dict[str, str]
    user: str | None  # None: no person started it
    emitted: int = 0
    causes: list[dict[str, Any]] | None = None  # default: the user's UserIdCause
    approvals: list[str] = field(default_factory=list)  # ApproverAction userIds, in order
    running: bool | None = None  # set: building regardless of the console

    @property
    def building(self) -> bool:
        if self.running is not None:
            return self.running
        return self.emitted < len(self.lines)

    def cause_list(self) -> list[dict[str, Any]]:
        if self.causes is not None:
            return self.causes
        if self.user is None:
            return []
        return [user_cause(self.user)]

    def text(self) -> bytes:
        return "".join(self.lines[: self.emitted]).encode("utf-8")


def user_cause(user: str) -> dict[str, Any]:
    return {
        "_class": "hudson.model.Cause$UserIdCause",
        "shortDescription": f"Started by user {user}",
        "userId": user,
        "userName": user,
    }


BRANCH_INDEXING = {
    "_class": "jenkins.branch.BranchIndexingCause",
    "shortDescription": "Branch indexing",
}
REPLAY = {
    "_class": "org.jenkinsci.plugins.workflow.cps.replay.ReplayCause",
    "shortDescription": "Replayed #6",
}


@dataclass
class Item:
    name: str
    config: str
    builds: dict[int, Build] = field(default_factory=dict)
    next_build_number: int = 1
    scripts: list[Script] = field(default_factory=list)

    @property
    def root(self) -> ET.Element:
        return ET.fromstring(re.sub(r"^<\?xml[^>]*\?>", "", self.config.strip()))  # noqa: S314

    def parameters(self) -> list[dict[str, Any]]:
        out = []
        for d in self.root.findall(
            "properties/hudson.model.ParametersDefinitionProperty/parameterDefinitions/*"
        ):
            default = d.findtext("defaultValue")
            if default is None and d.find("choices") is not None:
                default = (d.findall("choices/a/string") or [ET.Element("x")])[0].text
            out.append(
                {
                    "_class": f"hudson.model.{d.tag.rsplit('.', 1)[-1]}",
                    "name": d.findtext("name"),
                    "type": d.tag.rsplit(".", 1)[-1],
                    "defaultParameterValue": {"name": d.findtext("name"), "value": default or ""},
                }
            )
        return out


@dataclass
class QueueItem:
    id: int
    job: str
    params: dict[str, str]
    user: str
    script: Script
    polls: int = 0
    build: Build | None = None
    cancelled: bool = False


def jenkins_stores(config: str) -> str:
    """The config as Jenkins would write it back: 1.1 declaration, plugin attributes."""
    root = ET.fromstring(re.sub(r"^\s*<\?xml[^>]*\?>", "", config))  # noqa: S314
    for el in root.iter():
        plugin = (
            PLUGIN_OF_TAG.get(el.tag) if el is root else PLUGIN_OF_CLASS.get(el.get("class", ""))
        )
        if plugin and "plugin" not in el.attrib:
            el.set("plugin", plugin)
    return "<?xml version='1.1' encoding='UTF-8'?>\n" + ET.tostring(root, encoding="unicode") + "\n"


class JenkinsDouble:
    def __init__(self) -> None:
        self.users: dict[str, tuple[str, frozenset[str]]] = {
            "runner": ("11aa22bb33cc44dd55ee66ff77889900aa", PERMISSIONS),
            "viewer": ("11ffeeddccbbaa99887766554433221100", frozenset({"read"})),
        }
        self.items: dict[str, Item] = {}
        self.queue: dict[int, QueueItem] = {}
        self.requests: list[tuple[str, str]] = []
        # Credential IDs by store ("" = the global store) and domain ("_" = global domain).
        self.credentials: dict[str, dict[str, list[str]]] = {"": {"_": []}}
        self.scans: list[str] = []
        self._next_queue_id = 412
        self._lock = threading.RLock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle --------------------------------------------------------

    def start(self) -> JenkinsDouble:
        handler = type("Handler", (_Handler,), {"double": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the Jenkins double is not started")
        return f"http://127.0.0.1:{self._server.server_address[1]}/"

    # -- arranging --------------------------------------------------------

    def add_item(self, name: str, config: str) -> None:
        with self._lock:
            self.items[name] = Item(name, jenkins_stores(config))

    def add_folder(self, name: str, description: str = "") -> None:
        self.add_item(
            name,
            "<com.cloudbees.hudson.plugins.folder.Folder><description>"
            f"{description}</description><properties/></com.cloudbees.hudson.plugins.folder.Folder>",
        )

    def running_build(
        self,
        job: str,
        started_by: str | None,
        approvals: list[str] | None = None,
        causes: list[dict[str, Any]] | None = None,
        running: bool = True,
    ) -> str:
        """A pipeline build in ``job`` (made with its folders if needed); its URL."""
        with self._lock:
            parts = job.split("/")
            for depth in range(1, len(parts)):
                folder = "/".join(parts[:depth])
                if folder not in self.items:
                    self.items[folder] = Item(
                        folder,
                        jenkins_stores(
                            "<com.cloudbees.hudson.plugins.folder.Folder><properties/>"
                            "</com.cloudbees.hudson.plugins.folder.Folder>"
                        ),
                    )
            if job not in self.items:
                self.items[job] = Item(
                    job,
                    jenkins_stores("<flow-definition><properties/><actions/></flow-definition>"),
                )
            item = self.items[job]
            build = Build(
                item.next_build_number,
                ["Started\n"],
                "SUCCESS",
                {},
                started_by,
                causes=causes,
                approvals=list(approvals or []),
                running=running,
            )
            item.builds[build.number] = build
            item.next_build_number += 1
            return f"{self.url}{_job_path(job)}{build.number}/"

    def add_credentials(self, context: str, *ids: str, domain: str = "_") -> None:
        """Store credentials (only their IDs matter here) in a folder, or globally with ""."""
        with self._lock:
            self.credentials.setdefault(context, {}).setdefault(domain, []).extend(ids)

    def script(self, job: str, script: Script) -> None:
        with self._lock:
            self.items[job].scripts.append(script)

    def config(self, name: str) -> str:
        with self._lock:
            return self.items[name].config

    def edit_config(self, job: str, change: Callable[[str], str]) -> None:
        """An edit made in Jenkins (Configure), stored as Jenkins stores it."""
        with self._lock:
            self.items[job].config = jenkins_stores(change(self.items[job].config))

    def add_property(self, job: str, xml: str) -> None:
        """A job property someone or something else put into the job."""
        with self._lock:
            item = self.items[job]
            root = item.root
            props = _child(root, "properties")
            props.append(ET.fromstring(xml))  # noqa: S314
            item.config = jenkins_stores(ET.tostring(root, encoding="unicode"))

    def declarative_run(self, job: str, cron: str) -> None:
        """What a Declarative run leaves in the job: its triggers and the property tracker."""
        with self._lock:
            item = self.items[job]
            root = item.root
            props = _child(root, "properties")
            trig = ET.SubElement(
                props, "org.jenkinsci.plugins.workflow.job.properties.PipelineTriggersJobProperty"
            )
            spec = ET.SubElement(
                ET.SubElement(ET.SubElement(trig, "triggers"), "hudson.triggers.TimerTrigger"),
                "spec",
            )
            spec.text = cron
            actions = _child(root, "actions")
            tracker = ET.SubElement(
                actions,
                "org.jenkinsci.plugins.pipeline.modeldefinition.actions.DeclarativeJobPropertyTrackerAction",
            )
            ET.SubElement(
                ET.SubElement(tracker, "triggers"), "string"
            ).text = "hudson.triggers.TimerTrigger"
            item.config = jenkins_stores(ET.tostring(root, encoding="unicode"))

    # -- answering --------------------------------------------------------

    def user_for(self, header: str | None) -> tuple[int, str | None]:
        """(0, user) when authenticated, else the status to answer with."""
        if not header or not header.startswith("Basic "):
            return 403, None
        user, _, token = base64.b64decode(header[6:]).decode().partition(":")
        if user not in self.users or self.users[user][0] != token:
            return 401, None
        return 0, user

    def allowed(self, user: str, permission: str) -> bool:
        return permission in self.users[user][1]

    def next_queue_id(self) -> int:
        self._next_queue_id += 1
        return self._next_queue_id


class _Handler(BaseHTTPRequestHandler):
    double: JenkinsDouble

    def log_message(self, format: str, *args: Any) -> None:
        return None

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    # -- plumbing ---------------------------------------------------------

    def _send(
        self,
        status: int,
        body: bytes | str | dict[str, Any] = b"",
        headers: dict[str, str] | None = None,
    ) -> None:
        if isinstance(body, dict):
            data = json.dumps(body).encode()
            ctype = "application/json;charset=utf-8"
        elif isinstance(body, str):
            data = body.encode()
            ctype = (
                "application/xml;charset=utf-8"
                if body.startswith("<?xml")
                else "text/plain;charset=utf-8"
            )
        else:
            data, ctype = body, "text/html;charset=utf-8"
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _handle(self, method: str) -> None:
        d = self.double
        split = urlsplit(self.path)
        query = dict(parse_qsl(split.query, keep_blank_values=True))
        with d._lock:
            d.requests.append((method, self.path))
            status, user = d.user_for(self.headers.get("Authorization"))
            if status:
                message = (
                    "Invalid password/token for user"
                    if status == 401
                    else "Authentication required"
                )
                self._send(status, f"<html><body>{message}</body></html>".encode())
                return
            if user is None:  # user_for answers a status whenever it finds no user
                raise RuntimeError("no user after authentication")
            if not d.allowed(user, "read"):
                self._send(403, b"<html>missing Overall/Read</html>")
                return
            if method == "POST" and self.headers.get(CRUMB_FIELD) not in (None, CRUMB):
                self._send(403, b"<html>No valid crumb was included in the request</html>")
                return
            job, rest = _split_job(split.path)
            try:
                self._route(method, job, rest, query, user)
            except _Answer as answer:
                self._send(answer.status, answer.body)

    def _route(
        self, method: str, job: str, rest: list[str], query: dict[str, str], user: str
    ) -> None:
        d = self.double
        if not job:
            if rest == ["crumbIssuer", "api", "json"] and method == "GET":
                return self._send(
                    200,
                    {
                        "_class": "hudson.security.csrf.DefaultCrumbIssuer",
                        "crumb": CRUMB,
                        "crumbRequestField": CRUMB_FIELD,
                    },
                )
            if rest == ["api", "json"] and method == "GET":
                return self._send(
                    200, {"_class": "hudson.model.Hudson", "jobs": self._children("")}
                )
            if rest == ["createItem"] and method == "POST":
                return self._create("", query, user)
            if rest[:3] == ["credentials", "store", "system"] and method == "GET":
                return self._credentials("", rest[3:], user)
            if len(rest) == 5 and rest[:2] == ["queue", "item"] and rest[3:] == ["api", "json"]:
                return self._queue_item(int(rest[2]) if rest[2].isdigit() else -1)
            raise _Answer(404)
        item = d.items.get(job)
        if item is None:
            raise _Answer(404)
        if rest == ["api", "json"] and method == "GET":
            return self._send(200, self._item_info(item))
        if rest == ["config.xml"]:
            if not d.allowed(user, "configure"):
                raise _Answer(403)
            if method == "GET":
                return self._send(200, item.config)
            item.config = self._parsed_config(self._body())
            return self._send(200)
        if rest == ["createItem"] and method == "POST":
            return self._create(job, query, user)
        if item.root.tag in CONTAINERS:
            if rest[:3] == ["credentials", "store", "folder"] and method == "GET":
                return self._credentials(job, rest[3:], user)
            if rest == ["build"] and method == "POST" and "MultiBranch" in item.root.tag:
                if not d.allowed(user, "build"):
                    raise _Answer(403)
                d.scans.append(job)
                return self._send(200)
        if rest in (["build"], ["buildWithParameters"]) and method == "POST":
            return self._build(item, rest[0], query, user)
        if rest and rest[0].isdigit() and int(rest[0]) in item.builds:
            return self._build_page(item.builds[int(rest[0])], item, rest[1:], query)
        raise _Answer(404)

    # -- endpoints --------------------------------------------------------

    def _children(self, folder: str) -> list[dict[str, Any]]:
        prefix = f"{folder}/" if folder else ""
        out = []
        for name, child in self.double.items.items():
            short = name[len(prefix) :]
            if name.startswith(prefix) and short and "/" not in short:
                root = child.root
                out.append(
                    {
                        "_class": ITEM_CLASS.get(root.tag, "hudson.model.Item"),
                        "name": short,
                        "url": f"{self.double.url}{_job_path(name)}",
                        "description": root.findtext("description") or "",
                    }
                )
        return out

    def _credentials(self, context: str, rest: list[str], user: str) -> None:
        if not self.double.allowed(user, "credentials"):
            raise _Answer(403)
        domains = self.double.credentials.get(context) or {"_": []}
        if rest == ["api", "json"]:
            return self._send(
                200,
                {
                    "_class": "com.cloudbees.plugins.credentials.CredentialsStoreAction",
                    "domains": {
                        name: {
                            "_class": "com.cloudbees.plugins.credentials.CredentialsStoreAction$DomainWrapper",
                            "urlName": name,
                        }
                        for name in domains
                    },
                },
            )
        if len(rest) == 4 and rest[0] == "domain" and rest[2:] == ["api", "json"]:
            if rest[1] not in domains:
                raise _Answer(404)
            return self._send(
                200,
                {
                    "_class": "com.cloudbees.plugins.credentials.CredentialsStoreAction$DomainWrapper",
                    "credentials": [{"id": i} for i in domains[rest[1]]],
                },
            )
        raise _Answer(404)

    def _item_info(self, item: Item) -> dict[str, Any]:
        root = item.root
        info: dict[str, Any] = {
            "_class": ITEM_CLASS.get(root.tag, "hudson.model.Item"),
            "name": item.name.rsplit("/", 1)[-1],
            "fullName": item.name,
            "url": f"{self.double.url}{_job_path(item.name)}",
            "description": root.findtext("description") or "",
        }
        if root.tag in CONTAINERS:
            info["jobs"] = self._children(item.name)
            return info
        params = item.parameters()
        info.update(
            {
                "buildable": root.findtext("disabled") != "true",
                "nextBuildNumber": item.next_build_number,
                "builds": [
                    {"number": n, "url": f"{info['url']}{n}/"}
                    for n in sorted(item.builds, reverse=True)
                ],
                "property": [
                    {
                        "_class": "hudson.model.ParametersDefinitionProperty",
                        "parameterDefinitions": params,
                    }
                ]
                if params
                else [],
            }
        )
        return info

    def _parsed_config(self, body: bytes) -> str:
        try:
            return jenkins_stores(body.decode("utf-8"))
        except (ET.ParseError, UnicodeDecodeError) as exc:
            raise _Answer(400, f"<html>Failed to parse config.xml: {exc}</html>".encode()) from None

    def _create(self, folder: str, query: dict[str, str], user: str) -> None:
        d = self.double
        if not d.allowed(user, "create"):
            raise _Answer(403)
        if folder and (folder not in d.items or d.items[folder].root.tag not in CONTAINERS):
            raise _Answer(404)
        name = query.get("name", "")
        full = f"{folder}/{name}" if folder else name
        if not name or full in d.items:
            raise _Answer(400, f"<html>A job already exists with the name '{name}'</html>".encode())
        d.items[full] = Item(full, self._parsed_config(self._body()))
        self._send(200)

    def _build(self, item: Item, endpoint: str, query: dict[str, str], user: str) -> None:
        d = self.double
        if not d.allowed(user, "build"):
            raise _Answer(403)
        declared = {p["name"]: p["defaultParameterValue"]["value"] for p in item.parameters()}
        if declared and endpoint == "build":
            raise _Answer(400, b"<html>Nothing is submitted</html>")
        if not declared and endpoint == "buildWithParameters":
            raise _Answer(500, b"<html>This job is not parameterized</html>")
        script = (
            item.scripts.pop(0) if item.scripts else Script(["Started\n", "Finished: SUCCESS\n"])
        )
        params = {k: query.get(k, v) for k, v in declared.items()}  # undeclared ones are dropped
        number = d.next_queue_id()
        d.queue[number] = QueueItem(number, item.name, params, user, script)
        self._send(201, headers={"Location": f"{d.url}queue/item/{number}/"})

    def _queue_item(self, number: int) -> None:
        d = self.double
        entry = d.queue.get(number)
        if entry is None:
            raise _Answer(404)
        item = d.items[entry.job]
        task = {
            "_class": ITEM_CLASS["flow-definition"],
            "name": item.name.rsplit("/", 1)[-1],
            "url": f"{d.url}{_job_path(item.name)}",
        }
        base = {
            "id": number,
            "task": task,
            "url": f"queue/item/{number}/",
            "blocked": False,
            "stuck": False,
            "params": "".join(f"\n{k}={v}" for k, v in entry.params.items()),
        }
        if entry.build is None and not entry.cancelled:
            entry.polls += 1
            if entry.polls <= entry.script.queue_polls:
                why = (
                    "In the quiet period. Expires in 4.9 sec"
                    if entry.polls == 1
                    else "Waiting for next available executor on \u2018runners\u2019"
                )
                return self._send(
                    200,
                    {
                        "_class": "hudson.model.Queue$WaitingItem",
                        **base,
                        "buildable": entry.polls > 1,
                        "why": why,
                    },
                )
            if entry.script.cancel:
                entry.cancelled = True
            else:
                if entry.script.interloper:
                    other = Build(
                        item.next_build_number, ["someone else's build\n"], "SUCCESS", {}, "timer"
                    )
                    other.emitted = 1
                    item.builds[other.number] = other
                    item.next_build_number += 1
                entry.build = Build(
                    item.next_build_number,
                    entry.script.console,
                    entry.script.result,
                    entry.params,
                    entry.user,
                )
                item.builds[entry.build.number] = entry.build
                item.next_build_number += 1
        executable = None
        if entry.build is not None:
            executable = {
                "_class": "org.jenkinsci.plugins.workflow.job.WorkflowRun",
                "number": entry.build.number,
                "url": f"{d.url}{_job_path(item.name)}{entry.build.number}/",
            }
        self._send(
            200,
            {
                "_class": "hudson.model.Queue$LeftItem",
                **base,
                "buildable": False,
                "cancelled": entry.cancelled,
                "executable": executable,
                "why": None,
            },
        )

    def _build_page(self, build: Build, item: Item, rest: list[str], query: dict[str, str]) -> None:
        url = f"{self.double.url}{_job_path(item.name)}{build.number}/"
        if rest == ["api", "json"]:
            data = {
                "_class": "org.jenkinsci.plugins.workflow.job.WorkflowRun",
                "number": build.number,
                "url": url,
                "fullDisplayName": f"{item.name} #{build.number}",
                "building": build.building,
                "result": None if build.building else build.result,
                "actions": [
                    {
                        "_class": "hudson.model.ParametersAction",
                        "parameters": [{"name": k, "value": v} for k, v in build.params.items()],
                    },
                    {"_class": "hudson.model.CauseAction", "causes": build.cause_list()},
                    {"_class": "org.jenkinsci.plugins.workflow.job.views.FlowGraphAction"},
                    *(
                        {
                            "_class": "org.jenkinsci.plugins.workflow.support.steps.input.ApproverAction",
                            "userId": approver,
                        }
                        for approver in build.approvals
                    ),
                ],
            }
            tree = query.get("tree")
            return self._send(200, prune(data, parse_tree(tree)) if tree else data)
        if rest == ["consoleText"]:
            return self._send(200, build.text().decode())
        if rest == ["logText", "progressiveText"]:
            if build.building:
                build.emitted += 1
            text = build.text()
            start = int(query.get("start", "0") or 0)
            headers = {"X-Text-Size": str(len(text))}
            if build.building:
                headers["X-More-Data"] = "true"
            return self._send(200, text[start:], headers)
        raise _Answer(404)


def parse_tree(spec: str) -> dict[str, Any]:
    """Jenkins' ``tree=a,b[c,d[e]]`` as nested dicts: field -> sub-spec (empty: the whole value)."""
    out: dict[str, Any] = {}
    stack = [out]
    name = ""
    for ch in spec + ",":
        if ch in ",[]":
            if name:
                stack[-1][name] = {}
            if ch == "[":
                stack.append(stack[-1][name])
            elif ch == "]":
                stack.pop()
            name = ""
        else:
            name += ch
    return out


def prune(value: Any, spec: dict[str, Any]) -> Any:
    """What Jenkins answers for a tree: only the named fields of each object, and its _class."""
    if not spec:
        return value
    if isinstance(value, list):
        return [prune(v, spec) for v in value]
    if isinstance(value, dict):
        kept = {k: prune(v, spec[k]) for k, v in value.items() if k in spec}
        if "_class" in value:
            kept["_class"] = value["_class"]
        return kept
    return value


class _Answer(Exception):
    def __init__(self, status: int, body: bytes = b"") -> None:
        super().__init__(status)
        self.status = status
        self.body = body or f"<html><body>HTTP {status}</body></html>".encode()


def _child(root: ET.Element, tag: str) -> ET.Element:
    """``root``'s child ``tag``, made when a config lacks it."""
    found = root.find(tag)
    return found if found is not None else ET.SubElement(root, tag)


def _split_job(path: str) -> tuple[str, list[str]]:
    """``/job/a/job/b/config.xml`` -> (``a/b``, [``config.xml``])."""
    parts = [unquote(p) for p in path.strip("/").split("/") if p]
    names = []
    while len(parts) >= 2 and parts[0] == "job":
        names.append(parts[1])
        parts = parts[2:]
    return "/".join(names), parts


def _job_path(name: str) -> str:
    return "".join(f"job/{quote(p, safe='')}/" for p in name.split("/"))
