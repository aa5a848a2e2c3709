"""Who and which build a role session acts for, in the forms STS accepts, so CloudTrail shows it.

When runners assumes a role itself, it passes ``SourceIdentity`` (the person:
the approver, else whoever started the build) and session tags (the build's
URL, the approver, who started it). CloudTrail records the source identity on
every call made with the session, and IAM can require it in a trust policy.
STS refuses a value outside its character set or length, which would fail the
run, so values are made to fit here: pure functions, property-tested.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

# SourceIdentity: 2-64 characters of [\w+=,.@-].
_SOURCE_IDENTITY_BAD = re.compile(r"[^\w+=,.@-]", re.ASCII)
SOURCE_IDENTITY_MAX = 64
# Tag values: letters, digits, spaces and _.:/=+-@, at most 256 characters.
_TAG_VALUE_BAD = re.compile(r"[^\w .:/=+\-@]", re.ASCII)
TAG_VALUE_MAX = 256

BUILD_URL_TAG = "runners:build-url"
APPROVED_BY_TAG = "runners:approved-by"
STARTED_BY_TAG = "runners:started-by"


@dataclass(frozen=True)
class SessionIdentity:
    source_identity: str | None = None
    tags: dict[str, str] = field(default_factory=dict)

    def assume_role_params(self) -> dict[str, object]:
        """The extra ``AssumeRole`` parameters, none when there is nothing to say."""
        params: dict[str, object] = {}
        if self.source_identity:
            params["SourceIdentity"] = self.source_identity
        if self.tags:
            params["Tags"] = [{"Key": k, "Value": v} for k, v in sorted(self.tags.items())]
        return params


def source_identity(person: str | None) -> str | None:
    """``person`` as a SourceIdentity: other characters become ``-``; None when too short."""
    if not person:
        return None
    value = _SOURCE_IDENTITY_BAD.sub("-", person)[:SOURCE_IDENTITY_MAX]
    return value if len(value) >= 2 else None


def tag_value(value: str) -> str:
    return _TAG_VALUE_BAD.sub("_", value)[:TAG_VALUE_MAX]


def session_identity(
    build_url: str | None, started_by: str | None, approver: str | None = None
) -> SessionIdentity:
    tags = {
        key: tag_value(value)
        for key, value in (
            (BUILD_URL_TAG, build_url),
            (APPROVED_BY_TAG, approver),
            (STARTED_BY_TAG, started_by),
        )
        if value
    }
    return SessionIdentity(source_identity(approver or started_by), tags)


def from_environment(environ: Mapping[str, str]) -> SessionIdentity:
    """The build Jenkins describes in the environment (``BUILD_URL``, who started it)."""
    started_by = environ.get("RUNNERS_TRIGGERED_BY") or environ.get("BUILD_USER_ID")
    return session_identity(
        environ.get("BUILD_URL"), started_by, environ.get("RUNNERS_APPROVED_BY")
    )
