"""Benchmark: prepare (load + validate + store) throughput and peak memory at 1x, 10x, 30x.

Usage: .venv/bin/python benchmarks/bench_prepare.py [k ...]   (default: 1 10 30)

The scaled trust repeats the sample's pupil-level tables k times with suffixed pupil ids
(``bench_pipeline.scaled_copy``): 10x is 3.6 million rows, 30x about 11 million. Each scale runs
in its own subprocess, so its peak memory is its own: the prepare process's, and the largest of
its worker processes' (the streaming prepare loads and finishes chunks in ``jobs`` workers).
Rows/s is rows in / seconds of ``prepare`` (Great Expectations is imported before the clock
starts: a fixed cost of a few seconds). Goal (issue 14): 500,000 rows/s and peak memory under
2 GB at any scale. Prints figures only; no asserts.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent

CODE = r"""
import json, resource, sys, time
from pathlib import Path
from cilib.data.config import load_config
from cilib.data.prepare import prepare
k, tmp = int(sys.argv[1]), Path(sys.argv[2])
cfg = tmp / "trust" / "trust.yml"
t_gx = time.perf_counter()
import great_expectations  # noqa: F401  (timed on its own: a fixed cost per run)
gx_import = time.perf_counter() - t_gx
t0 = time.perf_counter()
store = prepare(load_config(cfg), "2025/26 HT6")
total = time.perf_counter() - t0
rows = int(store.data_quality["rows_in"].sum())
print(json.dumps({
    "rows": rows, "secs": total, "gx_import": gx_import,
    "peak": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    "worker_peak": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
}))
"""


MAKE = r"""
import shutil, sys
from pathlib import Path
sys.path.insert(0, sys.argv[3])
from bench_pipeline import SAMPLE, scaled_copy
k, tmp = int(sys.argv[1]), Path(sys.argv[2])
if k > 1:
    scaled_copy(k, tmp / "trust")
else:
    shutil.copytree(SAMPLE, tmp / "trust", ignore=shutil.ignore_patterns("store"))
"""


def run(k: int) -> dict:
    """Prepare the k-times trust in a fresh process and return its figures."""
    with tempfile.TemporaryDirectory() as tmp:
        # the scaled copy is written by its own process, so its memory is not counted
        subprocess.run([sys.executable, "-c", MAKE, str(k), tmp, str(ROOT)], check=True)
        out = subprocess.run(
            [sys.executable, "-c", CODE, str(k), tmp, str(ROOT)],
            capture_output=True, text=True, check=True,
        )
    return json.loads([ln for ln in out.stdout.splitlines() if ln.startswith("{")][-1])


def main(ks: list[int]) -> None:
    """Print the figures for each scale."""
    print(f"{'k':>3} {'rows in':>11} {'secs':>7} {'rows/s':>9} {'main MiB':>9} "
          f"{'worker MiB':>10} {'all MiB':>8}")
    for k in ks:
        r = run(k)
        print(f"{k:>3} {r['rows']:>11,} {r['secs']:>7.1f} "
              f"{r['rows'] / r['secs']:>9,.0f} {r['peak']:>9.0f} "
              f"{r['worker_peak']:>10.0f} {r['peak'] + 2 * r['worker_peak']:>8.0f}",
              flush=True)
    print("(GX is imported before the clock starts, a fixed cost of a few seconds; main = the "
          "prepare process's peak RSS,\n worker = the largest worker process's peak, all = main + "
          "2 x worker, an upper bound on the memory in use at once)")


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [1, 10, 30])
