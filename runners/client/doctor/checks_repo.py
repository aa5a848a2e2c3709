"""The repository: runners.toml is valid, and every stack initialises with its backend."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from runners.client.doctor.base import Check, Context, Finding
from runners.errors import RunnersError
from runners.stacks import Target, workspace
from runners.terraform.engine import build_args


class ConfigCheck(Check):
    name = "config"

    def findings(self, ctx: Context) -> list[Finding]:
        try:
            cfg = ctx.config
        except RunnersError:
            return [
                self.fail(
                    str(ctx.config_path),
                    ctx.config_error or "cannot be read",
                    "correct it; every other check needs it",
                )
            ]
        detail = ", ".join(
            _count(n, one, many)
            for n, one, many in (
                (len(cfg.environments), "environment", "environments"),
                (len(cfg.stacks), "stack", "stacks"),
                (len(cfg.policies), "backup policy", "backup policies"),
            )
        )
        return [self.ok(str(cfg.path.name), detail)]


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


INIT_WORKERS = 3


class StacksInitCheck(Check):
    """``terraform init`` of every stack in every environment it is deployed to, with the
    backend runners.toml gives it and the committed lock file (``-lockfile=readonly``,
    as the apply runs it), into a data folder of doctor's own."""

    name = "stack init"

    def findings(self, ctx: Context) -> list[Finding]:
        from runners.stacks import select

        cfg = ctx.config
        targets = [
            select(cfg, stack.name, env_name)
            for stack in cfg.stacks.values()
            for env_name in stack.environments
            if env_name in ctx.env_names()
        ]
        # Each init mostly waits (S3, the provider's checksum): a few at once, in order.
        with ThreadPoolExecutor(max_workers=INIT_WORKERS) as pool:
            return list(pool.map(lambda t: self._one(t, cfg.root), targets))

    def _one(self, target: Target, root: Path) -> Finding:
        subject = f"{target.stack.name} ({target.env.name})"
        try:
            _init(target, root)
        except RunnersError as exc:
            if "Provider dependency changes detected" in str(exc):
                rel = target.stack.rel_dir
                return self.fail(
                    subject,
                    f"{rel}/.terraform.lock.hcl is missing or lacks a provider the stack needs: "
                    "its plan would change the file, and a plan from a dirty tree cannot be applied",
                    f"terraform -chdir={rel} init -backend=false, then commit the lock file",
                )
            return self.fail(
                subject,
                str(exc),
                f"runners bootstrap --env {target.env.name} if the bucket is missing; "
                "else what Terraform says",
            )
        backend = target.config.backend_for(target.stack, target.env)
        where = (
            f"s3://{backend.get('bucket')}/{backend.get('key')}"
            if backend.get("bucket")
            else "local"
        )
        return self.ok(subject, f"initialised with {where}")


def _init(target: Target, root: Path) -> None:
    """``terraform init`` as the apply runs it, quietly: the failure's line is the finding."""
    ws = workspace(target, color=False)
    data = root / ".runners" / "doctor" / target.stack.name / target.env.name
    data.mkdir(parents=True, exist_ok=True)
    args = build_args(
        ["init"],
        {
            "input": "false",
            "reconfigure": True,
            "no_color": True,
            "lockfile": "readonly",
            "backend_config": dict(ws.backend) or None,
        },
    )
    ws.tf.run(args, ws.dir, extra_env={"TF_DATA_DIR": str(data)}, stream=False)
