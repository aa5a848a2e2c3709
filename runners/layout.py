"""The client's layout in runners.toml: its environments and its stacks.

``[environments.NAME]`` says where an environment lives (branch, account,
region, backend) and who may change it; ``[stacks.NAME]`` says where a stack's
code is and which environments it is deployed to. The other capabilities'
settings (backups, disaster recovery, Jenkins) refer to these, so they import
this module; ``runners.config`` composes them all.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from runners.confread import Table
from runners.errors import ConfigError
from runners.notify.settings import NotifyConfig, parse_notify
from runners.terraform.backendconf import BackendConfig, parse_backend

_ACCOUNT = re.compile(r"^\d{12}$")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


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
    # Refuse an apply whose plan differs from the plan reviewed on the merge request,
    # unless the approver accepts the difference (--accept-difference).
    require_reviewed_plan: bool = False


@dataclass(frozen=True)
class Stack:
    name: str
    dir: Path  # absolute
    rel_dir: str  # as written, relative to the repository root
    environments: tuple[str, ...]
    backend: dict[str, BackendConfig] = field(default_factory=dict)
    var_files: dict[str, tuple[str, ...]] = field(default_factory=dict)


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
    "require_reviewed_plan",
)


def parse_environments(table: Table) -> dict[str, Environment]:
    envs: dict[str, Environment] = {}
    for name, t in table.items():
        if not _NAME.match(name):
            raise table.fail(name, "environment names use letters, digits, '.', '_' and '-'")
        t.only(*ENV_KEYS)
        account = t.str("account_id")
        if account is not None and not _ACCOUNT.match(account):
            raise t.fail("account_id", f"expected a 12-digit AWS account id, got {account!r}")
        region = t.region("region", required=True) or ""
        backup_region = t.region("backup_region")
        if backup_region == region:
            raise t.fail("backup_region", "must differ from region, or losing one loses both")
        role = t.str("role_arn")
        if role is not None and not role.startswith("arn:"):
            raise t.fail("role_arn", f"expected an IAM role ARN, got {role!r}")
        approvers = t.str_list("approvers")
        require_approval, reason = _approval(name, t, approvers)
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
            backend=parse_backend(t.table("backend")),
            notify=parse_notify(t.table("notify")),
            verify_build=t.bool("verify_build", require_approval),
            require_mr_approvals=t.int("require_mr_approvals", 0),
            approval_reason=reason,
            require_reviewed_plan=t.bool("require_reviewed_plan", False),
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


def _approval(name: str, t: Table, approvers: tuple[str, ...]) -> tuple[bool, str | None]:
    """Whether approval is required, and why: fail closed.

    Listing approvers, or being named production, means approval is required
    (and, by default, a person's build read from Jenkins) unless the file says
    ``require_approval = false`` in so many words.
    """
    reason = (
        "it lists approvers"
        if approvers
        else "it is named production"
        if name == "production"
        else None
    )
    if not t.has("require_approval"):
        return reason is not None, reason
    required = t.bool("require_approval", False)
    if required and not approvers:
        raise t.fail("approvers", "require_approval is true, so at least one approver is needed")
    return required, "require_approval = true" if required else None


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


def parse_stacks(table: Table, root: Path, envs: dict[str, Environment]) -> dict[str, Stack]:
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
            backends[env_name] = parse_backend(backend_table.table(env_name))
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
