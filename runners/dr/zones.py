"""The target region's availability zones, mapped to the source region's by index.

Zone names are per region and per account (``eu-west-1a`` is not the same
place for every account), so the only mapping that means anything is by
position: the stack's first zone becomes the target region's first
available zone, and so on. A stack that places a server "in zone 2" keeps
doing so.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from runners.dr.model import Missing

if TYPE_CHECKING:
    from mypy_boto3_ec2 import EC2Client

AWS_OPERATIONS: dict[str, frozenset[str]] = {"ec2": frozenset({"DescribeAvailabilityZones"})}


def available(ec2: EC2Client) -> list[str]:
    """The region's available zones (not Local Zones or Wavelength), sorted by name."""
    # DescribeAvailabilityZones has no paginator: it returns every zone at once.
    zones = ec2.describe_availability_zones(
        Filters=[
            {"Name": "state", "Values": ["available"]},
            {"Name": "zone-type", "Values": ["availability-zone"]},
        ]
    )["AvailabilityZones"]
    return sorted(z["ZoneName"] for z in zones if z.get("ZoneName"))


def by_index(
    source: list[str], target: list[str], wanted: int | None
) -> tuple[list[str], list[tuple[str, str]], Missing | None]:
    """The target zones to use, the (source, target) pairs, and what is missing.

    ``wanted`` is how many zones the stack uses; unknown, it is as many as
    the source zones, or every available target zone when there are none.
    """
    count = wanted or len(source) or len(target)
    chosen = target[:count]
    pairs = list(zip(source[:count], chosen, strict=False))
    if len(target) < count:
        return (
            chosen,
            pairs,
            Missing(
                "zones",
                f"the stack uses {count} zones; the target region has {len(target)} available",
                "the plan fails the stack's zone checks, or places servers in fewer zones",
            ),
        )
    return chosen, pairs, None
