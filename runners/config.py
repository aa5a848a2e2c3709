"""Load and validate ``runners.toml``.

The file sits at the root of the client's infrastructure repository;
``--config`` or ``RUNNERS_CONFIG`` point elsewhere. Everything is checked at
load time, so a bad file fails before any Terraform or AWS call, with exit 2
and one line naming the file, the key and what was expected.

Each capability reads its own tables (``runners.layout`` the environments and
stacks, ``runners.backup.policy``, ``runners.dr.settings``,
``runners.jenkins.settings``, ``runners.notify.settings``); this module only
composes them. Imports point one way: none of those modules imports this one.
"""

from __future__ import annotations

import re
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from runners.backup.policy import Policy, parse_policies
from runners.change.identities import Identity, parse_identities
from runners.client.settings import BootstrapSettings, parse_bootstrap
from runners.confread import Table
from runners.dr.settings import DrConfig, parse_dr
from runners.errors import ConfigError, UsageError
from runners.jenkins import settings as jenkins_settings
from runners.layout import (
    Environment,
    Stack,
    backend_for,
    parse_environments,
    parse_stacks,
    state_identity,
)
from runners.terraform.backendconf import BackendConfig
from runners.terraform.protection import DEFAULT_PROTECTED_TYPES, Protection

# The layout's types are part of this module's interface: most callers hold a
# Config and name its environments and stacks from here.
# How long a Terraform command waits for a state lock another run holds; an
# apply approved after hours must not fail at once on a drift check's lock.
DEFAULT_LOCK_TIMEOUT = "5m"
MAX_LOCK_TIMEOUT_SECONDS = 24 * 3600
_DURATION = re.compile(r"(\d+)(ms|s|m|h)")
_UNIT_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}

__all__ = [
    "BackendConfig",
    "Config",
    "Environment",
    "Identity",
    "Stack",
    "load",
    "parse",
    "state_identity",
]


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
    lock_timeout: str = DEFAULT_LOCK_TIMEOUT  # Terraform's -lock-timeout for every locking command
    policies: dict[str, Policy] = field(default_factory=dict)  # [policies.NAME]: backups
    dr: DrConfig = field(default_factory=DrConfig)  # [dr]: disaster recovery
    jenkins: jenkins_settings.JenkinsSettings = field(
        default_factory=jenkins_settings.JenkinsSettings
    )
    identities: dict[str, Identity] = field(default_factory=dict)  # [identities.JENKINS_ID]
    bootstrap: BootstrapSettings | None = None  # [bootstrap]: runners bootstrap and doctor

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
        return backend_for(stack, env)


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
    except ValueError:
        # tomllib's one other refusal: an integer past Python's digit limit.
        limit = sys.get_int_max_str_digits()
        raise ConfigError(path, "", f"a number has more than {limit} digits") from None
    except RecursionError:
        raise ConfigError(path, "", "arrays or tables nested too deeply") from None
    return parse(path, data)


def parse(path: Path, data: dict[str, object]) -> Config:
    root = path.parent
    top = Table(path, "", data)
    top.only(
        "runners",
        "environments",
        "stacks",
        "protected",
        "policies",
        "dr",
        "jenkins",
        "identities",
        "bootstrap",
    )
    settings = top.table("runners")
    settings.only(
        "terraform",
        "plugin_cache_dir",
        "provider_mirror",
        "ledger",
        "report_max_chars",
        "lock_timeout",
    )
    # A file with backup policies and nothing to plan serves backup, ship, prune and report.
    backup_only = "policies" in data and "environments" not in data and "stacks" not in data
    environments = (
        {} if backup_only else parse_environments(top.table("environments", required=True))
    )
    stacks = (
        {} if backup_only else parse_stacks(top.table("stacks", required=True), root, environments)
    )
    protection = _protection(top.table("protected"))
    jenkins = jenkins_settings.parse(top.table("jenkins"), root, environments, stacks)
    dr = parse_dr(top.table("dr"), stacks)
    _check_state_keys(path, environments, stacks, dr)
    identities = parse_identities(top.table("identities"))

    terraform = settings.str("terraform")
    cache = settings.str("plugin_cache_dir")
    mirror = settings.str("provider_mirror")
    ledger = settings.str("ledger", default=".runners/audit.jsonl")
    report_max = settings.int("report_max_chars", 60_000, minimum=1_000)
    lock_timeout = _lock_timeout(settings)
    settings.check_unknown()
    policies = parse_policies(top.table("policies"))
    bootstrap = parse_bootstrap(top.table("bootstrap"), root)
    _check_named_policies(path, jenkins, policies)
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
        lock_timeout=lock_timeout,
        policies=policies,
        dr=dr,
        jenkins=jenkins,
        identities=identities,
        bootstrap=bootstrap,
    )


def _lock_timeout(settings: Table) -> str:
    """``[runners] lock_timeout``: a duration as Terraform reads it ("5m", "90s", "1h30m")."""
    value = settings.str("lock_timeout", default=DEFAULT_LOCK_TIMEOUT) or DEFAULT_LOCK_TIMEOUT
    parts = _DURATION.findall(value)
    if not parts or "".join(n + u for n, u in parts) != value:
        raise settings.fail(
            "lock_timeout",
            f"expected a duration such as 5m, 90s or 1h30m (units h, m, s, ms), got {value!r}",
        )
    seconds = sum(int(n) * _UNIT_SECONDS[u] for n, u in parts)
    if seconds > MAX_LOCK_TIMEOUT_SECONDS:
        raise settings.fail("lock_timeout", f"expected at most 24h, got {value!r}")
    return value


def _check_named_policies(
    path: Path, jenkins: jenkins_settings.JenkinsSettings, policies: dict[str, Policy]
) -> None:
    """[jenkins] makes a job per named backup policy: each must be one."""
    named = (
        ("backup_policies", jenkins.backup_policies),
        ("verify_restore_policies", jenkins.verify_restore_policies or ()),
    )
    for key, names in named:
        for name in names:
            if name not in policies:
                known = ", ".join(sorted(policies)) or "none"
                raise ConfigError(
                    path,
                    f"jenkins.{key}",
                    f"{name!r} is not a backup policy ([policies.NAME]); known: {known}",
                )


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
            own = backend_for(stack, env)
            # Naming the other kind of location drops the environment's (as dr.statefile.overlay).
            if "path" in filled:
                own = {k: v for k, v in own.items() if k not in ("bucket", "key", "region")}
            if "bucket" in filled:
                own = {k: v for k, v in own.items() if k != "path"}
            where = state_identity({**own, **filled}, stack.dir)
            if where is not None and where in seen:
                raise ConfigError(
                    path,
                    "dr.backend",
                    f"the rebuild of stack {stack.name!r} ({env.name}) in {env.backup_region} "
                    f"would write the state of {seen[where]} ({where})",
                )


def _path(root: Path, value: str) -> Path:
    p = Path(value).expanduser()
    return p if p.is_absolute() else root / p


def _protection(table: Table) -> Protection:
    table.only("types", "extra_types", "addresses")
    types = table.str_list("types", default=DEFAULT_PROTECTED_TYPES)
    extra = table.str_list("extra_types")
    addresses = table.str_list("addresses")
    table.check_unknown()
    return Protection(types=tuple(dict.fromkeys((*types, *extra))), addresses=addresses)
