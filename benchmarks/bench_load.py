"""Benchmark: ``load_table`` throughput (reading, mapping, typing, pseudonymising) per table.

Usage: .venv/bin/python benchmarks/bench_load.py [k] [--dir FOLDER] [--repeat R] [--chunk N]
       [--profile TABLE]

Makes the sample trust with its pupil-level tables repeated k times (default 10: 3.6 million
rows; ``bench_pipeline.scaled_copy``) in a temporary folder, or reuses FOLDER (made on the first
run if it does not exist yet), then times ``cilib.data.load.load_table`` on each table, best of
R runs (default 1), and prints rows read per second per table and in total. The streaming
prepare calls ``load_table`` on chunks of a few hundred thousand lines, so the pupil-level rows
are the figure that matters. Goal (issue 14): 400,000 rows/s or more per core. ``--profile
TABLE`` prints cProfile's top functions for one table instead. ``--chunk N`` cuts every file of
more than N data lines into files of N lines (header repeated; not timed) and times
``load_table`` on each chunk in turn, through a config pointing at the chunk, as the streaming
prepare's workers do; a table's time is then the sum over its chunks. Prints figures only; no
asserts.
"""

from __future__ import annotations

import argparse
import cProfile
import dataclasses
import pstats
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_pipeline import scaled_copy  # noqa: E402

from cilib.core.schema import LOAD_ORDER  # noqa: E402
from cilib.data.config import load_config  # noqa: E402
from cilib.data.load import load_table  # noqa: E402


def split(path: Path, folder: Path, lines: int) -> list[Path]:
    """Cut a CSV into files of ``lines`` data lines, each with the header line repeated."""
    with path.open("rb") as f:
        header = f.readline()
        body = f.readlines()
    if len(body) <= lines:
        return [path]
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for k in range(0, len(body), lines):
        out.append(folder / f"{path.stem}_{k // lines:04d}.csv")
        out[-1].write_bytes(header + b"".join(body[k : k + lines]))
    return out


def time_tables(
    cfg_path: Path, repeat: int, chunk: int | None, scratch: Path
) -> list[tuple[str, int, float, float]]:
    """Return (table, rows read, best wall seconds, best CPU seconds) for every table."""
    cfg = load_config(cfg_path)
    out = []
    for name in LOAD_ORDER:
        if name not in cfg.tables:
            continue
        files = [cfg.tables[name]]
        if chunk and cfg.tables[name].suffix == ".csv":
            files = split(cfg.tables[name], scratch / name, chunk)
        configs = [dataclasses.replace(cfg, tables={**cfg.tables, name: f}) for f in files]
        best, best_cpu, rows = float("inf"), float("inf"), 0
        for _ in range(repeat):
            t0, c0 = time.perf_counter(), time.process_time()
            rows = sum(load_table(name, c).rows_read for c in configs)
            best = min(best, time.perf_counter() - t0)
            best_cpu = min(best_cpu, time.process_time() - c0)
        out.append((name, rows, best, best_cpu))
    return out


def main(argv: list[str] | None = None) -> None:
    """Print rows/s per table and in total."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("k", nargs="?", type=int, default=10)
    ap.add_argument("--dir", type=Path, default=None)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--chunk", type=int, default=None)
    ap.add_argument("--profile", default=None)
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.dir or Path(tmp) / "trust"
        cfg_path = folder / "trust.yml"
        if not cfg_path.exists():
            scaled_copy(args.k, folder)
        if args.profile:
            cfg = load_config(cfg_path)
            prof = cProfile.Profile()
            prof.runcall(load_table, args.profile, cfg)
            pstats.Stats(prof).sort_stats("cumulative").print_stats(30)
            return
        results = time_tables(cfg_path, args.repeat, args.chunk, Path(tmp) / "chunks")
    print(f"{'table':<18} {'rows':>11} {'secs':>7} {'rows/s':>11} {'cpu s':>7} {'rows/cpu s':>11}")
    for name, rows, secs, cpu in results:
        print(
            f"{name:<18} {rows:>11,} {secs:>7.2f} {rows / secs:>11,.0f} {cpu:>7.2f} "
            f"{rows / cpu:>11,.0f}"
        )
    rows = sum(r[1] for r in results)
    secs = sum(r[2] for r in results)
    cpu = sum(r[3] for r in results)
    print(
        f"{'total':<18} {rows:>11,} {secs:>7.2f} {rows / secs:>11,.0f} {cpu:>7.2f} "
        f"{rows / cpu:>11,.0f}"
    )
    print("(secs: wall clock, best of the runs; cpu s: this process's CPU time, Arrow's threads "
          "included. On a busy machine the CPU figure is the steadier one.)")


if __name__ == "__main__":
    main()
