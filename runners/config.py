"""Load and validate ``runners.toml``.

The file sits at the root of the client's infrastructure repository;
``--config`` or ``RUNNERS_CONFIG`` point elsewhere. Everything is checked at
load time, so a bad file fails before any Terraform or AWS call, with exit 2
and one line naming the file, the key and what was expected.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from runners.backup.policy import Policy, parse_policies
from runners.confread import Table
from runners.dr.settings import DrConfig, parse_dr
from runners.errors import ConfigError, UsageError
from runners.jenkins import settings as jenkins_settings
from runners.notify.settings import NotifyConfig, parse_notify
from runners.terraform.protection import DEFAULT_PROTECTED_TYPES, Protection

_ACCOUNT = re.compile(r"^\d{12}$")
_REGION = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d+$")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")

BackendConfig = dict[str, str | int | bool]


@dataclass(frozen=True)
class Environment:
    name: str
    branch: str
    account_id: str | None
    region: str
    backup_region: str | None
    role_arn: str | None = None
    approvers: tuple[str, ...] = ()
    require_approval: bool = False
    allow_self_approval: bool = False
    require_manual_trigger: bool = False
    backend: BackendConfig = field(default_factory=dict)
    notify: NotifyConfig = field(default_factory=NotifyConfig)


@dataclass(frozen=True)
class Stack:
    name: str
    dir: Path  # absolute
    rel_dir: str  # as written, relative to the repository root
    environments: tuple[str, ...]
    backend: dict[str, BackendConfig] = field(default_factory=dict)
    var_files: dict[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class Config:
    path: Path
    root: Path
    environments: dict[str, Environment]
    stacks: dict[str, Stack]
    terraform: str | None = None
    plugin_cache_dir: Path | None = None
    protection: Protection = field(default_factory=Protection)
    ledger: Path | None = None
    report_max_chars: int = 60_000
    policies: dict[str, Policy] = field(default_factory=dict)  # [policies.NAME]: backups
    dr: DrConfig = field(default_factory=DrConfig)  # [dr]: disaster recovery
    jenkins: jenkins_settings.JenkinsSettings = field(
        default_factory=jenkins_settings.JenkinsSettings
    )

    def environment(self, name: str) -> Environment:
        try:
            return self.environments[name]
        except KeyError:
            known = ", ".join(sorted(self.environments)) or "none"
            raise UsageError(
                f"{self.path}: unknown environment {name!r}; known environments: {known}"
            ) from None

    def stack(self, name: str) -> Stack:
        try:
            return self.stacks[name]
        except KeyError:
            known = ", ".join(sorted(self.stacks)) or "none"
            raise UsageError(
                f"{self.path}: unknown stack {name!r}; known stacks: {known}"
            ) from None

    def environment_for_branch(self, branch: str) -> Environment | None:
        for env in self.environments.values():
            if env.branch == branch:
                return env
        return None

    def backend_for(self, stack: Stack, env: Environment) -> BackendConfig:
        """Env-wide backend defaults overlaid by the stack's own, with placeholders filled."""
        merged: BackendConfig = {**env.backend, **stack.backend.get(env.name, {})}
        out: BackendConfig = {}
        for key, value in merged.items():
            out[key] = (
                value.replace("{stack}", stack.name).replace("{env}", env.name)
                if isinstance(value, str)
                else value
            )
        return out


def load(path: Path) -> Config:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(path, "", "no such file (give --config or set RUNNERS_CONFIG)") from None
    except OSError as exc:
        raise ConfigError(path, "", f"cannot read: {exc.strerror}") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(path, "", "expected UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(path, "", f"not valid TOML: {exc}") from None
    return parse(path, data)


def parse(path: Path, data: dict[str, object]) -> Config:
    root = path.parent
    top = Table(path, "", data)
    top.only("runners", "environments", "stacks", "protected", "policies", "dr", "jenkins")
    settings = top.table("runners")
    settings.only("terraform", "plugin_cache_dir", "ledger", "report_max_chars")
    # A file with backup policies and nothing to plan serves backup, ship, prune and report.
    backup_only = "policies" in data and "environments" not in data and "stacks" not in data
    environments = {} if backup_only else _environments(top.table("environments", required=True))
    stacks = {} if backup_only else _stacks(top.table("stacks", required=True), root, environments)
    protection = _protection(top.table("protected"))
    jenkins = jenkins_settings.parse(top.table("jenkins"), root, environments, stacks)

    terraform = settings.str("terraform")
    cache = settings.str("plugin_cache_dir")
    ledger = settings.str("ledger", default=".runners/audit.jsonl")
    report_max = settings.int("report_max_chars", 60_000, minimum=1_000)
    settings.check_unknown()
    top.check_unknown()
    return Config(
        path=path,
        root=root,
        environments=environments,
        stacks=stacks,
        terraform=terraform,
        plugin_cache_dir=_path(root, cache) if cache else None,
        protection=protection,
        ledger=_path(root, ledger) if ledger else None,
        report_max_chars=report_max,
        policies=parse_policies(top.table("policies")),
        dr=parse_dr(top.table("dr"), stacks),
        jenkins=jenkins,
    )


def _path(root: Path, value: str) -> Path:
    p = Path(value).expanduser()
    return p if p.is_absolute() else root / p


ENV_KEYS = (
    "branch",
    "account_id",
    "region",
    "backup_region",
    "role_arn",
    "approvers",
    "require_approval",
    "allow_self_approval",
    "require_manual_trigger",
    "backend",
    "notify",
)


def _environments(table: Table) -> dict[str, Environment]:
    envs: dict[str, Environment] = {}
    for name, t in table.items():
        if not _NAME.match(name):
            raise table.fail(name, "environment names use letters, digits, '.', '_' and '-'")
        t.only(*ENV_KEYS)
        account = t.str("account_id")
        if account is not None and not _ACCOUNT.match(account):
            raise t.fail("account_id", f"expected a 12-digit AWS account id, got {account!r}")
        region = t.req_str("region")
        if not _REGION.match(region):
            raise t.fail("region", f"expected an AWS region such as eu-west-1, got {region!r}")
        backup_region = t.str("backup_region")
        if backup_region is not None and not _REGION.match(backup_region):
            raise t.fail("backup_region", f"expected an AWS region, got {backup_region!r}")
        if backup_region == region:
            raise t.fail("backup_region", "must differ from region, or losing one loses both")
        role = t.str("role_arn")
        if role is not None and not role.startswith("arn:"):
            raise t.fail("role_arn", f"expected an IAM role ARN, got {role!r}")
        approvers = t.str_list("approvers")
        require_approval = t.bool("require_approval", False)
        if require_approval and not approvers:
            raise t.fail(
                "approvers", "require_approval is true, so at least one approver is needed"
            )
        envs[name] = Environment(
            name=name,
            branch=t.req_str("branch"),
            account_id=account,
            region=region,
            backup_region=backup_region,
            role_arn=role,
            approvers=approvers,
            require_approval=require_approval,
            allow_self_approval=t.bool("allow_self_approval", False),
            require_manual_trigger=t.bool("require_manual_trigger", False),
            backend=t.scalar_map("backend"),
            notify=parse_notify(t.table("notify")),
        )
        t.check_unknown()
    if not envs:
        raise ConfigError(
            table.path, "environments", "define at least one [environments.NAME] table"
        )
    branches: dict[str, str] = {}
    for env in envs.values():
        if env.branch in branches:
            raise ConfigError(
                table.path,
                f"environments.{env.name}.branch",
                f"branch {env.branch!r} is already used by environment {branches[env.branch]!r}",
            )
        branches[env.branch] = env.name
    return envs


def _stacks(table: Table, root: Path, envs: dict[str, Environment]) -> dict[str, Stack]:
    stacks: dict[str, Stack] = {}
    for name, t in table.items():
        if not _NAME.match(name):
            raise table.fail(name, "stack names use letters, digits, '.', '_' and '-'")
        t.only("dir", "environments", "backend", "var_files")
        rel = t.req_str("dir")
        rel_path = Path(rel)
        if rel_path.is_absolute() or ".." in rel_path.parts:
            raise t.fail("dir", f"expected a path inside the repository, got {rel!r}")
        stack_envs = t.str_list("environments", default=tuple(envs))
        for env_name in stack_envs:
            if env_name not in envs:
                raise t.fail("environments", f"unknown environment {env_name!r}")
        backend_table = t.table("backend")
        backends: dict[str, BackendConfig] = {}
        for env_name in list(backend_table.data):
            if env_name not in envs:
                raise backend_table.fail(env_name, "expected the name of an environment")
            backends[env_name] = backend_table.scalar_map(env_name)
        backend_table.check_unknown()
        var_table = t.table("var_files")
        var_files: dict[str, tuple[str, ...]] = {}
        for env_name in list(var_table.data):
            if env_name not in envs:
                raise var_table.fail(env_name, "expected the name of an environment")
            var_files[env_name] = var_table.str_list(env_name)
        var_table.check_unknown()
        t.check_unknown()
        stacks[name] = Stack(
            name=name,
            dir=(root / rel_path).resolve(),
            rel_dir=rel_path.as_posix().rstrip("/"),
            environments=stack_envs,
            backend=backends,
            var_files=var_files,
        )
    if not stacks:
        raise ConfigError(table.path, "stacks", "define at least one [stacks.NAME] table")
    return stacks


def _protection(table: Table) -> Protection:
    table.only("types", "extra_types", "addresses")
    types = table.str_list("types", default=DEFAULT_PROTECTED_TYPES)
    extra = table.str_list("extra_types")
    addresses = table.str_list("addresses")
    table.check_unknown()
    return Protection(types=tuple(dict.fromkeys((*types, *extra))), addresses=addresses)
