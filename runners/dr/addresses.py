"""Terraform resource addresses, and the patterns ``[dr]`` uses to pick resources from a state.

A pattern is an address with at most one ``["*"]`` (or ``[*]``) in it, such
as ``module.server["*"].aws_ebs_volume.data[0]``: the ``*`` matches one
instance key of a ``for_each`` or ``count``, and becomes the key of a map
variable. A pattern without ``*`` names one resource for a plain variable.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

# What disaster recovery can restore, by resource type: the backup kind whose
# snapshots restore it, and the state attribute that holds the id the backup
# tags as runners:source-id.
RESTORABLE: dict[str, tuple[str, str]] = {
    "aws_ebs_volume": ("ebs-volume", "id"),
    "aws_db_instance": ("rds-instance", "identifier"),
    "aws_rds_cluster": ("aurora-cluster", "cluster_identifier"),
}
# Resources whose machine image disaster recovery finds again, and the attribute naming it.
IMAGE_HOLDERS: dict[str, str] = {"aws_instance": "ami"}

_NAME = r"[A-Za-z_][A-Za-z0-9_-]*"
_INDEX = r'(?:\[(?:\d+|"(?:[^"\\]|\\.)*"|"\*"|\*)\])?'
_ADDRESS = re.compile(
    rf"^(?:module\.{_NAME}{_INDEX}\.)*(?P<data>data\.)?(?P<type>{_NAME})\.{_NAME}{_INDEX}$"
)
_KEY_WILDCARD = '["*"]'
_INDEX_WILDCARD = "[*]"


def instance_address(
    module: str | None, mode: str, rtype: str, name: str, index: object = None
) -> str:
    """The address Terraform prints for one resource instance of a state file."""
    parts = [module] if module else []
    parts.append(f"{'data.' if mode == 'data' else ''}{rtype}.{name}")
    address = ".".join(parts)
    if isinstance(index, bool) or index is None:
        return address
    if isinstance(index, int):
        return f"{address}[{index}]"
    return f"{address}[{json.dumps(str(index))}]"


@dataclass(frozen=True)
class Pattern:
    text: str
    resource_type: str
    keyed: bool
    _regex: re.Pattern[str] = field(compare=False, repr=False)

    def match(self, address: str) -> str | None:
        """The key ``*`` matched ("" for a pattern without one), or None."""
        found = self._regex.match(address)
        if found is None:
            return None
        return unquote(found.group(1)) if self.keyed else ""


def parse_pattern(text: str) -> Pattern:
    """A pattern, or ValueError saying what is wrong with it."""
    parsed = _ADDRESS.match(text)
    if parsed is None:
        raise ValueError(
            f'{text!r} is not a resource address such as module.server["*"].aws_ebs_volume.data[0]'
        )
    if parsed.group("data"):
        raise ValueError(f"{text!r} is a data source; name the managed resource")
    wildcards = text.count(_KEY_WILDCARD) + text.count(_INDEX_WILDCARD)
    if wildcards > 1:
        raise ValueError(f"{text!r} has more than one * (at most one key per variable)")
    regex = re.escape(text)
    regex = regex.replace(re.escape(_KEY_WILDCARD), r'\["((?:[^"\\]|\\.)+)"\]')
    regex = regex.replace(re.escape(_INDEX_WILDCARD), r"\[(\d+)\]")
    return Pattern(text, parsed.group("type"), wildcards == 1, re.compile(f"^{regex}$"))


def unquote(key: str) -> str:
    """A string instance key as Terraform wrote it (JSON escapes) back to its value."""
    try:
        return str(json.loads(f'"{key}"'))
    except json.JSONDecodeError:
        return key
