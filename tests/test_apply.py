"""`runners apply`: every refusal of the plan contract, with real Terraform and real files."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import PERSON, SIGNED, GitRepoHelper, run_cli, use_s3_state

APPROVED = ("--approved-by", "alice")


def plan(repo: GitRepoHelper, out: Path, *extra: str, env: dict[str, str] | None = None) -> None:
    """A production-zone plan: made with the signing key."""
    r = run_cli(
        "plan",
        "--stack",
        "app",
        "--env",
        "production",
        "--out",
        str(out),
        "--no-color",
        *extra,
        cwd=repo.root,
        env={**SIGNED, **(env or {})},
    )
    assert r.returncode == 0, r.stderr


def apply(  # type: ignore[no-untyped-def]
    repo: GitRepoHelper,
    plan_dir: Path,
    *extra: str,
    env: dict[str, str] | None = None,
    person: bool = True,
):
    """A production-zone apply, in a build a person started, with the signing key."""
    return run_cli(
        "apply",
        "--stack",
        "app",
        "--env",
        "production",
        "--plan-dir",
        str(plan_dir),
        "--no-color",
        *(PERSON if person else ()),
        *extra,
        cwd=repo.root,
        env={**SIGNED, **(env or {})},
    )


def state(repo: GitRepoHelper) -> dict | None:  # type: ignore[type-arg]
    path = repo.root.parent / "state" / "app-production.tfstate"
    return json.loads(path.read_text()) if path.exists() else None


def ledger(repo: GitRepoHelper) -> list[dict]:  # type: ignore[type-arg]
    path = repo.root / ".runners" / "audit.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def assert_refused(result, needle: str) -> None:  # type: ignore[no-untyped-def]
    assert result.returncode == 3, (result.stdout, result.stderr)
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("refused: "), result.stderr
    assert needle in last, last
    assert "Traceback" not in result.stderr


@pytest.fixture
def planned(client_repo: GitRepoHelper, tmp_path: Path) -> Path:
    out = tmp_path / "plan"
    plan(client_repo, out)
    return out


def test_apply_the_reviewed_plan(client_repo: GitRepoHelper, planned: Path) -> None:
    r = apply(
        client_repo, planned, *APPROVED, "--triggered-by", "bob", "--build-url", "https://ci/job/1/"
    )
    assert r.returncode == 0, r.stderr
    assert {res["name"] for res in state(client_repo)["resources"]} == {"db", "web", "thing"}  # type: ignore[index]
    records = ledger(client_repo)
    assert [(r["kind"], r["result"]) for r in records] == [
        ("plan", "planned"),
        ("apply", "started"),  # written before Terraform ran
        ("apply", "applied"),
    ]
    assert records[1]["run_id"] == records[2]["run_id"]
    applied = records[-1]
    assert (applied["triggered_by"], applied["approved_by"]) == ("bob", "alice")
    assert (
        applied["plan_sha256"]
        == json.loads((planned / "manifest.json").read_text())["tfplan_sha256"]
    )
    assert applied["summary"]["add"] == 3 and applied["build_url"] == "https://ci/job/1/"
    assert applied["commit"] == client_repo.git("rev-parse", "HEAD")
    assert not list((client_repo.root / ".runners" / "locks").glob("*"))
    assert (
        "s3cr3t-fixture-password" not in (client_repo.root / ".runners" / "audit.jsonl").read_text()
    )


def test_applying_twice_is_refused_as_stale(client_repo: GitRepoHelper, planned: Path) -> None:
    assert apply(client_repo, planned, *APPROVED).returncode == 0
    assert_refused(apply(client_repo, planned, *APPROVED), "stale")
    assert ledger(client_repo)[-1]["result"] == "refused"


def test_tampered_tfplan(client_repo: GitRepoHelper, planned: Path) -> None:
    with open(planned / "tfplan", "ab") as fh:
        fh.write(b"\0")
    assert_refused(apply(client_repo, planned, *APPROVED), "tfplan does not match the manifest")
    assert state(client_repo) is None
    assert ledger(client_repo)[-1]["result"] == "refused"


def test_truncated_plan_json(client_repo: GitRepoHelper, planned: Path) -> None:
    data = (planned / "plan.json").read_bytes()
    (planned / "plan.json").write_bytes(data[: len(data) // 2])
    assert_refused(apply(client_repo, planned, *APPROVED), "plan.json does not match the manifest")


def test_missing_plan_dir_and_manifest(
    client_repo: GitRepoHelper, planned: Path, tmp_path: Path
) -> None:
    assert_refused(apply(client_repo, tmp_path / "nowhere", *APPROVED), "it does not exist")
    a_file = tmp_path / "tfplan"
    a_file.write_text("not a folder")
    assert_refused(apply(client_repo, a_file, *APPROVED), "it is not a directory")
    (planned / "manifest.json").unlink()
    assert_refused(apply(client_repo, planned, *APPROVED), "no manifest")


def test_plan_for_another_stack_or_env(client_repo: GitRepoHelper, tmp_path: Path) -> None:
    out = tmp_path / "net"
    r = run_cli(
        "plan", "--stack", "network", "--env", "production", "--out", str(out), cwd=client_repo.root
    )
    assert r.returncode == 0
    assert_refused(apply(client_repo, out, *APPROVED), "the plan is for stack 'network'")


def test_branch_moved_and_stack_changed(client_repo: GitRepoHelper, planned: Path) -> None:
    client_repo.write("terraform/stacks/app/more.tf", 'resource "terraform_data" "more" {}\n')
    client_repo.commit("more")
    assert_refused(
        apply(client_repo, planned, *APPROVED),
        "terraform/stacks/app/more.tf is in the reviewed code but the plan was made without it",
    )


def test_branch_moved_through_a_module(client_repo: GitRepoHelper, planned: Path) -> None:
    mod = client_repo.root / "terraform/modules/naming/main.tf"
    mod.write_text(mod.read_text().replace("acme-", "acme2-"))
    client_repo.commit("rename")
    assert_refused(
        apply(client_repo, planned, *APPROVED),
        "terraform/modules/naming/main.tf differs from the reviewed code",
    )


def test_after_merge_with_identical_code_applies(client_repo: GitRepoHelper, planned: Path) -> None:
    client_repo.write("terraform/stacks/network/other.tf", 'resource "terraform_data" "other" {}\n')
    client_repo.write("README.md", "docs\n")
    client_repo.commit("unrelated merge")
    r = apply(client_repo, planned, *APPROVED)
    assert r.returncode == 0, r.stderr


def test_plan_from_uncommitted_code(client_repo: GitRepoHelper, tmp_path: Path) -> None:
    client_repo.write("terraform/stacks/app/wip.tf", 'resource "terraform_data" "wip" {}\n')
    out = tmp_path / "dirty"
    plan(client_repo, out)
    assert_refused(apply(client_repo, out, *APPROVED), "uncommitted changes")


@pytest.mark.parametrize(
    ("approver", "needle"),
    [
        (None, "requires an approver and --approved-by names none"),
        ("olivia", "olivia wrote commit"),
        ("Olivia Ops", "Olivia Ops wrote commit"),
        (" OLIVIA@example.com ", "wrote commit"),
        ("mallory", "mallory is not an approver for production (alice, bob)"),
    ],
)
def test_approval_rules(
    client_repo: GitRepoHelper, planned: Path, approver: str | None, needle: str
) -> None:
    args = ("--approved-by", approver) if approver else ()
    assert_refused(apply(client_repo, planned, *args), needle)
    assert state(client_repo) is None


def test_self_approval_when_the_config_allows_it(
    client_repo: GitRepoHelper, tmp_path: Path
) -> None:
    cfg = client_repo.root / "runners.toml"
    cfg.write_text(
        cfg.read_text().replace(
            'approvers = ["alice", "bob"]',
            'approvers = ["alice", "olivia"]\nallow_self_approval = true',
        )
    )
    client_repo.commit("olivia may approve her own changes")
    out = tmp_path / "p"
    plan(client_repo, out)
    assert apply(client_repo, out, "--approved-by", "olivia").returncode == 0


def test_protected_destroy_needs_exact_confirmation(
    client_repo: GitRepoHelper, planned: Path, tmp_path: Path
) -> None:
    assert apply(client_repo, planned, *APPROVED).returncode == 0
    main_tf = client_repo.root / "terraform/stacks/app/main.tf"
    text = main_tf.read_text()
    main_tf.write_text(text[: text.index('resource "terraform_data" "db"')])  # drops db and web
    client_repo.commit("remove the database")
    out = tmp_path / "destroy"
    plan(client_repo, out)
    protected = json.loads((out / "manifest.json").read_text())["summary"]["protected"]
    assert protected == [
        "terraform_data.db",
        "terraform_data.web",
    ]  # terraform_data is protected in this config
    assert_refused(apply(client_repo, out, *APPROVED), "--confirm-destroy 2 is required, got none")
    assert_refused(apply(client_repo, out, *APPROVED, "--confirm-destroy", "1"), "got 1")
    r = apply(client_repo, out, *APPROVED, "--confirm-destroy", "2")
    assert r.returncode == 0, r.stderr
    assert {res["name"] for res in state(client_repo)["resources"]} == {"thing"}  # type: ignore[index]


def test_manual_trigger_required(client_repo: GitRepoHelper, tmp_path: Path) -> None:
    cfg = client_repo.root / "runners.toml"
    cfg.write_text(
        cfg.read_text().replace(
            "require_approval = true", "require_approval = true\nrequire_manual_trigger = true"
        )
    )
    client_repo.commit("production builds are started by hand")
    out = tmp_path / "p"
    plan(client_repo, out)
    assert_refused(apply(client_repo, out, *APPROVED, person=False), "no build cause was passed")
    assert_refused(
        apply(client_repo, out, *APPROVED, "--build-cause", "BranchIndexingCause", person=False),
        "the build cause is BranchIndexingCause",
    )
    assert_refused(
        apply(client_repo, out, *APPROVED, "--build-cause", "UserIdCauseX", person=False),
        "the build cause is UserIdCauseX",
    )
    r = apply(client_repo, out, *APPROVED, "--build-cause", "hudson.model.Cause$UserIdCause")
    assert r.returncode == 0, r.stderr


def _wrapper_reporting_version(tmp_path: Path, version: str) -> Path:
    """A terraform that is the embedded one, except that it claims another version."""
    script = tmp_path / "terraform-other"
    script.write_text(
        "#!/bin/sh\n"
        f'if [ "$1" = version ]; then echo \'{{"terraform_version": "{version}"}}\'; exit 0; fi\n'
        f'exec {sys.executable} -m runners.terraform.embedded "$@"\n'
    )
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return script


def test_terraform_version_differs(
    client_repo: GitRepoHelper, planned: Path, tmp_path: Path
) -> None:
    other = _wrapper_reporting_version(tmp_path, "1.15.99")
    r = apply(client_repo, planned, *APPROVED, env={"RUNNERS_TERRAFORM": str(other)})
    assert_refused(r, "Terraform is 1.15.99 here but the plan was made with 1.15")
    assert state(client_repo) is None


LOCKED_PROVIDER = """\
provider "registry.terraform.io/hashicorp/null" {
  version = "3.2.4"
  hashes = [
    "h1:L5V05xwp/Gto1leRryuesxjMfgZwjb7oool4WS1UEFQ=",
  ]
}
"""


def test_lock_file_differs(client_repo: GitRepoHelper, planned: Path) -> None:
    (client_repo.root / "terraform/stacks/app/.terraform.lock.hcl").write_text(LOCKED_PROVIDER)
    client_repo.commit("lock file")  # pins a provider the plan was not made with
    assert_refused(
        apply(client_repo, planned, *APPROVED),
        ".terraform.lock.hcl at the branch head differs from the plan's",
    )
    assert state(client_repo) is None


def test_the_working_copy_plays_no_part(client_repo: GitRepoHelper, planned: Path) -> None:
    """Terraform runs in a clean copy of the branch head: files edited here change nothing."""
    (client_repo.root / "terraform/stacks/app/.terraform.lock.hcl").write_text(LOCKED_PROVIDER)
    (client_repo.root / "terraform/stacks/app/zz_override.tf").write_text(
        'resource "terraform_data" "web" {\n  input = "overridden"\n}\n'
    )
    r = apply(client_repo, planned, *APPROVED)
    assert r.returncode == 0, r.stderr
    web = next(res for res in state(client_repo)["resources"] if res["name"] == "web")  # type: ignore[index]
    assert web["instances"][0]["attributes"]["input"]["value"] == "v1"


def test_signed_manifest(client_repo: GitRepoHelper, tmp_path: Path) -> None:
    key = {"RUNNERS_PLAN_SIGNING_KEY": "k" * 32}
    out = tmp_path / "signed"
    plan(client_repo, out, env=key)
    m = json.loads((out / "manifest.json").read_text())
    assert m["signature"]["alg"] == "hmac-sha256"
    assert len(m["signing_key_id"]) == 16 and "k" * 8 not in m["signing_key_id"]
    # Rewriting the manifest, even consistently, breaks the signature.
    m["summary"]["add"] = 0
    (out / "manifest.json").write_text(json.dumps(m))
    assert_refused(apply(client_repo, out, *APPROVED, env=key), "signature is missing or wrong")
    # Another key: said by its id, never the key.
    other = apply(client_repo, out, *APPROVED)
    assert_refused(
        other, f"the plan was signed with key {m['signing_key_id']}, this apply holds key"
    )
    unsigned = tmp_path / "unsigned"
    plan(client_repo, unsigned, env={"RUNNERS_PLAN_SIGNING_KEY": ""})
    assert_refused(
        apply(client_repo, unsigned, *APPROVED, env=key), "signature is missing or wrong"
    )
    # Where approval is required, an apply without the key refuses rather than skips.
    assert_refused(
        apply(client_repo, unsigned, *APPROVED, env={"RUNNERS_PLAN_SIGNING_KEY": ""}),
        "so its plans must be signed, and this apply holds no signing key",
    )
    good = tmp_path / "good"
    plan(client_repo, good, env=key)
    assert apply(client_repo, good, *APPROVED, env=key).returncode == 0


def _lock_file(repo: GitRepoHelper) -> Path:
    """The runner's lock on app's production state: keyed by the state file, not the names."""
    import hashlib

    state_file = str((repo.root.parent / "state" / "app-production.tfstate").resolve())
    digest = hashlib.sha256(state_file.encode()).hexdigest()[:16]
    return repo.root / ".runners" / "locks" / f"state-{digest}.lock"


def test_lock_held_by_another_run(client_repo: GitRepoHelper, planned: Path) -> None:
    lock = _lock_file(client_repo)
    lock.parent.mkdir(parents=True)
    lock.write_text(
        json.dumps(
            {
                "run_id": "abc123",
                "holder": "carol",
                "since": "2026-11-26T10:00:00+00:00",
                "build_url": "https://ci/job/9/",
                "host": "ci1",
                "pid": 1,
                "operation": "apply",
            }
        )
    )
    r = apply(client_repo, planned, *APPROVED)
    assert r.returncode == 4
    assert r.stderr.strip().splitlines()[-1] == (
        "locked: stack app (production) is locked: held by carol since 2026-11-26T10:00:00+00:00 "
        "from build https://ci/job/9/, apply, run id abc123"
    )
    assert ledger(client_repo)[-1]["result"] == "locked"
    assert lock.exists()  # someone else's lock is never removed
    wrong = run_cli(
        "unlock", "--stack", "app", "--env", "production", "--run-id", "zzz", cwd=client_repo.root
    )
    assert wrong.returncode == 1 and lock.exists()
    ok = run_cli(
        "unlock",
        "--stack",
        "app",
        "--env",
        "production",
        "--run-id",
        "abc123",
        cwd=client_repo.root,
    )
    assert ok.returncode == 0 and not lock.exists()
    unlocks = [r for r in ledger(client_repo) if r["kind"] == "unlock"]
    assert [(r["result"], r["run_id"]) for r in unlocks] == [
        ("failed", "zzz"),
        ("unlocked", "abc123"),
    ]
    assert "held by carol" in unlocks[-1]["reason"]
    assert apply(client_repo, planned, *APPROVED).returncode == 0


def _slow_stack(repo: GitRepoHelper, seconds: int) -> None:
    repo.write(
        "terraform/stacks/app/slow.tf",
        f"""\
        resource "terraform_data" "slow" {{
          input = "x"
          provisioner "local-exec" {{
            command = "sleep {seconds}"
          }}
        }}
        """,
    )
    repo.commit("a slow resource")


def test_sigterm_lets_terraform_finish_and_records_interrupted(
    client_repo: GitRepoHelper, tmp_path: Path
) -> None:
    _slow_stack(client_repo, 30)
    out = tmp_path / "p"
    plan(client_repo, out)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "runners",
            "apply",
            "--stack",
            "app",
            "--env",
            "production",
            "--plan-dir",
            str(out),
            "--no-color",
            *APPROVED,
            *PERSON,
        ],
        cwd=client_repo.root,
        env={**os.environ, **SIGNED},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    lock = _lock_file(client_repo)
    while not lock.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(3)  # Terraform is now inside the provisioner
    proc.send_signal(signal.SIGTERM)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, (stdout, stderr)
    assert "interrupted" in stderr.strip().splitlines()[-1]
    assert not lock.exists()
    records = ledger(client_repo)
    assert [r["result"] for r in records[-2:]] == ["started", "interrupted"]
    record = records[-1]
    assert (record["kind"], record["result"]) == ("apply", "interrupted")
    doc = state(client_repo)
    assert doc is not None and doc["serial"] >= 1  # Terraform wrote its state before exiting


def test_two_processes_one_applies_the_other_is_locked(
    client_repo: GitRepoHelper, state_bucket: str, tmp_path: Path
) -> None:
    import boto3

    use_s3_state(client_repo, state_bucket, ("app",))
    _slow_stack(client_repo, 5)
    out = tmp_path / "p"
    plan(client_repo, out, env=dict(os.environ))
    argv = [
        sys.executable,
        "-m",
        "runners",
        "apply",
        "--stack",
        "app",
        "--env",
        "production",
        "--plan-dir",
        str(out),
        "--no-color",
        *APPROVED,
        *PERSON,
    ]
    procs = [
        subprocess.Popen(
            argv,
            cwd=client_repo.root,
            env={**os.environ, **SIGNED},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    results = [p.communicate(timeout=180) for p in procs]
    codes = sorted(p.returncode for p in procs)
    assert codes == [0, 4], results
    loser = results[[p.returncode for p in procs].index(4)][1]
    assert "is locked: held by" in loser and "since" in loser and "run id" in loser
    s3 = boto3.client("s3")
    doc = json.loads(
        s3.get_object(Bucket=state_bucket, Key="app/production.tfstate")["Body"].read()
    )
    assert {r["name"] for r in doc["resources"]} == {"db", "web", "thing", "slow"}
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=state_bucket)["Contents"]]
    assert not [k for k in keys if k.endswith((".lock", ".tflock"))], keys  # both locks released
    audit = [k for k in keys if k.startswith(("runners/audit/", "runners/plan-records/"))]
    # the plan, the apply's started and applied records, the locked attempt: one object each
    assert len(audit) == 4
