"""`runners plan` end to end: real git repo, embedded Terraform, real files."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

from runners.fsutil import sha256_file
from tests.conftest import GitRepoHelper, run_cli, use_s3_state

SECRET = "s3cr3t-fixture-password"


def plan(repo: GitRepoHelper, out: Path, *extra: str, env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    return run_cli(
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
        env=env,
    )


def apply_saved(repo: GitRepoHelper, out: Path) -> None:
    """Apply a saved plan with plain Terraform (the apply command has its own tests)."""
    from runners.terraform import binary
    from runners.terraform.engine import Terraform, base_environment

    tf = Terraform(binary.resolve(), base_environment(None))
    data_dir = repo.root / ".runners" / "tf" / "app" / "production"
    tf.run(
        ["apply", "-input=false", "-no-color", str(out / "tfplan")],
        repo.root / "terraform/stacks/app",
        extra_env={"TF_DATA_DIR": str(data_dir)},
        stream=False,
    )


def test_plan_writes_fingerprinted_artifacts(client_repo: GitRepoHelper, tmp_path: Path) -> None:
    out = tmp_path / "out"
    env = {
        "CHANGE_ID": "42",
        "CHANGE_BRANCH": "feature/x",
        "CHANGE_TARGET": "production",
        "BUILD_URL": "https://jenkins.example/job/app/7/",
    }
    result = plan(client_repo, out, env=env)
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in out.iterdir()) == [
        "manifest.json",
        "plan.json",
        "plan.txt",
        "report.md",
        "tfplan",
    ]
    for secret_file in ("tfplan", "plan.json"):
        assert stat.S_IMODE((out / secret_file).stat().st_mode) == 0o600
    m = json.loads((out / "manifest.json").read_text())
    assert m["tfplan_sha256"] == sha256_file(out / "tfplan")
    assert m["plan_json_sha256"] == sha256_file(out / "plan.json")
    assert m["git"]["commit"] == client_repo.git("rev-parse", "HEAD")
    assert m["git"]["branch"] == "production"
    assert m["git"]["author"] == {"name": "Olivia Ops", "email": "olivia@example.com"}
    assert m["git"]["dirty"] is False
    assert set(m["git"]["trees"]) == {
        "terraform/stacks/app",
        "terraform/modules/tagged",
        "terraform/modules/naming",
    }
    assert m["merge_request"] == {
        "id": "42",
        "source": "feature/x",
        "target": "production",
        "url": None,
        "author": None,
    }
    assert m["build"]["url"] == "https://jenkins.example/job/app/7/"
    assert m["terraform_version"].startswith("1.15")
    assert m["has_changes"] is True
    assert m["summary"]["add"] == 3 and m["summary"]["destroy"] == 0
    assert (m["stack"], m["environment"]) == ("app", "production")
    report = (out / "report.md").read_text()
    assert "Plan: 3 to add, 0 to change, 0 to destroy." in report
    assert "MR 42" in report
    assert "Plan: 3 to add" in result.stdout and str(out / "report.md") in result.stdout


def test_detailed_exitcode(client_repo: GitRepoHelper, tmp_path: Path) -> None:
    assert plan(client_repo, tmp_path / "a", "--detailed-exitcode").returncode == 2
    apply_saved(client_repo, tmp_path / "a")
    again = plan(client_repo, tmp_path / "b", "--detailed-exitcode")
    assert again.returncode == 0, again.stderr
    assert json.loads((tmp_path / "b" / "manifest.json").read_text())["has_changes"] is False
    assert "No changes." in again.stdout


def test_no_secret_in_console_or_artifacts(client_repo: GitRepoHelper, tmp_path: Path) -> None:
    apply_saved_first = tmp_path / "first"
    assert plan(client_repo, apply_saved_first).returncode == 0
    apply_saved(client_repo, apply_saved_first)
    # Changing the password makes Terraform render the old value unmarked in
    # the prior `output` of terraform_data; runners must scrub it everywhere.
    main_tf = client_repo.root / "terraform/stacks/app/main.tf"
    main_tf.write_text(main_tf.read_text().replace(SECRET, "n3w-fixture-password"))
    client_repo.commit("rotate password")
    out = tmp_path / "second"
    result = plan(client_repo, out)
    assert result.returncode == 0, result.stderr
    texts = {
        "stdout": result.stdout,
        "stderr": result.stderr,
        **{name: (out / name).read_text() for name in ("plan.txt", "report.md", "manifest.json")},
    }
    for where, text in texts.items():
        assert SECRET not in text, f"old secret in {where}"
        assert "n3w-fixture-password" not in text, f"new secret in {where}"
    assert "(sensitive value)" in texts["plan.txt"]
    assert "planned changes are printed below" in result.stdout


def test_state_serial_and_lineage_after_apply(client_repo: GitRepoHelper, tmp_path: Path) -> None:
    assert plan(client_repo, tmp_path / "a").returncode == 0
    m1 = json.loads((tmp_path / "a" / "manifest.json").read_text())
    assert m1["state"] == {"serial": None, "lineage": None}
    apply_saved(client_repo, tmp_path / "a")
    assert plan(client_repo, tmp_path / "b").returncode == 0
    m2 = json.loads((tmp_path / "b" / "manifest.json").read_text())
    assert isinstance(m2["state"]["serial"], int) and m2["state"]["serial"] >= 1
    assert len(m2["state"]["lineage"]) == 36


def test_dirty_tree_is_recorded(client_repo: GitRepoHelper, tmp_path: Path) -> None:
    client_repo.write("terraform/stacks/app/extra.tf", 'resource "terraform_data" "extra" {}\n')
    result = plan(client_repo, tmp_path / "o")
    assert result.returncode == 0
    assert "uncommitted changes" in result.stderr
    assert json.loads((tmp_path / "o" / "manifest.json").read_text())["git"]["dirty"] is True


def _assert_clean_failure(result, out: Path, code: int, *needles: str) -> None:  # type: ignore[no-untyped-def]
    assert result.returncode == code, (result.stdout, result.stderr)
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("error: "), result.stderr
    for needle in needles:
        assert needle in last, last
    assert "Traceback" not in result.stderr
    leftovers = list(out.rglob("*")) if out.exists() else []
    assert leftovers == [], leftovers


def test_unknown_stack_and_env(client_repo: GitRepoHelper, tmp_path: Path) -> None:
    out = tmp_path / "o"
    r = run_cli(
        "plan", "--stack", "nope", "--env", "production", "--out", str(out), cwd=client_repo.root
    )
    _assert_clean_failure(r, out, 2, "unknown stack 'nope'", "known stacks: app, network")
    r = run_cli("plan", "--stack", "app", "--env", "prod", "--out", str(out), cwd=client_repo.root)
    _assert_clean_failure(r, out, 2, "unknown environment 'prod'")


def test_missing_terraform_dir(client_repo: GitRepoHelper, tmp_path: Path) -> None:
    client_repo.git("rm", "-rq", "terraform/stacks/network")
    out = tmp_path / "o"
    r = run_cli(
        "plan", "--stack", "network", "--env", "production", "--out", str(out), cwd=client_repo.root
    )
    _assert_clean_failure(r, out, 2, "stacks.network.dir: terraform/stacks/network does not exist")


def test_missing_binary(client_repo: GitRepoHelper, tmp_path: Path) -> None:
    out = tmp_path / "o"
    r = plan(client_repo, out, env={"RUNNERS_TERRAFORM": "/opt/none/terraform"})
    _assert_clean_failure(
        r, out, 2, "terraform binary '/opt/none/terraform' (from RUNNERS_TERRAFORM) not found"
    )


def test_terraform_error_leaves_nothing(client_repo: GitRepoHelper, tmp_path: Path) -> None:
    client_repo.write("terraform/stacks/app/broken.tf", 'resource "terraform_data" "x" {\n')
    client_repo.commit("break it")
    out = tmp_path / "o"
    r = plan(client_repo, out)
    _assert_clean_failure(
        r,
        out,
        1,
        "terraform init failed",
        "Error: Unclosed configuration block (on broken.tf line 1)",
    )


def test_failed_replan_keeps_previous_plan_consistent(
    client_repo: GitRepoHelper, tmp_path: Path
) -> None:
    out = tmp_path / "o"
    assert plan(client_repo, out).returncode == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    client_repo.write("terraform/stacks/app/broken.tf", "resource {")
    client_repo.commit("break it")
    assert plan(client_repo, out).returncode == 1
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_out_is_a_file(client_repo: GitRepoHelper, tmp_path: Path) -> None:
    target = tmp_path / "file"
    target.write_text("x")
    r = plan(client_repo, target)
    assert r.returncode == 2 and "exists and is not a directory" in r.stderr


def test_unreachable_backend_is_exit_1(git_repo: GitRepoHelper, tmp_path: Path) -> None:
    from runners.aws.embedded import free_port
    from tests.conftest import FIXTURES

    git_repo.copy(FIXTURES / "client", ".")
    stack = git_repo.root / "terraform/stacks/network/main.tf"
    stack.write_text(stack.read_text().replace('backend "local" {}', 'backend "s3" {}'))
    port = free_port()  # nothing listens here
    git_repo.write(
        "runners.toml",
        f"""
        [runners]
        terraform = "embedded"
        [environments.production]
        branch = "production"
        region = "eu-west-1"
        [environments.production.backend]
        bucket = "state"
        key = "network.tfstate"
        region = "eu-west-1"
        endpoints = "{{ s3 = \\"http://127.0.0.1:{port}\\" }}"
        use_path_style = true
        skip_credentials_validation = true
        skip_requesting_account_id = true
        max_retries = 1
        [stacks.network]
        dir = "terraform/stacks/network"
        """,
    )
    git_repo.commit("s3 backend")
    out = tmp_path / "o"
    r = run_cli(
        "plan",
        "--stack",
        "network",
        "--env",
        "production",
        "--out",
        str(out),
        "--no-color",
        cwd=git_repo.root,
        env={"AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}"},
        timeout=180,
    )
    _assert_clean_failure(r, out, 1, "terraform")


def test_s3_backend_on_embedded_aws(
    client_repo: GitRepoHelper, state_bucket: str, tmp_path: Path
) -> None:
    import boto3

    use_s3_state(client_repo, state_bucket, ("network",))
    out = tmp_path / "o"
    r = run_cli(
        "plan",
        "--stack",
        "network",
        "--env",
        "production",
        "--out",
        str(out),
        "--no-color",
        cwd=client_repo.root,
        env=dict(os.environ),
    )
    assert r.returncode == 0, r.stderr
    assert json.loads((out / "manifest.json").read_text())["summary"]["add"] == 1
    # init through the S3 backend really reached the embedded AWS (and released its lock).
    keys = [
        o["Key"]
        for o in boto3.client("s3").list_objects_v2(Bucket=state_bucket).get("Contents", [])
    ]
    assert not any(k.endswith(".tflock") for k in keys)


def test_drift_exit_codes(client_repo: GitRepoHelper, tmp_path: Path) -> None:
    first = tmp_path / "first"
    assert plan(client_repo, first).returncode == 0
    apply_saved(client_repo, first)
    steady = run_cli(
        "plan",
        "--drift",
        "--stack",
        "app",
        "--env",
        "production",
        "--no-color",
        cwd=client_repo.root,
    )
    assert steady.returncode == 0, steady.stderr
    assert "no drift" in steady.stdout
    # Someone changed production by hand: here, the state no longer holds the web server.
    state = Path(json.loads((first / "manifest.json").read_text())["stack_dir"])
    state_file = next((client_repo.root.parent / "state").glob("app-production.tfstate"))
    doc = json.loads(state_file.read_text())
    doc["resources"] = [r for r in doc["resources"] if r["name"] != "web"]
    doc["serial"] += 1
    state_file.write_text(json.dumps(doc))
    report_dir = tmp_path / "drift"
    drifted = run_cli(
        "plan",
        "--drift",
        "--stack",
        "app",
        "--env",
        "production",
        "--no-color",
        "--out",
        str(report_dir),
        cwd=client_repo.root,
    )
    assert drifted.returncode == 2, drifted.stderr
    assert "DRIFT" in drifted.stdout and "1 to add" in drifted.stdout
    assert sorted(p.name for p in report_dir.iterdir()) == ["plan.txt", "report.md"]
    assert state  # the manifest names the stack dir it planned
