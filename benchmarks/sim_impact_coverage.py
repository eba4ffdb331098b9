"""Coverage of the impact interval when whole schools are assigned to a strategy.

Each simulated trial has S schools (half run the strategy), school sizes drawn from 10 to 50
pupils, a school effect on gains with intraclass correlation ICC, and a true effect of 3 points on
gains (SD of gains 10). For each design the script prints the share of trials whose 95% interval
of the difference in mean gains contains the true effect: pupils independent (Welch, as without
``cluster=``) and school-clustered (``cluster="school_id"``: CR2 with Satterthwaite df), with the
Monte Carlo SE, the mean Satterthwaite df, the mean estimated ICC and design effect, and the share
of trials flagged ``too_few_clusters``. Trials flagged too few schools have no interval; they are
counted as not covering (none are flagged with 20 or more schools). A last block repeats the
20-school designs for the ANCOVA form (``adjust=True``).

Run: .venv/bin/python benchmarks/sim_impact_coverage.py [reps] [seed]
(defaults 1000 replications per design, seed 2026).
"""

from __future__ import annotations

import sys
import time

import numpy as np
import pandas as pd

from cilib.stats.impact import estimate_impact

EFFECT = 3.0


def trial(rng: np.random.Generator, n_schools: int, icc: float) -> pd.DataFrame:
    """One trust: school-level assignment, unequal schools, school effects on gains."""
    size = rng.integers(10, 51, n_schools)
    sch = np.repeat(np.arange(n_schools), size)
    treat = (rng.permutation(n_schools) < n_schools // 2)[sch]
    pre = rng.normal(50, 10, len(sch))
    u = rng.normal(0, 10 * np.sqrt(icc), n_schools)[sch]
    post = pre + 2 + EFFECT * treat + 0.3 * (pre - 50) + u
    post = post + rng.normal(0, 10 * np.sqrt(1 - icc), len(sch))
    return pd.DataFrame({"school_id": sch, "treated": treat, "pre": pre, "post": post})


def run(rng: np.random.Generator, n_schools: int, icc: float, reps: int, adjust: bool) -> dict:
    cover_n = cover_c = few = 0
    dfs, iccs, deffs = [], [], []
    for _ in range(reps):
        d = trial(rng, n_schools, icc)
        kw = {"baseline": "pre", "adjust": adjust}
        n = estimate_impact(d, "post", "treated", **kw).effects.iloc[0]
        c = estimate_impact(d, "post", "treated", cluster="school_id", **kw).effects.iloc[0]
        cover_n += n["ci_low"] <= EFFECT <= n["ci_high"]
        cover_c += c["ci_low"] <= EFFECT <= c["ci_high"]
        few += bool(c["too_few_clusters"])
        dfs.append(c["df"])
        iccs.append(c["icc"])
        deffs.append(c["design_effect"])
    return {
        "naive": cover_n / reps,
        "clustered": cover_c / reps,
        "df": float(np.mean(dfs)),
        "icc": float(np.mean(iccs)),
        "deff": float(np.mean(deffs)),
        "few": few / reps,
    }


def main(reps: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    mcse = np.sqrt(0.95 * 0.05 / reps)
    print(
        f"{reps} simulated trials per design, seed {seed}, true effect {EFFECT} on gains "
        f"(SD 10), schools of 10-50 pupils, half the schools treated, nominal 95%; "
        f"Monte Carlo SE of a coverage near 95%: {100 * mcse:.1f} points"
    )
    head = (
        f"{'form':>6} {'schools':>7} {'ICC':>5} {'naive %':>8} {'CR2 %':>6} {'mean df':>8} "
        f"{'est ICC':>8} {'deff':>5} {'too few':>7} {'sec':>5}"
    )
    print(head)
    designs = [("gains", s, i) for s in (20, 30, 40) for i in (0.05, 0.10, 0.15)]
    designs += [("ANCOVA", 20, i) for i in (0.05, 0.15)]
    for form, s, icc in designs:
        t0 = time.perf_counter()
        r = run(rng, s, icc, reps, adjust=form == "ANCOVA")
        print(
            f"{form:>6} {s:>7} {icc:>5.2f} {100 * r['naive']:>8.1f} {100 * r['clustered']:>6.1f} "
            f"{r['df']:>8.1f} {r['icc']:>8.3f} {r['deff']:>5.2f} {100 * r['few']:>6.1f}% "
            f"{time.perf_counter() - t0:>5.0f}"
        )


if __name__ == "__main__":
    main(
        int(sys.argv[1]) if len(sys.argv) > 1 else 1000,
        int(sys.argv[2]) if len(sys.argv) > 2 else 2026,
    )
