"""Rendered messages match the golden files in tests/golden/notify/.

Each case in ``samples.SAMPLES`` has one file per channel style:
``CASE.slack.txt`` (the mrkdwn text), ``CASE.email.txt`` (``Subject:`` line,
blank line, body) and ``CASE.webhook.json`` (the payload). After a deliberate
change to a template, regenerate them and review the diff:

    RUNNERS_UPDATE_GOLDEN=1 .venv/bin/pytest -q tests/notify/test_golden.py
    git diff tests/golden/notify/
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from runners.notify import Event, render
from tests.notify.samples import SAMPLES

GOLDEN = Path(__file__).parent.parent / "golden" / "notify"
UPDATE = os.environ.get("RUNNERS_UPDATE_GOLDEN") == "1"


def _email(event: Event) -> str:
    subject, body = render.email(event)
    return f"Subject: {subject}\n\n{body}"


STYLES: dict[str, Callable[[Event], str]] = {
    "slack.txt": render.slack_text,
    "email.txt": _email,
    "webhook.json": lambda e: (
        json.dumps(render.webhook_payload(e), indent=2, ensure_ascii=False) + "\n"
    ),
}


@pytest.mark.parametrize("style", sorted(STYLES))
@pytest.mark.parametrize("case", sorted(SAMPLES))
def test_rendering_matches_golden(case: str, style: str) -> None:
    path = GOLDEN / f"{case}.{style}"
    text = STYLES[style](SAMPLES[case])
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"{path} is missing; see this module's docstring to create it"
    assert text == path.read_text(encoding="utf-8")


def test_every_golden_file_belongs_to_a_case() -> None:
    expected = {f"{case}.{style}" for case in SAMPLES for style in STYLES}
    assert {p.name for p in GOLDEN.iterdir()} == expected
