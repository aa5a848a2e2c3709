"""Property suite: whatever is broken in a config, a plan JSON or a manifest, the CLI
ends with a documented exit code and at most one line on stderr, never a traceback
and never "internal error".

Hypothesis mutates real inputs at every path they have: a valid runners.toml
holding every section, the plans under tests/fixtures/plans (and
../shared/plan-corpus when it is there), and the manifest of a real plan run.
Each mutation replaces one value (or removes it) with a wrong type, an empty
value, a huge one, unicode or control characters, and ``runners`` runs in
process, through ``main(argv)``, as the console script does.
"""

from __future__ import annotations

import copy
import gc
import json
import math
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from runners import cli
from tests.conftest import FIXTURES, REPO_ROOT, GitRepoHelper, run_cli

# The codes README.md documents; a bad input may end in any of them but 70.
DOCUMENTED = {0, 1, 2, 3, 4, 130}
FAST = settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _corpus() -> list[Path]:
    """The plans Terraform's own tests expect ``show -json`` to write, when present."""
    for folder in (REPO_ROOT, *REPO_ROOT.parents):
        corpus = folder / "shared" / "plan-corpus" / "terraform-show-json"
        if corpus.is_dir():
            return sorted(corpus.glob("*.json"))
    return []


PLANS = sorted((FIXTURES / "plans").glob("*.json")) + _corpus()


@pytest.fixture(autouse=True)
def _unfreeze() -> Iterator[None]:
    """Loading a plan freezes what the collector tracks (planview); thaw it between runs."""
    yield
    gc.unfreeze()


def run(capsys: Any, *argv: str) -> tuple[int, str, str]:
    try:
        code = cli.main(list(argv))
    except SystemExit as exc:  # argparse's own exit
        code = int(exc.code) if isinstance(exc.code, int) else 2
    out, err = capsys.readouterr()
    return code, out, err


def assert_clean(code: int, err: str) -> None:
    assert code in DOCUMENTED, (code, err)
    assert "Traceback" not in err and "internal error" not in err, err
    assert err.count("\n") <= 1, err
    assert len(err) <= 1_001, err[:300]


# -- mutations ----------------------------------------------------------------------

Path_ = tuple[str | int, ...]
DELETE = object()


class Huge:
    """An integer of 5,000 digits, written out as it is (Python will not print one)."""

    TEXT = "9" * 5_000


def to_json(doc: Any) -> str:
    return json.dumps(doc, default=lambda _: "<huge>").replace('"<huge>"', Huge.TEXT)


_text = st.text(st.characters(exclude_categories=["Cs"]), max_size=40)
_control = st.text(st.characters(max_codepoint=0x9F, categories=["Cc"]), min_size=1, max_size=3)
BAD_VALUES = st.one_of(
    st.just(DELETE),
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**64), max_value=2**64),
    st.builds(Huge),
    st.floats(allow_nan=True, allow_infinity=True),
    st.just(""),
    _text,
    st.builds(lambda a, b: a + b, _text, _control),
    st.just("x" * 100_000),
    st.lists(st.one_of(st.integers(), _text), max_size=3),
    st.dictionaries(_text, st.integers(), max_size=2),
    st.just([{}]),
)


def paths(value: Any, prefix: Path_ = ()) -> Iterator[Path_]:
    """Every path in a JSON-like value, containers and leaves alike (not the root)."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield (*prefix, key)
            yield from paths(item, (*prefix, key))
    elif isinstance(value, list):
        for i, item in enumerate(value[:3]):  # the first few elements stand for the rest
            yield (*prefix, i)
            yield from paths(item, (*prefix, i))


def mutate(doc: Any, path: Path_, value: Any) -> Any:
    out = copy.deepcopy(doc)
    value = value if value is DELETE else copy.deepcopy(value)
    parent = out
    for step in path[:-1]:
        parent = parent[step]
    if value is DELETE:
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    return out


# -- runners.toml ---------------------------------------------------------------------

CONFIG: dict[str, Any] = {
    "runners": {
        "terraform": "embedded",
        "plugin_cache_dir": ".runners/plugins",
        "ledger": ".runners/audit.jsonl",
        "report_max_chars": 60000,
    },
    "protected": {"extra_types": ["terraform_data"], "addresses": ["module.db.*"]},
    "environments": {
        "production": {
            "branch": "production",
            "account_id": "123456789012",
            "region": "eu-west-1",
            "backup_region": "eu-central-1",
            "role_arn": "arn:aws:iam::123456789012:role/runners",
            "approvers": ["alice", "bob"],
            "require_approval": True,
            "allow_self_approval": False,
            "require_manual_trigger": True,
            "backend": {
                "bucket": "acme-tfstate",
                "key": "{stack}/production.tfstate",
                "region": "eu-west-1",
                "use_lockfile": True,
                "max_retries": 3,
            },
            "notify": {
                "events": ["apply_failed", "refused"],
                "timeout_seconds": 10,
                "slack_webhook_env": "RUNNERS_SLACK",
                "email_to": ["ops@example.com"],
                "email_from": "runners@example.com",
                "smtp_host": "smtp.example.com",
                "smtp_port": 587,
                "smtp_starttls": True,
            },
        },
        "development": {
            "branch": "development",
            "region": "eu-west-1",
            "backend": {"path": "state/{stack}-development.tfstate"},
        },
    },
    "stacks": {
        "app": {
            "dir": "app",
            "environments": ["production", "development"],
            "backend": {"production": {"key": "app.tfstate"}},
            "var_files": {"production": ["production.tfvars"]},
        },
    },
    "policies": {
        "daily": {
            "schedule": "daily",
            "backup_region": "eu-central-1",
            "kms_key_alias": "alias/runners-backup",
            "rpo_hours": 26,
            "max_deletions": 100,
            "select": {"tags": {"backup": "daily"}, "regions": ["eu-west-1"]},
            "retention": {"daily": 7, "weekly": 4, "monthly": 6, "on_demand_days": 14},
            "limits": {"ebs_copies": 5, "poll_seconds": 30, "ship_wait_minutes": 10},
        },
    },
    "dr": {
        "policy": "daily",
        "state": {"bucket": "acme-tfstate-replica", "region": "eu-central-1"},
        "backend": {"path": "dr/{stack}-{env}-{region}.tfstate"},
        "stacks": {
            "app": {
                "region_variable": "region",
                "zones": 2,
                "snapshots": {"volume_ids": 'module.server["*"].aws_ebs_volume.data[0]'},
                "manual_steps": ["Point DNS at the new load balancer."],
            }
        },
        "verify": {"timeout_minutes": 60, "poll_seconds": 30, "parallel": 2},
        "s3": {
            "daily": {
                "destination_bucket": "acme-offsite",
                "buckets": {"acme-data": {"prefixes": ["uploads/"], "region": "eu-west-1"}},
            }
        },
    },
    "jenkins": {
        "url": "https://jenkins.example.com",
        "user": "runner",
        "token_env": "JENKINS_API_TOKEN",
        "folder": "acme",
        "backup_policies": ["daily"],
        "poll_seconds": 2,
        "request_timeout": 30,
        "repository": {"url": "https://gitlab.example.com/acme/infra.git", "platform": "gitlab"},
        "comments": {"token_env": "RUNNERS_MR_TOKEN"},
    },
}


def toml_value(value: Any) -> str:
    if isinstance(value, Huge):
        return Huge.TEXT
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        return ("inf" if value > 0 else "-inf") if math.isinf(value) else repr(value)
    if isinstance(value, str):
        escaped = "".join(
            f"\\u{ord(c):04x}" if ord(c) < 0x20 or ord(c) == 0x7F or c in '"\\' else c
            for c in value
        )
        return f'"{escaped}"'
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if value is None:
        return '""'  # TOML has no null; an empty string is the nearest wrong value
    return (
        "{" + ", ".join(f"{toml_value(str(k))} = {toml_value(v)}" for k, v in value.items()) + "}"
    )


def toml(doc: dict[str, Any]) -> str:
    return "".join(f"{toml_value(str(k))} = {toml_value(v)}\n" for k, v in doc.items())


CONFIG_PATHS = list(paths(CONFIG))


@pytest.fixture
def config_home(tmp_path: Path) -> Path:
    (tmp_path / "app").mkdir()
    return tmp_path


def test_the_unmutated_config_loads(config_home: Path, capsys: Any) -> None:
    path = config_home / "runners.toml"
    path.write_text(toml(CONFIG))
    assert run(capsys, "jobs", "stacks", "--env", "production", "--config", str(path)) == (
        0,
        "app\n",
        "",
    )


@FAST
@given(path=st.sampled_from(CONFIG_PATHS), value=BAD_VALUES)
def test_any_broken_config_is_one_line(
    config_home: Path, capsys: Any, path: Path_, value: Any
) -> None:
    config = config_home / "runners.toml"
    config.write_text(toml(mutate(CONFIG, path, value)), encoding="utf-8")
    plan = str(PLANS[0])
    for argv in (
        ["jobs", "stacks", "--env", "production"],
        ["jobs", "approvers", "--env", "production"],
        ["summarize", plan, "--format", "md"],
    ):
        code, _, err = run(capsys, *argv, "--config", str(config))
        assert_clean(code, err)
        if code == 2:
            assert err.startswith(("error: ", "runners ")), err


# -- plan JSON ------------------------------------------------------------------------

PLAN_DOCS = {p.name: json.loads(p.read_text()) for p in PLANS}
PLAN_PATHS = [(name, path) for name, doc in PLAN_DOCS.items() for path in paths(doc)]


def terraform_counts(doc: dict[str, Any]) -> dict[str, int]:
    """Terraform's own Plan: line, by the rule, independently of runners' code."""
    add = change = destroy = 0
    for rc in doc.get("resource_changes") or []:
        if rc["mode"] != "managed":
            continue
        actions = rc["change"]["actions"]
        add += "create" in actions
        change += actions == ["update"]
        destroy += "delete" in actions
    return {"add": add, "change": change, "destroy": destroy}


@settings(FAST, max_examples=600)
@given(
    target=st.sampled_from(PLAN_PATHS),
    value=BAD_VALUES,
    fmt=st.sampled_from(["text", "md", "json"]),
)
def test_any_broken_plan_is_one_line_or_counted_as_terraform_counts(
    tmp_path: Path, capsys: Any, target: tuple[str, Path_], value: Any, fmt: str
) -> None:
    name, path = target
    doc = mutate(PLAN_DOCS[name], path, value)
    file = tmp_path / "plan.json"
    file.write_text(to_json(doc), encoding="utf-8")
    code, out, err = run(capsys, "summarize", str(file), "--format", fmt)
    assert_clean(code, err)
    assert code in (0, 2), err
    if code == 2:
        assert err.startswith(f"error: {file}: "), err
        assert out == ""
    elif fmt == "json":
        # What runners accepted, it counts as Terraform would: never "no changes" for a
        # change it could not read.
        summary = json.loads(out)
        counted = {k: summary[k] for k in ("add", "change", "destroy")}
        assert counted == terraform_counts(doc)


@pytest.mark.parametrize("plan", PLANS, ids=lambda p: p.name)
def test_every_plan_level_refuses_the_wrong_container(
    tmp_path: Path, capsys: Any, plan: Path
) -> None:
    """Deterministically, at every object and list of the real plans: the other container."""
    doc = PLAN_DOCS[plan.name]
    file = tmp_path / "plan.json"
    for path in paths(doc):
        node = doc
        for step in path:
            node = node[step]
        if not isinstance(node, dict | list):
            continue
        file.write_text(json.dumps(mutate(doc, path, [] if isinstance(node, dict) else {})))
        code, _, err = run(capsys, "summarize", str(file), "--format", "text")
        assert_clean(code, err)


# -- manifest.json --------------------------------------------------------------------


@pytest.fixture(scope="module")
def plan_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path]]:
    """One real plan run of the client fixture: its repository and its plan folder."""
    import os

    from tests.conftest import LOCAL_CONFIG

    base = tmp_path_factory.mktemp("manifest")
    state = base / "state"
    state.mkdir()
    saved = dict(os.environ)
    os.environ.update(RUNNERS_TERRAFORM="embedded", XDG_CACHE_HOME=str(base / "cache"))
    for var in ("RUNNERS_CONFIG", "CHANGE_ID", "CHANGE_BRANCH", "CHANGE_TARGET", "BUILD_URL"):
        os.environ.pop(var, None)
    try:
        repo = GitRepoHelper(base / "repo")
        repo.copy(FIXTURES / "client", ".")
        repo.write("runners.toml", LOCAL_CONFIG.format(state_dir=state))
        repo.write(".gitignore", ".runners/\n.terraform/\n")
        repo.commit("initial layout", author="Olivia Ops <olivia@example.com>")
        out = base / "plan"
        result = run_cli(
            "plan", "--stack", "app", "--env", "production", "--out", str(out), cwd=repo.root
        )
        assert result.returncode == 0, result.stderr
        yield repo.root, out
    finally:
        os.environ.clear()
        os.environ.update(saved)


@settings(FAST, max_examples=60)
@given(data=st.data(), value=BAD_VALUES)
def test_any_broken_manifest_is_one_line(
    plan_dir: tuple[Path, Path],
    tmp_path: Path,
    capsys: Any,
    monkeypatch: pytest.MonkeyPatch,
    data: st.DataObject,
    value: Any,
) -> None:
    repo, original = plan_dir
    manifest = json.loads((original / "manifest.json").read_text())
    path = data.draw(st.sampled_from(list(paths(manifest))), label="path")
    folder = tmp_path / "plan"
    shutil.rmtree(folder, ignore_errors=True)
    shutil.copytree(original, folder)
    (folder / "manifest.json").write_text(to_json(mutate(manifest, path, value)))
    monkeypatch.chdir(repo)
    # No approver: a manifest that survives every check is refused there, before Terraform.
    argv = ["apply", "--stack", "app", "--env", "production", "--plan-dir", str(folder)]
    code, _, err = run(capsys, *argv)
    *progress, last = err.splitlines() or [""]
    assert all(line.startswith(("==> ", "warning: ")) for line in progress), err
    assert_clean(code, last + "\n")
    assert code in (2, 3), err
