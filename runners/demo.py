"""``make demo``: the main job, end to end, on the embedded defaults.

It starts the embedded AWS (a moto server on 127.0.0.1), makes a client
repository with the demo stack, walks a merge request through plan and
review, and prints where everything is. Every step is the real ``runners``
CLI, printed as a command line you can run again by hand.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

from runners import demo_client
from runners.aws.embedded import EmbeddedAWS

SOURCE = Path(__file__).resolve().parent.parent
OUTPUT = Path(os.environ.get("RUNNERS_DEMO_DIR", SOURCE / "demo-output")).resolve()
REGION, BACKUP_REGION = "eu-west-1", "eu-central-1"
BUCKET = "demo-production-terraform-state"  # runners init names it; runners bootstrap makes it
# What Jenkins binds in the production zone only (never in merge-request builds).
SIGNING_KEY = "demo-only-plan-signing-key-not-a-secret"
DANA = "Dana Developer <dana@example.com>"
BOB = "Bob Builder <bob@example.com>"


class Demo:
    def __init__(self, aws: EmbeddedAWS, out: Path) -> None:
        self.aws = aws
        self.out = out
        self.repo = out / "client-repo"
        self.env = {**os.environ, **aws.environ(), "PYTHONUNBUFFERED": "1"}
        for var in (
            "AWS_PROFILE",
            "RUNNERS_CONFIG",
            "RUNNERS_TERRAFORM",
            "CHANGE_ID",
            "CHANGE_TARGET",
        ):
            self.env.pop(var, None)

    # -- helpers ---------------------------------------------------------
    def say(self, text: str) -> None:
        print(f"\n\033[1m## {text}\033[0m", flush=True)

    def git(self, *args: str, author: str = "Olivia Ops <olivia@example.com>") -> str:
        name, email = author.rstrip(">").split(" <")
        env = {
            **self.env,
            "GIT_AUTHOR_NAME": name,
            "GIT_AUTHOR_EMAIL": email,
            "GIT_COMMITTER_NAME": name,
            "GIT_COMMITTER_EMAIL": email,
        }
        done = subprocess.run(
            ["git", *args], cwd=self.repo, env=env, check=True, capture_output=True, text=True
        )
        return done.stdout.strip()

    def runners(
        self,
        *args: str,
        expect: tuple[int, ...] = (0,),
        quiet: bool = False,
        production_zone: bool = False,
        cwd: Path | None = None,
    ) -> int:
        """One runners command; ``production_zone``: with the plan-signing key bound."""
        prefix = "RUNNERS_PLAN_SIGNING_KEY=*** " if production_zone else ""
        print(f"$ {prefix}runners {shlex.join(args)}", flush=True)
        env = {**self.env, "RUNNERS_PLAN_SIGNING_KEY": SIGNING_KEY} if production_zone else self.env
        done = subprocess.run(
            [sys.executable, "-m", "runners", *args],
            check=False,
            cwd=cwd or self.repo,
            env=env,
            stdout=subprocess.DEVNULL if quiet else None,
        )
        print(f"(exit {done.returncode})", flush=True)
        if done.returncode not in expect:
            raise SystemExit(
                f"demo: 'runners {args[0]}' exited {done.returncode}, expected {expect}"
            )
        return done.returncode

    # -- steps -----------------------------------------------------------
    def bootstrap_production(self) -> None:
        self.say("The first apply: the stand-in's initial layout, planned and applied after review")
        out = self.out / "plans" / "initial"
        self.runners(
            "plan",
            "--stack",
            "demo",
            "--env",
            "production",
            "--out",
            str(out),
            quiet=True,
            production_zone=True,
        )
        self.apply(out, "--approved-by", "alice", quiet=True)

    def merge_request(self) -> Path:
        branch = "feature/bigger-web"
        self.say(f"Dana opens a merge request: {branch} -> production; Bob adds a commit to it")
        self.git("checkout", "-q", "-b", branch, "production", author=DANA)
        tfvars = self.repo / "terraform/stacks/demo/production.tfvars"
        original = tfvars.read_text()
        tfvars.write_text(
            original
            + textwrap.dedent("""
            servers = {
              web-1 = "small"
              web-2 = "large"
              web-3 = "medium"
            }
            db_engine_version = "17"
            """)
        )
        self.git("add", "-A")
        self.git("commit", "-q", "-m", "Grow the web tier; upgrade PostgreSQL to 17", author=DANA)
        tfvars.write_text(tfvars.read_text().replace('web-3 = "medium"', 'web-3 = "large"'))
        self.git("commit", "-q", "-am", "web-3 takes the reporting load: large", author=BOB)
        print(self.git("log", "--format=%h %an: %s", "production..HEAD"))
        self.runners("affected", "--base", "production", "--head", branch)
        out = self.out / "plans" / "mr-1"
        self.say("Jenkins plans every stack the merge request touches (read-only credential)")
        self.runners(
            "plan",
            "--affected",
            "--base",
            "production",
            "--head",
            branch,
            "--out",
            str(out),
            "--mr",
            "1",
            "--source",
            branch,
            "--target",
            "production",
            "--detailed-exitcode",
            expect=(0, 2),
        )
        return out

    def apply(
        self, plan_dir: Path, *extra: str, expect: tuple[int, ...] = (0,), quiet: bool = False
    ) -> None:
        """The production build's apply step, as a person started it, in the production zone."""
        self.runners(
            "apply",
            "--stack",
            "demo",
            "--env",
            "production",
            "--plan-dir",
            str(plan_dir),
            "--build-cause",
            "hudson.model.Cause$UserIdCause",
            "--triggered-by",
            "olivia",
            *extra,
            expect=expect,
            quiet=quiet,
            production_zone=True,
        )

    def merge_and_apply(self) -> None:
        self.say("Olivia merges the merge request; the production build is started by hand")
        self.git("checkout", "-q", "production")
        self.git("merge", "-q", "--no-ff", "-m", "Merge feature/bigger-web", "feature/bigger-web")
        self.git("push", "-q", "origin", "production")  # the merge is on the server's branch
        print(self.git("log", "--format=%h %an: %s", "-4"))
        plan_dir = self.out / "plans" / "production"
        self.say("The production build plans the branch head, signing the plan (production zone)")
        self.runners(
            "plan",
            "--stack",
            "demo",
            "--env",
            "production",
            "--out",
            str(plan_dir),
            "--detailed-exitcode",
            expect=(2,),
            quiet=True,
            production_zone=True,
        )
        self.unreviewed_change()

        self.say("Refused: someone altered the reviewed plan file")
        tampered = self.out / "plans" / "tampered"
        shutil.copytree(plan_dir, tampered)
        with open(tampered / "tfplan", "ab") as fh:
            fh.write(b"\0")
        self.apply(tampered, "--approved-by", "alice", "--confirm-destroy", "1", expect=(3,))

        self.say("Refused: a manifest rewritten to hide the database's replacement")
        forged = self.out / "plans" / "forged"
        shutil.copytree(plan_dir, forged)
        manifest = json.loads((forged / "manifest.json").read_text())
        manifest["summary"].update(protected=[], replaces=[], replace=0, destroy=0)
        (forged / "manifest.json").write_text(json.dumps(manifest, indent=2))
        self.apply(forged, "--approved-by", "alice", expect=(3,))

        self.say(
            "Refused: Bob approves, though he wrote a commit of the change (HEAD is Olivia's merge)"
        )
        self.apply(plan_dir, "--approved-by", "bob", "--confirm-destroy", "1", expect=(3,))

        self.say("Refused: Dana may not approve her own change")
        self.apply(plan_dir, "--approved-by", "dana", expect=(3,))

        self.say("Refused: the plan replaces the database, and nobody confirmed it")
        self.apply(plan_dir, "--approved-by", "alice", expect=(3,))

        self.say(
            "Alice approves, confirming the one protected replacement: the reviewed plan is applied"
        )
        self.apply(plan_dir, "--approved-by", "alice", "--confirm-destroy", "1")

        self.say(
            f"The audit ledger (s3://{BUCKET}/runners/audit/ and plan-records/, and .runners/audit.jsonl)"
        )
        self.runners("audit")

    def through_jenkins(self) -> None:
        self.say(
            "The same, as Jenkins runs it: a merge request and an approval, through the Jenkinsfiles"
        )
        from runners import demo_pipelines

        if demo_pipelines.run(self.aws, self.repo, self.out / "jenkins") != 0:
            raise SystemExit("demo: a rehearsed Jenkins build did not end in SUCCESS")

    def unreviewed_change(self) -> None:
        """A commit straight on production after the review makes a plan nobody reviewed."""
        self.say(
            "Had Olivia committed a change straight to production after the review, the "
            "approver would be told the plan is not the reviewed one"
        )
        tfvars = self.repo / "terraform/stacks/demo/production.tfvars"
        text = tfvars.read_text()
        if 'web-1 = "small"' not in text:
            raise SystemExit(f'demo: {tfvars} no longer sets web-1 = "small"')
        tfvars.write_text(text.replace('web-1 = "small"', 'web-1 = "medium"'))
        self.git("commit", "-q", "-am", "web-1: medium (no merge request)")
        unreviewed = self.out / "plans" / "unreviewed"
        try:
            self.runners(
                "plan",
                "--stack",
                "demo",
                "--env",
                "production",
                "--out",
                str(unreviewed),
                "--detailed-exitcode",
                expect=(2,),
                quiet=True,
                production_zone=True,
            )
        finally:
            self.git("reset", "-q", "--hard", "HEAD~1")  # the demo goes on with the merge
        print("(the commit is dropped again: the demo goes on with the reviewed merge)")

    def backups(self) -> None:
        self.say("The nightly backup job: snapshot, ship to the backup region, prune, report")
        from runners.backup import demo as backup_demo

        worst = backup_demo.run_demo(self.aws, self.repo / "runners.toml")
        if worst != 0:
            raise SystemExit(f"demo: the backup job exited {worst}, expected 0")

    def disaster_recovery(self) -> None:
        from runners.dr import demo as dr_demo

        if dr_demo.run(self.aws, self.out / "disaster-recovery", REGION, BACKUP_REGION) != 0:
            raise SystemExit("demo: the disaster-recovery rehearsal did not go as shown")

    def show_report(self, out: Path) -> None:
        report = out / "report.md"
        self.say(f"What the reviewers read: {report}")
        print(report.read_text())
        print(
            f"The merge request's artifacts: {sorted(p.name for p in (out / 'demo').iterdir())} "
            "(planned without the signing key: production applies only its own, signed plan)"
        )


def _provider_mirror() -> Path | None:
    from runners.terraform.cliconfig import MIRROR_ENV, discover_mirror

    named = os.environ.get(MIRROR_ENV)
    return Path(named) if named else discover_mirror()


def main() -> int:
    if not (SOURCE / "terraform" / "stacks" / "demo").is_dir():
        print(
            "demo: run it from a source checkout (terraform/stacks/demo is missing)",
            file=sys.stderr,
        )
        return 2
    mirror = _provider_mirror()
    if mirror is None:
        print(
            "demo: no Terraform provider mirror holding hashicorp/aws on this machine (set "
            "RUNNERS_PROVIDER_MIRROR to the folder holding registry.terraform.io): the bootstrap "
            "stack is applied with the real provider",
            file=sys.stderr,
        )
        return 2
    if OUTPUT.exists():
        shutil.rmtree(OUTPUT)
    OUTPUT.mkdir(parents=True)
    aws = EmbeddedAWS(region=REGION, log_path=OUTPUT / "moto.log")
    print("Starting the embedded AWS (moto server) ... ", end="", flush=True)
    aws.start()
    print(aws.endpoint)
    try:
        os.environ.update(aws.environ())
        demo = Demo(aws, OUTPUT)
        with demo_client.services(demo) as (jenkins, platform):
            demo_client.new_client(demo, jenkins, platform, mirror)
            demo.bootstrap_production()
            demo.backups()
            demo_client.doctor(demo)
            out = demo.merge_request()
            demo.show_report(out)
            demo.merge_and_apply()
            demo.through_jenkins()
        demo.disaster_recovery()
    finally:
        aws.stop()
    print(f"\nDone. Everything the demo made is under {OUTPUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
