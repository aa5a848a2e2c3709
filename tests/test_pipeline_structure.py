"""The safety properties of the Jenkinsfiles, read from their text.

Jenkins cannot run here, so these read the Groovy (strings and comments
blanked out, see tests/groovy_scan.py) and check what review would check:
the write keys are bound only around ``runners apply``; an apply happens only
after an approver's input, inside a timeout, inside the stack's lock, between
milestones; binary plans are stashed, never archived; triggers live in the
Jenkinsfiles and parameters in the job configs.
"""

from __future__ import annotations

import fnmatch
import re
from pathlib import Path

import pytest

from runners import config
from runners.jenkins import jobs
from tests.groovy_scan import Source, runners_invocations, sh_steps
from tests.jenkins_support import write_config

ROOT = Path(__file__).parent.parent
JENKINSFILES = [ROOT / "Jenkinsfile", *sorted((ROOT / "pipelines").glob("*.Jenkinsfile"))]
APPLYING = [ROOT / "Jenkinsfile", ROOT / "pipelines" / "dr.Jenkinsfile"]
SECRET_FILES = (
    "plans/app/tfplan",
    "plans/app/plan.json",
    "dr-plan/tfplan",
    "dr-plan/plan.json",
    "drift/plan.json",
    "plans/tfplan",
)


def source(path: Path) -> Source:
    return Source(path.read_text(encoding="utf-8"))


def inside(index: int, block: tuple[int, int, int]) -> bool:
    return block[1] < index < block[2]


def write_blocks(src: Source) -> list[tuple[int, int, int]]:
    """withCredentials blocks whose bindings name the write credential."""
    found = []
    for block in src.blocks("withCredentials"):
        args = src.text[block[0] : block[1]]
        if "runners-aws-write" in args:
            found.append(block)
    return found


def applies(src: Source) -> list[int]:
    return [
        step.offset
        for step in sh_steps(src)
        if any(argv[:1] == ["apply"] for argv in runners_invocations(step.script))
    ]


def enclosing_function(src: Source, index: int) -> str:
    functions = [
        (m.group(1), m.start()) for m in re.finditer(r"^\w[\w<>]*\s+(\w+)\s*\(", src.code, re.M)
    ]
    return [name for name, start in functions if start < index][-1]


@pytest.mark.parametrize("path", JENKINSFILES, ids=lambda p: p.name)
def test_write_keys_are_bound_only_around_runners_apply(path: Path) -> None:
    src = source(path)
    blocks = write_blocks(src)
    for block in blocks:
        inner = [
            argv
            for step in sh_steps(src)
            if inside(step.offset, block)
            for argv in runners_invocations(step.script)
        ]
        assert inner and all(argv[0] == "apply" for argv in inner), f"{path.name}: {inner}"
    for offset in applies(src):
        assert any(inside(offset, b) for b in blocks), (
            f"{path.name}:{src.line_of(offset)}: apply without write keys"
        )
    assert ("runners-aws-write" in src.text) == (path in APPLYING)
    for lit in src.literals:  # the write credential is only ever named inside such a block's header
        if "runners-aws-write" in lit.value:
            assert any(b[0] < lit.start < b[1] for b in blocks), (
                f"{path.name}:{src.line_of(lit.start)}"
            )


@pytest.mark.parametrize("path", APPLYING, ids=lambda p: p.name)
def test_apply_only_after_input_in_timeout_in_lock_between_milestones(path: Path) -> None:
    src = source(path)
    [lock] = src.blocks("lock")
    assert re.search(r"resource:\s*\"terraform-\$\{", src.text[lock[0] : lock[1]]), "lock per stack"
    [timeout] = src.blocks("timeout")
    [call] = src.calls("input")
    assert inside(timeout[0], lock) and inside(call[0], timeout)
    args = src.code[call[1] : call[2]]
    assert re.search(r"\bsubmitter\s*:\s*approvers\b", args)
    assert re.search(r"\bsubmitterParameter\s*:", args)
    assert "APPROVER" in [lit.value for lit in src.literals_in(call[1], call[2])]
    milestones = [c[0] for c in src.calls("milestone")]
    assert any(lock[1] < m < call[0] for m in milestones), "a milestone before the input"
    after = [m for m in milestones if timeout[2] < m < lock[2]]
    assert after, "a milestone after the input"
    # The one function that runs `runners apply` is called only there, after that milestone.
    [apply_at] = applies(src)
    function = enclosing_function(src, apply_at)
    callers = [
        m.start()
        for m in re.finditer(rf"(?<![\w.]){function}\s*\(", src.code)
        if not re.match(r"^\w", src.code[src.code.rfind("\n", 0, m.start()) + 1 :])
    ]
    assert callers and all(after[0] < c < lock[2] for c in callers), function
    # The approver, the build cause and who started the build reach runners apply.
    [script] = [s.script for s in sh_steps(src) if s.offset == apply_at]
    for flag in ("--approved-by", "--triggered-by", "--build-cause", "--build-url"):
        assert flag in script
    assert re.search(r"\bapprovers\s*=\s*sh\s*\(", src.code), "submitter comes from runners.toml"
    assert "jobs approvers" in " ".join(s.script for s in sh_steps(src))


@pytest.mark.parametrize("path", JENKINSFILES, ids=lambda p: p.name)
def test_options_and_no_properties_call(path: Path) -> None:
    src = source(path)
    [options] = [b for b in src.blocks("options")]
    body = src.code[options[1] : options[2]]
    for option in ("buildDiscarder", "disableConcurrentBuilds", "timestamps", "ansiColor"):
        assert re.search(rf"\b{option}\s*\(", body), f"{path.name}: {option}"
    assert not src.calls("properties"), "properties() would replace the triggers"


@pytest.mark.parametrize("path", JENKINSFILES, ids=lambda p: p.name)
def test_triggers_only_where_scheduled(path: Path) -> None:
    src = source(path)
    triggers = src.blocks("triggers")
    if path.name in ("backup.Jenkinsfile", "drift.Jenkinsfile"):
        [block] = triggers
        assert re.search(r"\bcron\s*\(", src.code[block[1] : block[2]])
    else:
        assert not triggers, f"{path.name} runs by hand or on events only"


@pytest.mark.parametrize("path", JENKINSFILES, ids=lambda p: p.name)
def test_binary_plans_are_never_archived(path: Path) -> None:
    src = source(path)
    for start, open_paren, close in src.calls("archiveArtifacts"):
        patterns = [
            p.strip()
            for lit in src.literals_in(open_paren, close)
            for p in lit.value.split(",")
            if p.strip()
        ]
        assert patterns
        for secret in SECRET_FILES:
            hits = [p for p in patterns if fnmatch.fnmatch(secret, p.replace("**/", "*"))]
            assert not hits, f"{path.name}:{src.line_of(start)}: {hits} would archive {secret}"


def test_production_and_dr_stash_the_binary_plan_they_apply() -> None:
    for path, name in (
        (ROOT / "Jenkinsfile", "plan-"),
        (ROOT / "pipelines" / "dr.Jenkinsfile", "dr-plan"),
    ):
        src = source(path)
        stashes = [
            " ".join(lit.value for lit in src.literals_in(o, c)) for _, o, c in src.calls("stash")
        ]
        assert any(name in s for s in stashes), path.name
        assert src.calls("unstash"), path.name


def test_merge_request_stage_plans_with_read_keys_and_comments() -> None:
    src = source(ROOT / "Jenkinsfile")
    [stage] = [b for b in src.blocks("stage") if "Plan merge request" in src.text[b[0] : b[1]]]
    body = src.text[stage[1] : stage[2]]
    assert "changeRequest()" in body
    assert "runners-aws-read" in body and "runners-aws-write" not in body
    argvs = [
        a for s in sh_steps(src) if inside(s.offset, stage) for a in runners_invocations(s.script)
    ]
    assert [a[:2] for a in argvs] == [["plan", "--affected"]]
    assert "postComment(" in body and "currentBuild.description" in body


def test_pipelines_use_only_parameters_their_job_declares(tmp_path: Path) -> None:
    """Parameters live in the job config; a parameters {} block here would take them over."""
    cfg = config.load(write_config(tmp_path, "https://jenkins.acme.test/"))
    declared: dict[str, set[str]] = {}
    for item in jobs.render_all(cfg, jobs.catalog(cfg)):
        script = re.search(r"<scriptPath>([^<]+)</scriptPath>", item.xml)
        if script and script.group(1).startswith("pipelines/"):
            names = set(re.findall(r"<name>([A-Z_]+)</name>", item.xml))
            declared.setdefault(script.group(1), set()).update(names)
    scheduled = sorted((ROOT / "pipelines").glob("*.Jenkinsfile"))
    assert {f"pipelines/{p.name}" for p in scheduled} == set(declared)
    for path in scheduled:
        src = source(path)
        assert not re.search(r"\bparameters\s*\{", src.code), path.name
        used = set(re.findall(r"\bparams\.([A-Z_]+)", src.code))
        assert used, path.name
        assert used <= declared[f"pipelines/{path.name}"], (path.name, used)
