"""Tests for cilib.stats.cluster_robust: CR2 and Satterthwaite df against the matrix formulas,
statsmodels and closed forms; the ICC against a one-way ANOVA."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
import statsmodels.formula.api as smf
from scipy import stats

from cilib.stats.cluster_robust import (
    anova_icc,
    clustered_difference,
    cr2_coefficient,
    design_effect,
    too_few_clusters_check,
)


def cr2_reference(y, x, cl, k, adjust=True):
    """CR2 SE and Satterthwaite df written from the n×n matrix formulas (Pustejovsky & Tipton
    2018, eqs. 5-6 and 11 with working model Φ = I); adjust=False gives CR0."""
    y, x, cl = np.asarray(y, float), np.asarray(x, float), np.asarray(cl)
    n = len(y)
    m = np.linalg.inv(x.T @ x)
    i_h = np.eye(n) - x @ m @ x.T
    e = i_h @ y
    c = np.zeros(x.shape[1])
    c[k] = 1.0
    meat = np.zeros((x.shape[1], x.shape[1]))
    gs = []
    for g in np.unique(cl):
        idx = np.flatnonzero(cl == g)
        if adjust:
            val, vec = np.linalg.eigh(i_h[np.ix_(idx, idx)])
            a = vec @ np.diag(val**-0.5) @ vec.T
        else:
            a = np.eye(len(idx))
        xa = a @ x[idx]
        meat += xa.T @ np.outer(e[idx], e[idx]) @ xa
        gs.append(i_h[idx, :].T @ a @ x[idx] @ m @ c)
    v = m @ meat @ m
    gg = np.array([[gi @ gj for gj in gs] for gi in gs])
    return float(np.sqrt(v[k, k])), float(np.trace(gg) ** 2 / np.sum(gg**2))


def schools(n_schools=12, seed=3, icc=0.1, effect=0.3, sizes=(5, 25)):
    """Pupils in schools of unequal size, whole schools treated, one covariate."""
    rng = np.random.default_rng(seed)
    size = rng.integers(*sizes, n_schools)
    sch = np.repeat(np.arange(n_schools), size)
    treat_school = rng.permutation(n_schools) < n_schools // 2
    t = treat_school[sch].astype(float)
    u = rng.normal(0, np.sqrt(icc), n_schools)[sch]
    pre = rng.normal(0, 1, len(sch))
    y = 0.5 * pre + effect * t + u + rng.normal(0, np.sqrt(1 - icc), len(sch))
    return y, np.column_stack([np.ones(len(y)), t, pre]), sch


def test_cr2_and_df_match_the_matrix_formulas():
    """Unequal schools, covariate: SE and df equal the n×n reference for every coefficient."""
    y, x, sch = schools()
    for k in range(3):
        r = cr2_coefficient(y, x, sch, k)
        se, df = cr2_reference(y, x, sch, k)
        assert r["se"] == pytest.approx(se, rel=1e-9)
        assert r["df"] == pytest.approx(df, rel=1e-9)
        assert r["estimate"] == pytest.approx(np.linalg.lstsq(x, y, rcond=None)[0][k])
    assert r["clusters"] == 12


def test_reference_cr0_times_cr1_factor_is_statsmodels_cluster_se():
    """The reference's meat is right: without A_g, times G/(G-1)·(N-1)/(N-p), it is CR1."""
    y, x, sch = schools(seed=8)
    fit = sm.OLS(y, x).fit(cov_type="cluster", cov_kwds={"groups": sch})
    n, p, g = len(y), x.shape[1], len(np.unique(sch))
    factor = g / (g - 1) * (n - 1) / (n - p)
    se0, _ = cr2_reference(y, x, sch, 1, adjust=False)
    assert se0 * np.sqrt(factor) == pytest.approx(fit.bse[1], rel=1e-9)
    # CR2 is larger than CR0 (it undoes the shrinkage of residuals towards the fit)
    assert cr2_coefficient(y, x, sch, 1)["se"] > se0


def test_singleton_clusters_give_hc2_and_welch():
    """One pupil per cluster: CR2 is statsmodels' HC2, which for two groups is Welch's SE."""
    rng = np.random.default_rng(1)
    t = np.r_[np.ones(15), np.zeros(22)]
    y = 2 * t + rng.normal(0, 1 + t, 37)
    x = np.column_stack([np.ones(37), t])
    r = cr2_coefficient(y, x, np.arange(37), 1)
    assert r["se"] == pytest.approx(sm.OLS(y, x).fit(cov_type="HC2").bse[1], rel=1e-10)
    a, b = y[t == 1], y[t == 0]
    assert r["se"] == pytest.approx(np.sqrt(a.var(ddof=1) / 15 + b.var(ddof=1) / 22), rel=1e-10)
    assert r["naive_se"] == pytest.approx(sm.OLS(y, x).fit().bse[1], rel=1e-10)


def test_worked_example_balanced_schools_closed_form():
    """Equal school sizes, whole schools treated: CR2 SE is the two-sample SE of school means and
    the df is Welch's formula with equal school-mean variances (known closed forms)."""
    rng = np.random.default_rng(4)
    g1, g0, m = 5, 3, 7
    sch = np.repeat(np.arange(g1 + g0), m)
    t = (sch < g1).astype(float)
    y = rng.normal(0, 1, (g1 + g0) * m) + rng.normal(0, 1, g1 + g0)[sch] + t
    r = cr2_coefficient(y, np.column_stack([np.ones(len(y)), t]), sch, 1)
    means = pd.Series(y).groupby(sch).mean().to_numpy()
    se = np.sqrt(means[:g1].var(ddof=1) / g1 + means[g1:].var(ddof=1) / g0)
    df = (1 / g1 + 1 / g0) ** 2 / ((1 / g1) ** 2 / (g1 - 1) + (1 / g0) ** 2 / (g0 - 1))
    assert r["se"] == pytest.approx(se, rel=1e-10)
    assert r["df"] == pytest.approx(df, rel=1e-10)
    # the doctest's 2 v 2 schools: df 2 = (1/2 + 1/2)² / (2 · (1/2)²/1)
    assert cr2_coefficient([0, 1, 2, 3], [[1, 0], [1, 0], [1, 1], [1, 1]], [0, 1, 2, 3], 1)[
        "df"
    ] == pytest.approx(2.0)


def test_icc_balanced_one_arm_matches_scipy_anova():
    """Equal clusters: ICC = (F − 1)/(F + m − 1) with F from scipy's one-way ANOVA."""
    rng = np.random.default_rng(5)
    m, k = 8, 10
    y = rng.normal(0, 1, m * k) + rng.normal(0, 0.6, k).repeat(m)
    cl = np.arange(k).repeat(m)
    f = stats.f_oneway(*[y[cl == j] for j in range(k)]).statistic
    assert anova_icc(y, cl) == pytest.approx((f - 1) / (f + m - 1), rel=1e-10)


def test_icc_nested_in_arms_matches_statsmodels_anova_table():
    """Unequal clusters within two arms: mean squares from statsmodels' ANOVA table."""
    rng = np.random.default_rng(6)
    size = rng.integers(4, 15, 14)
    cl = np.repeat(np.arange(14), size)
    arm = (cl < 6).astype(int)
    y = rng.normal(0, 1, len(cl)) + rng.normal(0, 0.5, 14)[cl] + 3 * arm
    d = pd.DataFrame({"y": y, "arm": arm, "cl": cl})
    arms_only, schools_fit = smf.ols("y ~ C(arm)", d).fit(), smf.ols("y ~ C(cl)", d).fit()
    tab = sm.stats.anova_lm(arms_only, schools_fit)  # schools within arms vs arms alone
    msb, msw = tab["ss_diff"].iloc[1] / tab["df_diff"].iloc[1], schools_fit.mse_resid
    n0 = (len(y) - sum((size[arm_of] ** 2).sum() / size[arm_of].sum()
                       for arm_of in (np.arange(14) < 6, np.arange(14) >= 6))) / (14 - 2)
    assert anova_icc(y, cl, arm) == pytest.approx((msb - msw) / (msb + (n0 - 1) * msw), rel=1e-9)
    # the arm difference (3 points) is not counted as clustering
    assert anova_icc(y, cl, arm) < anova_icc(y, cl)


def test_icc_recovers_a_known_value_and_truncates_at_zero():
    """Simulated ICC 0.10 with 300 clusters of 20 is recovered; no clustering gives 0, not < 0."""
    rng = np.random.default_rng(7)
    cl = np.arange(300).repeat(20)
    y = rng.normal(0, np.sqrt(0.1), 300)[cl] + rng.normal(0, np.sqrt(0.9), len(cl))
    assert anova_icc(y, cl) == pytest.approx(0.10, abs=0.03)
    flat = np.tile(np.arange(20.0), 5)  # every cluster identical in mean: MSB = 0
    assert anova_icc(flat, np.arange(5).repeat(20)) == 0.0
    assert np.isnan(anova_icc([1.0, 2.0], ["a", "a"]))


def test_design_effect_and_clustered_difference_columns():
    """Design effect 1 + (m̄ − 1)·ICC; too few clusters gives NaN interval and a plain check."""
    assert design_effect(0.08, 3475, 100) == pytest.approx(1 + (34.75 - 1) * 0.08)
    assert np.isnan(design_effect(np.nan, 10, 2))
    y, x, sch = schools(n_schools=5, seed=9)
    t = x[:, 1].astype(bool)
    r = clustered_difference(y, x, sch, t, 1, naive_se=0.1)
    assert r["clusters_treated"] == 2 and r["clusters_comparison"] == 3
    assert r["too_few_clusters"] and np.isnan(r["ci_low"]) and np.isnan(r["ci_high"])
    assert r["variance_ratio"] == pytest.approx((r["diff_se"] / 0.1) ** 2)
    chk = too_few_clusters_check(r, "school_id")
    assert bool(chk["flag"].iloc[0])
    assert chk["message"].iloc[0].startswith(
        "Only 2 schools ran the strategy and 3 did not: too few schools to tell an effect from "
        "the differences between schools"
    )
    y, x, sch = schools(n_schools=30, seed=9)
    r = clustered_difference(y, x, sch, x[:, 1].astype(bool), 1, level=0.9)
    assert not r["too_few_clusters"]
    tq = stats.t.ppf(0.95, r["df"])
    est = np.linalg.lstsq(x, y, rcond=None)[0][1]
    assert (r["ci_low"], r["ci_high"]) == pytest.approx((est - tq * r["diff_se"],
                                                         est + tq * r["diff_se"]))
    assert "design effect" in too_few_clusters_check(r, "school_id")["message"].iloc[0]


def test_missing_cluster_label_is_an_error():
    """A row without a cluster cannot be placed: ValueError."""
    with pytest.raises(ValueError, match="missing"):
        cr2_coefficient([1.0, 2.0, 3.0], np.ones((3, 1)), ["a", None, "b"], 0)
