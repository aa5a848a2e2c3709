"""Issue 17's parallel-plan target: ``runners plan --affected --jobs 4`` against ``--jobs 1``.

A repository of 8 stacks sharing one local module, and a merge request that
changes the module, so all 8 are affected. Every stack keeps its state in the
embedded AWS's S3 and reads ``REMOTE_STATES`` ``terraform_remote_state`` data
sources from it. A plan against real AWS waits on API round trips; the
embedded AWS answers at once, so every request (Terraform's and runners')
passes a proxy on loopback that holds it ``LATENCY`` seconds first: the
stand-in for an AWS round trip. Target: the ``--jobs 4`` wall time within
0.35 times the serial (``--jobs 1``) one.

The remote states are read in a dependency chain: each data source's
``config`` takes its key from the previous state's outputs, so Terraform
cannot read one before the one before it has answered. That is the shape of a
real refresh, which follows the dependency graph (the VPC, then its subnets,
then the instances in them, then the records pointing at those), each level a
round trip after the last; Terraform's own parallelism only helps across
siblings. Read side by side (12 independent reads), a plan waited on about
one round trip, so the bench measured CPU, not the latency a real plan waits
on, and the stand-in AWS (moto and the proxy) took the same 2 cores the plans
need, which real AWS does not.

A second row, information only, shows where a --jobs 4 run's CPU goes: the
runners process and its Terraforms, beside the moto server and the proxy.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

from benchmarks.common import CACHE, Row

LATENCY = 0.050  # seconds per request: an AWS round trip from a utility server
STACKS = tuple(f"svc{i}" for i in range(1, 9))
SHARED = (
    "network", "dns", "iam", "logging", "kms", "backup",
    "monitoring", "secrets", "certificates", "registry", "mail", "bastion",
)  # fmt: skip  # states every stack reads
REMOTE_STATES = len(SHARED)
RUNS = 2
TARGET = 0.35
MODULE = """\
variable "name" {
  type = string
}

variable "vpc" {
  type = string
}

resource "terraform_data" "service" {
  input = { name = var.name, vpc = var.vpc, size = "%s" }
}
"""


def stack_tf(name: str) -> str:
    """The stack's remote-state reads, each keyed by the previous state's outputs."""
    reads = []
    for i, shared in enumerate(SHARED):
        key = (
            f'"shared/{shared}.tfstate"'
            if i == 0
            else f"data.terraform_remote_state.{SHARED[i - 1]}.outputs.next"
        )
        reads.append(
            textwrap.dedent(f"""\
                data "terraform_remote_state" "{shared}" {{
                  backend = "s3"
                  config = {{
                    bucket                      = "bench-state"
                    key                         = {key}
                    region                      = "eu-west-1"
                    use_path_style              = true
                    skip_credentials_validation = true
                    skip_requesting_account_id  = true
                  }}
                }}

                """)
        )
    ids = ", ".join(f"data.terraform_remote_state.{s}.outputs.id" for s in SHARED)
    return (
        'terraform {\n  backend "s3" {}\n}\n\n'
        + "".join(reads)
        + textwrap.dedent(f"""\
            module "shared" {{
              source = "../../modules/shared"
              name   = "{name}"
              vpc    = join(",", [{ids}])
            }}
            """)
    )


def shared_state(name: str) -> bytes:
    """A state as Terraform writes it (format 4): an id, and the key of the next state read."""
    after = SHARED.index(name) + 1
    outputs = {"id": {"value": f"{name}-0001", "type": "string"}}
    if after < len(SHARED):
        outputs["next"] = {"value": f"shared/{SHARED[after]}.tfstate", "type": "string"}
    return json.dumps(
        {
            "version": 4,
            "terraform_version": "1.15.0",
            "serial": 1,
            "lineage": f"bench-{name}",
            "outputs": outputs,
            "resources": [],
        }
    ).encode()


def latency_proxy(upstream: str) -> object:
    """The behaviour layer with no rule on, holding every request LATENCY seconds."""
    from runners.aws.behaviour import Answer, Behaviour, Call

    class Latency(Behaviour):
        def handle(self, call: Call, send: Callable[[], Answer]) -> Answer | None:
            time.sleep(LATENCY)
            return super().handle(call, send)

    return Latency(upstream).start()


def bench_parallel() -> list[Row]:
    import boto3

    from runners.aws.embedded import EmbeddedAWS

    work = Path(tempfile.mkdtemp(prefix="bench-parallel-", dir=CACHE))
    aws = EmbeddedAWS(log_path=work / "moto.log").start()
    proxy = latency_proxy(aws.endpoint)
    try:
        s3 = boto3.client(
            "s3", endpoint_url=aws.endpoint, region_name="eu-west-1", **_keys(aws.environ())
        )
        s3.create_bucket(
            Bucket="bench-state", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
        )
        for name in SHARED:
            s3.put_object(
                Bucket="bench-state", Key=f"shared/{name}.tfstate", Body=shared_state(name)
            )
        env = {
            **os.environ,
            **aws.environ(),
            "AWS_ENDPOINT_URL": proxy.endpoint,  # type: ignore[attr-defined]
            "TF_IN_AUTOMATION": "1",
            "TF_INPUT": "0",
        }
        env.pop("TF_CLI_CONFIG_FILE", None)
        repo = _repository(work / "repo", env)

        aws_pid = aws._proc.pid  # type: ignore[union-attr]
        cpu: dict[int, list[float]] = {}  # the last run's CPU seconds: runners, the AWS side

        def timed(jobs: int) -> float:
            out = work / f"out-{jobs}"
            shutil.rmtree(out, ignore_errors=True)
            argv = [
                sys.executable, "-m", "runners", "plan", "--affected", "--base", "production",
                "--target", "production", "--mr", "1", "--out", str(out), "--no-color",
                "--jobs", str(jobs),
            ]  # fmt: skip
            t0 = time.perf_counter()
            before = _cpu(aws_pid)
            done = subprocess.run(
                argv, check=False, cwd=repo, env=env, capture_output=True, text=True
            )
            elapsed = time.perf_counter() - t0
            after = _cpu(aws_pid)
            cpu[jobs] = [a - b for a, b in zip(after, before, strict=True)]
            if done.returncode != 0:
                raise SystemExit(f"--jobs {jobs} failed ({done.returncode}): {done.stderr[-2000:]}")
            planned = json.loads((out / "affected.json").read_text())["stacks"]
            if len(planned) != len(STACKS) or any(s["result"] != "planned" for s in planned):
                raise SystemExit(f"--jobs {jobs}: not every stack planned: {planned}")
            return elapsed

        timed(4)  # warm once: page cache, .terraform folders
        serial, parallel = [], []
        for _ in range(RUNS):
            serial.append(timed(1))
            parallel.append(timed(4))
        t_serial, t_parallel = statistics.median(serial), statistics.median(parallel)
        return [
            Row(
                f"plan --affected, {len(STACKS)} stacks",
                f"--jobs 4 vs --jobs 1; {LATENCY * 1000:.0f} ms a request, "
                f"{REMOTE_STATES} remote states each, read in a chain",
                t_parallel,
                t_serial,
                "s",
                f"<= {TARGET}x serial",
                t_parallel <= TARGET * t_serial,
            ),
            Row(
                f"plan --affected, {len(STACKS)} stacks",
                f"CPU of one --jobs 4 run: runners + Terraform "
                f"(moto + the proxy beside it: {cpu[4][1]:.3f} s)",
                cpu[4][0],
                None,
                "s",
                "-",
                None,
            ),
        ]
    finally:
        proxy.stop()  # type: ignore[attr-defined]
        aws.stop()
        shutil.rmtree(work, ignore_errors=True)


def _cpu(aws_pid: int) -> tuple[float, float]:
    """CPU seconds so far: of finished children (the runs), and of the stand-in AWS.

    The stand-in is the moto server (a child still running, read from /proc)
    and this process, which serves the latency proxy. Real AWS spends none of
    the utility server's cores; here it shares them with the plans.
    """
    children = os.times()
    fields = Path(f"/proc/{aws_pid}/stat").read_text().rsplit(")", 1)[1].split()
    moto = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return children.children_user + children.children_system, moto + time.process_time()


def _keys(environ: dict[str, str]) -> dict[str, str]:
    return {
        "aws_access_key_id": environ["AWS_ACCESS_KEY_ID"],
        "aws_secret_access_key": environ["AWS_SECRET_ACCESS_KEY"],
    }


def _repository(repo: Path, env: dict[str, str]) -> Path:
    """8 stacks and their module on branch production; branch mr changes the module."""
    (repo / "terraform/modules/shared").mkdir(parents=True)
    (repo / "terraform/modules/shared/main.tf").write_text(MODULE % "small")
    for name in STACKS:
        (repo / "terraform/stacks" / name).mkdir(parents=True)
        (repo / "terraform/stacks" / name / "main.tf").write_text(stack_tf(name))
    (repo / "runners.toml").write_text(
        textwrap.dedent("""\
        [runners]
        terraform = "embedded"

        [environments.production]
        branch = "production"
        region = "eu-west-1"

        [environments.production.backend]
        bucket = "bench-state"
        key = "stacks/{stack}.tfstate"
        region = "eu-west-1"
        use_lockfile = true
        use_path_style = true
        skip_credentials_validation = true
        skip_requesting_account_id = true
        """)
        + "".join(f'\n[stacks.{n}]\ndir = "terraform/stacks/{n}"\n' for n in STACKS)
    )
    (repo / ".gitignore").write_text(".runners/\n.terraform/\n")
    git_env = {
        **env,
        "GIT_AUTHOR_NAME": "b",
        "GIT_AUTHOR_EMAIL": "b@x",
        "GIT_COMMITTER_NAME": "b",
        "GIT_COMMITTER_EMAIL": "b@x",
    }
    for cmd in (
        ["init", "-q", "-b", "production"],
        ["add", "-A"],
        ["commit", "-qm", "8 stacks, one module"],
        ["checkout", "-q", "-b", "mr"],
    ):
        subprocess.run(["git", *cmd], cwd=repo, check=True, env=git_env)
    (repo / "terraform/modules/shared/main.tf").write_text(MODULE % "large")
    for cmd in (["add", "-A"], ["commit", "-qm", "every service grows"]):
        subprocess.run(["git", *cmd], cwd=repo, check=True, env=git_env)
    return repo


def main() -> list[Row]:
    return bench_parallel()
