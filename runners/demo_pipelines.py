"""The Jenkinsfiles' part of ``make demo``: a merge request and a production approval, run
through the real Jenkinsfiles as Jenkins runs them.

Jenkins cannot be installed here, so the builds are rehearsed by the harness
the tests use (``tests/pipeline_harness``): Debian's groovy 2.4 runs the
Jenkinsfile, and its steps do the real work on the demo's client repository
and embedded AWS. Each zone is a Jenkins of its own, with only that zone's
agents and credentials (fake values, per credential id). The merge-request
zone runs the repository's ``Jenkinsfile``; the production zone runs
``pipelines/production.Jenkinsfile`` as ``runners jobs sync`` carries it in
the job. Both build a clone of the client in which only the offline
stand-in (the ``demo`` stack) is deployed to production: the production job
plans every stack of the environment, and ``runners init``'s template stacks
need the real AWS provider against AWS. The stages are printed as Jenkins' stage view lists them; each
build's console log is kept beside it.

The harness lives in the source checkout's ``tests/``, as the demo's stack
does; without groovy (``make demo`` installs Debian's package when it can)
this step says so in one line and is skipped.
"""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
import tomllib
from pathlib import Path
from types import ModuleType
from typing import Any

from runners.aws.embedded import EmbeddedAWS
from runners.jenkins import library

SOURCE = Path(__file__).resolve().parent.parent
HARNESS = SOURCE / "tests" / "pipeline_harness"
BRANCH = "feature/web-4"
DANA = ("Dana Developer", "dana@example.com")
OLIVIA = ("Olivia Ops", "olivia@example.com")
OFFLINE = {"demo"}  # the stacks that plan against the embedded AWS without the real provider


def harness() -> ModuleType | None:
    """The rehearsal harness from the source checkout, or None (said in one line) when it cannot run."""
    if not (HARNESS / "rehearse.groovy").is_file():
        print(f"skipped: no rehearsal harness at {HARNESS} (run the demo from a source checkout)")
        return None
    if str(SOURCE) not in sys.path:
        sys.path.insert(0, str(SOURCE))
    module = importlib.import_module("tests.pipeline_harness")
    missing = module.groovy_missing()
    if missing:
        print(f"skipped: {missing}")
        return None
    return module


class Client:
    """The demo's client repository, as the Git platform holds it."""

    def __init__(self, repo: Path) -> None:
        self.repo = repo

    @classmethod
    def rehearsal_clone(cls, repo: Path, where: Path) -> Client:
        """A clone of the client's production branch in which only the stacks that plan offline
        are deployed to production.

        ``runners init``'s template stacks need the real AWS provider pointed at AWS, so the
        production job, which plans every stack deployed to the environment, could not plan
        them here; the clone keeps them to development (``environments``) in one commit."""
        subprocess.run(
            ["git", "clone", "-q", "--branch", "production", str(repo), str(where)],
            check=True,
            capture_output=True,
        )
        client = cls(where)
        toml = where / "runners.toml"
        stacks = tomllib.loads(toml.read_text())["stacks"]
        online = sorted(
            n for n, t in stacks.items() if n not in OFFLINE and "environments" not in t
        )
        if online:
            text = toml.read_text()
            for name in online:
                header = f"[stacks.{name}]\n"
                text = text.replace(header, header + 'environments = ["development"]\n', 1)
            toml.write_text(text)
            print(
                f"(rehearsed on a clone, {where}: the stacks {', '.join(online)} need the real "
                "AWS provider against AWS, so there they are deployed to development only)"
            )
            client.git(
                "commit",
                "-q",
                "-am",
                "The Jenkins rehearsal: only the offline stand-in goes to production",
            )
        return client

    def git(self, *args: str, who: tuple[str, str] = OLIVIA) -> str:
        env = {
            **os.environ,
            "GIT_AUTHOR_NAME": who[0],
            "GIT_AUTHOR_EMAIL": who[1],
            "GIT_COMMITTER_NAME": who[0],
            "GIT_COMMITTER_EMAIL": who[1],
        }
        done = subprocess.run(
            ["git", *args], cwd=self.repo, env=env, check=True, capture_output=True, text=True
        )
        return done.stdout.strip()

    def open_merge_request(self) -> None:
        """Dana adds a fourth web server on a branch of production."""
        self.git("checkout", "-q", "-b", BRANCH, "production")
        tfvars = self.repo / "terraform/stacks/demo/production.tfvars"
        text = tfvars.read_text()
        start = text.rfind("servers = {")
        if start < 0:  # production still runs the stack's default servers
            text += '\nservers = {\n  web-1 = "small"\n  web-2 = "small"\n}\n'
            start = text.rfind("servers = {")
        end = text.index("\n}", start)
        tfvars.write_text(text[:end] + '\n  web-4 = "small"' + text[end:])
        self.git("commit", "-q", "-am", "A fourth web server for the spring sale", who=DANA)
        self.git("checkout", "-q", "production")

    def merge_request_ref(self, number: str) -> str:
        """What GitLab offers a merge-request build: the merge of the branch into its target."""
        self.git("checkout", "-q", "--detach", "production")
        self.git("merge", "-q", "--no-ff", "-m", f"Merge {BRANCH} into production", BRANCH)
        self.git("update-ref", f"refs/merge-requests/{number}/merge", "HEAD")
        self.git("checkout", "-q", "production")
        return f"refs/merge-requests/{number}/merge"

    def merge(self) -> str:
        self.git("merge", "-q", "--no-ff", "-m", f"Merge {BRANCH}", BRANCH)
        return self.git("rev-parse", "HEAD")


def show(result: Any) -> None:
    """The stage view, then the steps that decided the build, then where its log is."""
    print(result.stage_view())
    for call in result.runners_calls():
        command = call.command if len(call.command) <= 96 else call.command[:95] + "…"
        print(f"  sh  {command}  (exit {call.status})")
    for answer in result.of_type("input"):
        print(f"  input  {answer['message'].split('?')[0]}?  {answer['action']} by {answer['by']}")
    print(f"  console log: {Path(result.archive).parent / 'log'}")


def run(aws: EmbeddedAWS, repo: Path, out: Path) -> int:
    """Both builds; 0 when each ends as it should (SUCCESS), else 1."""
    h = harness()
    if h is None:
        return 0
    client = Client.rehearsal_clone(repo, out / "client-repo")
    repo = client.repo
    client.open_merge_request()

    print(f"\n$ Jenkins, merge-request zone: Dana's merge request !2 ({BRANCH} -> production)")
    mr_zone = h.Jenkins(out / "merge-request-zone", agents=["runners-plan"])
    mr_zone.add_credentials(**{"runners-aws-plan": "aws"})
    ref = client.merge_request_ref("2")
    planned = mr_zone.run(
        SOURCE / "Jenkinsfile",
        job="demo/merge-requests/terraform/MR-2",
        change=h.Change(id="2", target="production", branch=BRANCH, author="dana"),
        scm=h.Scm.at(
            repo,
            ref,
            refspecs=(
                "+refs/heads/production:refs/remotes/origin/production",
                f"+{ref}:refs/remotes/origin/MR-2",
            ),
        ),
        causes=[h.Cause.branch_event("Merge request !2 opened")],
    )
    show(planned)

    merged = client.merge()
    print(f"\n$ Jenkins, production zone: Olivia merged !2 ({merged[:12]}) and starts the build")
    production_zone = h.Jenkins(out / "production-zone", agents=["runners-apply"])
    production_zone.add_credentials(
        **{
            "runners-aws-plan": "aws",
            "runners-aws-write": "aws",
            "runners-plan-signing-key": "string",
            "runners-jenkins-token": "string",
        }
    )
    script = out / "production.Jenkinsfile"
    script.write_text(
        library.pipeline_script(
            "production.Jenkinsfile",
            library.ClientValues(str(repo), "production", "", "production"),
        )
    )
    applied = production_zone.run(
        script,
        job="demo/production/terraform",
        causes=[h.Cause.user("olivia", "Olivia Ops")],
        inputs=[h.Input.approve("alice", match="Apply demo to production")],
    )
    show(applied)
    print(f"(the job's script as `runners jobs sync` writes it: {script})")
    ok = planned.result == "SUCCESS" and applied.result == "SUCCESS"
    return 0 if ok else 1
