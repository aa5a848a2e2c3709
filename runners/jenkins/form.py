"""The production job's approval form, in the words the approver reads.

``pipelines/production.Jenkinsfile`` asks them (a test holds the two to the
same text), and the plan report quotes them in "what happens next", so the
report tells the approver exactly what the form will ask.
"""

from __future__ import annotations

OK = "Apply this plan"
CONFIRM_DESTROY = "CONFIRM_DESTROY"
CONFIRM_DESTROY_HELP = (
    "Only when the report lists protected resources destroyed or replaced: their number."
)
ACCEPT_DIFFERENCE = "ACCEPT_DIFFERENCE"
ACCEPT_DIFFERENCE_HELP = (
    "Only when the report says this plan is not the one reviewed on the merge request "
    "and you accept what differs."
)


def question(stack: str, environment: str) -> str:
    """The input step's question, before the review and the link."""
    return f"Apply {stack} to {environment}?"
