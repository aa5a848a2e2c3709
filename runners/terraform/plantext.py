"""``plan.txt``: Terraform's plain rendering of a saved plan, cut from the plan step's output.

``terraform plan`` renders the plan with the same renderer ``terraform show
PLANFILE`` uses, and prints it anyway. Taking ``plan.txt`` from that output
spares a second Terraform run, which would start every provider again only to
read its schema. Two things differ from ``show -no-color`` and are removed here:
colour codes, and the "Saved the plan to" footer printed outside automation.
Warnings Terraform prints after the plan stay: reviewers should see them.
"""

from __future__ import annotations

import re

# Lines where Terraform's plan output turns from progress to the rendered plan.
STARTS = (
    b"Objects have changed outside of Terraform",
    b"Terraform used the selected providers to generate",
    b"Terraform will perform the following actions",
    b"Terraform planned the following actions",
    b"Changes to Outputs:",
    b"No changes.",
)

_COLOUR = re.compile(rb"\x1b\[[0-9;]*m")
# A rule of U+2500, a blank line, then the plan's path.
_FOOTER = re.compile(b"\n(?:\xe2\x94\x80)+\n\nSaved the plan to: ")


def from_plan_output(held: bytes) -> bytes:
    """The text ``show -no-color`` prints, from the plan output held back from its first line on.

    Empty when Terraform printed no recognisable plan; the caller then asks
    ``show`` for it.
    """
    text = _COLOUR.sub(b"", held)
    if not text.strip():
        return b""
    footer = _FOOTER.search(text)
    if footer:
        text = text[: footer.start()]
    # show opens with a blank line; the plan step printed it before the first
    # marker, so the console already has it.
    return b"\n" + text
