"""The GitLab and GitHub REST double lives in the package (``runners.jenkins.platform_double``):
``make demo`` starts it too. The tests keep importing it from here."""

from runners.jenkins.platform_double import *  # noqa: F403
