"""Find a server's machine image again in another region.

An AMI id is regional, so the same image has another id in the backup
region. It is found by what does not change between regions: its name and
its owner. Those come from the stack's own state when the stack looked the
image up (a ``data "aws_ami"``), otherwise from the source region, which
may be down. When the same image is not in the target region, the stack's
``image_parameter`` (an SSM public parameter such as Debian's
``/aws/service/debian/release/13/latest/amd64``) gives the current image
there instead, and the runbook says it is not the same image.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from runners.aws.retry import error_code
from runners.dr.model import ImageChoice, Missing, Slot
from runners.dr.statefile import StackState

if TYPE_CHECKING:
    from mypy_boto3_ec2 import EC2Client
    from mypy_boto3_ssm import SSMClient

AWS_OPERATIONS: dict[str, frozenset[str]] = {
    "ec2": frozenset({"DescribeImages"}),
    "ssm": frozenset({"GetParameter"}),
}

SAME = "name and owner"


@dataclass(frozen=True)
class Identity:
    name: str
    owner: str


@dataclass(frozen=True)
class ImageLookup:
    """The clients and facts one stack's image lookups share."""

    state: StackState
    source: EC2Client
    target: EC2Client
    ssm: SSMClient
    source_region: str
    target_region: str
    parameter: str | None


def source_identity(ec2: EC2Client, image_id: str) -> Identity | None:
    """Name and owner of an image in its own region; None when it is not there (deregistered)."""
    # A filter, not ImageIds: an unknown id is an empty answer, not an error.
    pages = ec2.get_paginator("describe_images").paginate(
        Filters=[{"Name": "image-id", "Values": [image_id]}], IncludeDeprecated=True
    )
    for page in pages:
        for image in page["Images"]:
            if image.get("Name") and image.get("OwnerId"):
                return Identity(image["Name"], image["OwnerId"])
    return None


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


def resolve(lookup: ImageLookup, slot: Slot, address: str, image_id: str) -> ImageChoice | Missing:
    facts = lookup.state.image_facts(image_id)
    identity = Identity(*facts) if facts else None
    why_not = ""
    if identity is None:
        try:
            identity = source_identity(lookup.source, image_id)
        except (ClientError, BotoCoreError) as exc:
            why_not = f"cannot describe {image_id} in {lookup.source_region} ({_code(exc)})"
        else:
            if identity is None:
                why_not = f"{image_id} no longer exists in {lookup.source_region}"
    if identity is not None:
        found = find(lookup.target, identity)
        if found:
            return ImageChoice(slot, address, image_id, identity.name, identity.owner, found, SAME)
        why_not = f"image {identity.name} (owner {identity.owner}) is not in {lookup.target_region}"
    if lookup.parameter:
        fallback = from_parameter(lookup.ssm, lookup.parameter)
        if fallback:
            name, owner = (identity.name, identity.owner) if identity else (None, None)
            return ImageChoice(
                slot, address, image_id, name, owner, fallback, f"parameter {lookup.parameter}"
            )
        why_not += f"; parameter {lookup.parameter} gives no image in {lookup.target_region}"
    return Missing(
        str(slot),
        why_not,
        "the server boots the stack's default image, not the one it ran",
    )


def _code(exc: ClientError | BotoCoreError) -> str:
    return error_code(exc) if isinstance(exc, ClientError) else type(exc).__name__
