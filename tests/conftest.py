"""Shared fixtures: an offline environment, the embedded AWS, real git repositories.

Every test runs with fake AWS credentials, no AWS profile, and the embedded
Terraform, so nothing can reach a real account or depend on what is installed
on the machine.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import boto3
import pytest

from runners.aws.behaviour import Behaviour
from runners.aws.embedded import FAKE_CREDENTIALS, EmbeddedAWS
from tests.jenkins_double import JenkinsDouble
from tests.pipeline_harness import Jenkins, groovy_missing

if TYPE_CHECKING:
    from runners.terraform.workspace import Workspace
    from tests.provider_world import ProviderWorld

FIXTURES = Path(__file__).parent / "fixtures"
REPO_ROOT = Path(__file__).parent.parent


@pytest.fixture(autouse=True)
def offline_env(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    for var in (
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_ENDPOINT_URL",
        "AWS_CONFIG_FILE",
        "AWS_SHARED_CREDENTIALS_FILE",
        "RUNNERS_CONFIG",
        "TF_CLI_CONFIG_FILE",
        "CHANGE_ID",
        "CHANGE_BRANCH",
        "CHANGE_TARGET",
        "CHANGE_URL",
        "BUILD_URL",
        "BUILD_TAG",
        "BUILD_USER_ID",
        "BRANCH_NAME",
        "GIT_BRANCH",
        "GIT_LOCAL_BRANCH",
        "RUNNERS_DEBUG",
    ):
        monkeypatch.delenv(var, raising=False)
    for key, value in FAKE_CREDENTIALS.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("RUNNERS_TERRAFORM", "embedded")
    # One plugin cache for the whole run; Terraform needs nothing from it offline.
    cache = tmp_path_factory.getbasetemp() / "xdg-cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    monkeypatch.setenv("GIT_AUTHOR_NAME", "Test Author")
    monkeypatch.setenv("GIT_AUTHOR_EMAIL", "author@example.com")
    monkeypatch.setenv("GIT_COMMITTER_NAME", "Test Author")
    monkeypatch.setenv("GIT_COMMITTER_EMAIL", "author@example.com")


NO_MIRROR = (
    "no Terraform provider mirror holding hashicorp/aws on this machine "
    "(set RUNNERS_PROVIDER_MIRROR to the folder that holds registry.terraform.io)"
)


@pytest.fixture(scope="session")
def provider_mirror() -> Path:
    """The machine image's filesystem mirror of the real AWS provider, or a skip saying why not."""
    from runners.terraform.cliconfig import MIRROR_ENV, discover_mirror

    named = os.environ.get(MIRROR_ENV)
    found = Path(named) if named else discover_mirror()
    if found is None:
        pytest.skip(NO_MIRROR)
    return found


@pytest.fixture(scope="session")
def lock_mirror(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where ``runners init`` takes the providers for its lock files from: the machine's mirror,
    else a stand-in holding a hashicorp/aws that is never run (init and ``terraform init``
    only hash it), so no test asks the registry."""
    from runners.terraform.cliconfig import MIRROR_ENV, discover_mirror

    named = os.environ.get(MIRROR_ENV)
    found = Path(named) if named else discover_mirror()
    if found is not None:
        return found
    fake = tmp_path_factory.mktemp("fake-mirror")
    target = fake / "registry.terraform.io/hashicorp/aws/5.100.0/linux_amd64"
    target.mkdir(parents=True)
    (target / "terraform-provider-aws_v5.100.0_x5").write_text("not a provider\n")
    return fake


@pytest.fixture
def with_lock_mirror(lock_mirror: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    from runners.terraform.cliconfig import MIRROR_ENV

    monkeypatch.setenv(MIRROR_ENV, str(lock_mirror))
    return lock_mirror


@pytest.fixture(scope="session")
def provider_world(
    provider_mirror: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ProviderWorld]:
    """One embedded AWS for the real provider, shared by every test that plans or applies with it.

    Its own moto server (Debian images, managed IAM policies), never reset: the
    applied client stack is built once and the slow tests share it.
    """
    from tests.provider_world import ProviderWorld

    work = tmp_path_factory.mktemp("provider-world")
    aws = EmbeddedAWS(log_path=work / "moto.log", for_provider=True).start()
    try:
        yield ProviderWorld.make(aws, provider_mirror, work)
    finally:
        aws.stop()


@pytest.fixture(scope="session")
def moto_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedAWS]:
    aws = EmbeddedAWS(log_path=tmp_path_factory.mktemp("moto") / "moto.log")
    aws.start()
    try:
        yield aws
    finally:
        aws.stop()


@pytest.fixture
def aws(moto_server: EmbeddedAWS, monkeypatch: pytest.MonkeyPatch) -> EmbeddedAWS:
    """The embedded AWS, emptied, and this process pointed at it."""
    moto_server.reset()
    for key, value in moto_server.environ().items():
        monkeypatch.setenv(key, value)
    return moto_server


@pytest.fixture(scope="session")
def behaviour_layer(moto_server: EmbeddedAWS) -> Iterator[Behaviour]:
    layer = Behaviour(moto_server.endpoint).start()
    try:
        yield layer
    finally:
        layer.stop()


@pytest.fixture
def layer(
    aws: EmbeddedAWS, behaviour_layer: Behaviour, monkeypatch: pytest.MonkeyPatch
) -> Behaviour:
    """The embedded AWS, emptied, behind the behaviour layer (runners.aws.behaviour), reset."""
    behaviour_layer.reset()
    monkeypatch.setenv("AWS_ENDPOINT_URL", behaviour_layer.endpoint)
    return behaviour_layer


@pytest.fixture
def jenkins_double() -> Iterator[JenkinsDouble]:
    """A Jenkins REST double on 127.0.0.1 (runners.jenkins.double); Jenkins cannot be installed."""
    double = JenkinsDouble().start()
    try:
        yield double
    finally:
        double.stop()


@pytest.fixture
def jenkins(tmp_path: Path) -> Jenkins:
    """A Jenkins controller that rehearses Jenkinsfiles with Debian's groovy (tests/pipeline_harness)."""
    reason = groovy_missing()
    if reason:
        pytest.skip(reason)
    return Jenkins(tmp_path / "jenkins")


@pytest.fixture
def state_bucket(aws: EmbeddedAWS) -> str:
    name = "runners-test-state"
    boto3.client("s3", region_name=aws.region).create_bucket(
        Bucket=name, CreateBucketConfiguration={"LocationConstraint": aws.region}
    )
    return name


class GitRepoHelper:
    """A real git repository in a temp dir, driven with the git CLI."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self.git("init", "-q", "-b", "production")
        self.git("config", "commit.gpgsign", "false")

    def git(self, *args: str, author: str | None = None) -> str:
        env = dict(os.environ)
        if author:
            name, email = author.split(" <")
            env.update(GIT_AUTHOR_NAME=name, GIT_AUTHOR_EMAIL=email.rstrip(">"))
        out = subprocess.run(
            ["git", *args], cwd=self.root, env=env, check=True, capture_output=True, text=True
        )
        return out.stdout.strip()

    def write(self, rel: str, text: str) -> Path:
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
        return path

    def copy(self, src: Path, rel: str) -> None:
        shutil.copytree(src, self.root / rel, dirs_exist_ok=True)

    def commit(self, message: str, author: str | None = None) -> str:
        self.git("add", "-A")
        self.git("commit", "-q", "-m", message, author=author)
        return self.git("rev-parse", "HEAD")


@pytest.fixture
def git_repo(tmp_path: Path) -> GitRepoHelper:
    return GitRepoHelper(tmp_path / "repo")


LOCAL_CONFIG = """\
[runners]
terraform = "embedded"

[protected]
extra_types = ["terraform_data"]

[environments.development]
branch = "development"
region = "eu-west-1"
backup_region = "eu-central-1"

[environments.development.backend]
path = "{state_dir}/{{stack}}-development.tfstate"

[environments.production]
branch = "production"
account_id = "123456789012"
region = "eu-west-1"
backup_region = "eu-central-1"
approvers = ["alice", "bob"]
require_approval = true
# No Jenkins in these tests: take --approved-by and --build-cause as given
# (tests/adversary/ runs with verify_build on, against the Jenkins double).
verify_build = false

[environments.production.backend]
path = "{state_dir}/{{stack}}-production.tfstate"

[stacks.app]
dir = "terraform/stacks/app"

[stacks.network]
dir = "terraform/stacks/network"
"""


@pytest.fixture
def client_repo(git_repo: GitRepoHelper, tmp_path: Path) -> GitRepoHelper:
    """A client repository with two local-backend stacks sharing a module, committed."""
    state_dir = tmp_path / "state"
    state_dir.mkdir()
    git_repo.copy(FIXTURES / "client", ".")
    git_repo.write("runners.toml", LOCAL_CONFIG.format(state_dir=state_dir))
    git_repo.write(".gitignore", ".runners/\n.terraform/\n")
    git_repo.commit("initial layout", author="Olivia Ops <olivia@example.com>")
    return git_repo


SIGNING_KEY = "test-plan-signing-key-0123456789abcdef"
# What the production zone's plan and apply steps have: the signing key bound.
SIGNED = {"RUNNERS_PLAN_SIGNING_KEY": SIGNING_KEY}
PERSON = ("--build-cause", "hudson.model.Cause$UserIdCause")


def run_cli(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """The runners CLI as a real subprocess, as Jenkins runs it."""
    return subprocess.run(
        [sys.executable, "-m", "runners", *args],
        cwd=cwd,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def scenario_workspace(
    work: Path, name: str, *, color: bool = False, capture: bool = False
) -> Workspace:
    """A workspace in ``work`` holding scenario ``name``'s v2, with its v1 applied.

    Uses the embedded Terraform. With ``capture``, Terraform's console output
    goes to in-memory buffers (``ws.tf.console_out``) instead of the terminal.
    """
    import io

    from runners.terraform import binary
    from runners.terraform.engine import Terraform, base_environment
    from runners.terraform.workspace import Workspace

    shutil.copytree(FIXTURES / "scenarios" / name / "v1", work)
    consoles = {"console_out": io.BytesIO(), "console_err": io.BytesIO()} if capture else {}
    tf = Terraform(binary.resolve(), base_environment(None), **consoles)  # type: ignore[arg-type]
    ws = Workspace(tf, work, work / ".terraform", color=color)
    ws.init()
    tf.run(
        ["apply", "-auto-approve", "-input=false", "-no-color"],
        work,
        extra_env={"TF_DATA_DIR": str(ws.data_dir)},
        stream=False,
    )
    for old in work.glob("**/*.tf"):
        old.unlink()
    shutil.copytree(FIXTURES / "scenarios" / name / "v2", work, dirs_exist_ok=True)
    ws.init()
    return ws


class ScenarioPlans:
    """Apply a scenario's v1 with the embedded Terraform, then plan its v2.

    Returns Terraform's own console text of the plan (with its "Plan:" line)
    and the ``show -json`` of the saved plan, from one real run.
    """

    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path

    def __call__(self, name: str) -> tuple[str, Path]:
        work = self.tmp_path / name
        ws = scenario_workspace(work, name)
        result = ws.tf.run(
            ["plan", "-input=false", "-no-color", "-detailed-exitcode", f"-out={work / 'tfplan'}"],
            work,
            extra_env={"TF_DATA_DIR": str(ws.data_dir)},
            stream=False,
            ok_codes=(0, 2),
        )
        ws.show_json(work / "tfplan", work / "plan.json")
        return result.stdout, work / "plan.json"


@pytest.fixture
def scenario_plan(tmp_path: Path) -> ScenarioPlans:
    return ScenarioPlans(tmp_path)


def use_s3_state(repo: GitRepoHelper, bucket: str, stacks: tuple[str, ...]) -> None:
    """Move production's state to an S3 bucket on the embedded AWS, with lockfile locking."""
    cfg = repo.root / "runners.toml"
    text = cfg.read_text()
    start = text.index("[environments.production.backend]")
    end = text.index("\n\n", start)
    block = textwrap.dedent(f"""\
        [environments.production.backend]
        bucket = "{bucket}"
        key = "{{stack}}/production.tfstate"
        region = "eu-west-1"
        use_lockfile = true
        use_path_style = true
        skip_credentials_validation = true
        skip_requesting_account_id = true""")
    cfg.write_text(text[:start] + block + text[end:])
    for stack in stacks:
        main_tf = repo.root / f"terraform/stacks/{stack}/main.tf"
        main_tf.write_text(main_tf.read_text().replace('backend "local" {}', 'backend "s3" {}'))
    repo.commit(f"{', '.join(stacks)} state in S3")
