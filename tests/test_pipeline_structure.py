"""The safety properties of the Jenkinsfiles, read from their text.

These read the Groovy (strings and comments blanked out, see
tests/groovy_scan.py) and check what review would check: the write keys are
bound only around ``runners apply``; an apply happens only after an
approver's input, inside a timeout, between milestones, under the stack's
lock (which is not held while waiting); binary plans are stashed, never
archived; the two zones keep to their agents and credentials; schedules and
parameters live in the job configs.
"""

from __future__ import annotations

import fnmatch
import re
import shlex
from pathlib import Path

import pytest

from runners import config
from runners.jenkins import jobs
from runners.jenkins.settings import PRODUCTION_ONLY_CREDENTIALS
from tests.groovy_scan import Source, expand_shell, runners_invocations, sh_steps
from tests.jenkins_support import write_config

ROOT = Path(__file__).parent.parent
MERGE_REQUEST = ROOT / "Jenkinsfile"
PRODUCTION = sorted((ROOT / "pipelines").glob("*.Jenkinsfile"))
JENKINSFILES = [MERGE_REQUEST, *PRODUCTION]
APPLYING = [ROOT / "pipelines" / "production.Jenkinsfile", ROOT / "pipelines" / "dr.Jenkinsfile"]
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


def credential_blocks(src: Source, credential: str) -> list[tuple[int, int, int]]:
    """withCredentials blocks whose bindings name ``credential``."""
    return [b for b in src.blocks("withCredentials") if credential in src.text[b[0] : b[1]]]


def invocations_at(src: Source) -> list[tuple[int, list[str]]]:
    return [(s.offset, argv) for s in sh_steps(src) for argv in runners_invocations(s.script)]


def offsets_of(src: Source, command: str) -> list[int]:
    return [offset for offset, argv in invocations_at(src) if argv[:1] == [command]]


def functions(src: Source) -> list[tuple[str, int, int]]:
    """Top-level functions: (name, start, end of body)."""
    found = []
    for m in re.finditer(r"^\w[\w<>]*\s+(\w+)\s*\([^)]*\)\s*\{", src.code, re.M):
        found.append((m.group(1), m.start(), src.matching(m.end() - 1)))
    return found


def enclosing_function(src: Source, index: int) -> str:
    [name] = [n for n, start, end in functions(src) if start < index < end]
    return name


def calls_of(src: Source, function: str) -> list[int]:
    """Where ``function(...)`` is called, not where it is defined."""
    defined = {start for name, start, _ in functions(src) if name == function}
    return [
        m.start()
        for m in re.finditer(rf"(?<![\w.]){function}\s*\(", src.code)
        if src.code.rfind("\n", 0, m.start()) + 1 not in defined
        and not re.match(
            r"^\w[\w<>]*\s+$", src.code[src.code.rfind("\n", 0, m.start()) + 1 : m.start()]
        )
    ]


@pytest.mark.parametrize("path", JENKINSFILES, ids=lambda p: p.name)
def test_write_keys_are_bound_only_around_runners_apply(path: Path) -> None:
    src = source(path)
    blocks = credential_blocks(src, "runners-aws-write")
    for block in blocks:
        inner = [argv for offset, argv in invocations_at(src) if inside(offset, block)]
        assert inner and all(argv[0] == "apply" for argv in inner), f"{path.name}: {inner}"
    for offset in offsets_of(src, "apply"):
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
def test_apply_only_after_input_in_timeout_between_milestones_under_the_lock(path: Path) -> None:
    src = source(path)
    locks = src.blocks("lock")
    assert len(locks) == 2, "one lock to plan, one to apply"
    for lock in locks:
        assert re.search(r"resource:\s*\"terraform-\$\{", src.text[lock[0] : lock[1]]), "per stack"
    [timeout] = src.blocks("timeout")
    [call] = src.calls("input")
    assert inside(call[0], timeout)
    assert not any(inside(call[0], lock) for lock in locks), "no lock held while waiting"
    plan_lock, apply_lock = sorted(locks)
    assert plan_lock[2] < timeout[0] < timeout[2] < apply_lock[0]
    args = src.code[call[1] : call[2]]
    assert re.search(r"\bsubmitter\s*:", args)
    assert re.search(r"\bsubmitterParameter\s*:", args)
    assert "APPROVER" in [lit.value for lit in src.literals_in(call[1], call[2])]
    milestones = [c[0] for c in src.calls("milestone")]
    assert any(plan_lock[2] < m < call[0] for m in milestones), "a milestone before the input"
    after = [m for m in milestones if timeout[2] < m < apply_lock[0]]
    assert after, "a milestone after the input"
    # The function that runs `runners apply` is called only under the second lock...
    [apply_at] = offsets_of(src, "apply")
    applier = enclosing_function(src, apply_at)
    assert calls_of(src, applier) and all(inside(c, apply_lock) for c in calls_of(src, applier))
    # ...and the one that plans only under the first.
    planning = {enclosing_function(src, o) for o, argv in invocations_at(src) if "plan" in argv[:2]}
    assert planning
    for function in planning:
        assert calls_of(src, function) and all(
            inside(c, plan_lock) for c in calls_of(src, function)
        )
    # The approver, the build cause and who started the build reach runners apply.
    [script] = [s.script for s in sh_steps(src) if s.offset == apply_at]
    for flag in ("--approved-by", "--triggered-by", "--build-cause", "--build-url"):
        assert flag in script
    assert "jobs approvers" in " ".join(s.script for s in sh_steps(src)), (
        "submitter from runners.toml"
    )


@pytest.mark.parametrize("path", APPLYING, ids=lambda p: p.name)
def test_a_failed_apply_says_to_start_again(path: Path) -> None:
    src = source(path)
    [apply_at] = offsets_of(src, "apply")
    body = src.text[apply_at : apply_at + 1500]
    assert "returnStatus: true" in src.text[apply_at - 200 : apply_at + 60]
    assert re.search(r"error\(", body) and "start" in body and "again" in body


@pytest.mark.parametrize("path", JENKINSFILES, ids=lambda p: p.name)
def test_options_and_no_properties_call(path: Path) -> None:
    src = source(path)
    [options] = [b for b in src.blocks("options")]
    body = src.code[options[1] : options[2]]
    for option in ("buildDiscarder", "disableConcurrentBuilds", "timestamps", "ansiColor"):
        assert re.search(rf"\b{option}\s*\(", body), f"{path.name}: {option}"
    assert not src.calls("properties"), "properties() would replace the job's schedule"


@pytest.mark.parametrize("path", JENKINSFILES, ids=lambda p: p.name)
def test_no_pipeline_declares_triggers(path: Path) -> None:
    """Schedules live in the job configs: Declarative's only start after a first build."""
    assert not source(path).blocks("triggers")


@pytest.mark.parametrize("path", JENKINSFILES, ids=lambda p: p.name)
def test_every_when_decides_before_taking_an_agent(path: Path) -> None:
    src = source(path)
    for start, open_brace, close in src.blocks("when"):
        assert re.search(r"\bbeforeAgent\s+true\b", src.code[open_brace:close]), src.line_of(start)


@pytest.mark.parametrize("path", JENKINSFILES, ids=lambda p: p.name)
def test_every_sh_step_is_one_runners_call(path: Path) -> None:
    """The logic lives in runners: a step runs one runners command and nothing else."""
    src = source(path)
    for step in sh_steps(src):
        lexer = shlex.shlex(expand_shell(step.script), posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        lexer.commenters = "#"
        tokens = list(lexer)
        assert tokens[:1] == ["runners"], f"{path.name}:{step.line}: {tokens[:3]}"
        operators = [t for t in tokens if set(t) <= set(";&|<>()")]
        assert not operators, f"{path.name}:{step.line}: {operators}"
        lines = [ln for ln in step.script.replace("\\\n", " ").splitlines() if ln.strip()]
        assert len(lines) == 1, f"{path.name}:{step.line}: one command per step"


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
    for path, name in zip(APPLYING, ("plan-", "dr-plan"), strict=True):
        src = source(path)
        stashes = [
            " ".join(lit.value for lit in src.literals_in(o, c)) for _, o, c in src.calls("stash")
        ]
        assert any(name in s for s in stashes), path.name
        assert src.calls("unstash"), path.name


def test_the_merge_request_pipeline_only_plans_with_plan_keys_and_comments() -> None:
    src = source(MERGE_REQUEST)
    assert [argv[:2] for _, argv in invocations_at(src)] == [
        ["affected", "--base"],
        ["plan", "--combine"],
        ["plan", "--affected"],
        ["comment", "--file"],
    ]
    [stage] = [b for b in src.blocks("stage") if "Plan merge request" in src.text[b[0] : b[1]]]
    body = src.text[stage[1] : stage[2]]
    assert "changeRequest()" in body
    named = set(re.findall(r"credentialsId: '([^']+)'", src.text))
    assert named == {"runners-aws-plan", "runners-mr-token"}
    assert "planInParallel(" in body and "currentBuild.description" in body
    # Each stack in a branch of its own, none stopping the others; published either way.
    assert "parallel(branches)" in src.text and "[failFast: false]" in src.text
    assert src.calls("publishPlans") and "postComment(" in src.text


@pytest.mark.parametrize("path", JENKINSFILES, ids=lambda p: p.name)
def test_each_zone_keeps_to_its_agents_and_credentials(path: Path) -> None:
    src = source(path)
    labels = {a or b for a, b in re.findall(r"label '([^']+)'|node\('([^']+)'\)", src.text)}
    named = set(re.findall(r"credentialsId: '([^']+)'", src.text))
    if path == MERGE_REQUEST:
        assert labels == {"runners-plan"}
        assert not named & PRODUCTION_ONLY_CREDENTIALS
        assert "RUNNERS_PLAN_SIGNING_KEY" not in src.text
    else:
        assert labels == {"runners-apply"}
        if path not in APPLYING:
            assert "runners-mr-token" not in named


@pytest.mark.parametrize("path", APPLYING, ids=lambda p: p.name)
def test_the_apply_step_holds_what_it_reads_its_facts_with(path: Path) -> None:
    """Jenkins' and the platform's tokens and the git credential: around runners apply only.

    ``runners apply`` reads the build from Jenkins, the merge requests' approvals
    from the platform, and fetches the environment branch (docs/security.md).
    """
    src = source(path)
    [write] = credential_blocks(src, "runners-aws-write")
    assert "evidenceTokens()" in src.text[write[0] : write[1]]
    [tokens] = calls_of(src, "evidenceTokens")
    assert write[0] <= tokens < write[1], f"{path.name}: the tokens outside the apply's block"
    defined = [(start, end) for name, start, end in functions(src) if name == "withGitFetch"]
    [fetch] = [b for b in src.blocks("withGitFetch") if (b[0] - 5, b[2]) not in defined]
    assert inside(fetch[0], write), f"{path.name}: the git credential outside the apply's block"
    [apply] = offsets_of(src, "apply")
    assert inside(apply, fetch)
    [(_, start, end)] = [f for f in functions(src) if f[0] == "evidenceTokens"]
    body = src.text[start:end]
    assert "credentialsId: 'runners-jenkins-token', variable: c.jenkinsTokenEnv" in body
    assert "credentialsId: 'runners-mr-token', variable: c.mrTokenEnv" in body
    for lit in src.literals:  # the tokens are named nowhere else
        if lit.value in ("runners-jenkins-token", "runners-mr-token"):
            assert start < lit.start < end, f"{path.name}:{src.line_of(lit.start)}"


@pytest.mark.parametrize("path", APPLYING, ids=lambda p: p.name)
def test_plans_are_signed_and_checked_in_the_production_zone(path: Path) -> None:
    src = source(path)
    blocks = credential_blocks(src, "signingKey()")
    covered = {argv[0] if argv[0] != "dr" else argv[1] for o, argv in invocations_at(src)
               if any(inside(o, b) for b in blocks)}  # fmt: skip
    assert {"apply"} < covered and covered & {"plan", "prepare"}
    assert (
        "credentialsId: 'runners-plan-signing-key', variable: 'RUNNERS_PLAN_SIGNING_KEY'"
        in src.text
    )


@pytest.mark.parametrize("path", PRODUCTION, ids=lambda p: p.name)
def test_production_pipelines_check_out_the_protected_branch_on_a_clean_workspace(
    path: Path,
) -> None:
    src = source(path)
    assert "checkout scm" not in src.code, "no job SCM: the pipeline is inline"
    [(_, start, end)] = [f for f in functions(src) if f[0] == "checkoutClient"]
    body = src.text[start:end]
    assert '"refs/heads/${c.branch}"' in body and "userRemoteConfigs: [remote]" in body
    nodes = src.calls("node")
    if nodes:  # scripted agents: only through onApplyAgent, which cleans before and after
        assert enclosing_function(src, nodes[0][0]) == "onApplyAgent" and len(nodes) == 1
        [(_, s, e)] = [f for f in functions(src) if f[0] == "onApplyAgent"]
        assert re.search(
            r"cleanWs\(\)\s+try\s*\{\s*body\(\)\s*\}\s*finally\s*\{\s*cleanWs\(\)", src.code[s:e]
        )
    else:  # a declarative agent: checkoutClient cleans first, post { cleanup } last
        assert body.lstrip().split("\n", 2)[1].strip() == "cleanWs()"
        [(_, o, c)] = [b for b in src.blocks("cleanup")]
        assert "cleanWs()" in src.code[o:c]
    assert calls_of(src, "checkoutClient")


def test_a_failed_prune_never_skips_the_report() -> None:
    src = source(ROOT / "pipelines" / "backup.Jenkinsfile")
    stages = {
        lit.value: block
        for block in src.blocks("stage")
        for lit in src.literals_in(block[0], block[1])
    }
    [prune] = offsets_of(src, "prune")
    assert any(inside(prune, b) for b in src.blocks("catchError")), "prune inside catchError"
    report = stages["Report"]
    assert "when" not in src.code[report[1] : report[2]], "the report always runs"
    assert re.search(r"\bwhen\b", src.code[stages["Prune"][1] : stages["Prune"][2]])


def test_pipelines_use_only_parameters_their_job_declares(tmp_path: Path) -> None:
    """Parameters live in the job config; a parameters {} block here would take them over."""
    cfg = config.load(write_config(tmp_path, "https://jenkins.acme.test/"))
    declared: dict[str, set[str]] = {}
    for item in jobs.render_all(cfg, jobs.catalog(cfg)):
        script = re.search(r"<script>// pipelines/(\S+) of runners", item.xml)
        if script:
            names = set(re.findall(r"<name>([A-Z_]+)</name>", item.xml))
            declared.setdefault(script.group(1), set()).update(names)
    assert {p.name for p in PRODUCTION} - {"ship-s3.Jenkinsfile"} == set(declared)
    for path in PRODUCTION:
        src = source(path)
        assert not re.search(r"\bparameters\s*\{", src.code), path.name
        used = set(re.findall(r"\bparams\.([A-Z_]+)", src.code))
        assert used <= declared.get(path.name, {"POLICY"}), (path.name, used)


# The plugin each step or binding of the Jenkinsfiles comes from (by plugin id).
PLUGIN_OF_STEP = {
    "aws": "aws-credentials",
    "withCredentials": "credentials-binding",
    "string": "credentials-binding",
    "gitUsernamePassword": "git",
    "checkout": "git",
    "lock": "lockable-resources",
    "input": "pipeline-input-step",
    "milestone": "pipeline-milestone-step",
    "readJSON": "pipeline-utility-steps",
    "catchError": "workflow-basic-steps",
    "timeout": "workflow-basic-steps",
    "stash": "workflow-basic-steps",
    "unstash": "workflow-basic-steps",
    "archiveArtifacts": "workflow-basic-steps",
    "node": "workflow-durable-task-step",
    "sh": "workflow-durable-task-step",
    "cleanWs": "ws-cleanup",
    "junit": "junit",
    "timestamps": "timestamper",
    "ansiColor": "ansicolor",
}


def documented_plugins() -> dict[str, str]:
    """docs/jenkins.md's plugin table: plugin id -> its minimum version."""
    text = (ROOT / "docs" / "jenkins.md").read_text(encoding="utf-8")
    start = text.index("| plugin id |", text.index("### Plugins"))
    table = text[start : text.index("\n\n", start)]
    found: dict[str, str] = {}
    for row in re.findall(r"^\| (`.+?) \| (.+?) \|", table, flags=re.M):
        ids = re.findall(r"`([a-z0-9-]+)`", row[0])
        versions = [v.strip() for v in row[1].split(",")]
        assert len(ids) == len(versions), f"docs/jenkins.md: a version per plugin id in {row}"
        found.update(zip(ids, versions, strict=True))
    return found


def test_the_docs_name_every_plugin_the_jenkinsfiles_use_by_id_with_a_minimum_version() -> None:
    plugins = documented_plugins()
    assert "cloudbees-aws-credentials" not in plugins, "the end-of-life AWS credentials plugin"
    used = {
        step
        for path in JENKINSFILES
        for step in PLUGIN_OF_STEP
        if source(path).calls(step) or source(path).blocks(step)
    }
    assert {"aws", "lock", "input", "readJSON", "catchError", "sh"} <= used
    for step in sorted(used):
        plugin = PLUGIN_OF_STEP[step]
        assert re.fullmatch(r"\d[\w.]*", plugins.get(plugin, "")), (step, plugin)
