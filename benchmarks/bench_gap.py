"""Benchmark: the equity gap per school on 1, 10 and 30 million pupil-rows of parquet.

Usage: .venv/bin/python benchmarks/bench_gap.py [millions ...]   (default: 1 10 30)

For each size a synthetic parquet file (school_id, disadvantaged, score; 2,000 schools, 5% of
scores missing) is written once into /tmp and three cases run, each in its own subprocess so
its peak memory (RSS) is its own:

* ``pandas``: ``pd.read_parquet`` then ``cilib.stats.equity.gap(..., by="school_id")``;
* ``duckdb raw``: DuckDB's SQL computing count, mean and variance per school and group;
* ``push-down``: ``cilib.gap(path, ...)``, DuckDB's sums per cell finished by cilib's formulas.

Prints seconds (the work only, after imports), peak RSS and the peak above the process's RSS
after its imports, the data's size on disk and in Arrow, and the ratios to the raw DuckDB SQL
(goal: push-down within 1.5x of raw time, peak memory within 1.5x of the data's size).
Prints figures only; no asserts.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

SCHOOLS = 2000
CHUNK = 1_000_000

CASE_CODE = r"""
import json, resource, sys, time
case, path = sys.argv[1], sys.argv[2]
import duckdb, pandas as pd
import cilib
from cilib.stats import equity
rss = lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
base = rss()
con = duckdb.connect()
con.execute("SET enable_progress_bar = false")
times = []
for _ in range(2):  # the faster of two runs, so a cold file cache does not decide
    t0 = time.perf_counter()
    if case == "pandas":
        df = pd.read_parquet(path)
        out = equity.gap(df, "score", "disadvantaged", focus=True, by="school_id")
        del df
    elif case == "duckdb raw":
        out = con.execute(
            f"SELECT school_id, disadvantaged, count(score) AS n, avg(score) AS mean, "
            f"var_samp(score) AS var FROM read_parquet('{path}') WHERE score IS NOT NULL "
            "GROUP BY school_id, disadvantaged"
        ).df()
    else:
        out = cilib.gap(path, "score", "disadvantaged", focus=True, by="school_id")
    times.append(time.perf_counter() - t0)
secs = min(times)
print(json.dumps({"secs": secs, "peak": rss(), "base": base, "rows": len(out)}))
"""


def make_parquet(millions: int, folder: Path) -> Path:
    """Write ``millions`` million synthetic pupil-rows to a parquet file (in 1M-row groups)."""
    path = folder / f"pupils_{millions}m.parquet"
    if path.exists():
        return path
    rng = np.random.default_rng(millions)
    names = np.array([f"S{i:04d}" for i in range(SCHOOLS)])
    writer = None
    for _ in range(millions):
        school = rng.integers(0, SCHOOLS, CHUNK)
        dis = rng.random(CHUNK) < 0.25 + 0.1 * (school % 3 == 0)
        score = rng.normal(100 + school % 7, 15, CHUNK) - 6 * dis
        score[rng.random(CHUNK) < 0.05] = np.nan
        table = pa.Table.from_pandas(
            pd.DataFrame({"school_id": names[school], "disadvantaged": dis, "score": score}),
            preserve_index=False,
        )
        writer = writer or pq.ParquetWriter(path, table.schema)
        writer.write_table(table)
    writer.close()
    return path


def run_case(case: str, path: Path) -> dict:
    """Run one case in a fresh Python process and return its figures."""
    out = subprocess.run(
        [sys.executable, "-c", CASE_CODE, case, str(path)],
        capture_output=True, text=True, check=True,
    )
    return json.loads([ln for ln in out.stdout.splitlines() if ln.startswith("{")][-1])


def main(sizes: list[int]) -> None:
    """Print the figures for each size."""
    folder = Path(tempfile.gettempdir()) / "cilib_bench_gap"
    folder.mkdir(exist_ok=True)
    print(f"{'rows':>5} {'case':<11} {'secs':>7} {'peak MiB':>9} {'above import':>12} "
          f"{'x raw time':>10} {'x disk':>7} {'x arrow':>8}")
    for m in sizes:
        path = make_parquet(m, folder)
        disk = path.stat().st_size / 2**20
        pf = pq.ParquetFile(path)
        meta = pf.metadata
        arrow = pf.read_row_group(0).nbytes * meta.num_rows / meta.row_group(0).num_rows
        arrow /= 2**20
        res = {c: run_case(c, path) for c in ("duckdb raw", "push-down", "pandas")}
        raw = res["duckdb raw"]["secs"]
        for case, r in res.items():
            above = r["peak"] - r["base"]
            print(f"{m:>4}M {case:<11} {r['secs']:>7.2f} {r['peak']:>9.0f} {above:>12.0f} "
                  f"{r['secs'] / raw:>10.2f} {above / disk:>7.2f} {above / arrow:>8.2f}",
                  flush=True)
        print(f"      data: {disk:.0f} MiB on disk, {arrow:.0f} MiB in Arrow; x disk and x arrow "
              "divide the peak above the imports", flush=True)


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [1, 10, 30])
