"""Jenkins: the jobs are as ``runners jobs sync`` makes them, and the credentials in their zone."""

from __future__ import annotations

from runners.client.doctor.base import Check, Context, Finding


class JobsCheck(Check):
    """Every folder and job ``jobs sync`` would make is there and unchanged (its dry run)."""

    name = "jenkins jobs"

    def findings(self, ctx: Context) -> list[Finding]:
        from runners.jenkins import jobs

        cfg = ctx.config
        rendered = jobs.render_all(cfg, jobs.catalog(cfg))
        actions = jobs.plan(ctx.jenkins, rendered, jobs.zone_folders(cfg))
        fix = "runners jobs sync"
        out = []
        for action in actions:
            if action.kind in ("unchanged", "exists"):
                continue
            what = {
                "create": "missing",
                "update": "differs from what runners makes"
                + (f" ({action.reason})" if action.reason else ""),
                "refused": f"refused: {action.reason}",
                "stale": action.reason,
                "failed": f"cannot be read: {action.reason}",
            }.get(action.kind, action.kind)
            out.append(
                self.fail(
                    action.name, what, "delete it by hand" if action.kind == "refused" else fix
                )
            )
        if not out:
            out.append(
                self.ok(f"{len(actions)} jobs and folders", "as runners jobs sync makes them")
            )
        return out


class CredentialsZoneCheck(Check):
    """No production-only credential where the merge-request zone can resolve it
    (``runners.jenkins.zonecheck``), as far as Jenkins' credentials API shows."""

    name = "jenkins credentials"

    def findings(self, ctx: Context) -> list[Finding]:
        from runners.jenkins import zonecheck

        cfg = ctx.config
        deviations = zonecheck.credential_deviations(cfg, ctx.jenkins)
        if deviations:
            return [
                self.fail(
                    d.where,
                    d.what,
                    f"move it into the production folder {cfg.jenkins.production_zone}",
                )
                for d in deviations
            ]
        stores = ", ".join(c or "global" for c in zonecheck.exposed_contexts(cfg))
        return [
            self.ok(
                "merge-request zone",
                f"no production-only credential in the stores it can read ({stores})",
            )
        ]
