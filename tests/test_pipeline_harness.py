"""The pipeline rehearsal harness itself: each step keeps the meaning it has in Jenkins.

Each test runs a small Jenkinsfile from tests/fixtures/jenkinsfiles through
Debian's groovy (tests/pipeline_harness) and checks the build's result, its
stages, the ``sh`` calls and the files they left.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.conftest import GitRepoHelper
from tests.pipeline_harness import BuildResult, Cause, Change, HarnessError, Input, Jenkins, Scm

JENKINSFILES = Path(__file__).parent / "fixtures" / "jenkinsfiles"


def lines_between(log: str, first: str, last: str) -> list[str]:
    lines = log.splitlines()
    return lines[lines.index(first) : lines.index(last) + 1]


# -- declarative structure -------------------------------------------------------------------
def test_a_branch_build_runs_its_stages_and_skips_the_merge_request_ones(
    jenkins: Jenkins,
) -> None:
    result = jenkins.run(
        JENKINSFILES / "declarative.Jenkinsfile",
        branch="production",
        causes=[Cause.user("olivia")],
    )

    assert result.result == "SUCCESS"
    assert result.stages_run == ["Production", "deploy"]
    assert result.stages_skipped == {
        "Merge request": "when",
        "Review only": "when",
        "Never": "when",
    }
    # beforeAgent: no executor for a skipped stage; without it, Jenkins takes one first.
    assert not result.stage("Merge request").agent
    assert result.stage("Review only").agent
    assert result.stage("deploy").path == ("Production", "deploy")
    assert "deploying: hello production by olivia, TERM=xterm, TARGET=eu-west-1" in result.log
    assert result.description == "hello production; eu-west-1; dry=true"
    declared = result.declared
    assert declared["triggers"] == [{"kind": "cron", "spec": "H 2 * * *"}]
    assert declared["options"] == [
        "buildDiscarder",
        "disableConcurrentBuilds",
        "timestamps",
        "ansiColor",
    ]
    assert [p["name"] for p in declared["parameters"]] == ["TARGET", "DRY"]
    posts = [line for line in result.log.splitlines() if line.startswith("post: ")]
    assert posts == ["post: always", "post: success", "post: cleanup"]  # Jenkins' order
    assert result.log.splitlines()[-1] == "Finished: SUCCESS"


def test_a_merge_request_build_runs_only_the_merge_request_stages(
    jenkins: Jenkins, git_repo: GitRepoHelper
) -> None:
    git_repo.write("README", "x\n")
    git_repo.commit("one")
    result = jenkins.run(
        JENKINSFILES / "declarative.Jenkinsfile",
        change=Change(id="7", target="production", branch="feature/x"),
        scm=Scm.at(git_repo.root, "HEAD"),
        causes=[Cause.branch_event()],
        params={"DRY": False},
    )

    assert result.result == "SUCCESS"
    assert result.stages_run == ["Merge request", "Review only", "Never"]
    assert result.stages_skipped == {"Production": "when"}
    assert [c.command for c in result.sh] == ['echo "planning $CHANGE_ID into $CHANGE_TARGET"']
    assert "planning 7 into production" in result.log
    assert result.description is None


def test_more_conditions_and_credentials_in_environment(jenkins: Jenkins) -> None:
    jenkins.add_credentials(**{"token": "string", "git": "usernamePassword"})
    result = jenkins.run(
        JENKINSFILES / "conditions.Jenkinsfile", branch="release-2", causes=[Cause.timer()]
    )

    assert result.stages_run == ["Timer", "Nightly", "Interrupted"]
    assert result.stages_skipped == {"By hand": "when"}
    token = jenkins.credentials["token"]["values"]["secret"]
    user = jenkins.credentials["git"]["values"]["username"]
    assert f"timer: token {len(token)} chars, user {user}" in result.log
    assert result.credentials["Timer"] == {"token", "git"}
    # catchInterruptions: false lets the timeout through: the build is aborted.
    assert result.result == "ABORTED"
    assert "not reached" not in result.log.splitlines()


# -- steps -----------------------------------------------------------------------------------
def test_sh_and_the_workspace_steps_behave_as_in_jenkins(jenkins: Jenkins) -> None:
    result = jenkins.run(JENKINSFILES / "steps.Jenkinsfile", branch="main", job="tools/steps")
    log = result.log

    # bash -e: the script stops at the first failing command.
    assert result.sh[0].status == 1
    assert "before" in log.splitlines()
    assert "not reached" not in log.splitlines()
    assert "status 1" in log
    # returnStdout: stdout returned untrimmed, stderr still in the log.
    url = "https://jenkins.example.invalid/job/tools/job/steps/1/"
    workspace = jenkins.root / "workspace" / "tools_steps_1_1"
    assert f"stdout [{url}|{workspace}|main|Shell\n]" in log
    assert "err" in log.splitlines()
    assert "json app 3 2" in log
    assert "exists true false" in log
    assert 'read [{"stacks": ]' in log
    assert "colour blue" in log
    assert "tool ran" in log
    assert "pwd ends true" in log
    assert "deleted true" in log
    assert "cleaned true" in log
    # A failing sh fails the stage and the build; later stages are skipped.
    assert result.result == "FAILURE"
    assert result.stage("Fails").status == "FAILURE"
    assert result.stages_skipped == {"After": "earlier failure(s)"}
    assert "about to fail" in log
    assert "post: failure, result FAILURE" in log
    assert result.error == "ERROR: script returned exit code 4"
    assert result.description == "result so far SUCCESS"
    assert [c.status for c in result.sh][-1] == 4


def test_checkout_scm_clones_the_build_commit_detached(
    jenkins: Jenkins, git_repo: GitRepoHelper
) -> None:
    git_repo.write("a.txt", "1\n")
    first = git_repo.commit("first")
    git_repo.write("a.txt", "2\n")
    git_repo.commit("second")

    result = jenkins.run(
        JENKINSFILES / "checkout.Jenkinsfile",
        branch="production",
        scm=Scm(url=str(git_repo.root), commit=first, branch="origin/production"),
    )

    assert result.result == "SUCCESS", result.log
    assert f"commit {first}" in result.log
    assert result.stages_run == ["Where"]
    assert result.stage("Declarative: Checkout SCM").agent


def test_checkout_of_a_named_git_repository_takes_a_branch_head_or_a_commit(
    jenkins: Jenkins, git_repo: GitRepoHelper
) -> None:
    git_repo.write("a.txt", "1\n")
    first = git_repo.commit("first")
    git_repo.write("a.txt", "2\n")
    second = git_repo.commit("second")
    branch = git_repo.git("rev-parse", "--abbrev-ref", "HEAD")
    params = {"URL": str(git_repo.root), "BRANCH": branch, "COMMIT": first}

    missing = jenkins.run(JENKINSFILES / "checkout-git.Jenkinsfile", params=params)
    assert missing.result == "FAILURE"
    assert "Could not find credentials entry with ID 'git'" in missing.log

    jenkins.add_credentials(git="usernamePassword")
    result = jenkins.run(JENKINSFILES / "checkout-git.Jenkinsfile", params=params)
    assert result.result == "SUCCESS", result.log
    assert f"head {second} on origin/{branch}" in result.log
    assert result.stages_run == ["Head", "Pinned"]
    assert [e["commit"] for e in result.of_type("checkout")] == [second, first]


def test_credentials_are_bound_inside_the_block_only_masked_and_recorded(
    jenkins: Jenkins,
) -> None:
    jenkins.add_credentials(
        **{
            "aws-read": "aws",
            "token": "string",
            "git": "usernamePassword",
            "deploy-key": "sshUserPrivateKey",
        }
    )
    result = jenkins.run(JENKINSFILES / "credentials.Jenkinsfile", branch="main")

    access, secret = jenkins.credentials["aws-read"]["values"].values()
    assert result.sh[0].credentials == ("aws-read",)
    assert result.sh[1].credentials == ()
    assert result.sh[1].status == 0  # no AWS keys outside withCredentials
    # Jenkins masks bound secrets in the log, not in files a step wrote.
    assert "key **** secret ****" in result.log
    assert result.find(access) == ["keys.txt"]
    assert result.find(*jenkins.secrets("token", "git")) == []
    assert "token **** user ****" not in result.log  # the username is not a secret
    assert result.credentials["Read"] == {"aws-read"}
    assert result.credentials["Others"] == {"token", "git", "deploy-key"}
    # An id Jenkins does not hold fails the stage with Jenkins' message.
    assert result.result == "FAILURE"
    assert result.error == "ERROR: Could not find credentials entry with ID 'no-such-id'"
    assert secret not in result.log


def test_stash_carries_files_between_fresh_workspaces(jenkins: Jenkins) -> None:
    result = jenkins.run(JENKINSFILES / "stash.Jenkinsfile", branch="main")

    assert "before unstash: false" in result.log
    assert "after unstash: app true json true report false db false" in result.log
    stashed = {e["name"]: e["files"] for e in result.of_type("stash")}
    assert stashed == {
        "plans": ["plans/app/plan.json", "plans/app/tfplan"],
        "nothing": [],
    }
    assert list(result.artifacts) == ["plans/app/plan.json"]
    assert result.artifacts["plans/app/plan.json"].read_text() == "j\n"
    # Without allowEmpty an empty stash fails the build.
    assert result.result == "FAILURE"
    assert result.error == "ERROR: No files included in stash \u2018empty\u2019"
    workspaces = {e["workspace"] for e in result.of_type("node")}
    assert len(workspaces) == 2


def test_archive_artifacts_without_a_match_fails_unless_allowed(
    jenkins: Jenkins, tmp_path: Path
) -> None:
    jenkinsfile = tmp_path / "Jenkinsfile"
    jenkinsfile.write_text(
        "node('runners') {\n"
        "    archiveArtifacts(artifacts: 'plans/*.md', allowEmptyArchive: true)\n"
        "    archiveArtifacts 'plans/*.md'\n"
        "}\n"
    )
    result = jenkins.run(jenkinsfile)

    assert result.result == "FAILURE"
    assert result.error == (
        'ERROR: No artifacts found that match the file pattern "plans/*.md". Configuration error?'
    )
    assert result.artifacts == {}


def test_junit_failures_make_the_build_unstable(jenkins: Jenkins, tmp_path: Path) -> None:
    jenkinsfile = tmp_path / "Jenkinsfile"
    jenkinsfile.write_text(
        "node('runners') {\n"
        "    junit(testResults: 'reports/*.xml', allowEmptyResults: true)\n"
        "    writeFile(file: 'reports/rpo.xml', text: '<testsuite><testcase name=\"a\"/>' +\n"
        '        \'<testcase name="b"><failure message="RPO breached"/></testcase></testsuite>\')\n'
        "    junit 'reports/*.xml'\n"
        '    echo "result ${currentBuild.currentResult}"\n'
        "}\n"
    )
    result = jenkins.run(jenkinsfile)

    assert result.result == "UNSTABLE"
    assert [(e["tests"], e["failed"]) for e in result.of_type("junit")] == [(2, 1)]
    assert "result UNSTABLE" in result.log


# -- input, timeout, catchError, lock, milestone ---------------------------------------------
def test_input_returns_the_approver_and_parameters(jenkins: Jenkins) -> None:
    result = jenkins.run(
        JENKINSFILES / "input.Jenkinsfile",
        causes=[Cause.user("olivia")],
        inputs=[
            Input.approve("mallory", match="Apply app"),  # not a submitter: refused
            Input.approve("alice", CONFIRM_DESTROY="  1 "),
            Input.approve("carol", match="Really"),  # no submitter list: anyone
        ],
    )

    assert result.result == "SUCCESS", result.log
    assert "mallory may not approve: submitter is alice,bob" in result.log
    assert "approved by alice confirm [1]" in result.log  # trim: true
    assert "second approval carol" in result.log
    assert result.stages_run == ["Approve", "After"]
    assert result.description == "applied by alice"
    assert [(e["action"], e.get("by")) for e in result.of_type("input")] == [
        ("refused", "mallory"),
        ("approve", "alice"),
        ("approve", "carol"),
    ]


def test_abort_at_input_ends_the_build_aborted(jenkins: Jenkins) -> None:
    result = jenkins.run(JENKINSFILES / "input.Jenkinsfile", inputs=[Input.abort("bob")])

    assert result.result == "ABORTED"
    assert result.stage("Approve").status == "ABORTED"
    assert result.stages_skipped == {"After": "earlier failure(s)"}
    assert "approved by" not in result.log
    assert "post: aborted" in result.log
    assert "post: success" not in result.log
    assert result.error == "Aborted: Rejected by bob"
    locks = [e["type"] for e in result.events if e["type"].startswith("lock_")]
    assert locks == ["lock_acquired", "lock_released"]


def test_an_unanswered_input_times_out_and_aborts(jenkins: Jenkins) -> None:
    result = jenkins.run(JENKINSFILES / "input.Jenkinsfile", inputs=[Input.time_out()])

    assert result.result == "ABORTED"
    assert result.of_type("timeout") == [{**result.of_type("timeout")[0], "after": "4 HOURS"}]
    assert "Timeout has been exceeded" in result.log


def test_an_input_with_no_scripted_answer_fails_the_test(jenkins: Jenkins) -> None:
    with pytest.raises(HarnessError, match=r"input\.Jenkinsfile:\d+: input 'Apply app\?' reached"):
        jenkins.run(JENKINSFILES / "input.Jenkinsfile")


def test_timeout_stops_a_long_shell_step(jenkins: Jenkins) -> None:
    started = time.monotonic()
    result = jenkins.run(JENKINSFILES / "timeout.Jenkinsfile")

    assert time.monotonic() - started < 20
    assert result.result == "ABORTED"
    assert result.sh[0].status is None
    assert "not reached" not in result.log.splitlines()


def test_catch_error_sets_the_build_and_stage_results_it_is_given(jenkins: Jenkins) -> None:
    result = jenkins.run(JENKINSFILES / "catch-error.Jenkinsfile")

    assert result.result == "FAILURE"
    assert {s.name: s.status for s in result.stages} == {
        "Caught": "FAILURE",
        "Default": "SUCCESS",  # catchError's stageResult defaults to SUCCESS
        "Notification": "SUCCESS",
        "Unstable": "UNSTABLE",
        "Report": "SUCCESS",
    }
    assert "still running after catchError" in result.log
    assert "ERROR: backup failed" in result.log
    assert "ERROR: no snapshot" in result.log
    assert "WARNING: drifted" in result.log
    assert "report runs, result FAILURE" in result.log  # unstable does not better a failure
    assert result.error is None


def test_lock_serialises_two_builds_on_the_resource(
    jenkins: Jenkins,
) -> None:
    first = jenkins.start(JENKINSFILES / "lock.Jenkinsfile", job="a")
    second = jenkins.start(JENKINSFILES / "lock.Jenkinsfile", job="b")
    results = [first.wait(), second.wait()]

    assert [r.result for r in results] == ["SUCCESS", "SUCCESS"]
    held = []
    for r in results:
        events = {e["type"]: e["time"] for e in r.events if e["type"].startswith("lock_")}
        held.append((events["lock_acquired"], events["lock_released"]))
    (_, first_released), (then_acquired, _) = sorted(held)
    assert first_released <= then_acquired, "both builds held terraform-app at once"
    assert any(r.of_type("lock_waiting") for r in results)


def test_a_newer_build_passing_a_milestone_supersedes_an_older_waiting_one(
    jenkins: Jenkins, tmp_path: Path
) -> None:
    release = tmp_path / "release-build-1"
    older = jenkins.start(
        JENKINSFILES / "milestone.Jenkinsfile", inputs=[Input.approve("alice", after=release)]
    )
    older.wait_for("input_waiting")
    newer = jenkins.run(JENKINSFILES / "milestone.Jenkinsfile", inputs=[Input.approve("bob")])
    release.touch()
    old = older.wait()

    assert newer.result == "SUCCESS"
    assert "passed milestone 2: build 2" in newer.log
    assert old.result == "NOT_BUILT"
    assert old.error == "Cancelled: Superseded by #2"


# -- what the harness refuses ----------------------------------------------------------------
def test_an_unknown_step_fails_the_test_naming_the_line_even_inside_catch_error(
    jenkins: Jenkins,
) -> None:
    with pytest.raises(
        HarnessError, match=r"unknown-step\.Jenkinsfile:8: unknown step 'slackSend'"
    ):
        jenkins.run(JENKINSFILES / "unknown-step.Jenkinsfile")


def test_an_unknown_step_parameter_fails_the_test_naming_the_line(jenkins: Jenkins) -> None:
    with pytest.raises(
        HarnessError,
        match=r"unknown-parameter\.Jenkinsfile:2: sh does not take parameter\(s\) \[retunStatus\]",
    ):
        jenkins.run(JENKINSFILES / "unknown-parameter.Jenkinsfile")


def test_a_step_that_needs_a_workspace_fails_outside_a_node(jenkins: Jenkins) -> None:
    result = jenkins.run(JENKINSFILES / "no-node.Jenkinsfile")

    assert result.result == "FAILURE"
    assert "Required context class hudson.FilePath is missing" in (result.error or "")
    assert result.sh == []


def test_an_agent_label_no_node_has_fails_the_test(jenkins: Jenkins, tmp_path: Path) -> None:
    jenkinsfile = tmp_path / "Jenkinsfile"
    jenkinsfile.write_text("node('runner') {\n    echo 'typo'\n}\n")

    with pytest.raises(HarnessError, match=r"Jenkinsfile:1: no agent has the label 'runner'"):
        jenkins.run(jenkinsfile)


def test_git_credentials_for_a_steps_own_git_commands(jenkins: Jenkins) -> None:
    jenkins.add_credentials(**{"git": "usernamePassword", "deploy-key": "sshUserPrivateKey"})
    result = jenkins.run(JENKINSFILES / "git-credentials.Jenkinsfile", branch="main")

    user = jenkins.credentials["git"]["values"]["username"]
    assert f"user {user}" in result.log  # git's askpass answers with the pair
    assert "password ****" in result.log  # masked, as Jenkins masks it
    assert "prompt false" in result.log and "after unset" in result.log
    assert "agent set" in result.log
    assert result.credentials["HTTPS"] == {"git"} and result.credentials["SSH"] == {"deploy-key"}
    assert result.result == "FAILURE"
    assert result.error == (
        "ERROR: Credentials 'git' is of type 'usernamePassword' where 'sshUserPrivateKey' "
        "was expected"
    )


# -- parallel ------------------------------------------------------------------------------------
def _started(result: BuildResult) -> dict[str, int]:
    return {
        name.split("/")[0]: int(path.read_text())
        for name, path in result.artifacts.items()
        if name.endswith("/started")
    }


def test_parallel_branches_run_at_once_each_on_its_own_node(jenkins: Jenkins) -> None:
    result = jenkins.run(JENKINSFILES / "parallel.Jenkinsfile")

    assert result.result == "SUCCESS", result.log
    branches = [s for s in result.stages if s.path[:1] == ("Fan out",) and len(s.path) == 2]
    assert sorted(s.name for s in branches) == ["one", "three", "two"]
    assert all(s.status == "SUCCESS" and s.agent for s in branches)
    branch_calls = [c for c in result.sh if c.stage in ("one", "two", "three")]
    assert len({c.node for c in branch_calls}) == 3  # a node each
    started = _started(result)
    # Each branch sleeps 2 s after noting its start: one after another, they would be 2 s apart.
    assert max(started.values()) - min(started.values()) < 1_500_000_000, started
    for name in (
        "one",
        "two",
        "three",
    ):  # a branch's lines carry its name, and its stage is its own
        assert any(
            line.startswith(f"[{name}] branch {name} on runners-")
            and line.endswith(f"stage {name}")
            for line in result.log.splitlines()
        ), result.log
    assert [c.stdout for c in result.sh if c.command == "cat */out.txt"] == [None]
    assert "one\nthree\ntwo" in result.log


def test_a_failing_branch_lets_the_others_finish_then_fails_the_build(jenkins: Jenkins) -> None:
    result = jenkins.run(JENKINSFILES / "parallel.Jenkinsfile", params={"FAIL": "two"})

    assert result.result == "FAILURE"
    status = {s.name: s.status for s in result.stages if len(s.path) == 2}
    assert status == {"one": "SUCCESS", "two": "FAILURE", "three": "SUCCESS"}
    assert "Failed in branch two" in result.log
    assert result.error == "ERROR: script returned exit code 3"
    # The gathering after the branches still ran (the Jenkinsfile's finally), without two's stash.
    assert "No such saved stash" in result.log


def test_fail_fast_aborts_the_other_branches(jenkins: Jenkins) -> None:
    result = jenkins.run(
        JENKINSFILES / "parallel.Jenkinsfile", params={"FAIL": "two", "FAIL_FAST": True}
    )

    assert result.result == "FAILURE"
    status = {s.name: s.status for s in result.stages if len(s.path) == 2}
    assert status == {"one": "ABORTED", "two": "FAILURE", "three": "ABORTED"}
    aborted = [c for c in result.sh if c.stage in ("one", "three")]
    assert aborted and all(c.status is None for c in aborted)  # stopped mid-sleep


def test_branches_contend_for_a_lock_as_builds_do(jenkins: Jenkins, tmp_path: Path) -> None:
    script = tmp_path / "locks.Jenkinsfile"
    script.write_text(
        "node('runners') {\n"
        "    parallel(a: { lock(resource: 'shared') { sh 'date +%s%N >> ../order; sleep 1' } },\n"
        "             b: { lock(resource: 'shared') { sh 'date +%s%N >> ../order; sleep 1' } })\n"
        "}\n"
    )
    result = jenkins.run(script)
    assert result.result == "SUCCESS", result.log
    waited = result.of_type("lock_waiting")
    assert len(waited) == 1 and waited[0]["resource"] == "shared"
    assert len(result.of_type("lock_acquired")) == 2
