"""Time cilib.stats.spc on many series: 10,000 series of 36 points, XmR and p charts.

Run: ``.venv/bin/python benchmarks/bench_spc.py [n_series] [n_points]``
"""

from __future__ import annotations

import sys
import time

import numpy as np
import pandas as pd

from cilib.stats import spc


def make_data(n_series: int, n_points: int, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    series = np.repeat(np.arange(n_series), n_points)
    period = np.tile(np.arange(1, n_points + 1), n_series)
    trials = rng.integers(20, 200, size=n_series * n_points)
    return pd.DataFrame(
        {
            "series": series,
            "period": period,
            "value": rng.normal(95, 2, size=n_series * n_points),
            "count": rng.binomial(trials, 0.3),
            "trials": trials,
        }
    )


def best_of(fn, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    n_series = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    n_points = int(sys.argv[2]) if len(sys.argv) > 2 else 36
    df = make_data(n_series, n_points)
    print(f"{n_series:,} series x {n_points} points ({len(df):,} rows)")
    t_xmr = best_of(lambda: spc.chart(df, "value", "period", kind="xmr", by="series"))
    print(f"chart by= xmr: {t_xmr:.2f} s  (limits, all four rules, labels, tidy frame)")
    t_p = best_of(lambda: spc.chart(df, "count", "period", kind="p", n="trials", by="series"))
    print(f"chart by= p:   {t_p:.2f} s")
    one = df[df["series"] == 0]
    t_one = best_of(lambda: spc.chart(one, "value", "period", kind="xmr"), repeat=20)
    print(
        f"chart (one series, xmr): {t_one * 1000:.1f} ms per series "
        f"-> {t_one * n_series:.0f} s if looped over {n_series:,} series"
    )


if __name__ == "__main__":
    main()
