"""``dr prepare`` from the command line's names to the files in each stack's folder."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from runners import log
from runners.aws.session import SessionFactory
from runners.backup.context import sessions_for
from runners.backup.policy import Policy
from runners.config import Config, Environment
from runners.dr import outputs, runbook
from runners.dr.clients import DrClients
from runners.dr.model import Preparation
from runners.dr.prepare import Request, prepare
from runners.errors import ConfigError, UsageError


@dataclass(frozen=True)
class Prepared:
    prep: Preparation
    folder: Path


def policy_for(cfg: Config) -> Policy:
    """The backup policy whose shipped copies disaster recovery restores."""
    cfg.dr.check_policies(cfg.policies, cfg.path)
    if cfg.dr.policy is None:
        raise ConfigError(
            cfg.path, "dr.policy", "is required: the backup policy whose copies are restored"
        )
    return cfg.policies[cfg.dr.policy]


def environment_for(cfg: Config, name: str | None, region: str) -> Environment:
    """--env, or the one environment whose backup region is ``region``."""
    if name:
        return cfg.environment(name)
    candidates = [e for e in cfg.environments.values() if e.backup_region == region]
    if len(candidates) == 1:
        return candidates[0]
    which = ", ".join(sorted(e.name for e in candidates)) or "none"
    raise UsageError(
        f"give --env: environments with backup_region {region}: {which} (need exactly one)"
    )


def stacks_for(cfg: Config, name: str | None, env: Environment) -> list[str]:
    """--stack, or every stack with a [dr.stacks] table that is deployed to ``env``."""
    if name:
        cfg.stack(name)  # an unknown stack is a usage error first
        cfg.dr.stack(name, cfg.path)
        return [name]
    names = [n for n in cfg.dr.stacks if env.name in cfg.stack(n).environments]
    if not names:
        raise UsageError(
            f"{cfg.path}: no [dr.stacks.NAME] table for a stack deployed to {env.name}"
        )
    return names


def account_for(env: Environment, policy: Policy) -> str | None:
    """The account to assume into: the environment's, when the policy spans accounts."""
    return env.account_id if env.account_id in policy.selection.accounts else None


def clients_for(policy: Policy) -> SessionFactory:
    return sessions_for(policy)


def prepare_into(
    cfg: Config,
    stack: str,
    env: Environment,
    region: str,
    folder: Path,
    clients: DrClients,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> Prepared:
    policy = policy_for(cfg)
    cfg.stack(stack)  # an unknown stack is a usage error first
    recovery = cfg.dr.stack(stack, cfg.path)
    request = Request(cfg, recovery, env, policy, region, account_for(env, policy))
    log.step(f"prepare {stack} ({env.name}) for {region}")
    prep = prepare(request, clients, now)
    from runners.dr import drill
    from runners.stacks import Target

    prep.last_drill = drill.last_recorded(Target(cfg, cfg.stack(stack), env), region)
    regions = policy.selection.regions or (env.region,)
    text = runbook.render(prep, folder, regions, env.approvers, recovery.drill.smoke)
    folder.mkdir(parents=True, exist_ok=True)
    outputs.write(folder, prep, text)
    return Prepared(prep, folder)
