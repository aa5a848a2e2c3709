"""Backups: each policy selects something, and its newest backup is within the RPO.

Both read the account as ``runners report`` does (``runners.backup.inventory``
and ``runners.backup.report``), with the doctor's own credentials.
"""

from __future__ import annotations

from runners.client.doctor.base import Check, Context, Finding


def _run(ctx: Context, name: str):  # type: ignore[no-untyped-def]
    from runners.backup.context import Run
    from runners.commands.policyrun import own_account

    cfg = ctx.config
    policy = cfg.policies[name]
    from runners.backup.context import sessions_for

    return Run(
        policy=policy,
        clients=sessions_for(policy),
        dry_run=True,
        root=cfg.root,
        account=own_account(cfg, policy),
    )


class BackupSelectsCheck(Check):
    name = "backup selection"

    def findings(self, ctx: Context) -> list[Finding]:
        from runners.backup import inventory

        cfg = ctx.config
        if not cfg.policies:
            return [self.fail("no policy", "runners.toml has no [policies.NAME]", "add one")]
        ctx.aws  # noqa: B018  # credentials first: one clear line when there are none
        out = []
        for name, policy in cfg.policies.items():
            run = _run(ctx, name)
            found = inventory.resources(run, run.places())
            tags = ", ".join(f"{k}={v}" for k, v in policy.selection.tags.items())
            if run.failures:
                out.append(
                    self.fail(name, f"listing failed: {run.failures[0]}", "see the AWS error")
                )
            elif not found:
                out.append(
                    self.fail(
                        name,
                        f"selects nothing ({tags} in {', '.join(r.region for r in run.places())})",
                        "apply the stacks whose volumes and databases carry that tag, or tag them",
                    )
                )
            else:
                kinds = sorted({r.kind for r in found})
                out.append(self.ok(name, f"selects {len(found)} ({', '.join(kinds)})"))
        return out


class BackupRpoCheck(Check):
    name = "backup RPO"

    def findings(self, ctx: Context) -> list[Finding]:
        from runners.backup import report as report_mod

        cfg = ctx.config
        ctx.aws  # noqa: B018
        out = []
        for name, policy in cfg.policies.items():
            run = _run(ctx, name)
            report = report_mod.build(run)
            fix = f"runners backup --policy {name} && runners ship --policy {name}"
            if report.failures:
                out.append(self.fail(name, f"not all could be read: {report.failures[0]}", fix))
            elif not report.rows:
                out.append(self.fail(name, "nothing to measure: the policy selects nothing", fix))
            elif report.breaches:
                worst = report.breaches[0]
                age = (
                    "never backed up" if worst.age_hours is None else f"{worst.age_hours:.1f} h old"
                )
                out.append(
                    self.fail(
                        name,
                        f"{len(report.breaches)} of {len(report.rows)} beyond the RPO of "
                        f"{policy.rpo_hours:g} h (e.g. {worst.resource} in {worst.place}: {age})",
                        fix,
                    )
                )
            else:
                newest = max((r.age_hours or 0.0) for r in report.rows)
                out.append(
                    self.ok(
                        name,
                        f"{len(report.rows)} within the RPO of {policy.rpo_hours:g} h "
                        f"(each newest backup at most {newest:.1f} h old), in both regions",
                    )
                )
        return out
