"""The ``[jenkins]`` section of runners.toml: where Jenkins is, and which jobs it gets.

The API token never appears in the file: ``token_env`` names the environment
variable that holds it, so runners.toml can live in git. A key that looks like
it holds a secret is refused with a line saying what to write instead.

The jobs go into two zones, each a folder inside ``folder``: the merge-request
zone (``merge_request_folder``) and the production zone (``production_folder``).
The credential IDs each zone's pipelines bind are fixed (``ZONE_CREDENTIALS``):
a setting that would hand the merge-request zone a production credential is
refused here, before anything reaches Jenkins.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from runners.confread import Table

if TYPE_CHECKING:
    from runners.layout import Environment, Stack

PLATFORMS = ("gitlab", "github", "git")
DEFAULT_TOKEN_ENV = "JENKINS_API_TOKEN"  # noqa: S105  # a variable name, not a token
DEFAULT_COMMENT_TOKEN_ENV = "RUNNERS_MR_TOKEN"  # noqa: S105  # a variable name

# The credential IDs the pipelines bind, by zone. The merge-request zone may
# hold only the plan-only AWS keys and the comment token; the others live in
# the production folder alone (docs/jenkins.md, "The two zones").
PLAN_CREDENTIAL = "runners-aws-plan"
COMMENT_CREDENTIAL = "runners-mr-token"
WRITE_CREDENTIAL = "runners-aws-write"
BACKUP_CREDENTIAL = "runners-aws-backup"
SIGNING_CREDENTIAL = "runners-plan-signing-key"
# runners' own Jenkins API token, which `runners apply` reads the build with.
JENKINS_TOKEN_CREDENTIAL = "runners-jenkins-token"  # noqa: S105  # a credential ID
MERGE_REQUEST_CREDENTIALS = frozenset({PLAN_CREDENTIAL, COMMENT_CREDENTIAL})
PRODUCTION_ONLY_CREDENTIALS = frozenset(
    {WRITE_CREDENTIAL, BACKUP_CREDENTIAL, SIGNING_CREDENTIAL, JENKINS_TOKEN_CREDENTIAL}
)

# When the scheduled jobs run, unless [jenkins.schedules] says otherwise.
DEFAULT_SCHEDULES = {
    "backup": "H 2 * * *",  # nightly: backup, ship, prune, report
    "drift": "H 5 * * *",
    "ship_s3": "H * * * *",  # hourly
    "verify_restore": "H 4 * * *",  # nightly, after the backup job has shipped
    "dr_prepare": "H 6 * * 1",  # weekly, on a Monday morning, when someone reads the result
}
_CRON_FIELD = re.compile(r"^(\*|H|[0-9A-Za-z]+)([-,/()0-9A-Za-z*]*)$")

_ENV_VAR = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_JOB_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_SECRET_KEYS = ("token", "api_token", "password", "secret")
_BRANCH = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]*$")


@dataclass(frozen=True)
class Repository:
    """The infrastructure repository the jobs check out."""

    url: str
    platform: str  # gitlab | github | git: which branch source the multibranch job uses
    credentials_id: str | None
    branch: str  # what the scheduled jobs (backup, drift, DR) build
    server: str | None  # gitlab: the server name in Jenkins' GitLab settings; github: API URL

    @property
    def owner_and_name(self) -> tuple[str, str]:
        """``group/sub`` and ``project`` from the clone URL (https or scp-like ssh)."""
        url = self.url
        scp_like = "://" not in url and ":" in url  # git@host:group/project.git
        path = url.split(":", 1)[1] if scp_like else urlsplit(url).path
        path = path.strip("/").removesuffix(".git")
        owner, _, name = path.rpartition("/")
        return owner, name


@dataclass(frozen=True)
class Comments:
    """Where ``runners comment`` posts: the platform's API and the token's variable."""

    token_env: str = DEFAULT_COMMENT_TOKEN_ENV
    platform: str | None = None  # default: the repository's, else guessed from CHANGE_URL
    api_url: str | None = None  # default: derived from CHANGE_URL


@dataclass(frozen=True)
class Schedules:
    """Cron specs, as Jenkins writes them (``H`` spreads the load), of the scheduled jobs."""

    backup: str = DEFAULT_SCHEDULES["backup"]
    drift: str = DEFAULT_SCHEDULES["drift"]
    ship_s3: str = DEFAULT_SCHEDULES["ship_s3"]
    verify_restore: str = DEFAULT_SCHEDULES["verify_restore"]
    dr_prepare: str = DEFAULT_SCHEDULES["dr_prepare"]


@dataclass(frozen=True)
class JenkinsSettings:
    url: str | None = None
    user: str | None = None
    token_env: str = DEFAULT_TOKEN_ENV
    folder: str = ""  # "" is the top level; "a/b" nests
    environment: str | None = None  # what the backup, drift and DR jobs work on
    repository: Repository | None = None
    merge_request_folder: str = "merge-requests"  # the merge-request zone, inside ``folder``
    production_folder: str = "production"  # the production zone, inside ``folder``
    multibranch_job: str = "terraform"
    drift_stacks: tuple[str, ...] = ()
    backup_policies: tuple[str, ...] = ()
    verify_restore_policies: tuple[str, ...] | None = None  # None: every backup policy
    ship_s3_policies: tuple[str, ...] | None = None  # None: every [dr.s3.POLICY]
    dr_job: bool = True
    schedules: Schedules = field(default_factory=Schedules)
    poll_seconds: float = 2.0
    request_timeout: float = 30.0
    comments: Comments = field(default_factory=Comments)

    def full_name(self, job: str) -> str:
        """A job name as Jenkins knows it: inside the folder unless it starts with '/'."""
        if job.startswith("/"):
            return job.strip("/")
        return f"{self.folder}/{job}" if self.folder else job

    @property
    def merge_request_zone(self) -> str:
        """The merge-request folder's full name."""
        return self.full_name(self.merge_request_folder)

    @property
    def production_zone(self) -> str:
        """The production folder's full name."""
        return self.full_name(self.production_folder)


def parse(
    table: Table, root: Path, environments: Mapping[str, Environment], stacks: Mapping[str, Stack]
) -> JenkinsSettings:
    for key in _SECRET_KEYS:
        if key in table.data:
            raise table.fail(
                key,
                "never put a secret in runners.toml; set token_env to the NAME of the "
                "environment variable that holds it",
            )
    table.only(
        "url",
        "user",
        "token_env",
        "folder",
        "environment",
        "repository",
        "merge_request_folder",
        "production_folder",
        "multibranch_job",
        "drift_stacks",
        "backup_policies",
        "verify_restore_policies",
        "ship_s3_policies",
        "dr_job",
        "schedules",
        "templates",
        "poll_seconds",
        "request_timeout",
        "comments",
    )
    if "templates" in table.data:
        raise table.fail(
            "templates",
            "is no longer read: the job templates and the production pipelines come from the "
            "runners library, never from the client's repository (docs/jenkins.md); remove it",
        )
    url = table.str("url")
    if url is not None and urlsplit(url).scheme not in ("http", "https"):
        raise table.fail("url", f"expected an http:// or https:// URL, got {url!r}")
    folder = (table.str("folder", default="", allow_empty=True) or "").strip("/")
    for part in folder.split("/") if folder else ():
        if not _JOB_NAME.match(part):
            raise table.fail("folder", f"expected folder names separated by '/', got {folder!r}")
    environment = _environment(table, environments)
    merge_request_folder = _job_name(table, "merge_request_folder", "merge-requests")
    production_folder = _job_name(table, "production_folder", "production")
    if merge_request_folder == production_folder:
        raise table.fail(
            "production_folder",
            f"{production_folder!r} is also the merge_request_folder; the zones need a folder each",
        )
    settings = JenkinsSettings(
        url=url,
        user=table.str("user"),
        token_env=_env_var_name(table, "token_env", DEFAULT_TOKEN_ENV),
        folder=folder,
        environment=environment,
        repository=_repository(table.table("repository"), environments.get(environment or "")),
        merge_request_folder=merge_request_folder,
        production_folder=production_folder,
        multibranch_job=_job_name(table, "multibranch_job", "terraform"),
        drift_stacks=_drift_stacks(table, environment, stacks),
        backup_policies=_names(table, "backup_policies"),
        verify_restore_policies=_names(table, "verify_restore_policies")
        if table.has("verify_restore_policies")
        else None,
        ship_s3_policies=_names(table, "ship_s3_policies")
        if table.has("ship_s3_policies")
        else None,
        dr_job=table.bool("dr_job", True),
        schedules=_schedules(table.table("schedules")),
        poll_seconds=table.float("poll_seconds", 2.0, minimum=0.01),
        request_timeout=table.float("request_timeout", 30.0, minimum=1.0),
        comments=_comments(table.table("comments")),
    )
    table.check_unknown()
    return settings


def _env_var_name(table: Table, key: str, default: str) -> str:
    value = table.str(key, default=default) or default
    if not _ENV_VAR.match(value):
        raise table.fail(
            key,
            f"expected the NAME of an environment variable such as {default}, not the token itself",
        )
    return value


def _job_name(table: Table, key: str, default: str) -> str:
    value = table.str(key, default=default) or default
    if not _JOB_NAME.match(value):
        raise table.fail(
            key, f"expected a job name (letters, digits, '.', '_', '-'), got {value!r}"
        )
    return value


def _names(table: Table, key: str) -> tuple[str, ...]:
    names = table.str_list(key)
    for name in names:
        if not _JOB_NAME.match(name):
            raise table.fail(key, f"{name!r}: names use letters, digits, '.', '_' and '-'")
    return names


def _environment(table: Table, environments: Mapping[str, Environment]) -> str | None:
    name = table.str("environment")
    if name is None:
        return "production" if "production" in environments else None
    if name not in environments:
        known = ", ".join(sorted(environments)) or "none"
        raise table.fail("environment", f"unknown environment {name!r}; known: {known}")
    return name


def _drift_stacks(
    table: Table, environment: str | None, stacks: Mapping[str, Stack]
) -> tuple[str, ...]:
    deployed = [s.name for s in stacks.values() if environment in s.environments]
    names = table.str_list("drift_stacks", default=deployed if environment else ())
    for name in names:
        if name not in stacks:
            raise table.fail("drift_stacks", f"unknown stack {name!r}")
        if environment is None:
            raise table.fail("environment", "drift_stacks need an environment to check")
        if environment not in stacks[name].environments:
            raise table.fail("drift_stacks", f"stack {name!r} is not deployed to {environment!r}")
    return names


def _schedules(table: Table) -> Schedules:
    table.only(*DEFAULT_SCHEDULES)
    specs = {}
    for key, default in DEFAULT_SCHEDULES.items():
        spec = " ".join((table.str(key, default=default) or default).split())
        fields = spec.split(" ")
        if len(fields) != 5 or not all(_CRON_FIELD.match(f) for f in fields):
            raise table.fail(
                key,
                f"expected a Jenkins cron spec of five fields such as {default!r}, got {spec!r}",
            )
        specs[key] = spec
    table.check_unknown()
    return Schedules(**specs)


def _repository(table: Table, env: Environment | None) -> Repository | None:
    if not table.data:
        return None
    table.only("url", "platform", "credentials_id", "branch", "server")
    url = table.req_str("url")
    guessed = "github" if "github" in url else "gitlab" if "gitlab" in url else "git"
    platform = table.choice("platform", PLATFORMS, default=guessed)
    branch = table.str("branch") or (env.branch if env else None)
    if branch is None:
        raise table.fail("branch", "is required when [jenkins] names no environment")
    if not _BRANCH.match(branch):
        raise table.fail("branch", f"expected a branch name, got {branch!r}")
    if "\n" in url or "'" in url:
        raise table.fail("url", f"expected a clone URL, got {url!r}")
    credentials_id = table.str("credentials_id")
    if credentials_id in PRODUCTION_ONLY_CREDENTIALS:
        # Both zones check out with it: the merge-request zone would hold it too.
        raise table.fail(
            "credentials_id",
            f"{credentials_id!r} is a production-only credential; the checkout credential is "
            "used by the merge-request zone as well: give it its own ID",
        )
    repo = Repository(
        url=url,
        platform=platform,
        credentials_id=credentials_id,
        branch=branch,
        server=table.str("server"),
    )
    if platform != "git" and not all(repo.owner_and_name):
        raise table.fail("url", f"expected a clone URL ending in OWNER/PROJECT(.git), got {url!r}")
    table.check_unknown()
    return repo


def _comments(table: Table) -> Comments:
    table.only("token_env", "platform", "api_url")
    api_url = table.str("api_url")
    if api_url is not None and urlsplit(api_url).scheme not in ("http", "https"):
        raise table.fail("api_url", f"expected an http:// or https:// URL, got {api_url!r}")
    platform = table.str("platform")
    if platform is not None and platform not in ("gitlab", "github"):
        raise table.fail("platform", f"expected gitlab or github, got {platform!r}")
    comments = Comments(
        token_env=_env_var_name(table, "token_env", DEFAULT_COMMENT_TOKEN_ENV),
        platform=platform,
        api_url=api_url.rstrip("/") if api_url else None,
    )
    table.check_unknown()
    return comments
