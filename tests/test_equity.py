"""Tests for cilib.stats.equity: every interval against scipy, statsmodels or a published
example."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats
from statsmodels.stats.proportion import confint_proportions_2indep, proportion_confint

from cilib.core.errors import CilibError, DataError
from cilib.stats import equity as eq

RNG = np.random.default_rng(20260101)


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
    g, se, lo, hi = eq.hedges_g(50, 103.0, 5.5, 50, 100.0, 4.5)
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


def test_wilson_matches_statsmodels():
    """Wilson interval equals statsmodels proportion_confint(method='wilson')."""
    x = np.array([0, 1, 5, 17, 50, 99, 100])
    n = np.array([10, 10, 30, 40, 100, 100, 100])
    lo, hi = eq.wilson_interval(x, n)
    slo, shi = proportion_confint(x, n, alpha=0.05, method="wilson")
    assert np.max(np.abs(lo - slo)) < 1e-12 and np.max(np.abs(hi - shi)) < 1e-12


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


def test_newcombe_published_example_and_statsmodels():
    """Newcombe method 10 reproduces the 1998 paper's example (a) and statsmodels 'newcomb'."""
    d, lo, hi = eq.newcombe_interval(56, 70, 48, 80)
    assert (lo[0], hi[0]) == pytest.approx((0.0524, 0.3339), abs=5e-5)
    for x1, n1, x2, n2 in [(9, 10, 3, 10), (5, 56, 0, 29), (30, 100, 45, 120)]:
        _, lo, hi = eq.newcombe_interval(x1, n1, x2, n2)
        ref = confint_proportions_2indep(x1, n1, x2, n2, method="newcomb", compare="diff")
        assert (lo[0], hi[0]) == pytest.approx(ref, abs=1e-10)


def _mover_ratio_reference(x1, n1, x2, n2):
    """MOVER ratio interval from statsmodels' Wilson limits (Donner and Zou 2012)."""
    from statsmodels.stats.proportion import proportion_confint

    p1, p2 = x1 / n1, x2 / n2
    l1, u1 = proportion_confint(x1, n1, method="wilson")
    l2, u2 = proportion_confint(x2, n2, method="wilson")
    r = p1 / p2
    lo = r / np.exp(np.hypot(np.log(p1 / l1), np.log(u2 / p2)))
    hi = r * np.exp(np.hypot(np.log(u1 / p1), np.log(p2 / l2)))
    return lo, hi


def test_ratio_interval_is_mover_wilson_and_valid_at_100_percent():
    """Rate ratio: MOVER-Wilson limits; at x = n the interval does not collapse (3/3, 500/1000)."""
    for x1, n1, x2, n2 in [(30, 100, 20, 100), (12, 40, 50, 300), (3, 3, 500, 1000)]:
        r, lo, hi = eq.rate_ratio_interval(x1, n1, x2, n2)
        assert r[0] == pytest.approx((x1 / n1) / (x2 / n2))
        assert (lo[0], hi[0]) == pytest.approx(_mover_ratio_reference(x1, n1, x2, n2), abs=1e-10)
    # the Katz log method gives 1.88 to 2.13 here: three pupils cannot rule out a ratio of 1
    r, lo, hi = eq.rate_ratio_interval(3, 3, 500, 1000)
    assert lo[0] < 1 < hi[0]
    r, lo, hi = eq.rate_ratio_interval(0, 20, 5, 20)
    assert np.isnan(r[0]) and np.isnan(lo[0])


def test_ratio_interval_coverage_near_the_edges():
    """Simulated coverage of the ratio interval stays near 95% when p1 is close to 1."""
    rng = np.random.default_rng(5)
    n1, n2, p1, p2 = 8, 200, 0.95, 0.5
    x1 = rng.binomial(n1, p1, 20000)
    x2 = rng.binomial(n2, p2, 20000)
    ok = x1 > 0
    _, lo, hi = eq.rate_ratio_interval(x1[ok], n1, x2[ok], n2)
    coverage = np.mean((lo <= p1 / p2) & (p1 / p2 <= hi))
    assert coverage > 0.93


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


def test_secondary_suppression_two_subgroups():
    """Total 40 = 36 + 4: the 4 is suppressed and so is the 36 (else 4's mean = back-sum)."""
    t = pd.DataFrame({"group": ["all", "a", "b"], "n": [40, 36, 4], "mean": [50.0, 51.0, 41.0]})
    out = eq.suppress(t, 5, group_col="group", total_row="all")
    assert out["suppressed"].tolist() == [False, True, True]
    assert out["mean"].isna().tolist() == [False, True, True]
    # proof of the leak being closed: without secondary suppression the 4's mean is recoverable
    assert (40 * 50.0 - 36 * 51.0) / 4 == pytest.approx(41.0)


def test_secondary_suppression_three_subgroups_picks_next_smallest():
    """Total 40 = 20 + 17 + 3: the 3 and the next smallest (17) are suppressed, 20 stays."""
    t = pd.DataFrame(
        {
            "school": ["S"] * 4,
            "group": ["all", "x", "y", "z"],
            "n": [40, 20, 17, 3],
            "rate": [0.5, 0.6, 0.4, 0.33],
        }
    )
    out = eq.suppress(t, 5, group_col="group", total_row="all", by="school")
    assert out.set_index("group")["suppressed"].to_dict() == {
        "all": False,
        "x": False,
        "y": True,
        "z": True,
    }
    assert t["rate"].notna().all()  # input untouched


def test_secondary_suppression_per_block_and_zero_cells():
    """Blocks are handled separately; an empty subgroup cannot serve as the complement."""
    t = pd.DataFrame(
        {
            "school": ["S", "S", "S", "S", "T", "T", "T"],
            "group": ["all", "x", "y", "z", "all", "x", "y"],
            "n": [30, 27, 3, 0, 50, 25, 25],
            "mean": [1.0, 1.0, 1.0, np.nan, 2.0, 2.0, 2.0],
        }
    )
    out = eq.suppress(t, 5, group_col="group", total_row="all", by="school")
    assert out["suppressed"].tolist() == [False, True, True, False, False, False, False]
    hidden = eq.suppress(t, 5, group_col="group", total_row="all", by="school", hide_counts=True)
    assert hidden["n"].isna().tolist() == [False, True, True, False, False, False, False]


def test_format_suppressed_and_constants():
    """Suppressed figures display as 'x' and the footnote names the threshold."""
    t = eq.suppress(pd.DataFrame({"n": [3, 10], "mean": [1.0, 2.0]}), 5)
    shown = eq.format_suppressed(t)
    assert shown["mean"].tolist() == ["x", "2.0"]
    assert eq.SUPPRESSED_SYMBOL == "x"
    assert "5" in eq.SUPPRESSION_FOOTNOTE.format(threshold=5)


# ---------------------------------------------------------------- gap trend


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
    out = eq.gap_trend(_trend_frame(gaps, ses), "period").iloc[0]
    x = sm.add_constant(np.arange(5.0))
    fit = sm.WLS(gaps, x, weights=1 / ses**2).fit(cov_type="fixed scale", use_t=False)
    assert out["slope"] == pytest.approx(fit.params[1], rel=1e-10)
    assert out["dispersion"] == 1.0  # points scatter less than their SEs
    assert out["slope_se"] == pytest.approx(fit.bse[1], rel=1e-10)
    lo, hi = fit.conf_int()[1]
    assert (out["slope_ci_low"], out["slope_ci_high"]) == pytest.approx((lo, hi), rel=1e-10)
    assert out["trend"] == "narrowing"  # negative gap moving towards zero


def test_gap_trend_overdispersed_uses_estimated_scale():
    """When gaps bounce more than their SEs allow, the SE uses statsmodels' WLS scale."""
    gaps = np.array([-8.0, -3.0, -9.0, -2.0, -6.0, -1.0])
    ses = np.full(6, 0.5)
    out = eq.gap_trend(_trend_frame(gaps, ses), "period").iloc[0]
    x = sm.add_constant(np.arange(6.0))
    fit = sm.WLS(gaps, x, weights=1 / ses**2).fit(use_t=False)
    assert fit.scale > 1
    assert out["slope_se"] == pytest.approx(fit.bse[1], rel=1e-10)
    assert out["trend"] == "no clear change"


def test_gap_trend_classifications():
    """Widening, reversed and no-clear-change cases, and SE from the CI when no se column."""
    wide = eq.gap_trend(_trend_frame([-2.0, -4.0, -6.0, -8.0], [0.5] * 4), "period")
    assert wide["trend"].iloc[0] == "widening"
    pos_wide = eq.gap_trend(_trend_frame([2.0, 4.0, 6.0, 8.0], [0.5] * 4), "period")
    assert pos_wide["trend"].iloc[0] == "widening"
    rev = eq.gap_trend(_trend_frame([-3.0, -1.0, 1.0, 3.0], [0.5] * 4), "period")
    assert rev["trend"].iloc[0] == "reversed"
    noisy = eq.gap_trend(_trend_frame([-8.0, -7.0, -6.0], [5.0] * 3), "period")
    assert noisy["trend"].iloc[0] == "no clear change"
    ci = pd.DataFrame(
        {
            "year": [1, 2, 3],
            "gap": [-6.0, -4.0, -2.0],
            "gap_ci_low": [-7.96, -5.96, -3.96],
            "gap_ci_high": [-4.04, -2.04, -0.04],
        }
    )
    out = eq.gap_trend(ci, "year").iloc[0]
    assert out["slope_se"] == pytest.approx(np.sqrt(1 / 2), rel=1e-9)  # se = 1 at each point
    one = eq.gap_trend(_trend_frame([-3.0], [0.5]), "period")
    assert one["trend"].iloc[0] == "insufficient data"


def test_gap_trend_per_cell_order_and_suppressed_rows():
    """Cells are the non-statistic columns; order= sets the period index; NaN gaps are skipped."""
    a = _trend_frame([-6.0, -4.0, np.nan, -2.0], [0.5] * 4, "A")
    b = _trend_frame([-2.0, -4.0, -6.0, -8.0], [0.5] * 4, "B")
    g = pd.concat([a, b]).assign(suppressed=lambda d: d["gap"].isna())
    out = eq.gap_trend(g, "period", order=["P0", "P1", "P2", "P3"]).set_index("school")
    assert out.loc["A", "n_periods"] == 3 and out.loc["A", "trend"] == "narrowing"
    assert out.loc["B", "trend"] == "widening"
    rev_order = eq.gap_trend(b, "period", order=["P3", "P2", "P1", "P0"])
    assert rev_order["trend"].iloc[0] == "narrowing"
    with pytest.raises(DataError, match="not in order"):
        eq.gap_trend(b, "period", order=["P0", "P1"])


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
    gaps = eq.gap(pd.concat(rows), "score", "dis", focus=True, by="year")
    out = eq.gap_trend(gaps, "year")
    assert len(out) == 1 and out["trend"].iloc[0] == "narrowing"


# ---------------------------------------------------------------- funnel


def _exact_limit(p0, n, prob):
    """Spiegelhalter (2005) appendix A.1.1, written out with scipy for one n."""
    from scipy.stats import binom

    r = 0
    while binom.cdf(r, n, p0) < prob:
        r += 1
    f_r, f_below = binom.cdf(r, n, p0), binom.cdf(r - 1, n, p0)
    return (r - (f_r - prob) / (f_r - f_below)) / n


def test_funnel_rate_limits_are_exact_binomial():
    """Rate limits are Spiegelhalter's interpolated exact binomial limits at each n."""
    t = pd.DataFrame({"s": list("ABCD"), "n": [20, 80, 300, 1000], "r": [0.4, 0.7, 0.6, 0.42]})
    out = eq.funnel(t, "r", "s", kind="rate", n="n")
    p0 = np.sum(t["n"] * t["r"]) / t["n"].sum()
    assert out["target"].iloc[0] == pytest.approx(p0)
    for lo_p, tag in ((0.025, "95"), (0.001, "998")):
        for n, lo, hi in zip(t["n"], out[f"lower{tag}"], out[f"upper{tag}"], strict=True):
            assert lo == pytest.approx(_exact_limit(p0, n, lo_p), abs=1e-12)
            assert hi == pytest.approx(_exact_limit(p0, n, 1 - lo_p), abs=1e-12)
    assert out.set_index("unit")["outside998"].to_dict() == {
        "A": False,
        "B": True,
        "C": True,
        "D": True,
    }
    assert (out["limits"] == "exact binomial").all()


def test_funnel_exact_limits_hold_their_error_rate_for_small_schools():
    """An in-control school of 10 pupils at p0 = 0.05 is flagged at most 0.2% at 99.8%."""
    from scipy.stats import binom

    for n, p0 in ((10, 0.05), (25, 0.9), (8, 0.5), (60, 0.02)):
        k = np.arange(n + 1)  # every count this school could have
        t = pd.DataFrame({"s": k, "n": n, "r": k / n})
        f = eq.funnel(t, "r", "s", kind="rate", n="n", target=p0)
        assert binom.pmf(k[f["outside998"].to_numpy()], n, p0).sum() <= 0.002 + 1e-12, (n, p0)
        assert binom.pmf(k[f["outside95"].to_numpy()], n, p0).sum() <= 0.05 + 1e-12, (n, p0)
    # the normal approximation flagged the first case 1.15% of the time
    normal_upper = 0.05 + 3.090232 * np.sqrt(0.05 * 0.95 / 10)
    assert binom.sf(np.floor(10 * normal_upper), 10, 0.05) == pytest.approx(0.0115, abs=5e-4)


def test_funnel_mean_pupil_level_matches_scipy_norm():
    """Mean limits equal scipy norm.interval(mu, sigma/sqrt(n)) with sigma the pupil SD."""
    df = pupils()
    out = eq.funnel(df, "score", "school", kind="mean")
    sigma = df["score"].std(ddof=1)
    mu = df["score"].mean()
    for _, r in out.iterrows():
        lo, hi = stats.norm.interval(0.998, loc=mu, scale=sigma / np.sqrt(r["n"]))
        assert (r["lower998"], r["upper998"]) == pytest.approx((lo, hi), rel=1e-12)
    fixed = eq.funnel(df, "score", "school", kind="mean", target=50.0, sd=10.0)
    assert fixed["upper95"].iloc[0] == pytest.approx(
        50 + 1.959964 * 10 / np.sqrt(fixed["n"].iloc[0])
    )


def test_plot_funnel_draws_limits_and_flags():
    """The plot has limit curves, a target line and the outlying unit labelled."""
    t = pd.DataFrame({"s": list("ABCD"), "n": [20, 80, 300, 1000], "r": [0.4, 0.7, 0.6, 0.42]})
    fig, ax = eq.plot_funnel(eq.funnel(t, "r", "s", kind="rate", n="n"))
    assert len(ax.lines) >= 6
    assert {a.get_text() for a in ax.texts} == {"B", "C", "D"}


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
        eq.funnel(pd.DataFrame({"u": ["a"], "n": [5], "v": [3.0]}), "v", "u", kind="mean", n="n")
    with pytest.raises(CilibError, match="group_col"):
        eq.suppress(pd.DataFrame({"n": [1]}), 5, total_row="all")


def test_functions_do_not_mutate_input():
    """Inputs come back unchanged."""
    df = pupils()
    before = df.copy()
    eq.group_summary(df, "score", "school")
    eq.gap(df, "pass", "dis", focus=True, kind="rate", by="school")
    eq.funnel(df, "score", "school", kind="mean")
    pd.testing.assert_frame_equal(df, before)


def test_funnel_overdispersion_hand_computation():
    """Spiegelhalter's additive overdispersion: winsorised phi and tau² worked by hand."""
    n = np.array([40, 60, 80, 100, 120, 150, 200, 250, 300, 400])
    r = np.array([0.30, 0.75, 0.45, 0.70, 0.50, 0.62, 0.48, 0.66, 0.55, 0.58])
    t = pd.DataFrame({"u": range(10), "n": n, "r": r})
    out = eq.funnel(t, "r", "u", kind="rate", n="n", overdispersion=True)
    p0 = np.sum(n * r) / n.sum()
    s = np.sqrt(p0 * (1 - p0) / n)
    z = np.sort((r - p0) / s)
    z[0], z[-1] = z[1], z[-2]  # 10% of 10 units: one value pulled in at each end
    phi = np.mean(z**2)
    w = 1 / s**2
    tau2 = (10 * phi - 9) / (w.sum() - np.sum(w**2) / w.sum())
    assert phi > 1 and out["phi"].iloc[0] == pytest.approx(phi, rel=1e-12)
    assert out["tau2"].iloc[0] == pytest.approx(tau2, rel=1e-12)
    assert np.allclose(out["upper95"], p0 + 1.959964 * np.sqrt(s**2 + tau2), atol=1e-6)
    plain = eq.funnel(t, "r", "u", kind="rate", n="n")
    assert out["outside998"].sum() < plain["outside998"].sum()
    assert plain["tau2"].iloc[0] == 0 and np.isnan(plain["phi"].iloc[0])
    fig, ax = eq.plot_funnel(out)
    curve = ax.lines[3]  # 99.8% upper limit, drawn over a grid of n
    drawn = np.interp(out["n"], curve.get_xdata(), curve.get_ydata())
    assert np.max(np.abs(drawn - out["upper998"])) < 1e-3


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
    trend = eq.gap_trend(gaps, "period")
    assert trend["trend"].item() == "no clear change"
