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


class ApplyNeedsCheck(Check):
    """What a production apply needs where approval is required (docs/security.md): someone
    who may approve, the plan-signing key in the production folder, and, where the build is
    verified, runners' own Jenkins token able to read the production job; where merge
    requests need approvals, the platform token."""

    name = "apply needs"

    def findings(self, ctx: Context) -> list[Finding]:
        from runners.jenkins.errors import JenkinsError
        from runners.jenkins.jobs import PRODUCTION_JOB
        from runners.jenkins.settings import SIGNING_CREDENTIAL

        cfg = ctx.config
        settings = cfg.jenkins
        env_name = settings.environment
        if env_name is None or env_name not in ctx.env_names():
            return []
        env = cfg.environment(env_name)
        where = f"environments.{env.name}"
        if not env.require_approval:
            return [self.ok(env.name, "no approval required, so no signed plan or approver")]
        out = []
        if env.approvers:
            out.append(self.ok(f"{env.name} approvers", ", ".join(env.approvers)))
        else:
            out.append(
                self.fail(
                    f"{env.name} approvers",
                    f"approval is required ({env.approval_reason}) and no one is listed, so "
                    "every apply is refused",
                    f"list the Jenkins user ids in {where}.approvers",
                )
            )
        folder = settings.production_zone
        ids = ctx.jenkins.credential_ids(folder)
        if ids is not None and SIGNING_CREDENTIAL in ids:
            out.append(self.ok("plan-signing key", f"{SIGNING_CREDENTIAL} in {folder}"))
        else:
            out.append(
                self.fail(
                    "plan-signing key",
                    f"no {SIGNING_CREDENTIAL} in {folder}: production plans go unsigned and "
                    "every apply is refused",
                    f"create {SIGNING_CREDENTIAL} (secret text, a long random value) in {folder}",
                )
            )
        if env.verify_build:
            job = f"{folder}/{PRODUCTION_JOB}"
            try:
                ctx.jenkins.job_info(job)
                out.append(
                    self.ok(
                        "build verification",
                        f"${settings.token_env} of {settings.user} reads {job}",
                    )
                )
            except JenkinsError as exc:
                out.append(
                    self.fail(
                        "build verification",
                        f"the apply reads its build through ${settings.token_env}, and it "
                        f"cannot read {job} ({exc})",
                        f"runners jobs sync; give {settings.user} Job/Read on {folder}",
                    )
                )
        if env.require_mr_approvals:
            token = settings.comments.token_env
            if ctx.environ.get(token):
                out.append(self.ok("merge-request approvals", f"${token} is set"))
            else:
                out.append(
                    self.fail(
                        "merge-request approvals",
                        f"require_mr_approvals = {env.require_mr_approvals}, and ${token} is "
                        "not set here to read them",
                        f"export {token} (the apply step needs it bound too)",
                    )
                )
        return out
