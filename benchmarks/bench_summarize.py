"""Issue 2's summarize targets, measured side by side with their baseline.

``runners summarize`` on a plan JSON with 10,000 resource changes (made by the
embedded Terraform): wall time within 1.5x of ``json.load`` alone on the same
file, peak memory within 2x. Both run as fresh processes, so both pay for an
interpreter; peak memory is each child's max RSS. ``make bench ARGS=summarize``
runs this one alone.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

from benchmarks.bench_plan import RUNS, TF, _child, _median
from benchmarks.common import CACHE, Row


def big_plan(n: int = 10_000) -> Path:
    """A real plan JSON with n resource changes (creates), made by the embedded Terraform.

    Creates rather than updates: applying 10,000 resources first takes far
    longer than the benchmark itself, and a create carries the full set of
    attribute values, which is the larger document to read.
    """
    target = CACHE / f"plan-{n}.json"
    if target.exists():
        return target
    CACHE.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="bench-plan-", dir=CACHE))
    env = {**os.environ, "TF_IN_AUTOMATION": "1"}
    body = textwrap.dedent("""\
        variable "generation" {{
          type = number
        }}
        resource "terraform_data" "r" {{
          count = {n}
          input = {{
            name       = "server-${{count.index}}"
            generation = var.generation
            size       = count.index % 3 == 0 ? "large" : "small"
            tags       = {{ team = "ops", index = tostring(count.index) }}
          }}
        }}
        """).format(n=n)
    (work / "main.tf").write_text(body)
    print(
        f"   generating a {n}-resource plan with the embedded Terraform (once; cached)", flush=True
    )
    subprocess.run(
        [*TF, "init", "-input=false"], cwd=work, env=env, check=True, capture_output=True
    )
    subprocess.run(
        [*TF, "plan", "-input=false", "-var=generation=2", "-out=tfplan"],
        cwd=work,
        env=env,
        check=True,
        capture_output=True,
    )
    with open(target, "wb") as fh:
        subprocess.run([*TF, "show", "-json", "tfplan"], cwd=work, env=env, check=True, stdout=fh)
    shutil.rmtree(work)
    return target


def bench_summarize() -> list[Row]:
    path = big_plan()
    size_mb = path.stat().st_size / 1e6
    baseline = [
        _child([sys.executable, "-c", f"import json; json.load(open({str(path)!r}, 'rb'))"])
        for _ in range(RUNS)
    ]
    rows = []
    for fmt in ("json", "text"):
        ours = [
            _child([sys.executable, "-m", "runners", "summarize", str(path), "--format", fmt])
            for _ in range(RUNS)
        ]
        (t_ours, m_ours), (t_base, m_base) = _median(ours), _median(baseline)
        rows.append(
            Row(
                "summarize 10k",
                f"time, --format {fmt} ({size_mb:.0f} MB)",
                t_ours,
                t_base,
                "s",
                "<= 1.5x json.load",
                t_ours <= 1.5 * t_base,
            )
        )
        rows.append(
            Row(
                "summarize 10k",
                f"peak RSS, --format {fmt}",
                m_ours / 1024,
                m_base / 1024,
                "MiB",
                "<= 2x json.load",
                m_ours <= 2 * m_base,
            )
        )
    return rows


def main() -> list[Row]:
    return bench_summarize()
