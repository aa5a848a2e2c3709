"""``ship`` copies the images of backed-up instances that the policy names to the backup region.

Backup records each instance's image on its snapshots (``runners:image-id``,
``-name``, ``-owner``, and ``runners:image-copy-region`` when the policy's
``images`` names it). Ship copies each such image once with ``CopyImage``:
the ``ClientToken`` is derived from the policy, the image and the
destination, so a retried or repeated call returns the same copy instead of
making another, and a copy already there (tagged ``runners:copy-of``) is
skipped. An image with encrypted volumes is re-encrypted with the backup
region's key. The copy carries the source's id, region, name and owner, so a
recovery finds it without the source region.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from functools import partial
from typing import Any

from runners.backup import tags as T
from runners.backup.context import Run
from runners.backup.inventory import INSTANCE, Inventory
from runners.backup.kms import destination_keys
from runners.backup.model import Place, PlanLine

AWS_OPERATIONS: dict[str, frozenset[str]] = {
    "ec2": frozenset({"CopyImage", "DescribeImages", "CreateTags"})
}


def token(policy: str, image_id: str, dest: Place) -> str:
    return hashlib.sha256(f"{policy}/{image_id}/{dest}".encode()).hexdigest()[:64]


def ship_images(run: Run, inv: Inventory) -> int:
    """Start the copies of the named images not yet in the backup region; how many started."""
    wanted: dict[tuple[Place, str], dict[str, str]] = {}
    for snap in inv.snapshots:
        tags = snap.tags
        copied_here = tags.get(T.IMAGE_COPY_REGION) == run.policy.backup_region
        if snap.kind == INSTANCE and snap.copy_of is None and tags.get(T.IMAGE_ID) and copied_here:
            wanted.setdefault((snap.place, tags[T.IMAGE_ID]), dict(tags))
    by_place: dict[Place, list[str]] = defaultdict(list)
    for place, image_id in wanted:
        by_place[place].append(image_id)
    keys = destination_keys(run, {p.account for p in by_place}) if by_place else {}
    started = 0
    for place, ids in sorted(by_place.items()):
        dest = run.dest(place.account)
        there = run.attempt(f"image copies ({dest})", partial(_copied, run, dest, ids)) or set()
        encrypted = run.attempt(f"images ({place})", partial(_encrypted, run, place, ids))
        for image_id in sorted(ids):
            tags = wanted[(place, image_id)]
            if image_id in there:
                run.emit(PlanLine("skip", "image", image_id, place, f"copied to {dest}"))
                continue
            secret = encrypted is None or image_id in encrypted
            run.emit(PlanLine("copy", "image", image_id, place, f"no copy in {dest} yet"))
            what = f"image {image_id} ({place})"
            key = keys.get(place.account)
            copy = run.attempt(
                what, partial(_copy, run, place, dest, image_id, tags, key if secret else None)
            )
            if copy:
                started += 1
                run.say(f"  started image copy {copy} of {image_id} ({place} -> {dest})")
    return started


def _copied(run: Run, dest: Place, ids: list[str]) -> set[str]:
    pages = (
        run.clients.ec2(dest.region, dest.account)
        .get_paginator("describe_images")
        .paginate(Owners=["self"], Filters=[{"Name": f"tag:{T.COPY_OF}", "Values": ids}])
    )
    return {
        T.from_list(i.get("Tags")).get(T.COPY_OF, "")
        for page in pages
        for i in page["Images"]
        if i.get("State") in ("pending", "available")
    }


def _encrypted(run: Run, place: Place, ids: list[str]) -> set[str]:
    pages = (
        run.clients.ec2(place.region, place.account)
        .get_paginator("describe_images")
        .paginate(Filters=[{"Name": "image-id", "Values": ids}], IncludeDeprecated=True)
    )
    return {
        i["ImageId"]
        for page in pages
        for i in page["Images"]
        if any(m.get("Ebs", {}).get("Encrypted") for m in i.get("BlockDeviceMappings", []))
    }


def _copy(
    run: Run, place: Place, dest: Place, image_id: str, tags: dict[str, str], key: str | None
) -> str | None:
    copy_tags = {
        T.MANAGED_BY: T.MANAGED_BY_VALUE,
        T.POLICY: run.policy.name,
        T.COPY_OF: image_id,
        T.COPY_OF_REGION: place.region,
        **{k: tags[k] for k in (T.IMAGE_NAME, T.IMAGE_OWNER) if k in tags},
    }
    args: dict[str, Any] = {
        "SourceImageId": image_id,
        "SourceRegion": place.region,
        "Name": tags.get(T.IMAGE_NAME) or image_id,
        "Description": f"runners copy of {image_id} from {place.region}",
        "ClientToken": token(run.policy.name, image_id, dest),
        "TagSpecifications": [{"ResourceType": "image", "Tags": T.as_list(copy_tags)}],
    }
    if key:
        args.update(Encrypted=True, KmsKeyId=key)
    ec2 = run.clients.ec2(dest.region, dest.account)
    if run.dry_run:
        return None
    made = str(ec2.copy_image(**args)["ImageId"])
    # CreateTags as well: some AWS-compatible endpoints (moto among them) ignore the
    # TagSpecifications of CopyImage, and the copy-of tag is how the next run skips it.
    ec2.create_tags(Resources=[made], Tags=T.as_list(copy_tags))  # type: ignore[arg-type]
    return made
