"""Run every benchmark under benchmarks/ and print their figures side by side.

Each ``bench_*.py`` module has ``main() -> list[Row]``; a row is one measured
figure with its target, so ``make bench`` ends in a single table anyone can
rerun and compare.

Each module runs in a process of its own. Peak memory is read from a child's
rusage, and a child forked from a parent that has grown (one benchmark's
moto data, say) reports the parent's size as its peak.
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE.parent))

from benchmarks.common import Row, print_table  # noqa: E402


def run_one(name: str, rows_file: Path) -> None:
    """In the child: run one module, write its rows as JSON."""
    module = importlib.import_module(f"benchmarks.{name}")
    rows = module.main()
    rows_file.write_text(json.dumps([dataclasses.asdict(r) for r in rows]))


def main(argv: list[str]) -> int:
    if argv[:1] == ["--one"]:
        run_one(argv[1], Path(argv[2]))
        return 0
    wanted = set(argv)
    rows: list[Row] = []
    for path in sorted(HERE.glob("bench_*.py")):
        name = path.stem
        if wanted and name not in wanted and name.removeprefix("bench_") not in wanted:
            continue
        print(f"== {name}", flush=True)
        started = time.monotonic()
        with tempfile.TemporaryDirectory() as tmp:
            rows_file = Path(tmp) / "rows.json"
            argv = [sys.executable, __file__, "--one", name, str(rows_file)]
            done = subprocess.run(argv, check=False)
            if done.returncode != 0:
                print(f"   {name} failed (exit {done.returncode})", flush=True)
                return 1
            rows.extend(Row(**r) for r in json.loads(rows_file.read_text()))
        print(f"   ({time.monotonic() - started:.1f}s)", flush=True)
    print()
    print_table(rows)
    return 1 if any(r.met is False for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
