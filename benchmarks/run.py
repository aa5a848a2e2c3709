"""Run every benchmark under benchmarks/ and print their figures side by side.

Each ``bench_*.py`` module has ``main() -> list[Row]``; a row is one measured
figure with its target, so ``make bench`` ends in a single table anyone can
rerun and compare.
"""

from __future__ import annotations

import importlib
import sys
import time
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE.parent))

from benchmarks.common import Row, print_table  # noqa: E402


def main(argv: list[str]) -> int:
    wanted = set(argv)
    rows: list[Row] = []
    for path in sorted(HERE.glob("bench_*.py")):
        name = path.stem
        if wanted and name not in wanted and name.removeprefix("bench_") not in wanted:
            continue
        print(f"== {name}", flush=True)
        started = time.monotonic()
        module = importlib.import_module(f"benchmarks.{name}")
        rows.extend(module.main())
        print(f"   ({time.monotonic() - started:.1f}s)", flush=True)
    print()
    print_table(rows)
    return 1 if any(r.met is False for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
