"""The repository: runners.toml is valid, and every stack initialises with its backend."""

from __future__ import annotations

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
        detail = (
            f"{len(cfg.environments)} environments, {len(cfg.stacks)} stacks, "
            f"{len(cfg.policies)} backup policies"
        )
        return [self.ok(str(cfg.path.name), detail)]


class StacksInitCheck(Check):
    """``terraform init`` of every stack in every environment it is deployed to, with the
    backend runners.toml gives it and the committed lock file (``-lockfile=readonly``,
    as the apply runs it), into a data folder of doctor's own."""

    name = "stack init"

    def findings(self, ctx: Context) -> list[Finding]:
        from runners.stacks import select

        cfg = ctx.config
        out = []
        for stack in cfg.stacks.values():
            for env_name in stack.environments:
                if env_name not in ctx.env_names():
                    continue
                subject = f"{stack.name} ({env_name})"
                lock = stack.dir / ".terraform.lock.hcl"
                if not lock.is_file():
                    out.append(
                        self.fail(
                            subject,
                            f"no {stack.rel_dir}/.terraform.lock.hcl: its first plan would "
                            "write one, and a plan from a dirty tree cannot be applied",
                            f"terraform -chdir={stack.rel_dir} init -backend=false, then commit "
                            "the lock file",
                        )
                    )
                    continue
                try:
                    _init(select(cfg, stack.name, env_name), cfg.root)
                except RunnersError as exc:
                    out.append(
                        self.fail(
                            subject,
                            str(exc),
                            f"runners bootstrap --env {env_name} if the bucket is missing; "
                            "else what Terraform says",
                        )
                    )
                    continue
                backend = cfg.backend_for(stack, cfg.environment(env_name))
                where = f"s3://{backend.get('bucket')}/{backend.get('key')}" if backend else "local"
                out.append(self.ok(subject, f"initialised with {where}"))
        return out


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
