"""Is a restore what its snapshot promised? A pure function of the two sets of facts."""

from __future__ import annotations

from collections.abc import Mapping

from runners.dr.restorers.base import Facts


def problems(
    expected: Facts, observed: Facts, tags: Mapping[str, str], exact_size: bool
) -> list[str]:
    """Every way ``observed`` falls short; empty when the restore is good."""
    found = []
    if observed.state != expected.state:
        found.append(f"state is {observed.state or 'unknown'}, expected {expected.state}")
    if expected.size_gb is not None:
        size = observed.size_gb
        if size is None:
            found.append(f"size unknown, expected {expected.size_gb} GiB")
        elif (size != expected.size_gb) if exact_size else (size < expected.size_gb):
            relation = "" if exact_size else "at least "
            found.append(f"size is {size} GiB, expected {relation}{expected.size_gb} GiB")
    if expected.encrypted is not None and observed.encrypted != expected.encrypted:
        want = "encrypted" if expected.encrypted else "not encrypted"
        found.append(f"expected it {want}, as its snapshot is")
    if expected.engine and observed.engine != expected.engine:
        found.append(f"engine is {observed.engine}, expected {expected.engine}")
    wrong = sorted(k for k, v in tags.items() if observed.tags.get(k) != v)
    if wrong:
        found.append(f"tags missing or wrong: {', '.join(wrong)}")
    return found
