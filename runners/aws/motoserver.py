"""The moto server, with one speed fix and one fix of how it reads bucket policies.

Speed: moto answers "the tags of resource X" (every EC2 describe asks it once
per item) by matching a regular expression against every tag in the region,
so listing a thousand snapshots costs a million matches and listings grow with
the square of the snapshots. For an exact resource id this looks the tags up
directly and returns the same records in the same order; every other query is
moto's own.

Bucket policies: moto answers DENIED for any statement whose condition does not
hold, whatever its effect, and it has none of the request context a condition
reads (TLS, headers, the caller's ARN). So a TLS-only ``Deny ... if
aws:SecureTransport is false`` (state-backend's, and what ``runners bootstrap``
puts on the state bucket) denies every object operation. Here a statement with
a condition is left out of S3's evaluation, as AWS leaves out one whose
condition does not hold; statements without one are moto's own. And when a
bucket's access logging is set, moto reads the target's policy expecting
every ``Principal`` to be an object (HTTP 500 on ``"*"``) and a resource
spelled exactly ``bucket/<prefix>*``: here the logging service may write when
a statement allows it ``s3:PutObject`` on a resource pattern that covers the
target prefix, as S3 decides.

Run as ``python -m runners.aws.motoserver`` with moto.server's arguments.
"""

from __future__ import annotations

import fnmatch
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
    _patch_bucket_policies()


def _patch_bucket_policies() -> None:
    import json

    from moto.iam.access_control import IAMPolicy, PermissionResult
    from moto.s3.models import FakeBucket

    def get_permission(self: Any, action: str, resource: str) -> Any:
        if self.policy is None:
            return PermissionResult.NEUTRAL
        document = json.loads(self.policy.decode())
        statements = document.get("Statement", [])
        if isinstance(statements, dict):
            statements = [statements]
        kept = [s for s in statements if not (isinstance(s, dict) and s.get("Condition"))]
        if not kept:
            return PermissionResult.NEUTRAL
        return IAMPolicy(json.dumps({**document, "Statement": kept})).is_action_permitted(
            action, resource
        )

    FakeBucket.get_permission = get_permission  # type: ignore[method-assign]

    def log_permissions(target_bucket: Any, target_prefix: str | None) -> bool:
        if not target_bucket.policy:
            return False
        statements = json.loads(target_bucket.policy.decode()).get("Statement", [])
        key = f"arn:{target_bucket.partition}:s3:::{target_bucket.name}/{target_prefix or ''}x"
        for s in statements if isinstance(statements, list) else [statements]:
            principal = s.get("Principal")
            service = principal.get("Service") if isinstance(principal, dict) else None
            services = service if isinstance(service, list) else [service]
            actions = s.get("Action", [])
            resources = s.get("Resource", [])
            if (
                s.get("Effect") == "Allow"
                and "logging.s3.amazonaws.com" in services
                and "s3:PutObject" in (actions if isinstance(actions, list) else [actions])
                and any(
                    fnmatch.fnmatchcase(key, r)
                    for r in (resources if isinstance(resources, list) else [resources])
                )
            ):
                return True
        return False

    FakeBucket._log_permissions_enabled_policy = staticmethod(log_permissions)  # type: ignore[method-assign]


def main(argv: list[str] | None = None) -> None:
    patch()
    from moto.server import main as serve

    serve(argv if argv is not None else sys.argv[1:])


if __name__ == "__main__":
    main()
