"""The moto server, with one speed fix: a resource's own tags are looked up, not searched for.

Moto answers "the tags of resource X" (every EC2 describe asks it once per item)
by matching a regular expression against every tag in the region, so listing a
thousand snapshots costs a million matches and listings grow with the square
of the snapshots. For an exact resource id this looks the tags up directly and
returns the same records in the same order; every other query is moto's own.
Run as ``python -m runners.aws.motoserver`` with moto.server's arguments.
"""

from __future__ import annotations

import sys
from typing import Any

_WILDCARDS = frozenset("*?")


def patch() -> None:
    from moto.ec2.models.tags import TagBackend
    from moto.ec2.utils import EC2_PREFIX_TO_RESOURCE, get_prefix

    searched = TagBackend.describe_tags

    def describe_tags(self: Any, filters: dict[str, list[str]] | None = None) -> Any:
        ids = (filters or {}).get("resource-id", [])
        exact = len(ids) == 1 and not _WILDCARDS & set(ids[0])
        if filters is None or set(filters) != {"resource-id"} or not exact:
            return searched(self, filters)
        resource_id = ids[0]
        kind = EC2_PREFIX_TO_RESOURCE.get(get_prefix(resource_id), "")
        return [
            {"resource_id": resource_id, "key": key, "value": value, "resource_type": kind}
            for key, value in dict(self.tags.get(resource_id, {})).items()
        ]

    TagBackend.describe_tags = describe_tags  # type: ignore[method-assign]


def main(argv: list[str] | None = None) -> None:
    patch()
    from moto.server import main as serve

    serve(argv if argv is not None else sys.argv[1:])


if __name__ == "__main__":
    main()
