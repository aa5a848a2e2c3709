"""What ``ship-s3`` says at the end: per bucket and prefix, what is there, what was copied, the lag."""

from __future__ import annotations

from collections.abc import Iterator

from runners.dr.runbook import duration
from runners.dr.s3ship import SHOWN, PrefixResult, ShipS3Run


def lines(run: ShipS3Run) -> Iterator[str]:
    dest = run.shipping.destination_bucket
    yield f"ship-s3 policy {run.policy.name}: to s3://{dest} ({run.policy.backup_region})"
    for r in run.results:
        yield from _prefix(run, r)
    for failure in run.failures:
        yield f"  FAILED {failure}"
    done = (
        "dry run: nothing copied"
        if run.dry_run
        else f"{sum(len(r.copied) for r in run.results)} copied"
    )
    verdict = "ok" if run.ok else "NOT up to date"
    yield f"{done}; {verdict}"


def _prefix(run: ShipS3Run, r: PrefixResult) -> Iterator[str]:
    where = f"s3://{r.bucket}/{r.prefix}"
    how = "replicated by S3" if r.replicated else "copied by ship-s3"
    yield f"{where} ({r.region}, {how}): {r.objects} object(s), {r.shipped_before} already in the destination"
    if r.lag is None:
        yield "  up to date before this run"
    elif r.replicated:
        state = "BREACH" if r.breached(run.max_lag) else "within"
        yield (
            f"  replication lag {duration(r.lag)} ({state} {run.shipping.max_lag_minutes:g} min): "
            f"{len(r.missing)} object(s) not replicated yet"
        )
    else:
        yield f"  was {duration(r.lag)} behind; {len(r.copied)} copied, {len(r.missing)} still missing"
    if r.kept:
        yield f"  {len(r.kept)} changed object(s) not overwritten: the destination keeps no versions"
    if r.only_in_destination:
        yield f"  {r.only_in_destination} object(s) only in the destination: kept (ship-s3 never deletes)"
    for item in r.missing[:SHOWN]:
        yield f"  missing {item.source.key} ({item.reason})"
    if len(r.missing) > SHOWN:
        yield f"  ... and {len(r.missing) - SHOWN} more missing"
    for failure in r.failures:
        yield f"  FAILED {failure}"
