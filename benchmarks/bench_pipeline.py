"""Benchmark: load + validate + store for the sample trust, and for copies scaled up k times.

Usage: .venv/bin/python benchmarks/bench_pipeline.py [k ...]   (default: 1 4)

A scaled trust repeats the sample's pupil-level rows k times with suffixed pupil ids, so a
k = 4 trust has about 46,000 pupil-years and 1.5 million rows. Prints seconds per step and the
process's peak memory.
"""

from __future__ import annotations

import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

from cilib.data.config import load_config
from cilib.data.prepare import prepare

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "data" / "sample"
PUPIL_TABLES = ("pupils", "assessments", "attendance", "behaviour", "survey_responses")


def scaled_copy(k: int, folder: Path) -> Path:
    """Write the sample trust with every pupil-level table repeated k times."""
    shutil.copytree(SAMPLE, folder, ignore=shutil.ignore_patterns("store"))
    for name in PUPIL_TABLES:
        df = pd.read_csv(SAMPLE / f"{name}.csv", dtype=str, keep_default_na=False)
        parts = []
        for i in range(k):
            part = df.copy()
            for col in ("pupil_id", "respondent_id"):
                if col in part.columns:
                    part[col] = part[col].where(part[col] == "", part[col] + f"-{i}")
            parts.append(part)
        pd.concat(parts).to_csv(folder / f"{name}.csv", index=False)
    return folder / "trust.yml"


def main(ks: list[int]) -> None:
    """Print timings for each scale factor."""
    print(f"{'k':>3} {'rows in':>10} {'prepare s':>10} {'peak MiB':>9}")
    for k in ks:
        with tempfile.TemporaryDirectory() as tmp:
            cfg = scaled_copy(k, Path(tmp) / "trust") if k > 1 else None
            if cfg is None:
                shutil.copytree(SAMPLE, Path(tmp) / "trust", ignore=shutil.ignore_patterns("store"))
                cfg = Path(tmp) / "trust" / "trust.yml"
            t0 = time.perf_counter()
            store = prepare(load_config(cfg), "2025/26 HT6")
            secs = time.perf_counter() - t0
            rows = int(store.data_quality["rows_in"].sum())
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            print(f"{k:>3} {rows:>10,} {secs:>10.1f} {peak:>9.0f}", flush=True)


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [1, 4])
