"""Job XML: canonical form, ownership, and the merge that keeps what Jenkins and operators own."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from hypothesis import given
from hypothesis import strategies as st

from runners.jenkins import jobs, jobxml
from tests.jenkins_double import jenkins_stores

DESIRED_BARE = f"""<?xml version='1.1' encoding='UTF-8'?>
<flow-definition>
  <actions/>
  <description>Drift of app.
{jobxml.MARKER}</description>
  <properties>
    <hudson.model.ParametersDefinitionProperty>
      <parameterDefinitions>
        <hudson.model.StringParameterDefinition><name>STACK</name><defaultValue>app</defaultValue></hudson.model.StringParameterDefinition>
      </parameterDefinitions>
    </hudson.model.ParametersDefinitionProperty>
  </properties>
  <definition class="org.jenkinsci.plugins.workflow.cps.CpsScmFlowDefinition">
    <scriptPath>pipelines/drift.Jenkinsfile</scriptPath>
  </definition>
  <triggers/>
  <disabled>false</disabled>
</flow-definition>
"""


def stamped(bare: str) -> str:
    return jobxml.stamp(bare, jobxml.fingerprint(bare))


DESIRED = stamped(DESIRED_BARE)

FOREIGN_PROPERTIES = (
    "jenkins.model.BuildDiscarderProperty",
    "org.jenkinsci.plugins.workflow.job.properties.DisableConcurrentBuildsJobProperty",
    "com.cloudbees.hudson.plugins.folder.properties.FolderCredentialsProvider_-FolderCredentialsProperty",
)


def test_canonical_ignores_what_jenkins_adds_when_it_saves() -> None:
    stored = jenkins_stores(DESIRED)
    assert stored != DESIRED
    assert 'plugin="workflow-job@' in stored
    assert jobxml.canonical(jobxml.parse(stored, "x")) == jobxml.canonical(
        jobxml.parse(DESIRED, "x")
    )


def test_fingerprint_is_stable_and_sensitive() -> None:
    assert jobxml.fingerprint(DESIRED_BARE) == jobxml.fingerprint(
        DESIRED_BARE.replace("\n  ", "\n    ")
    )
    assert jobxml.fingerprint(DESIRED_BARE) != jobxml.fingerprint(
        DESIRED_BARE.replace(">app<", ">net<")
    )
    owner = jobxml.ownership(jobxml.parse(DESIRED, "x"))
    assert owner.managed and owner.fingerprint == jobxml.fingerprint(DESIRED_BARE)


def test_decide_create_unchanged_update() -> None:
    assert jobs.decide("acme/drift-app", None, DESIRED).kind == "create"
    stored = jenkins_stores(DESIRED)
    assert jobs.decide("acme/drift-app", stored, DESIRED).kind == "unchanged"
    changed = stamped(DESIRED_BARE.replace(">app<", ">network<"))
    action = jobs.decide("acme/drift-app", stored, changed)
    assert action.kind == "update"
    assert "-        <hudson.model.StringParameterDefinition>" not in action.diff
    assert "+          <defaultValue>network</defaultValue>" in action.diff
    assert action.xml is not None
    assert jobs.decide("acme/drift-app", jenkins_stores(action.xml), changed).kind == "unchanged"


def test_a_description_without_the_marker_is_not_ours() -> None:
    live = "<flow-definition><description>runners:managed, honest</description></flow-definition>"
    assert jobs.decide("acme/x", live, DESIRED).kind == "refused"
    assert not jobxml.marked("[runners:managed-ish]")
    assert jobxml.marked("Bob's notes\n[runners:managed 0123456789abcdef]")


def _live(foreign: list[str], disabled: str | None, old_default: str) -> str:
    props = "".join(f"<{tag}><x>{i}</x></{tag}>" for i, tag in enumerate(foreign))
    params = (
        "<hudson.model.ParametersDefinitionProperty><parameterDefinitions>"
        f"<hudson.model.StringParameterDefinition><name>STACK</name><defaultValue>{old_default}"
        "</defaultValue></hudson.model.StringParameterDefinition></parameterDefinitions>"
        "</hudson.model.ParametersDefinitionProperty>"
    )
    dis = f"<disabled>{disabled}</disabled>" if disabled is not None else ""
    return (
        f"<flow-definition><actions><tracker/></actions><description>old\n[runners:managed 0000000000000000]"
        f"</description><properties>{props}{params}</properties>"
        f"<definition class='x'><scriptPath>old</scriptPath></definition>{dis}</flow-definition>"
    )


@given(
    foreign=st.lists(st.sampled_from(FOREIGN_PROPERTIES), unique=True),
    disabled=st.sampled_from([None, "true", "false"]),
    old_default=st.text(alphabet="abcxyz", min_size=1, max_size=5),
)
def test_merge_keeps_foreign_parts_replaces_ours_and_is_idempotent(
    foreign: list[str], disabled: str | None, old_default: str
) -> None:
    live = jobxml.parse(_live(foreign, disabled, old_default), "live")
    want = jobxml.parse(DESIRED, "desired")
    merged = jobxml.merge(live, want)

    for tag in foreign:  # properties set by the Jenkinsfile at run time survive
        assert ET.tostring(merged.find(f"properties/{tag}")) == ET.tostring(
            live.find(f"properties/{tag}")
        )  # type: ignore[arg-type]
    params = merged.findall("properties/hudson.model.ParametersDefinitionProperty")
    assert len(params) == 1 and params[0].findtext(".//defaultValue") == "app"
    assert merged.findtext("definition/scriptPath") == "pipelines/drift.Jenkinsfile"
    assert merged.findtext("description") == want.findtext("description")
    assert merged.findtext("disabled") == (disabled or "false")  # an operator's disable stays
    assert merged.find("actions/tracker") is not None
    again = jobxml.merge(merged, want)
    assert jobxml.canonical(again) == jobxml.canonical(merged)


def test_runners_owns_the_schedule_a_job_carries() -> None:
    """A schedule someone added in Jenkins goes; the rendered one replaces a changed one."""
    trigger = (
        f"<{jobxml.SCHEDULE_PROPERTY}><triggers><hudson.triggers.TimerTrigger><spec>H 3 * * *"
        f"</spec></hudson.triggers.TimerTrigger></triggers></{jobxml.SCHEDULE_PROPERTY}>"
    )
    live = jobxml.parse(
        _live([], None, "app").replace("<properties>", f"<properties>{trigger}"), "l"
    )
    want = jobxml.parse(DESIRED, "desired")
    assert jobxml.essentials_differ(live, want) == ["definition", "schedule"]
    merged = jobxml.merge(live, want)
    assert merged.find(f"properties/{jobxml.SCHEDULE_PROPERTY}") is None
    scheduled = jobxml.parse(
        DESIRED.replace("<properties>", f"<properties>{trigger.replace('H 3', 'H 2')}"), "d"
    )
    merged = jobxml.merge(live, scheduled)
    assert jobxml.essentials(merged)["schedule"] == "H 2 * * *"
    assert jobxml.essentials_differ(merged, scheduled) == []
