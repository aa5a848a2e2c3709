"""Representative events, one or more per kind, with a fixed time so renderings are stable.

Each is a golden case (tests/golden/notify/CASE.*) and the delivery tests send them.
"""

from __future__ import annotations

from dataclasses import replace

from runners.notify import Counts, Event, EventKind

AT = "2025-03-04T03:12:00+00:00"
COMMIT = "9f1c2e4b7a3d5e6f8091a2b3c4d5e6f708192a3b"
MR_URL = "https://git.example.com/acme/infra/-/merge_requests/42"
PLAN_BUILD = "https://jenkins.example.com/job/infra/job/MR-42/3/"
APPLY_BUILD = "https://jenkins.example.com/job/infra/job/production/57/"
REPORT = """\
### Terraform plan: `app` in `production`

**Plan: 2 to add, 1 to change, 1 to destroy.** 1 of them replaces.

> [!WARNING]
> **1 protected resource will be destroyed or replaced.** Applying needs `--confirm-destroy 1`.
> - `aws_db_instance.main`

#### Replaced
- `aws_db_instance.main`

#### Changes

<details><summary>-/+ <code>aws_db_instance.main</code> will be replaced</summary>

```diff
! engine_version: "15.4" -> "16.2"  # forces replacement
```
</details>
"""

PLANNED = Counts(add=2, change=1, destroy=1, replace=1)
PROTECTED = ("aws_db_instance.main",)

_REVIEWED = Event(
    EventKind.PLAN_READY,
    stack="app",
    environment="production",
    counts=PLANNED,
    protected=PROTECTED,
    merge_request="42",
    merge_request_url=MR_URL,
    commit=COMMIT,
    occurred_at=AT,
)
_APPLY = replace(_REVIEWED, triggered_by="bob", approved_by="alice", build_url=APPLY_BUILD)

SAMPLES: dict[str, Event] = {
    "plan_ready": replace(
        _REVIEWED, triggered_by="carol", build_url=PLAN_BUILD, report_excerpt=REPORT
    ),
    "apply_started": replace(_APPLY, kind=EventKind.APPLY_STARTED),
    "apply_succeeded": replace(_APPLY, kind=EventKind.APPLY_SUCCEEDED),
    "apply_failed": replace(
        _APPLY,
        kind=EventKind.APPLY_FAILED,
        reason="terraform apply exited 1; the state lock was released; see the build log",
    ),
    "refused": replace(
        _APPLY,
        kind=EventKind.REFUSED,
        approved_by="carol",
        reason="the approver 'carol' is the author of the change; production needs a second person",
    ),
    "refused_without_plan": Event(
        EventKind.REFUSED,
        stack="app",
        environment="production",
        triggered_by="bob",
        build_url=APPLY_BUILD,
        occurred_at=AT,
        reason="/var/lib/jenkins/plan/manifest.json: no manifest (the plan run did not finish)",
    ),
    "drift_found": Event(
        EventKind.DRIFT_FOUND,
        stack="network",
        environment="production",
        counts=Counts(change=1, drift=2),
        build_url="https://jenkins.example.com/job/infra/job/drift/12/",
        commit=COMMIT,
        occurred_at=AT,
    ),
    # Slack reserves &, < and >: a reason quoting them must not become a link or a ping.
    "escaping": Event(
        EventKind.APPLY_FAILED,
        stack="app",
        environment="production",
        triggered_by="o'neil <ops>",
        counts=Counts(),
        reason="<!channel> Error: a & b <https://evil.example|click>",
        occurred_at=AT,
    ),
}
