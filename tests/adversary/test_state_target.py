"""Class 4: one environment named, another state written; and plans for somewhere else.

Terraform applies a saved plan to the backend recorded inside it, whatever
the environment is called. The apply compares that backend with the one
``init`` resolves from the branch head's code and runners.toml, and the
plan's prior state with the state there now.
"""

from __future__ import annotations

from pathlib import Path

from tests.adversary.conftest import refused
from tests.adversary.world import KEY, Attempt, read_manifest, write_manifest

CONFIRM = ("--confirm-destroy", "1")


def test_a_development_plan_whose_backend_is_production(attempt: Attempt, tmp_path: Path) -> None:
    """A genuine development plan, its runners.toml (working copy) pointing at production's state."""
    cfg = attempt.repo / "runners.toml"
    text = cfg.read_text().replace(
        'key = "{stack}/production.tfstate"', 'key = "{stack}/unused.tfstate"'
    )
    cfg.write_text(
        text.replace('key = "{stack}/development.tfstate"', 'key = "{stack}/production.tfstate"')
    )
    out = attempt.plan_into(tmp_path / "p", environment="development", env=attempt.world.env_base)
    attempt.git("checkout", "--", "runners.toml")
    data = read_manifest(out)
    data["git"]["dirty"] = False  # development signs nothing: the flag is anyone's to clear
    write_manifest(out, data)
    refused(
        attempt,
        attempt.apply(*CONFIRM, plan=out, environment="development", env=attempt.world.env_base),
        "the plan writes its state to s3://adversary-state/app/production.tfstate, not to "
        "development's state s3://adversary-state/app/development.tfstate",
        env="development",
    )


def test_two_targets_sharing_a_state_are_refused_when_the_config_loads(attempt: Attempt) -> None:
    cfg = attempt.repo / "runners.toml"
    cfg.write_text(
        cfg.read_text().replace(
            'key = "{stack}/development.tfstate"', 'key = "{stack}/production.tfstate"'
        )
    )
    r = attempt.apply(*CONFIRM)
    assert r.returncode == 2, r.stderr
    assert r.stderr.strip().splitlines()[-1] == (
        f"error: {cfg}: environments.production.backend: stack 'app' in 'production' and stack "
        "'app' in 'development' share the state s3://adversary-state/app/production.tfstate; "
        "each needs its own (use {stack} and {env} in key or path)"
    )


def test_another_stacks_plan(attempt: Attempt, tmp_path: Path) -> None:
    out = attempt.plan_into(tmp_path / "net", stack="network")
    refused(
        attempt,
        attempt.apply(*CONFIRM, plan=out),
        "the plan is for stack 'network' in 'production', not 'app' in 'production'",
    )


def test_another_environments_plan(attempt: Attempt, tmp_path: Path) -> None:
    out = attempt.plan_into(tmp_path / "dev", environment="development")
    refused(
        attempt,
        attempt.apply(*CONFIRM, plan=out),
        "the plan is for stack 'app' in 'development', not 'app' in 'production'",
    )


def test_another_environments_plan_relabelled_and_re_signed(
    attempt: Attempt, tmp_path: Path
) -> None:
    out = attempt.plan_into(tmp_path / "dev", environment="development")
    data = read_manifest(out)
    data.update(
        environment="production",
        environment_branch="production",
        var_files=[v for v in read_manifest(attempt.plan)["var_files"]],
    )
    write_manifest(out, data, sign_with=KEY)
    refused(
        attempt,
        attempt.apply(*CONFIRM, plan=out),
        "the plan writes its state to s3://adversary-state/app/development.tfstate, not to "
        "production's state s3://adversary-state/app/production.tfstate",
    )


def test_a_stale_plan_already_applied(attempt: Attempt) -> None:
    """The plan of C0, applied in build 1, replayed after the merge."""
    refused(attempt, attempt.apply(*CONFIRM, plan=attempt.world.old_plan), "differs")


def test_a_plan_made_against_another_copy_of_the_state(attempt: Attempt, tmp_path: Path) -> None:
    """Planned against a private copy of production's state with the same backend settings."""
    out = attempt.plan_into(tmp_path / "p")
    # A key holder swaps in a plan made elsewhere: same code and backend, another state lineage.
    import json
    import zipfile

    from tests.adversary.world import rehash

    original = out / "tfplan"
    forged = out / "tfplan.new"
    with zipfile.ZipFile(original) as src, zipfile.ZipFile(forged, "w") as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename in ("tfstate", "tfstate-prev"):
                state = json.loads(data)
                state["lineage"] = "00000000-0000-0000-0000-000000000000"
                data = json.dumps(state).encode()
            dst.writestr(item, data)
    forged.replace(original)
    write_manifest(out, rehash(out, read_manifest(out)), sign_with=KEY)
    refused(
        attempt,
        attempt.apply(*CONFIRM, plan=out),
        "the plan was made against another state (lineage 00000000-0000-0000-0000-000000000000)",
    )


def test_a_plan_marked_as_disaster_recovery_that_writes_production(attempt: Attempt) -> None:
    """DR plans legitimately write elsewhere: only to [dr.backend], which production's is not."""
    data = read_manifest(attempt.plan)
    data["dr"] = {"region": "eu-central-1", "tfvars_sha256": "0" * 64}
    write_manifest(attempt.plan, data, sign_with=KEY)
    refused(
        attempt,
        attempt.apply(*CONFIRM),
        "the plan writes its state to s3://adversary-state/app/production.tfstate, not to "
        "production's state s3://adversary-state/dr/app/production-eu-central-1.tfstate",
    )


def test_the_lock_is_the_states_not_the_names(attempt: Attempt) -> None:
    """Another run holds the lock on production's state object: locked, whatever it called itself."""
    import json

    s3 = attempt.world.s3
    s3.put_object(
        Bucket=attempt.world.bucket,
        Key="runners/locks/app/production.tfstate.lock",
        Body=json.dumps(
            {
                "run_id": "feedc0ffee01",
                "holder": "carol",
                "since": "2026-11-30T10:00:00+00:00",
                "build_url": None,
                "host": "elsewhere",
                "pid": 1,
                "operation": "apply of plan 000000000000",
            }
        ).encode(),
    )
    try:
        refused(
            attempt,
            attempt.apply(*CONFIRM),
            "stack app (production) is locked: held by carol since 2026-11-30T10:00:00+00:00",
            code=4,
        )
    finally:
        s3.delete_object(
            Bucket=attempt.world.bucket, Key="runners/locks/app/production.tfstate.lock"
        )
