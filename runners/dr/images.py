"""Find a server's machine image again in the backup region, without the region that is lost.

An AMI id is regional, so the same image has another id in the backup
region. Three answers, best first, each from the backup region alone:

1. **A copy of the image itself**: an image of the client's own there that
   ``ship`` made (tagged ``runners:copy-of`` with the source id and
   ``runners:copy-of-region``), or that anyone copied (``SourceImageId`` and
   ``SourceImageRegion``, which AWS records on every ``CopyImage``).
2. **The same image by name and owner**: public images such as Debian's are
   published under the same name in every region. Name and owner come from
   the stack's state when it looked the image up (a ``data "aws_ami"``), or
   from the backup records: each instance backup's snapshots, and their
   copies in the backup region, carry ``runners:image-id``, ``-name`` and
   ``-owner`` (runners.backup.tags).
3. The stack's ``image_parameter`` (an SSM public parameter such as Debian's
   ``/aws/service/debian/release/13/latest/amd64``): the current image there,
   which is *not* the same one, and the runbook says so.

The source region is never asked: on the day this runs it does not answer.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from runners.aws.retry import error_code
from runners.backup import tags as T
from runners.dr.model import ImageChoice, Missing, Slot
from runners.dr.statefile import StackState

if TYPE_CHECKING:
    from mypy_boto3_ec2 import EC2Client
    from mypy_boto3_ssm import SSMClient

AWS_OPERATIONS: dict[str, frozenset[str]] = {
    "ec2": frozenset({"DescribeImages", "DescribeSnapshots"}),
    "ssm": frozenset({"GetParameter"}),
}

COPY = "copy"  # found_by: a copy of the very image
SAME = "name and owner"


@dataclass(frozen=True)
class Identity:
    name: str
    owner: str


@dataclass(frozen=True)
class Copy:
    image_id: str
    of: str  # the source image id
    of_region: str | None  # None: the copy does not say (an untagged copy)
    created: str


@dataclass
class ImageLookup:
    """What one stack's image lookups share: the target region's answers, asked once."""

    state: StackState
    target: EC2Client
    ssm: SSMClient
    source_region: str
    target_region: str
    parameter: str | None
    _copies: list[Copy] | None = field(default=None, repr=False)
    _records: dict[str, Identity] = field(default_factory=dict, repr=False)

    def copies(self) -> list[Copy]:
        if self._copies is None:
            self._copies = own_copies(self.target)
        return self._copies

    def remember(self, image_ids: Iterable[str]) -> None:
        """Read the backup records of these images from the target region's snapshots, once."""
        self._records.update(recorded_identities(self.target, sorted(set(image_ids))))

    def recorded(self, image_id: str) -> Identity | None:
        return self._records.get(image_id)


def own_copies(ec2: EC2Client) -> list[Copy]:
    """Every available image of the account's own in the region that says what it is a copy of."""
    pages = ec2.get_paginator("describe_images").paginate(
        Owners=["self"], Filters=[{"Name": "state", "Values": ["available"]}]
    )
    found = []
    for page in pages:
        for image in page["Images"]:
            copy = copy_facts(image)
            if copy is not None:
                found.append(copy)
    return found


def copy_facts(image: Mapping[str, Any]) -> Copy | None:
    """What an image says it is a copy of: runners' tags first, then AWS's own record."""
    tags = T.from_list(image.get("Tags"))
    of = tags.get(T.COPY_OF) or image.get("SourceImageId")
    if not of:
        return None
    region = tags.get(T.COPY_OF_REGION) if tags.get(T.COPY_OF) else image.get("SourceImageRegion")
    return Copy(str(image["ImageId"]), str(of), region or None, str(image.get("CreationDate", "")))


def copy_in_target(copies: Iterable[Copy], image_id: str, source_region: str) -> str | None:
    """The newest copy of ``image_id`` from ``source_region``. Pure."""
    matching = [c for c in copies if c.of == image_id and c.of_region in (None, source_region)]
    if not matching:
        return None
    return max(matching, key=lambda c: (c.created, c.image_id)).image_id


def recorded_identities(ec2: EC2Client, image_ids: list[str]) -> dict[str, Identity]:
    """image id -> name and owner, from the instance backups' records in this region."""
    if not image_ids:
        return {}
    pages = ec2.get_paginator("describe_snapshots").paginate(
        OwnerIds=["self"], Filters=[{"Name": f"tag:{T.IMAGE_ID}", "Values": image_ids}]
    )
    found: dict[str, Identity] = {}
    for page in pages:
        for snap in page["Snapshots"]:
            tags = T.from_list(snap.get("Tags"))
            image, name, owner = (
                tags.get(T.IMAGE_ID),
                tags.get(T.IMAGE_NAME),
                tags.get(T.IMAGE_OWNER),
            )
            if image and name and owner:
                found.setdefault(image, Identity(name, owner))
    return found


def find(ec2: EC2Client, identity: Identity) -> str | None:
    """The id of the available image with this name and owner in the client's region."""
    pages = ec2.get_paginator("describe_images").paginate(
        Owners=[identity.owner],
        Filters=[
            {"Name": "name", "Values": [identity.name]},
            {"Name": "state", "Values": ["available"]},
        ],
    )
    for page in pages:
        for image in page["Images"]:
            return image["ImageId"]
    return None


def from_parameter(ssm: SSMClient, name: str) -> str | None:
    try:
        value = ssm.get_parameter(Name=name)["Parameter"].get("Value")
    except ClientError as exc:
        if error_code(exc) == "ParameterNotFound":
            return None
        raise
    return value if value and value.startswith("ami-") else None


def identity_of(lookup: ImageLookup, image_id: str) -> Identity | None:
    facts = lookup.state.image_facts(image_id)
    return Identity(*facts) if facts else lookup.recorded(image_id)


def resolve(lookup: ImageLookup, slot: Slot, address: str, image_id: str) -> ImageChoice | Missing:
    identity = identity_of(lookup, image_id)
    name, owner = (identity.name, identity.owner) if identity else (None, None)
    copy = copy_in_target(lookup.copies(), image_id, lookup.source_region)
    if copy:
        return ImageChoice(slot, address, image_id, name, owner, copy, COPY)
    if identity is not None:
        found = find(lookup.target, identity)
        if found:
            return ImageChoice(slot, address, image_id, name, owner, found, SAME)
        why_not = (
            f"image {identity.name} (owner {identity.owner}) is not in {lookup.target_region} "
            "and no copy of it is"
        )
    else:
        why_not = (
            f"no copy of {image_id} in {lookup.target_region}, and neither the state nor a "
            f"backup record names it (back the instance up, and name its image in the "
            "policy's images, so ship copies it)"
        )
    if lookup.parameter:
        fallback = from_parameter(lookup.ssm, lookup.parameter)
        if fallback:
            return ImageChoice(
                slot, address, image_id, name, owner, fallback, f"parameter {lookup.parameter}"
            )
        why_not += f"; parameter {lookup.parameter} gives no image in {lookup.target_region}"
    return Missing(
        str(slot),
        why_not,
        "the server boots the stack's default image, not the one it ran",
    )
