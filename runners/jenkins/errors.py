"""What can go wrong talking to Jenkins, each with its own documented exit code.

The codes follow BSD sysexits(3), as the CLI's 70 for an internal error does,
so they stay clear of the 0-4 the other commands use and of a build's result
codes in ``runners trigger --follow``.
"""

from __future__ import annotations

from runners.errors import RunnersError


class JenkinsExit:
    NOT_FOUND = 66  # EX_NOINPUT: no such job, build or queue item (HTTP 404)
    UNAUTHORIZED = 67  # EX_NOUSER: the user or API token is wrong (HTTP 401)
    UNREACHABLE = 69  # EX_UNAVAILABLE: no answer: refused, DNS, TLS or timeout
    FORBIDDEN = 77  # EX_NOPERM: the user lacks a permission (HTTP 403)


class JenkinsError(RunnersError):
    """Jenkins answered with an error that is not one of the cases below."""


class JenkinsUnreachable(JenkinsError):
    exit_code = JenkinsExit.UNREACHABLE


class JenkinsUnauthorized(JenkinsError):
    exit_code = JenkinsExit.UNAUTHORIZED


class JenkinsForbidden(JenkinsError):
    exit_code = JenkinsExit.FORBIDDEN


class JenkinsNotFound(JenkinsError):
    exit_code = JenkinsExit.NOT_FOUND
