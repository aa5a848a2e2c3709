"""Shared pieces for benchmarks: a result row and the side-by-side table."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

CACHE = Path(__file__).parent / ".cache"


@dataclass
class Row:
    benchmark: str
    measured: str  # what this figure is, e.g. "summarize / json.load time"
    ours: float
    baseline: float | None  # the figure it is compared with, same unit
    unit: str
    target: str  # e.g. "<= 1.5x"
    met: bool | None  # None when there is no target

    @property
    def ratio(self) -> float | None:
        if self.baseline in (None, 0):
            return None
        return self.ours / self.baseline  # type: ignore[operator]


def print_table(rows: list[Row]) -> None:
    headers = ("benchmark", "figure", "runners", "baseline", "ratio", "target", "met")
    body = []
    for r in rows:
        body.append(
            (
                r.benchmark,
                r.measured,
                f"{r.ours:.3f} {r.unit}",
                f"{r.baseline:.3f} {r.unit}" if r.baseline is not None else "-",
                f"{r.ratio:.2f}x" if r.ratio is not None else "-",
                r.target,
                {True: "yes", False: "NO", None: "-"}[r.met],
            )
        )
    widths = [max(len(str(x)) for x in col) for col in zip(headers, *body, strict=False)]
    for line in (headers, tuple("-" * w for w in widths), *body):
        print("  ".join(str(c).ljust(w) for c, w in zip(line, widths, strict=True)))
