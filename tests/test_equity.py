"""Tests for cilib.stats.equity: group summaries and gaps against scipy, statsmodels or a
published example."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats
from statsmodels.stats.proportion import confint_proportions_2indep, proportion_confint

from cilib.core.errors import CilibError, DataError
from cilib.stats import equity as eq
from cilib.stats import funnel, intervals, suppression, trend


def pupils(n_focus=40, n_other=60, shift=-5.0, seed=1):
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "school": rng.choice(["A", "B"], n_focus + n_other),
            "dis": [True] * n_focus + [False] * n_other,
            "score": np.r_[rng.normal(50 + shift, 9, n_focus), rng.normal(50, 12, n_other)],
            "pass": np.r_[rng.random(n_focus) < 0.45, rng.random(n_other) < 0.65],
        }
    )


# ---------------------------------------------------------------- means


def test_group_summary_mean_matches_scipy_t_interval():
    """Mean CI equals scipy's one-sample t interval on the raw values, per group."""
    df = pupils()
    out = eq.group_summary(df, "score", "school")
    for _, row in out.iterrows():
        x = df.loc[df["school"] == row["school"], "score"].to_numpy()
        ci = stats.ttest_1samp(x, 0).confidence_interval(0.95)
        assert row["n"] == len(x)
        assert row["mean"] == pytest.approx(x.mean(), abs=1e-12)
        assert row["sd"] == pytest.approx(x.std(ddof=1), rel=1e-10)
        assert row["se"] == pytest.approx(stats.sem(x), rel=1e-10)
        assert row["ci_low"] == pytest.approx(ci.low, abs=1e-10)
        assert row["ci_high"] == pytest.approx(ci.high, abs=1e-10)


def test_group_summary_sum_of_squares_is_stable_for_large_offsets():
    """Shifted sums of squares keep the SD right when values sit far from zero."""
    x = 1e9 + np.array([0.1, 0.2, 0.3, 0.4])
    out = eq.group_summary(pd.DataFrame({"v": x}), "v", threshold=1)
    assert out["sd"].iloc[0] == pytest.approx(np.std(x, ddof=1), rel=1e-6)


def test_gap_mean_matches_scipy_welch():
    """Gap CI equals scipy's Welch t-test interval on the raw values."""
    df = pupils()
    out = eq.gap(df, "score", "dis", focus=True)
    a = df.loc[df["dis"], "score"].to_numpy()
    b = df.loc[~df["dis"], "score"].to_numpy()
    ci = stats.ttest_ind(a, b, equal_var=False).confidence_interval(0.95)
    row = out.iloc[0]
    assert row["gap"] == pytest.approx(a.mean() - b.mean(), abs=1e-10)
    assert row["gap_ci_low"] == pytest.approx(ci.low, abs=1e-9)
    assert row["gap_ci_high"] == pytest.approx(ci.high, abs=1e-9)
    assert row["n_focus"] == 40 and row["n_comparison"] == 60
    assert row["focus"] == pytest.approx(a.mean()) and row["comparison"] == pytest.approx(b.mean())


def test_gap_by_cell_and_explicit_comparison_list():
    """Per-school gaps use only that school's pupils; comparison may be a list of values."""
    df = pupils()
    df["grp"] = np.where(df["dis"], "d", np.where(df.index % 2 == 0, "o1", "o2"))
    out = eq.gap(df, "score", "grp", focus="d", comparison=["o1", "o2"], by="school")
    for _, row in out.iterrows():
        s = df[df["school"] == row["school"]]
        a, b = s.loc[s["grp"] == "d", "score"], s.loc[s["grp"] != "d", "score"]
        ci = stats.ttest_ind(a, b, equal_var=False).confidence_interval()
        assert row["gap_ci_low"] == pytest.approx(ci.low, abs=1e-9)


def test_hedges_g_published_example_and_raw_computation():
    """Hedges' g reproduces Borenstein et al. (2009) and a raw-data computation."""
    g, se, lo, hi = intervals.hedges_g(50, 103.0, 5.5, 50, 100.0, 4.5)
    assert g[0] == pytest.approx(0.5924, abs=5e-5)  # Borenstein et al. 2009, p. 27
    assert se[0] == pytest.approx(np.sqrt(100 / 2500 + 0.5924**2 / 200), abs=1e-4)
    assert lo[0] == pytest.approx(g[0] - 1.959964 * se[0], abs=1e-6)
    df = pupils()
    a = df.loc[df["dis"], "score"].to_numpy()
    b = df.loc[~df["dis"], "score"].to_numpy()
    n1, n2 = len(a), len(b)
    sp = np.sqrt((np.sum((a - a.mean()) ** 2) + np.sum((b - b.mean()) ** 2)) / (n1 + n2 - 2))
    g_hand = (a.mean() - b.mean()) / sp * (1 - 3 / (4 * (n1 + n2) - 9))
    out = eq.gap(df, "score", "dis", focus=True)
    assert out["effect_size"].iloc[0] == pytest.approx(g_hand, rel=1e-10)


# ---------------------------------------------------------------- rates


def test_group_summary_rate_wilson_and_boolean_values():
    """A boolean column gives the rate, Wilson interval and n per group."""
    df = pupils()
    out = eq.group_summary(df, "pass", "dis", kind="rate")
    row = out[out["dis"]].iloc[0]
    x = int(df.loc[df["dis"], "pass"].sum())
    slo, shi = proportion_confint(x, 40, method="wilson")
    assert row["rate"] == pytest.approx(x / 40)
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((slo, shi), abs=1e-12)
    assert row["sd"] == pytest.approx(df.loc[df["dis"], "pass"].astype(float).std(ddof=1))


def test_gap_rate_columns_and_g_on_binary_values():
    """Rate gap: Newcombe interval, ratio, and Hedges' g computed on the 0/1 values."""
    df = pupils()
    out = eq.gap(df, "pass", "dis", focus=True, kind="rate").iloc[0]
    a = df.loc[df["dis"], "pass"].astype(float).to_numpy()
    b = df.loc[~df["dis"], "pass"].astype(float).to_numpy()
    ref = confint_proportions_2indep(a.sum(), 40, b.sum(), 60, method="newcomb", compare="diff")
    assert (out["gap_ci_low"], out["gap_ci_high"]) == pytest.approx(ref, abs=1e-10)
    assert out["ratio"] == pytest.approx(a.mean() / b.mean())
    sp = np.sqrt(((40 - 1) * a.var(ddof=1) + (60 - 1) * b.var(ddof=1)) / 98)
    g_hand = (a.mean() - b.mean()) / sp * (1 - 3 / (4 * 100 - 9))
    assert out["effect_size"] == pytest.approx(g_hand, rel=1e-10)


def test_weighted_rate_uses_ratio_estimator_variance():
    """Attendance-style rate: the effective trials follow the HC1 variance of a WLS mean."""
    rng = np.random.default_rng(3)
    poss = rng.integers(50, 70, 30).astype(float)
    rate = np.clip(rng.normal(0.92, 0.08, 30), 0, 1)
    df = pd.DataFrame({"rate": rate, "possible": poss})
    out = eq.group_summary(df, "rate", kind="rate", weight="possible").iloc[0]
    r = np.sum(rate * poss) / poss.sum()
    fit = sm.WLS(rate, np.ones(30), weights=poss).fit(cov_type="HC1")
    v = fit.bse[0] ** 2
    assert out["rate"] == pytest.approx(r, rel=1e-12)
    assert fit.params[0] == pytest.approx(r, rel=1e-12)
    n_eff = r * (1 - r) / v
    lo, hi = proportion_confint(r * n_eff, n_eff, method="wilson")
    assert (out["ci_low"], out["ci_high"]) == pytest.approx((lo, hi), abs=1e-9)
    assert out["n"] == 30
    # identical pupils: no extra between-pupil variance, capped at the number of sessions
    same = pd.DataFrame({"rate": [0.9] * 10, "possible": [60.0] * 10})
    one = eq.group_summary(same, "rate", kind="rate", weight="possible").iloc[0]
    lo, hi = proportion_confint(540, 600, method="wilson")
    assert (one["ci_low"], one["ci_high"]) == pytest.approx((lo, hi), abs=1e-12)


def test_gap_from_published_stats_without_sd():
    """A published table without SDs gives the gap but no interval or effect size."""
    t = pd.DataFrame(
        {
            "urn": [1, 2],
            "n_focus": [20, 3],
            "mean_focus": [38.0, 30.0],
            "n_comparison": [120, 100],
            "mean_comparison": [50.0, 49.0],
        }
    )
    out = eq.gap_from_stats(t, kind="mean")
    assert out["gap"].iloc[0] == pytest.approx(-12.0)
    assert np.isnan(out["gap_ci_low"].iloc[0]) and np.isnan(out["effect_size"].iloc[0])
    assert out["suppressed"].tolist() == [False, True]
    assert np.isnan(out["gap"].iloc[1]) and np.isnan(out["mean_focus"].iloc[1])


# ---------------------------------------------------------------- suppression


def test_gap_suppressed_when_either_side_small():
    """A cell with fewer than threshold pupils on either side shows no figure."""
    df = pupils(n_focus=4, n_other=30)
    out = eq.gap(df, "score", "dis", focus=True, threshold=5).iloc[0]
    assert bool(out["suppressed"])
    stat_cols = ["focus", "comparison", "gap", "gap_ci_low", "effect_size"]
    assert out[stat_cols].isna().all()
    assert out["n_focus"] == 4


def test_group_summary_primary_suppression():
    """A group below the threshold has every figure set to NaN."""
    df = pd.DataFrame({"g": ["a"] * 4 + ["b"] * 6, "v": range(10)})
    out = eq.group_summary(df, "v", "g", threshold=5)
    a = out[out["g"] == "a"].iloc[0]
    assert bool(a["suppressed"]) and a[["mean", "sd", "se", "ci_low", "ci_high"]].isna().all()
    assert not out[out["g"] == "b"]["suppressed"].iloc[0]


# ---------------------------------------------------------------- errors and purity


def test_errors_say_what_to_fix():
    """Bad inputs raise DataError (a CilibError) with a useful message."""
    df = pupils()
    with pytest.raises(DataError, match="lacks column"):
        eq.group_summary(df, "nope", "school")
    with pytest.raises(DataError, match="kind must be"):
        eq.group_summary(df, "score", "school", kind="median")
    with pytest.raises(DataError, match="0/1 or boolean"):
        eq.group_summary(df, "score", "school", kind="rate")
    with pytest.raises(DataError, match="no rows have"):
        eq.gap(df, "score", "dis", focus="yes")
    with pytest.raises(DataError, match="overlap"):
        eq.gap(df, "score", "dis", focus=True, comparison=[True, False])
    with pytest.raises(DataError, match="must be numeric"):
        eq.group_summary(pd.DataFrame({"v": ["1", "SUPP"]}), "v")
    with pytest.raises(DataError, match="needs sd="):
        funnel.funnel(
            pd.DataFrame({"u": ["a"], "n": [5], "v": [3.0]}), "v", "u", kind="mean", n="n"
        )
    with pytest.raises(CilibError, match="group_col"):
        suppression.suppress(pd.DataFrame({"n": [1]}), 5, total_row="all")


def test_functions_do_not_mutate_input():
    """Inputs come back unchanged."""
    df = pupils()
    before = df.copy()
    eq.group_summary(df, "score", "school")
    eq.gap(df, "pass", "dis", focus=True, kind="rate", by="school")
    funnel.funnel(df, "score", "school", kind="mean")
    pd.testing.assert_frame_equal(df, before)


def test_rate_gap_se_does_not_collapse_at_zero():
    """A half-term at 0/6 gets no outsized weight; 2/6 five times then 0/6 is not 'reversed'."""
    stats = pd.DataFrame(
        {
            "period": list(range(6)),
            "n_focus": [6] * 6,
            "successes_focus": [2, 2, 2, 2, 2, 0],
            "trials_focus": [6.0] * 6,
            "n_comparison": [100] * 6,
            "successes_comparison": [30] * 6,
            "trials_comparison": [100.0] * 6,
        }
    )
    gaps = eq.gap_from_stats(stats, kind="rate", threshold=5)
    # independent: half-width of statsmodels' Newcombe interval over z
    lo, hi = confint_proportions_2indep(0, 6, 30, 100, method="newcomb", compare="diff")
    assert gaps["gap_se"].iloc[5] == pytest.approx((hi - lo) / (2 * 1.959963984540054))
    w = 1 / gaps["gap_se"] ** 2
    assert w.iloc[5] / w.sum() < 0.3  # the Wald SE gave this one half-term 80% of the weight
    verdict = trend.gap_trend_from_gaps(gaps, "period")
    assert verdict["trend"].item() == "no clear change"


def test_rate_se_does_not_collapse_at_zero_or_one():
    """A rate's SE at 0/6 and 6/6 is the Wilson half-width over z (statsmodels), not 0."""
    t = pd.DataFrame({"cell": ["zero", "one", "mid"], "n": [6, 6, 40], "successes": [0, 6, 12]})
    out = eq.summary_from_stats(t.assign(trials=t["n"]), kind="rate")
    for x, n, se in zip(t["successes"], t["n"], out["se"], strict=True):
        lo, hi = proportion_confint(x, n, method="wilson")
        assert se == pytest.approx((hi - lo) / (2 * 1.959963984540054))
    assert (out["se"] > 0.05).iloc[:2].all()  # the Wald SE was 0 at both ends


def test_rate_gap_se_does_not_collapse_at_one():
    """At 6/6 against 30/100 the gap's SE is the Newcombe half-width over z (statsmodels)."""
    stats = pd.DataFrame(
        {
            "n_focus": [6],
            "successes_focus": [6],
            "trials_focus": [6.0],
            "n_comparison": [100],
            "successes_comparison": [30],
            "trials_comparison": [100.0],
        }
    )
    g = eq.gap_from_stats(stats, kind="rate", threshold=5)
    lo, hi = confint_proportions_2indep(6, 6, 30, 100, method="newcomb", compare="diff")
    assert g["gap_se"].iloc[0] == pytest.approx((hi - lo) / (2 * 1.959963984540054))
    assert g["gap_ci_low"].iloc[0] == pytest.approx(lo)
    wald = np.sqrt(0.3 * 0.7 / 100)  # the focus side contributes nothing in the Wald form
    assert g["gap_se"].iloc[0] > 2 * wald
