"""``[identities]`` in runners.toml: the other names a Jenkins user goes by.

The apply matches an approver (a Jenkins user id) with the change's authors
by name, email and the email's local part; this table adds what cannot be
guessed: another email a person commits with, their user name on the Git
platform.
"""

from __future__ import annotations

from dataclasses import dataclass

from runners.confread import Table


@dataclass(frozen=True)
class Identity:
    """``[identities.JENKINS_ID]``."""

    jenkins_id: str
    git_emails: tuple[str, ...] = ()
    platform_users: tuple[str, ...] = ()


def parse_identities(table: Table) -> dict[str, Identity]:
    out: dict[str, Identity] = {}
    for name, t in table.items():
        t.only("git_emails", "platform_users")
        out[name] = Identity(
            jenkins_id=name,
            git_emails=tuple(e.lower() for e in t.str_list("git_emails")),
            platform_users=tuple(u.lower() for u in t.str_list("platform_users")),
        )
        t.check_unknown()
    return out
