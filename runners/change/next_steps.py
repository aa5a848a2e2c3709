"""What happens next, for the report's footer: which build applies a plan, and what it asks.

A merge request's plan is never applied: once merged, the production zone's
job plans the branch again and an approver answers its form. An
environment's own plan is applied by the build that made it, once an
approver answers. Either way the sentence quotes the form (runners.jenkins.form)
where the approver must type something: the number of protected resources,
or the acceptance of a plan that is not the one reviewed.
"""

from __future__ import annotations

from runners.config import Config, Environment
from runners.jenkins import form


def production_job(cfg: Config) -> str:
    """The job that applies: its full name, and its URL where Jenkins' is configured."""
    from runners.jenkins.jobs import PRODUCTION_JOB

    settings = cfg.jenkins
    name = settings.full_name(f"{settings.production_folder}/{PRODUCTION_JOB}")
    if settings.url:
        url = settings.url.rstrip("/") + "/job/" + "/job/".join(name.split("/")) + "/"
        return f"[`{name}`]({url})"
    return f"`{name}`"


def _approvers(env: Environment) -> str:
    return f"an approver ({', '.join(env.approvers)})" if env.approvers else "an approver"


def _confirm(protected: int) -> str | None:
    if not protected:
        return None
    return (
        f"It destroys or replaces {protected} protected resource{'s' if protected != 1 else ''}: "
        f"the approver types **{protected}** in `{form.CONFIRM_DESTROY}` "
        f"(“{form.CONFIRM_DESTROY_HELP}”)."
    )


def next_steps(
    cfg: Config,
    env: Environment,
    stack: str,
    *,
    merge_request: str | None,
    protected: int,
    reviewed: bool | None = None,
) -> tuple[str, ...]:
    """One sentence each. ``reviewed``: whether the plan is the reviewed one (None: not asked)."""
    question = form.question(stack, env.name)
    if merge_request:
        steps = [
            "Nothing is applied from this merge request; push to it to plan again.",
            f"Once it is merged into `{env.branch}`, the job {production_job(cfg)}, started by "
            f"hand, plans `{env.name}` again and {_approvers(env)} who did not write the change "
            f"answers its form “{question}” with “{form.OK}”.",
        ]
    else:
        steps = [
            f"To apply it, {_approvers(env)} who did not write the change answers this build's "
            f"form “{question}” with “{form.OK}”; start the build again to plan afresh.",
        ]
    confirm = _confirm(protected)
    if confirm:
        steps.append(confirm)
    if reviewed is False and not merge_request:
        need = (
            f"`{env.name}` requires the reviewed plan, so the approver must also tick "
            if env.require_reviewed_plan
            else "The approver may tick "
        )
        steps.append(f"{need}`{form.ACCEPT_DIFFERENCE}` (“{form.ACCEPT_DIFFERENCE_HELP}”).")
    return tuple(steps)
