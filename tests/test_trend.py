"""Tests for cilib.stats.trend: pupil-clustered gap trends against statsmodels and by simulation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from cilib.stats import trend


def _panel(rng, *, n_pupils=300, periods=8, rho=0.8, slope=0.0, share=0.3):
    """Pupils followed over periods: a lasting pupil effect plus AR(1) noise."""
    dis = rng.random(n_pupils) < share
    base = rng.normal(0, 1.0, n_pupils)
    noise = rng.normal(0, 1.0, n_pupils)
    rows = []
    for t in range(periods):
        if t:
            noise = rho * noise + np.sqrt(1 - rho**2) * rng.normal(0, 1.0, n_pupils)
        y = 50 + 5 * base + 5 * noise - 4 * dis + slope * t * dis
        rows.append(pd.DataFrame({"pupil": np.arange(n_pupils), "t": t, "dis": dis, "y": y}))
    return pd.concat(rows, ignore_index=True)


def test_slope_and_se_match_statsmodels_cluster_robust_contrast():
    """Slope and SE equal a statsmodels OLS with pupil-clustered covariance (CR1) contrast."""
    rng = np.random.default_rng(1)
    rows = _panel(rng, n_pupils=120, periods=5)
    rows = rows.sample(frac=0.9, random_state=2)  # unbalanced: some pupils miss a period
    res = trend.gap_trend(rows, "t", value="y", group="dis", focus=True, pupil="pupil").iloc[0]
    cells = pd.get_dummies(rows["t"].astype(str) + "_" + rows["dis"].astype(str)).astype(float)
    fit = sm.OLS(rows["y"].to_numpy(), cells.to_numpy()).fit(
        cov_type="cluster", cov_kwds={"groups": rows["pupil"].to_numpy()}
    )
    x = np.arange(5.0)
    c = (x - x.mean()) / np.sum((x - x.mean()) ** 2)
    contrast = np.zeros(cells.shape[1])
    for t in range(5):
        contrast[list(cells.columns).index(f"{t}_True")] = c[t]
        contrast[list(cells.columns).index(f"{t}_False")] = -c[t]
    tt = fit.t_test(contrast)
    assert res["slope"] == pytest.approx(float(tt.effect[0]), rel=1e-10)
    assert res["slope_se"] == pytest.approx(float(tt.sd[0, 0]), rel=1e-8)
    assert res["n_pupils"] == rows["pupil"].nunique()


def test_false_trend_rate_near_nominal_with_autocorrelated_pupils():
    """No true trend, pupils repeated with rho = 0.8: trends declared near the nominal 5%."""
    rng = np.random.default_rng(7)
    hits = 0
    reps = 300
    for _ in range(reps):
        rows = _panel(rng)
        r = trend.gap_trend(rows, "t", value="y", group="dis", focus=True, pupil="pupil")
        hits += r["trend"].iloc[0] != "no clear change"
    # nominal 5%; 300 runs give a binomial SE of about 1.3 points
    assert 0.02 <= hits / reps <= 0.085


def test_finds_a_real_narrowing_and_respects_threshold():
    """A planted narrowing is found; periods where a group is below threshold are left out."""
    rng = np.random.default_rng(3)
    rows = _panel(rng, slope=0.4)
    r = trend.gap_trend(rows, "t", value="y", group="dis", focus=True, pupil="pupil").iloc[0]
    assert r["trend"] == "narrowing" and r["slope_ci_low"] > 0
    small = rows.loc[~((rows["t"] == 0) & rows["dis"] & (rows["pupil"] > 20))]
    r2 = trend.gap_trend(
        small, "t", value="y", group="dis", focus=True, pupil="pupil", threshold=30
    ).iloc[0]
    assert r2["n_periods"] == 7 and r2["first_period"] == 1


def test_by_cells_and_gap_frame_form():
    """by= gives one row per cell; without value= the gap-frame trend is used."""
    rng = np.random.default_rng(4)
    rows = pd.concat([_panel(rng).assign(school=s) for s in ("A", "B")], ignore_index=True)
    rows["pupil"] = rows["school"] + rows["pupil"].astype(str)
    r = trend.gap_trend(rows, "t", value="y", group="dis", focus=True, pupil="pupil", by="school")
    assert r["school"].tolist() == ["A", "B"]
    g = pd.DataFrame({"t": [0, 1, 2], "gap": [-5.0, -4.0, -3.0], "gap_se": [0.2] * 3})
    assert trend.gap_trend(g, "t")["trend"].item() == "narrowing"
