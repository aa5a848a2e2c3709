"""Set up a Jenkins build, run its Jenkinsfile through Debian's groovy, read what happened.

``Jenkins`` stands for one controller: its agents (labels), its credentials
(fake values made per id), the lockable resources and the jobs' milestones
that concurrent builds share. ``Jenkins.run`` rehearses one build and returns
a ``BuildResult``; ``Jenkins.start`` does the same in the background.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from tests.pipeline_harness.result import BuildResult

REHEARSE = Path(__file__).with_name("rehearse.groovy")
JENKINS_URL = "https://jenkins.example.invalid/"
MISSING_GROOVY = "groovy is not installed (Debian package 'groovy'; .ci/run installs it)"
ALL_BRANCHES = ("+refs/heads/*:refs/remotes/origin/*",)
# Never handed to a build: its keys come from withCredentials, its identity from the spec.
AGENT_ENV_DROPPED = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "TERM",
    "COLUMNS",
    "RUNNERS_CONFIG",
    "GIT_DIR",
    "GIT_WORK_TREE",
)


class HarnessError(AssertionError):
    """The Jenkinsfile used something the harness does not emulate, or the scenario was incomplete."""


def groovy_missing() -> str | None:
    """Why the harness cannot run here, or None when groovy and Java are present."""
    if shutil.which("groovy") is None or shutil.which("java") is None:
        return MISSING_GROOVY
    return None


@functools.cache
def harness_classpath() -> str:
    """rehearse.groovy compiled once by groovyc (saves a second a build), with Groovy's own jars."""
    source = REHEARSE.read_bytes()
    cache = (
        Path(os.environ.get("XDG_CACHE_HOME") or tempfile.gettempdir()) / "runners-pipeline-harness"
    )
    classes = cache / hashlib.sha256(source).hexdigest()[:16]
    if not classes.is_dir():
        cache.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=cache))
        done = subprocess.run(
            ["groovyc", "-d", str(staging), str(REHEARSE)],
            env={**os.environ, "JAVA_HOME": java_home()},
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            raise HarnessError(f"groovyc could not compile {REHEARSE}:\n{done.stdout}{done.stderr}")
        with contextlib.suppress(OSError):  # another process may have compiled it meanwhile
            staging.rename(classes)
    groovy_lib = Path(os.path.realpath(shutil.which("groovy") or "groovy")).parent.parent / "lib"
    return os.pathsep.join([str(classes), str(groovy_lib / "*")])


def java_home() -> str:
    """Debian's groovy wrapper wants a default-java link that is often absent: use the java on PATH."""
    java = shutil.which("java")
    if java is None:
        raise HarnessError(MISSING_GROOVY)
    return str(Path(os.path.realpath(java)).parent.parent)


# -- what a build is made of -----------------------------------------------------------------
class Cause:
    """Build causes as ``currentBuild.getBuildCauses()`` returns them."""

    @staticmethod
    def user(user_id: str, name: str | None = None) -> dict[str, Any]:
        return {
            "_class": "hudson.model.Cause$UserIdCause",
            "shortDescription": f"Started by user {name or user_id}",
            "userId": user_id,
            "userName": name or user_id,
        }

    @staticmethod
    def branch_event(what: str = "Push event") -> dict[str, Any]:
        return {"_class": "jenkins.branch.BranchEventCause", "shortDescription": what}

    @staticmethod
    def branch_indexing() -> dict[str, Any]:
        return {
            "_class": "jenkins.branch.BranchIndexingCause",
            "shortDescription": "Branch indexing",
        }

    @staticmethod
    def scm_change() -> dict[str, Any]:
        """A push or merge seen by the job's SCM trigger (a webhook or polling)."""
        return {
            "_class": "hudson.triggers.SCMTrigger$SCMTriggerCause",
            "shortDescription": "Started by an SCM change",
        }

    @staticmethod
    def timer() -> dict[str, Any]:
        return {
            "_class": "hudson.triggers.TimerTrigger$TimerTriggerCause",
            "shortDescription": "Started by timer",
        }


class Input:
    """Scripted answers to ``input`` steps, taken in order.

    ``match`` is a regex the input's message must contain; ``after`` a file the
    answer waits for (so a test can hold a build at its input while another runs).
    """

    @staticmethod
    def approve(
        by: str, *, match: str | None = None, after: Path | None = None, **parameters: Any
    ) -> dict[str, Any]:
        return {"action": "approve", "by": by, "parameters": parameters, **_where(match, after)}

    @staticmethod
    def abort(by: str, *, match: str | None = None, after: Path | None = None) -> dict[str, Any]:
        return {"action": "abort", "by": by, **_where(match, after)}

    @staticmethod
    def time_out(*, match: str | None = None) -> dict[str, Any]:
        """Nobody answers: the timeout around the input fires."""
        return {"action": "timeout", **_where(match, None)}


def _where(match: str | None, after: Path | None) -> dict[str, Any]:
    return {"message": match, "after": str(after) if after else None}


@dataclass(frozen=True)
class Change:
    """A merge request, as the branch source plugin describes it in CHANGE_* variables."""

    id: str
    target: str
    branch: str
    author: str = "dana"
    title: str = "A change"
    url: str | None = None

    def env(self) -> dict[str, str]:
        env = {
            "BRANCH_NAME": f"MR-{self.id}",
            "CHANGE_ID": self.id,
            "CHANGE_TARGET": self.target,
            "CHANGE_BRANCH": self.branch,
            "CHANGE_AUTHOR": self.author,
            "CHANGE_TITLE": self.title,
        }
        if self.url:
            env["CHANGE_URL"] = self.url
        return env


@dataclass(frozen=True)
class Scm:
    """What ``checkout scm`` fetches: a repository, the refspecs, the build's commit."""

    url: str
    commit: str
    branch: str | None = None  # GIT_BRANCH, e.g. origin/production
    refspecs: tuple[str, ...] = ALL_BRANCHES

    @classmethod
    def at(cls, repo: Path, ref: str, **kwargs: Any) -> Scm:
        commit = subprocess.run(
            ["git", "rev-parse", f"{ref}^{{commit}}"],
            cwd=repo,
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
        return cls(url=str(repo), commit=commit, **kwargs)


def fake_credential(cred_id: str, kind: str) -> dict[str, Any]:
    """Fake values for one credential id: distinct per id, recognisable in a leak."""
    tag = hashlib.sha256(cred_id.encode()).hexdigest()
    values: dict[str, str]
    if kind == "aws":
        values = {"access_key": "AKIA" + tag[:16].upper(), "secret_key": f"fake-secret-{tag[:32]}"}
    elif kind == "string":
        values = {"secret": f"fake-token-{tag[:24]}"}
    elif kind == "usernamePassword":
        values = {"username": f"user-{tag[:6]}", "password": f"fake-password-{tag[:20]}"}
    elif kind == "sshUserPrivateKey":
        values = {
            "username": "git",
            "private_key": f"-----BEGIN FAKE KEY-----\n{tag}\n-----END FAKE KEY-----\n",
            "passphrase": "",
        }
    else:
        raise HarnessError(f"credential {cred_id}: kind {kind!r} is not emulated")
    return {"kind": kind, "values": values}


# -- the controller --------------------------------------------------------------------------
class RunningBuild:
    """A build rehearsing in the background; ``wait()`` returns its result."""

    def __init__(
        self,
        proc: subprocess.Popen[str],
        job: str,
        number: int,
        build_dir: Path,
        echo: TextIO | None,
        timeout: float,
    ) -> None:
        self.proc = proc
        self.job = job
        self.number = number
        self.build_dir = build_dir
        self.deadline = time.monotonic() + timeout
        self._lines: list[str] = []
        self._echo = echo
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._lines.append(line)
            if self._echo is not None:
                self._echo.write(line)
                self._echo.flush()

    @property
    def events(self) -> list[dict[str, Any]]:
        path = self.build_dir / "events.jsonl"
        if not path.exists():
            return []
        lines = path.read_text().splitlines()
        return [json.loads(line) for line in lines if line.endswith("}")]

    def wait_for(self, event_type: str, timeout: float = 120) -> dict[str, Any]:
        """Blocks until the build records an event of this type (e.g. "input_waiting")."""
        until = time.monotonic() + timeout
        while time.monotonic() < until:
            found = [e for e in self.events if e["type"] == event_type]
            if found:
                return found[-1]
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        raise HarnessError(f"{self.job} #{self.number} never recorded {event_type!r}")

    def wait(self) -> BuildResult:
        try:
            self.proc.wait(timeout=max(1.0, self.deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise HarnessError(
                f"{self.job} #{self.number}: still running at the test's timeout"
            ) from None
        self._reader.join()
        log = "".join(self._lines)
        (self.build_dir / "log").write_text(log)
        events_file = self.build_dir / "events.jsonl"
        if self.proc.returncode == 3:
            errors = [
                json.loads(line)["message"]
                for line in events_file.read_text().splitlines()
                if '"harness_error"' in line
            ]
            raise HarnessError("; ".join(errors) or log)
        if self.proc.returncode != 0:
            raise HarnessError(f"the harness failed (exit {self.proc.returncode}):\n{log}")
        return BuildResult.read(self.job, self.number, events_file, log, self.build_dir / "archive")


class Jenkins:
    """One Jenkins controller under ``root``: agents, credentials, locks, jobs and their builds."""

    def __init__(
        self,
        root: Path,
        *,
        agents: Iterable[str] = ("runners",),
        agent_env: Mapping[str, str] | None = None,
    ) -> None:
        reason = groovy_missing()
        if reason:
            raise HarnessError(reason)
        self.root = root
        self.agents = list(agents)
        self.agent_env = dict(agent_env) if agent_env is not None else None
        self.credentials: dict[str, dict[str, Any]] = {}
        self._numbers: dict[str, int] = {}
        root.mkdir(parents=True, exist_ok=True)

    @staticmethod
    def default_agent_env() -> dict[str, str]:
        """This process's environment, as an agent's: the venv's ``runners`` first on PATH, no AWS keys."""
        env = {k: v for k, v in os.environ.items() if k not in AGENT_ENV_DROPPED}
        env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
        return env

    def add_credentials(self, **kinds: str) -> None:
        """``add_credentials(**{"runners-aws-read": "aws"})``: fake values are made per id."""
        for cred_id, kind in kinds.items():
            self.credentials[cred_id] = fake_credential(cred_id, kind)

    def secrets(self, *cred_ids: str) -> list[str]:
        """The fake secret values of these credentials (all when none named), to look for leaks."""
        ids = cred_ids or tuple(self.credentials)
        return [
            v
            for i in ids
            for k, v in self.credentials[i]["values"].items()
            if k != "username" and v
        ]

    def start(
        self,
        jenkinsfile: Path,
        *,
        job: str = "job",
        scm: Scm | None = None,
        branch: str | None = None,
        change: Change | None = None,
        causes: Iterable[Mapping[str, Any]] = (),
        params: Mapping[str, Any] | None = None,
        inputs: Iterable[Mapping[str, Any]] = (),
        env: Mapping[str, str] | None = None,
        echo: TextIO | None = None,
        timeout: float = 900,
    ) -> RunningBuild:
        number = self._numbers.get(job, 0) + 1
        self._numbers[job] = number
        job_dir = self.root / "jobs" / job.replace("/", "_")
        build_dir = job_dir / "builds" / str(number)
        if build_dir.exists():
            shutil.rmtree(build_dir)
        for sub in ("archive", "stashes"):
            (build_dir / sub).mkdir(parents=True)
        build_url = f"{JENKINS_URL}job/{'/job/'.join(job.split('/'))}/{number}/"
        jenkins_env = {
            "JENKINS_URL": JENKINS_URL,
            "JOB_NAME": job,
            "JOB_BASE_NAME": job.rsplit("/", maxsplit=1)[-1],
            "JOB_URL": build_url.rsplit("/", 2)[0] + "/",
            "BUILD_NUMBER": str(number),
            "BUILD_ID": str(number),
            "BUILD_DISPLAY_NAME": f"#{number}",
            "BUILD_TAG": f"jenkins-{job.replace('/', '-')}-{number}",
            "BUILD_URL": build_url,
        }
        if branch:
            jenkins_env["BRANCH_NAME"] = branch
        if change:
            jenkins_env.update(change.env())
        jenkins_env.update(env or {})
        spec = {
            "jenkinsfile": str(jenkinsfile),
            "job": job,
            "number": number,
            "env": jenkins_env,
            "agent_env": self.agent_env or self.default_agent_env(),
            "agents": self.agents,
            "params": dict(params or {}),
            "causes": [dict(c) for c in causes],
            "inputs": [dict(i) for i in inputs],
            "credentials": self.credentials,
            "scm": None
            if scm is None
            else {
                "url": scm.url,
                "commit": scm.commit,
                "branch": scm.branch,
                "refspecs": list(scm.refspecs),
            },
            "events": str(build_dir / "events.jsonl"),
            "dirs": {
                "workspaces": str(self.root / "workspace"),
                "locks": str(self.root / "locks"),
                "job": str(job_dir),
                "stashes": str(build_dir / "stashes"),
                "archive": str(build_dir / "archive"),
            },
        }
        spec_file = build_dir / "spec.json"
        spec_file.write_text(json.dumps(spec, indent=1))
        proc = subprocess.Popen(
            [
                str(Path(java_home()) / "bin" / "java"),
                "-cp",
                harness_classpath(),
                "rehearse",
                str(spec_file),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
            encoding="utf-8",
            env={
                "PATH": os.environ.get("PATH", ""),
                "JAVA_HOME": java_home(),
                "HOME": os.environ.get("HOME", "/tmp"),
                "LANG": "C.UTF-8",
            },
        )
        return RunningBuild(proc, job, number, build_dir, echo, timeout)

    def run(self, jenkinsfile: Path, **kwargs: Any) -> BuildResult:
        """Rehearse one build to its end; see ``start`` for the arguments."""
        return self.start(jenkinsfile, **kwargs).wait()
