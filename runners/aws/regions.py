"""What an AWS region name looks like, checked before any client is made for one.

botocore refuses a malformed region only when a client is built (and then as
``InvalidRegionError``), and Terraform's S3 backend passes one on to AWS; a
config that names one must fail when it loads instead. The pattern covers
every partition's regions (``eu-west-1``, ``us-gov-west-1``,
``us-isob-east-1``, ``cn-north-1``, ``eusc-de-east-1``): a two-to-four-letter
area, an optional partition part, a compass direction and a short number.
"""

from __future__ import annotations

import re

REGION_EXAMPLE = "eu-west-1"
REGION = re.compile(
    r"^[a-z]{2,4}(?:-[a-z]{2,4})?-(?:central|north|south|(?:north|south)?(?:east|west))-\d{1,2}$"
)


def is_region(name: str) -> bool:
    return REGION.match(name) is not None
