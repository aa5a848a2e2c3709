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
    # Read the approver and the build cause from Jenkins, not from flags.
    verify_build: bool = False
    # Approvals each merge request behind a change needs on the Git platform.
    require_mr_approvals: int = 0
    # Why approval is required, for refusals: "it lists approvers", ...; None when it is not.
    approval_reason: str | None = None


@dataclass(frozen=True)
class Identity:
    """``[identities.JENKINS_ID]``: the other names one person goes by."""

    jenkins_id: str
    git_emails: tuple[str, ...] = ()
    platform_users: tuple[str, ...] = ()


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
    provider_mirror: Path | None = None  # a Terraform filesystem mirror (cliconfig)
    protection: Protection = field(default_factory=Protection)
    ledger: Path | None = None
    report_max_chars: int = 60_000
    policies: dict[str, Policy] = field(default_factory=dict)  # [policies.NAME]: backups
    dr: DrConfig = field(default_factory=DrConfig)  # [dr]: disaster recovery
    jenkins: jenkins_settings.JenkinsSettings = field(
        default_factory=jenkins_settings.JenkinsSettings
    )
    identities: dict[str, Identity] = field(default_factory=dict)

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
        return backend_for(stack, env)


def backend_for(stack: Stack, env: Environment) -> BackendConfig:
    """Env-wide backend defaults overlaid by the stack's own, with placeholders filled.

    A local state ``path`` (or ``workspace_dir``) is made absolute against the
    stack's folder, which is where Terraform resolves it when it plans; the
    apply runs Terraform in a clean copy of the branch head, and a relative
    path there would name a file in that throwaway copy.
    """
    merged: BackendConfig = {**env.backend, **stack.backend.get(env.name, {})}
    out: BackendConfig = {}
    for key, raw in merged.items():
        value = raw
        if isinstance(value, str):
            value = value.replace("{stack}", stack.name).replace("{env}", env.name)
            if key in _LOCAL_PATHS and "bucket" not in merged and not Path(value).is_absolute():
                value = str(stack.dir / Path(value).expanduser())
        out[key] = value
    return out


_LOCAL_PATHS = ("path", "workspace_dir")


def state_identity(backend: BackendConfig, stack_dir: Path) -> str | None:
    """Where a backend keeps the state, as one comparable string; None when config does not say."""
    bucket, key = backend.get("bucket"), backend.get("key")
    if isinstance(bucket, str) and bucket:
        if not isinstance(key, str) or not key:
            return None
        prefix = backend.get("workspace_key_prefix")
        return f"s3://{bucket}/{prefix}/{key}" if prefix else f"s3://{bucket}/{key}"
    path = backend.get("path")
    if isinstance(path, str) and path:
        return str((stack_dir / Path(path).expanduser()).resolve())
    return None


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
    top.only(
        "runners", "environments", "stacks", "protected", "policies", "dr", "jenkins", "identities"
    )
    settings = top.table("runners")
    settings.only("terraform", "plugin_cache_dir", "provider_mirror", "ledger", "report_max_chars")
    environments = _environments(top.table("environments", required=True))
    stacks = _stacks(top.table("stacks", required=True), root, environments)
    protection = _protection(top.table("protected"))
    jenkins = jenkins_settings.parse(top.table("jenkins"), root, environments, stacks)
    dr = parse_dr(top.table("dr"), stacks)
    _check_state_keys(path, environments, stacks, dr)
    identities = _identities(top.table("identities"))

    terraform = settings.str("terraform")
    cache = settings.str("plugin_cache_dir")
    mirror = settings.str("provider_mirror")
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
        provider_mirror=_path(root, mirror) if mirror else None,
        protection=protection,
        ledger=_path(root, ledger) if ledger else None,
        report_max_chars=report_max,
        policies=parse_policies(top.table("policies")),
        dr=dr,
        jenkins=jenkins,
        identities=identities,
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
    "verify_build",
    "require_mr_approvals",
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
        # Fail closed: listing approvers, or being production, means approval is
        # required (and a person's build, and a build read from Jenkins) unless
        # the file says otherwise in so many words.
        reason = (
            "it lists approvers"
            if approvers
            else "it is named production"
            if name == "production"
            else None
        )
        if t.has("require_approval"):
            require_approval = t.bool("require_approval", False)
            if require_approval and not approvers:
                raise t.fail(
                    "approvers", "require_approval is true, so at least one approver is needed"
                )
            reason = "require_approval = true" if require_approval else None
        else:
            require_approval = reason is not None
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
            require_manual_trigger=t.bool("require_manual_trigger", require_approval),
            backend=t.scalar_map("backend"),
            notify=parse_notify(t.table("notify")),
            verify_build=t.bool("verify_build", require_approval),
            require_mr_approvals=t.int("require_mr_approvals", 0),
            approval_reason=reason,
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


def _check_state_keys(
    path: Path, envs: dict[str, Environment], stacks: dict[str, Stack], dr: DrConfig
) -> None:
    """No two (stack, environment) pairs may share a state, nor a rebuild share theirs.

    Otherwise the runner lock, the ledger's last applied commit and the
    apply's backend check could not tell one target from the other.
    """
    seen: dict[str, str] = {}
    for stack in stacks.values():
        for env_name in stack.environments:
            env = envs[env_name]
            where = state_identity(backend_for(stack, env), stack.dir)
            if where is None:
                continue
            who = f"stack {stack.name!r} in {env.name!r}"
            if where in seen:
                key = (
                    f"stacks.{stack.name}.backend.{env.name}"
                    if env.name in stack.backend
                    else f"environments.{env.name}.backend"
                )
                raise ConfigError(
                    path,
                    key,
                    f"{who} and {seen[where]} share the state {where}; "
                    "each needs its own (use {stack} and {env} in key or path)",
                )
            seen[where] = who
    if not dr.backend:
        return
    for stack in stacks.values():
        for env_name in stack.environments:
            env = envs[env_name]
            if env.backup_region is None:
                continue
            filled = {
                k: v.replace("{stack}", stack.name)
                .replace("{env}", env.name)
                .replace("{region}", env.backup_region)
                if isinstance(v, str)
                else v
                for k, v in dr.backend.items()
            }
            where = state_identity({**backend_for(stack, env), **filled}, stack.dir)
            if where is not None and where in seen:
                raise ConfigError(
                    path,
                    "dr.backend",
                    f"the rebuild of stack {stack.name!r} ({env.name}) in {env.backup_region} "
                    f"would write the state of {seen[where]} ({where})",
                )


def _identities(table: Table) -> dict[str, Identity]:
    out: dict[str, Identity] = {}
    for name, t in table.items():
        t.only("git_emails", "platform_users")
        out[name] = Identity(
            jenkins_id=name,
            git_emails=tuple(e.lower() for e in t.str_list("git_emails")),
            platform_users=tuple(u.lower() for u in t.str_list("platform_users")),
        )
        t.check_unknown()
    return out


def _protection(table: Table) -> Protection:
    table.only("types", "extra_types", "addresses")
    types = table.str_list("types", default=DEFAULT_PROTECTED_TYPES)
    extra = table.str_list("extra_types")
    addresses = table.str_list("addresses")
    table.check_unknown()
    return Protection(types=tuple(dict.fromkeys((*types, *extra))), addresses=addresses)
