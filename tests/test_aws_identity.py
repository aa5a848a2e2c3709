"""The build's identity in the forms STS accepts for SourceIdentity and session tags."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from runners.aws import identity

SOURCE_IDENTITY = re.compile(r"^[\w+=,.@-]{2,64}$", re.ASCII)
TAG_VALUE = re.compile(r"^[\w .:/=+\-@]{0,256}$", re.ASCII)


@given(st.text(max_size=200))
def test_any_person_becomes_a_valid_source_identity_or_none(person: str) -> None:
    value = identity.source_identity(person)
    assert value is None or SOURCE_IDENTITY.match(value)
    if value is None:
        assert len(person) < 2 or not person


@given(st.text(max_size=400))
def test_any_value_becomes_a_valid_tag_value(value: str) -> None:
    assert TAG_VALUE.match(identity.tag_value(value))


def test_a_valid_value_is_kept_as_it_is() -> None:
    url = "https://jenkins.acme.internal/job/acme/job/production/job/terraform/57/"
    assert identity.tag_value(url) == url
    assert identity.source_identity("alice.smith@acme.example") == "alice.smith@acme.example"
    assert identity.source_identity("Dana Scully") == "Dana-Scully"


def test_the_approver_is_the_source_identity_when_there_is_one() -> None:
    built = identity.session_identity("https://j/1/", "dana", "alice")
    assert built.source_identity == "alice"
    assert built.tags == {
        "runners:build-url": "https://j/1/",
        "runners:approved-by": "alice",
        "runners:started-by": "dana",
    }
    assert identity.session_identity(None, None).assume_role_params() == {}


def test_from_the_jenkins_environment() -> None:
    env = {"BUILD_URL": "https://j/job/backup-daily/3/", "RUNNERS_TRIGGERED_BY": "bob"}
    built = identity.from_environment(env)
    assert built.source_identity == "bob"
    assert built.tags["runners:build-url"] == "https://j/job/backup-daily/3/"
    assert identity.from_environment({}).assume_role_params() == {}
