"""The Markdown runbook ``dr prepare`` writes next to the variables."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path

import jinja2

from runners import __version__
from runners.dr.model import Preparation


def when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def duration(span: timedelta) -> str:
    minutes = max(0, int(span.total_seconds() // 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    parts = [f"{days} d"] if days else []
    if days or hours:
        parts.append(f"{hours} h")
    parts.append(f"{mins} min")
    return " ".join(parts)


def hours(value: float) -> str:
    return f"{value:g} h"


def seconds(value: float) -> str:
    """A measured time: ``42 s``, ``3 min 20 s``, ``1 h 5 min``."""
    total = max(0, round(value))
    if total < 60:
        return f"{total} s"
    minutes, secs = divmod(total, 60)
    if minutes < 60:
        return f"{minutes} min {secs} s" if secs else f"{minutes} min"
    h, minutes = divmod(minutes, 60)
    return f"{h} h {minutes} min"


def _env() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("runners", "templates/dr"),
        autoescape=False,  # noqa: S701  # Markdown, not HTML
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=False,
    )
    env.globals.update(when=when, duration=duration, hours=hours, seconds=seconds)
    return env


SECRET_TYPES = ("aws_secretsmanager_secret", "aws_ssm_parameter")


def render(
    prep: Preparation,
    out_dir: Path,
    source_regions: Sequence[str],
    approvers: Sequence[str] = (),
    smoke: str | None = None,
) -> str:
    secrets = [u for u in prep.unrestored if u.type in SECRET_TYPES]
    return (
        _env()
        .get_template("runbook.md.j2")
        .render(
            p=prep,
            rpo=prep.rpo_achieved(),
            out_dir=out_dir,
            version=__version__,
            source_regions=", ".join(source_regions) or prep.source_region,
            approvers=list(approvers),
            smoke=smoke,
            secrets=secrets,
        )
    )
