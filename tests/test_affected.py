"""Which stacks a merge request touches, following local modules transitively."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from runners.change.affected import affected_stacks
from tests.conftest import GitRepoHelper, run_cli


def branch_with(repo: GitRepoHelper, name: str, files: dict[str, str]) -> None:
    repo.git("checkout", "-q", "-b", name, "production")
    for rel, text in files.items():
        repo.write(rel, text)
    repo.commit(f"change on {name}", author="Dana Dev <dana@example.com>")


def affected(repo: GitRepoHelper, head: str) -> list[str]:
    r = run_cli("affected", "--base", "production", "--head", head, cwd=repo.root)
    assert r.returncode == 0, r.stderr
    return r.stdout.split()


def test_module_change_reaches_stacks_through_nested_modules(client_repo: GitRepoHelper) -> None:
    branch_with(
        client_repo,
        "mod",
        {
            "terraform/modules/naming/main.tf": 'variable "name" {\n  type = string\n}\n\noutput "full" {\n  value = "acme2-${var.name}"\n}\n'
        },
    )
    assert affected(client_repo, "mod") == ["app"]


def test_stack_change_affects_only_that_stack(client_repo: GitRepoHelper) -> None:
    branch_with(
        client_repo,
        "net",
        {"terraform/stacks/network/extra.tf": 'resource "terraform_data" "subnet" {}\n'},
    )
    assert affected(client_repo, "net") == ["network"]


def test_config_change_affects_every_stack(client_repo: GitRepoHelper) -> None:
    text = (client_repo.root / "runners.toml").read_text()
    branch_with(client_repo, "cfg", {"runners.toml": text + "\n# comment\n"})
    r = run_cli(
        "affected",
        "--base",
        "production",
        "--head",
        "cfg",
        "--format",
        "json",
        cwd=client_repo.root,
    )
    assert [a["stack"] for a in json.loads(r.stdout)] == ["app", "network"]
    assert json.loads(r.stdout)[0]["reasons"] == ["runners.toml"]


def test_unrelated_change_affects_nothing(client_repo: GitRepoHelper) -> None:
    branch_with(client_repo, "docs", {"docs/notes.md": "hello\n"})
    assert affected(client_repo, "docs") == []


def test_only_changes_since_the_fork_count(client_repo: GitRepoHelper) -> None:
    branch_with(
        client_repo,
        "net",
        {"terraform/stacks/network/extra.tf": 'resource "terraform_data" "subnet" {}\n'},
    )
    # production moves on after the fork; that is not part of this merge request.
    client_repo.git("checkout", "-q", "production")
    client_repo.write("terraform/stacks/app/later.tf", 'resource "terraform_data" "later" {}\n')
    client_repo.commit("later on production")
    assert affected(client_repo, "net") == ["network"]


def test_unknown_ref_is_exit_2(client_repo: GitRepoHelper) -> None:
    r = run_cli(
        "affected", "--base", "production", "--head", "no-such-branch", cwd=client_repo.root
    )
    assert r.returncode == 2 and "unknown git ref 'no-such-branch'" in r.stderr
    assert "Traceback" not in r.stderr


def test_plan_affected_plans_each_stack_into_its_folder(
    client_repo: GitRepoHelper, tmp_path: Path
) -> None:
    branch_with(
        client_repo,
        "mod",
        {
            "terraform/modules/naming/main.tf": 'variable "name" {\n  type = string\n}\n\noutput "full" {\n  value = "acme2-${var.name}"\n}\n',
            "terraform/stacks/network/extra.tf": 'resource "terraform_data" "subnet" {}\n',
        },
    )
    out = tmp_path / "plans"
    r = run_cli(
        "plan",
        "--affected",
        "--base",
        "production",
        "--out",
        str(out),
        "--no-color",
        cwd=client_repo.root,
        env={"CHANGE_TARGET": "production", "CHANGE_ID": "7"},
    )
    assert r.returncode == 0, r.stderr
    assert sorted(p.name for p in out.iterdir()) == ["affected.json", "app", "network", "report.md"]
    for stack in ("app", "network"):
        manifest = json.loads((out / stack / "manifest.json").read_text())
        assert (manifest["stack"], manifest["environment"]) == (stack, "production")
        assert manifest["merge_request"]["id"] == "7"
    listing = json.loads((out / "affected.json").read_text())
    assert [s["stack"] for s in listing["stacks"]] == ["app", "network"]
    combined = (out / "report.md").read_text()
    assert "`app` in `production`" in combined and "`network` in `production`" in combined


def test_plan_affected_needs_an_environment(client_repo: GitRepoHelper, tmp_path: Path) -> None:
    r = run_cli(
        "plan",
        "--affected",
        "--base",
        "production",
        "--out",
        str(tmp_path / "o"),
        cwd=client_repo.root,
    )
    assert r.returncode == 2 and "CHANGE_TARGET" in r.stderr


folders = st.lists(
    st.sampled_from(["a", "a/b", "m/x", "m/y", "c"]), min_size=1, max_size=3, unique=True
)


@given(
    changed=st.lists(
        st.sampled_from(
            ["a/f.tf", "a/b/g.tf", "m/x/h.tf", "m/y/i.tf", "c/j.tf", "z/k.tf", "ab/l.tf"]
        ),
        max_size=6,
    ),
    closures=st.dictionaries(st.sampled_from(["s1", "s2", "s3"]), folders, min_size=1),
)
def test_affected_rule(changed: list[str], closures: dict[str, list[str]]) -> None:
    result = {a.stack: set(a.reasons) for a in affected_stacks(changed, closures)}
    for stack, dirs in closures.items():
        touching = {p for p in changed if any(p.startswith(d + "/") for d in dirs)}
        assert result.get(stack, set()) == touching
