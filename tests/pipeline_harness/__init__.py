"""The pipeline rehearsal harness: real Jenkinsfiles run by Groovy 2.4 with Jenkins' steps bound.

Write a scenario as::

    jenkins.add_credentials(**{"runners-aws-read": "aws"})
    result = jenkins.run(ROOT / "Jenkinsfile", job="terraform", branch="production",
                         scm=Scm.at(repo, "production"), causes=[Cause.user("olivia")],
                         inputs=[Input.approve("alice", CONFIRM_DESTROY="1")])
    assert result.result == "SUCCESS"

See driver.py for the build's parts and result.py for what it returns; the
steps themselves are in rehearse.groovy.
"""

from tests.pipeline_harness.driver import (
    Cause,
    Change,
    HarnessError,
    Input,
    Jenkins,
    RunningBuild,
    Scm,
    groovy_missing,
)
from tests.pipeline_harness.result import BuildResult, ShCall, Stage

__all__ = [
    "BuildResult",
    "Cause",
    "Change",
    "HarnessError",
    "Input",
    "Jenkins",
    "RunningBuild",
    "Scm",
    "ShCall",
    "Stage",
    "groovy_missing",
]
