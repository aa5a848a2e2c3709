"""The first steps of ``make demo``: a new client in one command, ready for its first merge request.

``runners init`` makes the client's repository from the standard template set
and pushes it to a bare repository standing in for GitLab's; the operator
points runners.toml at this machine (the embedded AWS, the platform double)
and adds the template set's offline stand-in (``terraform/stacks/demo``, the
same servers and database as ``terraform_data``), which the rest of the walk
plans and applies; ``runners bootstrap`` makes the state bucket and its replica
in the embedded AWS; an administrator applies the bootstrap stack with the real
AWS provider (from the machine's mirror), which adopts them and makes the
runner roles; ``runners jobs sync`` makes both zones in the Jenkins REST double,
where the operator then creates the credentials; the branches are protected on
the platform double. After the first apply and the first nightly backup,
``runners doctor`` says the client is ready (``doctor``).
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from runners.jenkins.double import PERMISSIONS, JenkinsDouble
from runners.jenkins.platform_double import TOKEN, Platform

if TYPE_CHECKING:
    from runners.demo import Demo

CLIENT, ACCOUNT = "demo", "123456789012"
STATE_BUCKET = f"{CLIENT}-production-terraform-state"
JENKINS_TOKEN = "demo-jenkins-api-token-0123456789"  # noqa: S105  # the double's, on loopback
OLIVIA = "Olivia Ops <olivia@example.com>"
ADAM = "Adam Admin <adam@example.com>"
# What the operator creates in each Jenkins folder (docs/jenkins.md, "Credentials").
CREDENTIALS = {
    "merge-requests": ("runners-aws-plan", "runners-mr-token", f"{CLIENT}-infra-git"),
    "production": (
        "runners-aws-plan",
        "runners-aws-write",
        "runners-aws-backup",
        "runners-plan-signing-key",
        f"{CLIENT}-infra-git",
    ),
}


@contextlib.contextmanager
def services(demo: Demo) -> Iterator[tuple[JenkinsDouble, Platform]]:
    """The Jenkins REST double and the GitLab double, for the length of the demo."""
    jenkins = JenkinsDouble().start()
    jenkins.users["runners"] = (JENKINS_TOKEN, PERMISSIONS)
    platform = Platform()
    demo.env.update({"JENKINS_API_TOKEN": JENKINS_TOKEN, "RUNNERS_MR_TOKEN": TOKEN})
    try:
        yield jenkins, platform
    finally:
        platform.stop()
        jenkins.stop()


def new_client(demo: Demo, jenkins: JenkinsDouble, platform: Platform, mirror: Path) -> None:
    demo.env["RUNNERS_PROVIDER_MIRROR"] = str(mirror)
    remote = demo.out / "gitlab" / CLIENT / "infra.git"
    remote.mkdir(parents=True)
    subprocess.run(["git", "init", "--bare", "--quiet"], cwd=remote, check=True)

    demo.say("A new client in one command: runners init, from the standard template set")
    demo.runners(
        "init",
        str(demo.repo),
        "--client",
        CLIENT,
        "--account",
        ACCOUNT,
        "--region",
        "eu-west-1",
        "--backup-region",
        "eu-central-1",
        "--servers",
        "2",
        "--approver",
        "alice",
        "--approver",
        "bob",
        "--jenkins-url",
        jenkins.url,
        "--remote",
        str(remote),
        cwd=demo.out,
    )
    print(demo.git("log", "--format=%h %an: %s", "--all"))
    print(
        demo.git("ls-tree", "--name-only", "HEAD"),
        demo.git("ls-tree", "--name-only", "HEAD:terraform/stacks"),
    )

    demo.say("Olivia points runners.toml at this machine and adds the offline stand-in stack")
    _for_this_machine(demo, platform)
    demo.git("add", "-A", author=OLIVIA)
    demo.git(
        "commit",
        "-q",
        "-m",
        "This machine: the embedded AWS and GitLab's double; the offline stand-in stack",
        author=OLIVIA,
    )
    demo.git("push", "-q", "origin", "production", author=OLIVIA)
    demo.git("push", "-q", "origin", "production:development", author=OLIVIA)
    print(demo.git("show", "--stat", "--format=%h %an: %s", "HEAD"))

    demo.say("Adam, an administrator, makes the state bucket and its replica: runners bootstrap")
    demo.runners("bootstrap", "--env", "production", "--dry-run", quiet=True)
    demo.runners("bootstrap", "--env", "production")
    demo.git("add", "-A")
    demo.git(
        "commit",
        "-q",
        "-m",
        "bootstrap: what runners bootstrap made, for Terraform to adopt",
        author=ADAM,
    )
    demo.git("push", "-q", "origin", "production", author=ADAM)
    demo.say("A second run changes nothing")
    demo.runners("bootstrap", "--env", "production")
    demo.say("And development's state bucket, the same way")
    demo.runners("bootstrap", "--env", "development", quiet=True)
    demo.git("add", "-A")
    demo.git("commit", "-q", "-m", "bootstrap: development too", author=ADAM)
    demo.git("push", "-q", "origin", "production", author=ADAM)
    _apply_bootstrap_stack(demo, mirror)

    demo.say(
        "runners jobs sync: both zones in Jenkins (the REST double); Olivia adds the credentials"
    )
    demo.runners("jobs", "sync")
    for folder, ids in CREDENTIALS.items():
        jenkins.add_credentials(f"{CLIENT}/{folder}", *ids)
        print(f"credentials in {CLIENT}/{folder}: {', '.join(ids)}")
    platform.branches.update({"production": True, "development": True})
    print("GitLab: production and development protected (merge requests only, no force pushes)")


def doctor(demo: Demo) -> None:
    demo.say("runners doctor: is the client ready for its first merge request?")
    demo.runners("doctor", "--env", "production")


def _for_this_machine(demo: Demo, platform: Platform) -> None:
    """What an operator sets here and nowhere else; each edit says why."""
    toml = demo.repo / "runners.toml"
    text = toml.read_text()
    text = text.replace(
        "[protected]\n",
        '[runners]\nterraform = "embedded"   # the demo machine has no terraform binary\n\n'
        "[protected]\n",
    )
    text = text.replace(
        "addresses = []",
        'addresses = ["terraform_data.database"]   # the stand-in\'s database',
    )
    # The embedded AWS serves buckets as paths on 127.0.0.1.
    text = text.replace("use_lockfile = true\n", "use_lockfile = true\nuse_path_style = true\n")
    # No Jenkins builds to read here: the demo's apply takes --approved-by as given.
    text = text.replace(
        "# require_mr_approvals = 1",
        "verify_build = false   # the demo has no Jenkins build for the apply to read\n"
        "# require_mr_approvals = 1",
    )
    text = text.replace(
        'credentials_id = "demo-infra-git"\n',
        'credentials_id = "demo-infra-git"\nplatform = "gitlab"\n\n'
        f'[jenkins.comments]\napi_url = "{platform.url}/api/v4"   # GitLab\'s double\n',
    )
    text = text.replace(
        "# Backups:",
        '# The offline stand-in: the same servers and database as terraform_data.\n[stacks.demo]\ndir = "terraform/stacks/demo"\n\n'
        '[stacks.demo.var_files]\ndevelopment = ["development.tfvars"]\nproduction = ["production.tfvars"]\n\n# Backups:',
    )
    toml.write_text(text)
    from runners.demo import SOURCE

    for rel in ("terraform/stacks/demo", "terraform/modules/demo-service"):
        shutil.copytree(SOURCE / rel, demo.repo / rel, ignore=shutil.ignore_patterns(".terraform*"))


def _apply_bootstrap_stack(demo: Demo, mirror: Path) -> None:
    """The administrator's apply, with the real AWS provider against the embedded AWS."""
    from runners.aws.embedded import write_provider_override
    from runners.terraform import binary
    from runners.terraform.engine import Terraform, base_environment

    stack = demo.repo / "terraform" / "stacks" / "bootstrap"
    demo.say(
        "Adam applies terraform/stacks/bootstrap with the real AWS provider: it adopts what "
        "bootstrap made and creates the runner roles"
    )
    write_provider_override(stack)  # the embedded AWS's settings; ignored by git
    env = base_environment(None, {**demo.env}, provider_mirror=mirror, quiet=True)
    tf = Terraform(binary.embedded_binary(), env, timeout=1800)
    data = {"TF_DATA_DIR": str(demo.out / "bootstrap-terraform")}
    backend = {
        "bucket": STATE_BUCKET,
        "key": "bootstrap/terraform.tfstate",
        "region": "eu-west-1",
        "use_lockfile": "true",
        "use_path_style": "true",
    }
    started = time.monotonic()
    steps = (
        [
            "init",
            "-input=false",
            "-no-color",
            *(f"-backend-config={k}={v}" for k, v in backend.items()),
        ],
        ["plan", "-input=false", "-no-color", "-var-file=production.tfvars", "-out=tfplan"],
        ["apply", "-input=false", "-no-color", "tfplan"],
    )
    for args in steps:
        print(f"$ terraform {' '.join(args[:1] + args[-1:] if args[0] != 'init' else args[:1])}")
        result = tf.run(args, stack, extra_env=data, stream=False, ok_codes=(0,))
        for line in result.stdout.splitlines():
            if line.startswith(("Plan:", "Apply complete!", "Terraform has been successfully")):
                print(line)
    (stack / "tfplan").unlink(missing_ok=True)
    print(f"(the real provider against the embedded AWS: {time.monotonic() - started:.0f} s)")
