"""The outage rehearsal: the primary region refuses every request; the client is rebuilt anyway.

The behaviour layer (runners.aws.behaviour) sits in front of the embedded AWS
and closes, unanswered, every request signed for eu-west-1, Terraform's S3
backend included. Through it: ``dr prepare`` maps every field, ``dr plan``
plans the offline stand-in of the client stack, ``runners apply`` applies it
to the rebuild's state in the backup region, ``dr plan`` plans again with the
same runners.toml, and ``runners audit`` reads the records. The lock and the
audit records of the rebuild live in ``[dr.backend]``'s bucket in the backup
region. The findings of issue 15 this answers: the crash (exit 70) of plan
and apply, and the runners.toml edit that then made ``dr plan`` refuse.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import boto3
import pytest

from runners import cli, config
from runners.audit.ledger import open_ledger
from runners.audit.record import AuditRecord, now
from runners.aws.behaviour import Behaviour
from runners.aws.embedded import EmbeddedAWS
from tests.conftest import PERSON, SIGNED, GitRepoHelper
from tests.dr_world import SOURCE, TARGET, DrWorld, backup_and_ship, build
from tests.pipeline_harness import Cause, Input, Jenkins
from tests.test_jenkinsfile_scenarios import as_synced, production_zone

STATE_BUCKET = "acme-state-eu-west-1"
REPLICA = "acme-state-replica-eu-central-1"
S3_FLAGS = """use_path_style = true
skip_credentials_validation = true
skip_requesting_account_id = true
"""


def s3_backends(world: DrWorld) -> None:
    """Production's state in S3 in eu-west-1, replicated to eu-central-1; the rebuild's there too."""
    s3 = {r: boto3.client("s3", region_name=r) for r in (SOURCE, TARGET)}
    for region, bucket in ((SOURCE, STATE_BUCKET), (TARGET, REPLICA)):
        s3[region].create_bucket(
            Bucket=bucket,
            CreateBucketConfiguration={"LocationConstraint": region},  # type: ignore[typeddict-item]
        )
        # The state the primary's apply left, and the copy replication made of it.
        s3[region].put_object(
            Bucket=bucket, Key="client/production.tfstate", Body=world.state_file.read_bytes()
        )
    world.state_file.unlink()
    text = world.config.read_text()
    start = text.index("[environments.production.backend]")
    text = text[:start] + text[text.index("\n\n", start) + 2 :]
    text = text.replace(
        "[stacks.client]\n",
        f'[environments.production.backend]\nbucket = "{STATE_BUCKET}"\n'
        f'key = "{{stack}}/production.tfstate"\nregion = "{SOURCE}"\nuse_lockfile = true\n'
        f"{S3_FLAGS}\n[stacks.client]\n",
    )
    start = text.index("[dr.backend]")
    text = text[:start] + text[text.index("\n\n", start) + 2 :]
    text = text.replace(
        "[dr.stacks.client]\n",
        f'[dr.state]\nbucket = "{REPLICA}"\nkey = "{{stack}}/{{env}}.tfstate"\n'
        f'region = "{TARGET}"\n{S3_FLAGS}\n'
        f'[dr.backend]\nbucket = "{REPLICA}"\nkey = "dr/{{stack}}/{{env}}-{{region}}.tfstate"\n'
        f'region = "{TARGET}"\nuse_lockfile = true\n{S3_FLAGS}\n[dr.stacks.client]\n',
    )
    world.config.write_text(text)
    main = world.stack_dir / "main.tf"
    main.write_text(main.read_text().replace('backend "local" {}', 'backend "s3" {}'))
    world.repo.commit("state in S3, replicated to the backup region")


@pytest.fixture
def world(aws: EmbeddedAWS, git_repo: GitRepoHelper, tmp_path: Path) -> DrWorld:
    world = build(git_repo, tmp_path)
    # web-2's instance is backed up too, so ship copies its baked image: everything maps.
    world.back_up_instance("web-2")
    backup_and_ship(datetime.now(UTC) - timedelta(hours=1), on_demand="before the release")
    s3_backends(world)
    return world


def runners(world: DrWorld, *args: str) -> int:
    return cli.main([*args, "--config", str(world.config)])


DR = ("--stack", "client", "--env", "production", "--to-region", TARGET)


def apply(world: DrWorld, plan_dir: Path) -> int:
    return runners(
        world,
        "apply",
        "--stack",
        "client",
        "--env",
        "production",
        "--plan-dir",
        str(plan_dir),
        "--approved-by",
        "alice",
        *PERSON,
    )


def objects(bucket: str, prefix: str, region: str = TARGET) -> list[str]:
    listed = boto3.client("s3", region_name=region).list_objects_v2(Bucket=bucket, Prefix=prefix)
    return [o["Key"] for o in listed.get("Contents", [])]


def test_the_rebuild_runs_with_the_primary_region_refusing_everything(
    world: DrWorld,
    layer: Behaviour,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(world.repo.root)
    monkeypatch.setenv("RUNNERS_PLAN_SIGNING_KEY", SIGNED["RUNNERS_PLAN_SIGNING_KEY"])
    config_before = world.config.read_bytes()
    out = tmp_path / "dr-plan"
    with layer.outage(SOURCE):
        assert runners(world, "dr", "prepare", *DR) == 0
        prepared = json.loads((world.repo.root / "dr" / TARGET / "client/dr.json").read_text())
        assert prepared["missing"] == []
        assert len(prepared["restores"]) == 3 and len(prepared["images"]) == 2
        assert {i["found_by"] for i in prepared["images"]} == {"copy", "name and owner"}
        assert runners(world, "dr", "plan", *DR, "--out", str(out)) == 0
        assert apply(world, out) == 0
        # Planned again, with the same runners.toml: nothing left to do.
        again = tmp_path / "dr-plan-again"
        assert runners(world, "dr", "plan", *DR, "--out", str(again)) == 0
        touched = layer.count("region down")
        capsys.readouterr()
        code = runners(world, "audit", "--stack", "client", "--env", "production")
        printed = capsys.readouterr()
    assert touched == 0, "the rebuild sent requests to the lost region"
    assert world.config.read_bytes() == config_before  # no edit of runners.toml was needed
    replan = json.loads((again / "plan.json").read_text())
    assert all(rc["change"]["actions"] == ["no-op"] for rc in replan["resource_changes"])
    # The rebuild's state, lock and records are in the backup region's bucket.
    assert objects(REPLICA, "dr/client/production-eu-central-1.tfstate")
    assert objects(REPLICA, "runners/audit/"), "the apply's records are in the backup region"
    assert objects(REPLICA, "runners/plan-records/"), "the plans' records are in the backup region"
    assert not objects(REPLICA, "runners/locks/"), "the lock was released"
    assert not objects(STATE_BUCKET, "runners/", region=SOURCE)
    # runners audit shows them, and says which records it could not read.
    rows = [line for line in printed.out.splitlines() if " client " in line]
    assert any(" apply " in r and " applied " in r for r in rows), printed.out
    assert sum(" plan " in r and " planned " in r for r in rows) >= 1, printed.out
    assert code == 1
    (unread,) = printed.err.strip().splitlines()
    assert unread.startswith(
        f"error: audit records not read from s3://{STATE_BUCKET}/runners ({SOURCE}): "
    )


def test_plan_and_apply_of_a_rebuild_need_nothing_of_the_lost_region(
    world: DrWorld, layer: Behaviour, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The finding: plan and apply exited 70, "internal error", on the lost region's bucket."""
    monkeypatch.chdir(world.repo.root)
    monkeypatch.setenv("RUNNERS_PLAN_SIGNING_KEY", SIGNED["RUNNERS_PLAN_SIGNING_KEY"])
    with layer.outage(SOURCE):
        assert runners(world, "dr", "plan", *DR, "--out", str(tmp_path / "p")) == 0
        assert apply(world, tmp_path / "p") == 0
    assert layer.count("region down") == 0
    dr_state = boto3.client("s3", region_name=TARGET).get_object(
        Bucket=REPLICA, Key="dr/client/production-eu-central-1.tfstate"
    )
    resources = json.loads(dr_state["Body"].read())["resources"]
    (rebuilt,) = [r for r in resources if r["name"] == "rebuild"]
    assert rebuilt["instances"][0]["attributes"]["input"]["value"]["region"] == TARGET


def test_a_rebuilds_record_that_cannot_be_written_is_kept_and_uploaded_later(
    world: DrWorld, layer: Behaviour, tmp_path: Path
) -> None:
    cfg = config.load(world.config)
    stack, env = cfg.stack("client"), cfg.environment("production")
    ledger = open_ledger(cfg, stack, env, dr_region=TARGET)
    assert ledger.remote is not None and ledger.remote.bucket == REPLICA

    def record(kind: str) -> AuditRecord:
        return AuditRecord(kind, "applied", "client", "production", now()).finish("applied")

    first = record("apply")
    with layer.outage(TARGET):  # the backup region's S3 does not answer for a moment
        problems = ledger.append(first)
    assert problems and problems[0].endswith("kept for the next run")
    assert ledger.pending is not None and ledger.pending.path.is_file()
    assert not objects(REPLICA, "runners/audit/")
    ledger.append(record("apply"))  # the next write reaches S3 and takes the pending one along
    keys = objects(REPLICA, "runners/audit/")
    assert any(first.id in k for k in keys) and len(keys) == 2
    assert not ledger.pending.path.exists()


@pytest.mark.slow
def test_the_dr_job_plans_and_applies_in_one_build_with_the_primary_region_down(
    world: DrWorld, layer: Behaviour, jenkins: Jenkins, tmp_path: Path
) -> None:
    """The finding: the documented workaround was a commit pointing production's backend at
    the DR state, after which ``dr plan`` refused, so the ``dr`` job could not plan before
    that commit and apply after it in one build. Now the job plans, waits for the go-ahead
    and applies the commit it planned, with nothing committed and eu-west-1 refusing."""
    head = world.repo.git("rev-parse", "HEAD")
    with layer.outage(SOURCE):
        result = production_zone(jenkins).run(
            as_synced("dr.Jenkinsfile", world.repo.root, "production", tmp_path),
            job="client/production/dr",
            params={"STACK": "client", "ENV": "production", "TO_REGION": TARGET},
            causes=[Cause.user("olivia", "Olivia Ops")],
            inputs=[Input.approve("alice", match="Stand client up in eu-central-1")],
        )
        touched = layer.count("region down")
    print(result.stage_view())
    assert result.result == "SUCCESS", result.log[-4000:]
    assert touched == 0, "the build sent requests to the lost region"
    calls = [c.command.split()[:3] for c in result.runners_calls()]
    assert ["runners", "dr", "plan"] in calls and ["runners", "apply", "--stack"] in calls
    # One commit planned and applied, the branch's head: nothing was committed to recover.
    assert {e["commit"] for e in result.of_type("checkout")} == {head}
    assert world.repo.git("rev-parse", "HEAD") == head
    assert objects(REPLICA, "dr/client/production-eu-central-1.tfstate")
    assert any(k.endswith(".json") for k in objects(REPLICA, "runners/audit/"))
    assert result.find(*jenkins.secrets()) == []
