"""Benchmark: prepare (load + validate + store) throughput and peak memory at 1x, 10x, 30x.

Usage: .venv/bin/python benchmarks/bench_prepare.py [k ...]   (default: 1 10 30)

The scaled trust repeats the sample's pupil-level tables k times with suffixed pupil ids
(``bench_pipeline.scaled_copy``): 10x is 3.6 million rows, 30x about 11 million. Each scale runs
in its own subprocess, so its peak RSS is its own; the time of each step is taken from
``prepare``'s progress messages: reading and mapping the files, validating (Great Expectations
and the cross-row checks), writing the store. Rows/s is rows in / total seconds, with and without
Great Expectations' import (a fixed cost of a few seconds). Goal (issue 14): 500,000 rows/s and
peak memory under 2 GB at any scale. Prints figures only; no asserts.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent

CODE = r"""
import json, resource, shutil, sys, time
from pathlib import Path
sys.path.insert(0, sys.argv[3])
from bench_pipeline import SAMPLE, scaled_copy
from cilib.data.config import load_config
from cilib.data.prepare import prepare
k, tmp = int(sys.argv[1]), Path(sys.argv[2])
if k > 1:
    cfg = scaled_copy(k, tmp / "trust")
else:
    shutil.copytree(SAMPLE, tmp / "trust", ignore=shutil.ignore_patterns("store"))
    cfg = tmp / "trust" / "trust.yml"
t_gx = time.perf_counter()
import great_expectations  # noqa: F401  (timed on its own: a fixed cost per run)
gx_import = time.perf_counter() - t_gx
marks = []
t0 = time.perf_counter()
store = prepare(load_config(cfg), "2025/26 HT6",
                progress=lambda m: marks.append((m.split()[0], time.perf_counter() - t0)))
total = time.perf_counter() - t0
rows = int(store.data_quality["rows_in"].sum())
steps = dict(marks)
print(json.dumps({
    "rows": rows, "secs": total, "gx_import": gx_import,
    "load": steps.get("Validating", 0.0) - steps.get("Loading", 0.0),
    "validate": steps.get("Prepared", total) - steps.get("Validating", 0.0),
    "peak": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    "worker_peak": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
}))
"""


def run(k: int) -> dict:
    """Prepare the k-times trust in a fresh process and return its figures."""
    with tempfile.TemporaryDirectory() as tmp:
        out = subprocess.run(
            [sys.executable, "-c", CODE, str(k), tmp, str(ROOT)],
            capture_output=True, text=True, check=True,
        )
    return json.loads([ln for ln in out.stdout.splitlines() if ln.startswith("{")][-1])


def main(ks: list[int]) -> None:
    """Print the figures for each scale."""
    print(f"{'k':>3} {'rows in':>11} {'secs':>7} {'load+map':>9} {'validate+write':>15} "
          f"{'rows/s':>9} {'main MiB':>9} {'worker MiB':>10} {'all MiB':>8}")
    for k in ks:
        r = run(k)
        print(f"{k:>3} {r['rows']:>11,} {r['secs']:>7.1f} {r['load']:>9.1f} "
              f"{r['validate']:>15.1f} {r['rows'] / r['secs']:>9,.0f} {r['peak']:>9.0f} "
              f"{r['worker_peak']:>10.0f} {r['peak'] + 2 * r['worker_peak']:>8.0f}",
              flush=True)
    print("(GX is imported before the clock starts; load+map = reading, mapping, typing and "
          "pseudonymising; validate+write = Great Expectations, cross-row checks, parquet;\n"
          " main = the prepare process's peak RSS, worker = the largest worker process's peak, "
          "all = main + 2 x worker, an upper bound on the memory in use at once)")


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [1, 10, 30])
