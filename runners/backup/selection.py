"""What a policy backs up: resources whose tags match, of some kinds, accounts and regions."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

ANY_VALUE = "*"

# The kinds a policy may name. This module stays light (config loading imports it, and
# must not pull in botocore); a meta-test holds it equal to the engine registry.
KINDS: tuple[str, ...] = ("ebs-volume", "ec2-instance", "rds-instance", "aurora-cluster")


@dataclass(frozen=True)
class Selection:
    tags: Mapping[str, str]  # every key must match; "*" matches any value
    kinds: tuple[str, ...]
    accounts: tuple[str | None, ...] = (None,)  # None: the runner's own credentials, no STS
    regions: tuple[str, ...] = ()  # empty: the region of the AWS configuration

    def matches(self, tags: Mapping[str, str]) -> bool:
        for key, wanted in self.tags.items():
            if key not in tags or (wanted != ANY_VALUE and tags[key] != wanted):
                return False
        return True
