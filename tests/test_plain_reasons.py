"""A failed Terraform step's reason is Terraform's error, in plain text, everywhere it goes.

Jenkins turns colour on (``ansiColor``), and Terraform then wraps every line
of a diagnostic in escape codes. The reason used to be the last stderr line:
``\\x1b[31m╵\\x1b[0m``. Now it is Terraform's summary line, without colour, in
the error line, the audit record, the notification, the report and
``affected.json`` (issue 19). These run with colour on, as Jenkins does.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.conftest import PERSON, SIGNED, GitRepoHelper, run_cli
from tests.notify.conftest import HttpSink, http_sink

__all__ = ["http_sink"]  # the notification tests' webhook recorder, a fixture here too

UNDECLARED = "Error: Reference to undeclared input variable"
PROVISIONER = "Error: local-exec provisioner error"


def ledger(repo: GitRepoHelper) -> list[dict[str, Any]]:
    path = repo.root / ".runners" / "audit.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()]


def plain_and_telling(text: str, needle: str) -> None:
    assert "\x1b" not in text and "\\x1b" not in text and "[0m" not in text, text
    assert needle in text, text


def test_a_failed_plan_says_why_in_plain_text(client_repo: GitRepoHelper) -> None:
    git = client_repo.git
    git("checkout", "-q", "-b", "feature")
    main_tf = client_repo.root / "terraform/stacks/app/main.tf"
    main_tf.write_text(main_tf.read_text() + '\noutput "oops" {\n  value = var.nope\n}\n')
    client_repo.commit("refer to a variable that does not exist")

    done = run_cli(
        *("plan", "--affected", "--base", "production", "--env", "production", "--out", "mr"),
        cwd=client_repo.root,
    )

    assert done.returncode == 1
    assert "\x1b[31m" in done.stdout + done.stderr, "colour was on (Terraform's own output)"
    error_lines = [ln for ln in done.stderr.splitlines() if "app: terraform plan failed" in ln]
    assert error_lines
    for line in error_lines:
        plain_and_telling(line, f"{UNDECLARED} (on main.tf line ")
    [app] = json.loads((client_repo.root / "mr" / "affected.json").read_text())["stacks"]
    plain_and_telling(app["error"], UNDECLARED)
    plain_and_telling((client_repo.root / "mr" / "report.md").read_text(), UNDECLARED)
    [record] = [r for r in ledger(client_repo) if r["result"] == "failed"]
    plain_and_telling(record["reason"], UNDECLARED)


def test_a_failed_apply_says_why_in_plain_text(
    client_repo: GitRepoHelper, http_sink: HttpSink, tmp_path: Path
) -> None:
    """The record, the notification and the error line of an apply Terraform could not finish."""
    cfg = client_repo.root / "runners.toml"
    cfg.write_text(
        cfg.read_text().replace(
            "[environments.production.backend]",
            '[environments.production.notify]\nwebhook_url_env = "TEST_WEBHOOK_URL"\n\n'
            "[environments.production.backend]",
        )
    )
    main_tf = client_repo.root / "terraform/stacks/app/main.tf"
    main_tf.write_text(
        main_tf.read_text()
        + '\nresource "terraform_data" "migrate" {\n'
        + '  provisioner "local-exec" {\n    command = "exit 3"\n  }\n}\n'
    )
    client_repo.commit("a migration that fails when it runs")
    env = {"TEST_WEBHOOK_URL": http_sink.url(), **SIGNED}
    out = tmp_path / "plan"
    production = ("--stack", "app", "--env", "production")
    planned = run_cli("plan", *production, "--out", str(out), cwd=client_repo.root, env=env)
    assert planned.returncode == 0, planned.stderr

    applied = run_cli(
        *("apply", *production, "--plan-dir", str(out), "--approved-by", "alice", *PERSON),
        cwd=client_repo.root,
        env=env,
    )

    assert applied.returncode == 1, applied.stderr
    plain_and_telling(applied.stderr.strip().splitlines()[-1], PROVISIONER)
    [record] = [r for r in ledger(client_repo) if r["kind"] == "apply" and r["result"] == "failed"]
    plain_and_telling(record["reason"], PROVISIONER)
    [failed] = [e for e in map(json.loads, (r.body for r in http_sink.requests))
                if e["event"] == "apply_failed"]  # fmt: skip
    plain_and_telling(failed["reason"], PROVISIONER)
