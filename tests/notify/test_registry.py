"""Meta-tests over the channel registry and its documentation."""

from __future__ import annotations

import inspect
import json

from runners.notify import EventKind, render
from runners.notify.channels import CHANNELS
from runners.notify.channels.http import JsonPostChannel
from runners.notify.settings import SHARED_KEYS
from tests.conftest import REPO_ROOT
from tests.notify.samples import SAMPLES
from tests.notify.test_settings import docs_block

DOCS = (REPO_ROOT / "docs" / "notify.md").read_text(encoding="utf-8")


def test_every_channel_is_concrete_with_a_unique_name() -> None:
    names = [c.name for c in CHANNELS]
    assert len(set(names)) == len(names)
    for channel in CHANNELS:
        assert not inspect.isabstract(channel), f"{channel.__name__} leaves abstract methods"
        assert channel.keys, f"{channel.__name__} declares no config keys"


def test_config_keys_belong_to_one_owner() -> None:
    keys = [*SHARED_KEYS, *(k for c in CHANNELS for k in c.keys)]
    assert len(set(keys)) == len(keys), keys
    for channel in CHANNELS:
        if issubclass(channel, JsonPostChannel):
            assert channel.url_key in channel.keys


def test_every_key_channel_and_event_is_documented() -> None:
    for key in (*SHARED_KEYS, *(k for c in CHANNELS for k in c.keys)):
        assert f"| `{key}` |" in DOCS, f"docs/notify.md does not describe key {key}"
    for channel in CHANNELS:
        assert f"| `{channel.name}` |" in DOCS, (
            f"docs/notify.md does not describe channel {channel.name}"
        )
    for kind in EventKind:
        assert f"| `{kind.value}` |" in DOCS, f"docs/notify.md does not describe event {kind.value}"


def test_the_documented_payload_is_what_is_sent() -> None:
    assert json.loads(docs_block("json")) == render.webhook_payload(SAMPLES["apply_failed"])
