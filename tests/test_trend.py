"""Tests for cilib.stats.trend: pupil-clustered and gap-level trends against statsmodels."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from cilib.core.errors import DataError
from cilib.stats import equity, trend


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
    # p-value and interval: Student's t with G - 1 degrees of freedom (statsmodels' cluster
    # t_test with use_t and df_resid set to G - 1 gives the same)
    g = rows["pupil"].nunique()
    fit_t = sm.OLS(rows["y"].to_numpy(), cells.to_numpy()).fit(
        cov_type="cluster", cov_kwds={"groups": rows["pupil"].to_numpy()}, use_t=True
    )
    fit_t.df_resid = g - 1
    tt2 = fit_t.t_test(contrast)
    assert res["p_value"] == pytest.approx(float(tt2.pvalue), rel=1e-7)
    lo, hi = tt2.conf_int(alpha=0.05)[0]
    assert (res["slope_ci_low"], res["slope_ci_high"]) == pytest.approx((lo, hi), rel=1e-7)


@pytest.mark.slow
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


# ---------------------------------------------------------------- gap trend from a frame of gaps


def _trend_frame(gaps, ses, school="A"):
    return pd.DataFrame(
        {
            "school": school,
            "period": [f"P{i}" for i in range(len(gaps))],
            "gap": gaps,
            "gap_se": ses,
        }
    )


def test_gap_trend_matches_statsmodels_wls_fixed_scale():
    """Slope and SE equal statsmodels WLS with the scale fixed at 1 (known variances)."""
    gaps = np.array([-8.0, -7.1, -6.0, -5.3, -4.0])
    ses = np.array([1.0, 1.2, 0.9, 1.1, 1.0])
    out = trend.gap_trend_from_gaps(_trend_frame(gaps, ses), "period").iloc[0]
    x = sm.add_constant(np.arange(5.0))
    fit = sm.WLS(gaps, x, weights=1 / ses**2).fit(cov_type="fixed scale", use_t=False)
    assert out["slope"] == pytest.approx(fit.params[1], rel=1e-10)
    assert out["dispersion"] == 1.0  # points scatter less than their SEs
    assert out["slope_se"] == pytest.approx(fit.bse[1], rel=1e-10)
    lo, hi = fit.conf_int()[1]
    assert (out["slope_ci_low"], out["slope_ci_high"]) == pytest.approx((lo, hi), rel=1e-10)
    assert out["p_value"] == pytest.approx(fit.pvalues[1], rel=1e-8)
    assert out["trend"] == "narrowing"  # negative gap moving towards zero


def test_gap_trend_overdispersed_uses_estimated_scale():
    """When gaps bounce more than their SEs allow, the SE uses statsmodels' WLS scale."""
    gaps = np.array([-8.0, -3.0, -9.0, -2.0, -6.0, -1.0])
    ses = np.full(6, 0.5)
    out = trend.gap_trend_from_gaps(_trend_frame(gaps, ses), "period").iloc[0]
    x = sm.add_constant(np.arange(6.0))
    fit = sm.WLS(gaps, x, weights=1 / ses**2).fit(use_t=False)
    assert fit.scale > 1
    assert out["slope_se"] == pytest.approx(fit.bse[1], rel=1e-10)
    assert out["trend"] == "no clear change"


def test_gap_trend_classifications():
    """Widening, reversed and no-clear-change cases, and SE from the CI when no se column."""
    wide = trend.gap_trend_from_gaps(_trend_frame([-2.0, -4.0, -6.0, -8.0], [0.5] * 4), "period")
    assert wide["trend"].iloc[0] == "widening"
    pos_wide = trend.gap_trend_from_gaps(_trend_frame([2.0, 4.0, 6.0, 8.0], [0.5] * 4), "period")
    assert pos_wide["trend"].iloc[0] == "widening"
    rev = trend.gap_trend_from_gaps(_trend_frame([-3.0, -1.0, 1.0, 3.0], [0.5] * 4), "period")
    assert rev["trend"].iloc[0] == "reversed"
    noisy = trend.gap_trend_from_gaps(_trend_frame([-8.0, -7.0, -6.0], [5.0] * 3), "period")
    assert noisy["trend"].iloc[0] == "no clear change"
    ci = pd.DataFrame(
        {
            "year": [1, 2, 3],
            "gap": [-6.0, -4.0, -2.0],
            "gap_ci_low": [-7.96, -5.96, -3.96],
            "gap_ci_high": [-4.04, -2.04, -0.04],
        }
    )
    out = trend.gap_trend_from_gaps(ci, "year").iloc[0]
    assert out["slope_se"] == pytest.approx(np.sqrt(1 / 2), rel=1e-9)  # se = 1 at each point
    one = trend.gap_trend_from_gaps(_trend_frame([-3.0], [0.5]), "period")
    assert one["trend"].iloc[0] == "insufficient data"


def test_gap_trend_per_cell_order_and_suppressed_rows():
    """Cells are the non-statistic columns; order= sets the period index; NaN gaps are skipped."""
    a = _trend_frame([-6.0, -4.0, np.nan, -2.0], [0.5] * 4, "A")
    b = _trend_frame([-2.0, -4.0, -6.0, -8.0], [0.5] * 4, "B")
    g = pd.concat([a, b]).assign(suppressed=lambda d: d["gap"].isna())
    out = trend.gap_trend_from_gaps(g, "period", order=["P0", "P1", "P2", "P3"]).set_index("school")
    assert out.loc["A", "n_periods"] == 3 and out.loc["A", "trend"] == "narrowing"
    assert out.loc["B", "trend"] == "widening"
    rev_order = trend.gap_trend_from_gaps(b, "period", order=["P3", "P2", "P1", "P0"])
    assert rev_order["trend"].iloc[0] == "narrowing"
    with pytest.raises(DataError, match="not in order"):
        trend.gap_trend_from_gaps(b, "period", order=["P0", "P1"])


def test_gap_trend_from_gap_output():
    """gap() output feeds gap_trend directly (period as a by column)."""
    rng = np.random.default_rng(7)
    rows = []
    for t, shift in enumerate([-10, -7, -4, -1]):
        rows.append(
            pd.DataFrame(
                {
                    "year": 2020 + t,
                    "dis": [True] * 200 + [False] * 200,
                    "score": np.r_[rng.normal(50 + shift, 8, 200), rng.normal(50, 8, 200)],
                }
            )
        )
    gaps = equity.gap(pd.concat(rows), "score", "dis", focus=True, by="year")
    out = trend.gap_trend_from_gaps(gaps, "year")
    assert len(out) == 1 and out["trend"].iloc[0] == "narrowing"


def test_p_value_agrees_with_the_verdict():
    """A trend is named exactly when its p-value is below 5%; too few periods give no p-value."""
    rng = np.random.default_rng(11)
    for slope in (0.0, 0.15, 0.4):
        rows = _panel(rng, slope=slope, n_pupils=200, periods=6)
        r = trend.gap_trend(rows, "t", value="y", group="dis", focus=True, pupil="pupil").iloc[0]
        assert (r["p_value"] < 0.05) == (r["trend"] != "no clear change")
    one = trend.gap_trend_from_gaps(_trend_frame([-3.0], [0.5]), "period").iloc[0]
    assert np.isnan(one["p_value"]) and one["trend"] == "insufficient data"
