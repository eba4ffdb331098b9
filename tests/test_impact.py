"""Tests for cilib.stats.impact: effects against scipy/statsmodels, checks on designed data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats

from cilib.core.errors import DataError
from cilib.stats.impact import (
    MONTHS_NOTE,
    ImpactResult,
    effect_from_stats,
    estimate_impact,
    months_progress,
)


def trial(n=400, seed=11, effect=4.0, focus_extra=2.0, missing=0.0):
    """Pupils with a planted effect, larger by focus_extra for disadvantaged pupils."""
    rng = np.random.default_rng(seed)
    t = rng.random(n) < 0.5
    dis = rng.random(n) < 0.35
    pre = rng.normal(50 - 5 * dis, 10, n)
    post = 5 + 0.9 * pre + effect * t + focus_extra * (t & dis) + rng.normal(0, 6, n)
    df = pd.DataFrame({"treated": t, "dis": dis, "pre": pre, "post": post})
    if missing:
        drop = rng.random(n) < missing
        df.loc[drop, "post"] = np.nan
    return df


def test_months_progress_eef_table_boundaries():
    """Every boundary of the EEF Toolkit table, rounding to 2 decimals, and symmetry."""
    table = {
        0.0: 0,
        0.01: 0,
        0.014: 0,
        0.015: 0,  # prints as 0.01
        0.016: 1,
        0.02: 1,
        0.09: 1,
        0.10: 2,
        0.18: 2,
        0.19: 3,
        0.26: 3,
        0.27: 4,
        0.35: 4,
        0.36: 5,
        0.44: 5,
        0.45: 6,
        0.52: 6,
        0.53: 7,
        0.61: 7,
        0.62: 8,
        0.69: 8,
        0.70: 9,
        0.78: 9,
        0.79: 10,
        0.87: 10,
        0.88: 11,
        0.95: 11,
        0.96: 12,
        1.5: 12,
    }
    for g, m in table.items():
        assert months_progress(g) == m, g
        assert months_progress(-g) == -m, -g
    arr = months_progress([0.2, np.nan, -0.1])
    assert arr[0] == 3 and np.isnan(arr[1]) and arr[2] == -2
    assert "Toolkit" in MONTHS_NOTE and "trial reports" in MONTHS_NOTE


def test_gain_effect_matches_scipy_welch_and_hand_g():
    """Gain difference equals scipy's Welch interval; g uses the pooled outcome SD."""
    df = trial()
    res = estimate_impact(df, "post", "treated", baseline="pre")
    assert isinstance(res, ImpactResult)
    row = res.effects.set_index("population").loc["all"]
    gain = df["post"] - df["pre"]
    a, b = gain[df["treated"]], gain[~df["treated"]]
    ci = stats.ttest_ind(a, b, equal_var=False).confidence_interval()
    assert row["diff"] == pytest.approx(a.mean() - b.mean(), abs=1e-10)
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((ci.low, ci.high), abs=1e-9)
    ya, yb = df.loc[df["treated"], "post"], df.loc[~df["treated"], "post"]
    n1, n2 = len(ya), len(yb)
    sp = np.sqrt(((n1 - 1) * ya.var() + (n2 - 1) * yb.var()) / (n1 + n2 - 2))
    j = 1 - 3 / (4 * (n1 + n2) - 9)
    g = j * row["diff"] / sp
    assert row["g"] == pytest.approx(g, rel=1e-10)
    # g's interval is scipy's Welch interval of the difference on g's scale (EEF practice)
    assert (row["g_ci_low"], row["g_ci_high"]) == pytest.approx(
        (j * ci.low / sp, j * ci.high / sp), rel=1e-9
    )
    assert row["months"] == months_progress(g)
    assert row["n_treated"] == n1 and row["n_comparison"] == n2


def test_ancova_matches_statsmodels_ols():
    """adjust=True gives the treated coefficient, SE and CI of statsmodels OLS."""
    df = trial()
    res = estimate_impact(df, "post", "treated", baseline="pre", group="dis", adjust=True)
    eff = res.effects.set_index("population")
    for pop, sub in (("all", df), ("focus", df[df["dis"]]), ("other", df[~df["dis"]])):
        x = sm.add_constant(np.column_stack([sub["treated"].astype(float), sub["pre"]]))
        fit = sm.OLS(sub["post"].to_numpy(), x).fit()
        assert eff.loc[pop, "diff"] == pytest.approx(fit.params[1], rel=1e-9)
        assert eff.loc[pop, "diff_se"] == pytest.approx(fit.bse[1], rel=1e-9)
        assert eff.loc[pop, "ci_low"] == pytest.approx(fit.conf_int()[1][0], rel=1e-9)
    # the planted effect (4, and 6 for the focus group) is inside the intervals
    assert eff.loc["all", "ci_low"] < 4.7 < eff.loc["all", "ci_high"]
    assert eff.loc["focus", "ci_low"] < 6 < eff.loc["focus", "ci_high"]


def test_gap_change_matches_ols_interaction():
    """Difference in differences: point = OLS interaction; SE = HC2 SE of the saturated model."""
    df = trial()
    res = estimate_impact(df, "post", "treated", baseline="pre", group="dis")
    row = res.effects.set_index("population").loc["gap change"]
    t, f = df["treated"].astype(float), df["dis"].astype(float)
    x = sm.add_constant(np.column_stack([t, f, t * f]))
    fit = sm.OLS((df["post"] - df["pre"]).to_numpy(), x).fit(cov_type="HC2")
    assert row["diff"] == pytest.approx(fit.params[3], abs=1e-10)
    assert row["diff_se"] == pytest.approx(fit.bse[3], rel=1e-10)
    adj = estimate_impact(df, "post", "treated", baseline="pre", group="dis", adjust=True)
    arow = adj.effects.set_index("population").loc["gap change"]
    x2 = sm.add_constant(np.column_stack([t, f, t * f, df["pre"]]))
    fit2 = sm.OLS(df["post"].to_numpy(), x2).fit()
    assert arow["diff"] == pytest.approx(fit2.params[3], rel=1e-9)
    assert (arow["ci_low"], arow["ci_high"]) == pytest.approx(tuple(fit2.conf_int()[3]), rel=1e-9)


def test_outcome_only_and_effect_from_stats():
    """No baseline: difference of outcomes; published stats give Borenstein's g."""
    df = trial()
    res = estimate_impact(df, "post", "treated")
    a, b = df.loc[df["treated"], "post"], df.loc[~df["treated"], "post"]
    assert res.effects["diff"].iloc[0] == pytest.approx(a.mean() - b.mean())
    checks = res.checks.set_index("check")
    assert bool(checks.loc["baseline_imbalance", "flag"])  # cannot be checked
    pub = effect_from_stats(50, 103, 5.5, 50, 100, 4.5)
    assert pub["g"].iloc[0] == pytest.approx(0.5924, abs=5e-5)
    assert pub["months"].iloc[0] == 7


def test_checks_attrition_imbalance_small_n_missing_by_group():
    """Designed data: each check reports the computed value and flags when it should."""
    n = 40
    df = pd.DataFrame(
        {
            "treated": [True] * 20 + [False] * 20,
            "dis": ([True] * 10 + [False] * 10) * 2,
            "pre": np.r_[np.linspace(40, 60, 20), np.linspace(45, 65, 20)],
            "post": np.r_[np.linspace(45, 70, 20), np.linspace(46, 66, 20)],
        }
    )
    df.loc[[0, 1, 2, 3], "post"] = np.nan  # 4 treated, all disadvantaged, missing
    df.loc[[25], "post"] = np.nan  # 1 comparison, also disadvantaged (rows 20-29)
    res = estimate_impact(df, "post", "treated", baseline="pre", group="dis")
    c = res.checks.set_index("check")
    assert c.loc["attrition_overall", "value"] == pytest.approx(5 / n)
    assert not c.loc["attrition_overall", "flag"]
    assert c.loc["attrition_differential", "value"] == pytest.approx(4 / 20 - 1 / 20)
    assert c.loc["attrition_differential", "flag"]
    a = df.dropna()
    bt, bc = a.loc[a["treated"], "pre"], a.loc[~a["treated"], "pre"]
    sp = np.sqrt(((len(bt) - 1) * bt.var() + (len(bc) - 1) * bc.var()) / (len(a) - 2))
    assert c.loc["baseline_imbalance", "value"] == pytest.approx((bt.mean() - bc.mean()) / sp)
    assert c.loc["baseline_imbalance", "flag"]
    assert c.loc["small_n", "value"] == 16 and c.loc["small_n", "flag"]
    assert c.loc["missing_by_group", "value"] == pytest.approx(5 / 20 - 0 / 20)
    assert c.loc["missing_by_group", "flag"]
    assert not c.loc["regression_to_mean", "flag"]
    assert set(res.flagged["check"]) >= {"attrition_differential", "small_n"}
    assert res["checks"] is res.checks


def test_regression_to_mean_check_when_selected_low():
    """Selected for low baseline: flagged, with (1 - r) x baseline difference as the value."""
    df = trial(n=300, effect=0.0, focus_extra=0.0)
    low = df["pre"] < df["pre"].quantile(0.3)
    df["treated"] = low  # treated were the lowest scorers, comparison the rest
    res = estimate_impact(df, "post", "treated", baseline="pre", selected_low=True)
    c = res.checks.set_index("check")
    r = np.corrcoef(df["pre"], df["post"])[0, 1]
    expected = (1 - r) * (df.loc[~low, "pre"].mean() - df.loc[low, "pre"].mean())
    assert c.loc["regression_to_mean", "value"] == pytest.approx(expected, rel=1e-10)
    assert c.loc["regression_to_mean", "flag"]
    assert "regression to the mean" in c.loc["regression_to_mean", "message"]
    # the naive gain comparison shows a spurious "effect" of about the size the check predicts
    gain_diff = res.effects["diff"].iloc[0]
    assert gain_diff > 0 and expected > 0


def test_attrition_flag_and_input_not_mutated():
    """High attrition is flagged; the input frame is unchanged."""
    df = trial(missing=0.3)
    before = df.copy()
    res = estimate_impact(df, "post", "treated", baseline="pre", group="dis")
    assert res.checks.set_index("check").loc["attrition_overall", "flag"]
    pd.testing.assert_frame_equal(df, before)


def test_impact_errors():
    """Bad inputs raise DataError with a message that says what to fix."""
    df = trial()
    with pytest.raises(DataError, match="lacks column"):
        estimate_impact(df, "score", "treated")
    with pytest.raises(DataError, match="adjust=True needs baseline"):
        estimate_impact(df, "post", "treated", adjust=True)
    with pytest.raises(DataError, match="both treated"):
        estimate_impact(df.assign(treated=True), "post", "treated")
    with pytest.raises(DataError, match="boolean or 0/1"):
        estimate_impact(df.assign(treated=2), "post", "treated")
    with pytest.raises(DataError, match="no rows have"):
        estimate_impact(df, "post", "treated", group="dis", focus="yes")


def test_ancova_g_interval_comes_from_the_model_interval():
    """With adjust=True, g's interval is statsmodels' OLS interval of the effect over the SD."""
    df = trial()
    res = estimate_impact(df, "post", "treated", baseline="pre", adjust=True)
    row = res.effects.set_index("population").loc["all"]
    x = sm.add_constant(np.column_stack([df["treated"].astype(float), df["pre"]]))
    lo, hi = sm.OLS(df["post"].to_numpy(float), x).fit().conf_int()[1]
    ya, yb = df.loc[df["treated"], "post"], df.loc[~df["treated"], "post"]
    n1, n2 = len(ya), len(yb)
    sp = np.sqrt(((n1 - 1) * ya.var() + (n2 - 1) * yb.var()) / (n1 + n2 - 2))
    j = 1 - 3 / (4 * (n1 + n2) - 9)
    assert (row["g_ci_low"], row["g_ci_high"]) == pytest.approx((j * lo / sp, j * hi / sp))
    # the interval of g excludes 0 exactly when the difference's interval does
    assert (row["g_ci_low"] > 0) == (lo > 0)


def test_months_follow_the_g_that_is_printed():
    """0.355 prints as 0.35 (4 months); numpy's round made it 0.36 (5 months)."""
    assert f"{0.355:.2f}" == "0.35"
    assert months_progress(0.355) == 4
    assert months_progress(-0.355) == -4


def cr2_by_hand(y, x, cl, k):
    """CR2 SE and Satterthwaite df from the n×n matrix formulas (Bell & McCaffrey 2002;
    Pustejovsky & Tipton 2018 with working model Φ = I), written independently of cilib."""
    y, x, cl = np.asarray(y, float), np.asarray(x, float), np.asarray(cl)
    m = np.linalg.inv(x.T @ x)
    i_h = np.eye(len(y)) - x @ m @ x.T
    e = i_h @ y
    c = np.eye(x.shape[1])[k]
    parts, gs = [], []
    for g in np.unique(cl):
        idx = np.flatnonzero(cl == g)
        val, vec = np.linalg.eigh(i_h[np.ix_(idx, idx)])
        a = vec @ np.diag(val**-0.5) @ vec.T
        p = a @ x[idx] @ m @ c
        parts.append(p @ e[idx])
        gs.append(i_h[idx, :].T @ p)
    gg = np.array([[gi @ gj for gj in gs] for gi in gs])
    return float(np.sqrt(np.sum(np.square(parts)))), float(np.trace(gg) ** 2 / np.sum(gg**2))


def school_trial(n_schools=16, seed=21, effect=3.0, icc=0.1):
    """Whole schools treated, unequal sizes, school effects on gains, some disadvantaged pupils."""
    rng = np.random.default_rng(seed)
    size = rng.integers(6, 20, n_schools)
    sch = np.repeat(np.arange(n_schools), size)
    treat = (rng.permutation(n_schools) < n_schools // 2)[sch]
    dis = rng.random(len(sch)) < 0.4
    pre = rng.normal(50, 10, len(sch))
    u = rng.normal(0, 10 * np.sqrt(icc), n_schools)[sch]
    post = pre + 2 + effect * treat + u + rng.normal(0, 10 * np.sqrt(1 - icc), len(sch))
    return pd.DataFrame({"school_id": sch, "treated": treat, "dis": dis, "pre": pre,
                         "post": post})


def test_unclustered_results_and_new_columns():
    """Without cluster=: numbers as before, df is Welch's, se_method says pupils independent."""
    df = trial()
    row = estimate_impact(df, "post", "treated", baseline="pre").effects.iloc[0]
    gain = df["post"] - df["pre"]
    res = stats.ttest_ind(gain[df["treated"]], gain[~df["treated"]], equal_var=False)
    assert row["df"] == pytest.approx(res.df, rel=1e-10)
    assert row["se_method"] == "pupils independent" and not row["too_few_clusters"]
    assert np.isnan(row["icc"]) and np.isnan(row["clusters_treated"])


def test_clustered_gains_ancova_and_gap_match_hand_cr2():
    """cluster=: every row's SE and df equal the hand CR2 of its OLS model; the interval uses a
    t quantile with those df; g's interval is the difference's interval over g's SD."""
    df = school_trial()
    t, f = df["treated"].astype(float), df["dis"].astype(float)
    one = np.ones(len(df))
    gain = (df["post"] - df["pre"]).to_numpy()
    cases = [
        (False, "all", gain, np.column_stack([one, t]), 1, slice(None)),
        (False, "focus", gain, np.column_stack([one, t]), 1, df["dis"].to_numpy()),
        (False, "gap change", gain, np.column_stack([one, t, f, t * f]), 3, slice(None)),
        (True, "all", df["post"].to_numpy(), np.column_stack([one, t, df["pre"]]), 1,
         slice(None)),
        (True, "gap change", df["post"].to_numpy(), np.column_stack([one, t, f, t * f, df["pre"]]),
         3, slice(None)),
    ]
    for adjust, pop, y, x, k, rows in cases:
        eff = estimate_impact(df, "post", "treated", baseline="pre", group="dis", adjust=adjust,
                              cluster="school_id").effects.set_index("population")
        r = eff.loc[pop]
        se, dof = cr2_by_hand(y[rows], x[rows], df["school_id"].to_numpy()[rows], k)
        assert r["diff_se"] == pytest.approx(se, rel=1e-8), (adjust, pop)
        assert r["df"] == pytest.approx(dof, rel=1e-8), (adjust, pop)
        tq = stats.t.ppf(0.975, dof)
        assert (r["ci_low"], r["ci_high"]) == pytest.approx(
            (r["diff"] - tq * se, r["diff"] + tq * se), rel=1e-8)
        assert r["se_method"] == "CR2, Satterthwaite df" and not r["too_few_clusters"]
        if pop != "gap change":
            sub = df[rows] if not isinstance(rows, slice) else df
            ya, yb = sub.loc[sub["treated"], "post"], sub.loc[~sub["treated"], "post"]
            n1, n2 = len(ya), len(yb)
            sp = np.sqrt(((n1 - 1) * ya.var() + (n2 - 1) * yb.var()) / (n1 + n2 - 2))
            j = 1 - 3 / (4 * (n1 + n2) - 9)
            assert (r["g_ci_low"], r["g_ci_high"]) == pytest.approx(
                (j * r["ci_low"] / sp, j * r["ci_high"] / sp), rel=1e-9)
            assert r["months"] == months_progress(float(f"{r['g']:.2f}"))
    # the point estimate is the same as without clustering; the interval is wider here
    naive = estimate_impact(df, "post", "treated", baseline="pre").effects.iloc[0]
    clus = estimate_impact(df, "post", "treated", baseline="pre", cluster="school_id").effects
    assert clus["diff"].iloc[0] == pytest.approx(naive["diff"])
    assert clus["ci_high"].iloc[0] - clus["ci_low"].iloc[0] > naive["ci_high"] - naive["ci_low"]


def test_clustered_icc_and_design_effect_columns():
    """icc is the one-way ANOVA of gains on schools within arms (statsmodels' table);
    design_effect = 1 + (mean school size − 1)·icc; counts of schools per arm."""
    import statsmodels.formula.api as smf

    df = school_trial(n_schools=14, seed=5, icc=0.2)
    row = estimate_impact(df, "post", "treated", baseline="pre", cluster="school_id").effects
    row = row.iloc[0]
    d = df.assign(gain=df["post"] - df["pre"])
    arms, within = smf.ols("gain ~ C(treated)", d).fit(), smf.ols("gain ~ C(school_id)", d).fit()
    tab = sm.stats.anova_lm(arms, within)  # schools within arms against arms alone
    msb, msw = tab["ss_diff"].iloc[1] / tab["df_diff"].iloc[1], within.mse_resid
    sizes = d.groupby(["treated", "school_id"]).size()
    n0 = (len(d) - sum((s**2).sum() / s.sum() for _, s in sizes.groupby(level=0))) / (14 - 2)
    icc = max(0.0, (msb - msw) / (msb + (n0 - 1) * msw))
    assert row["icc"] == pytest.approx(icc, rel=1e-9)
    assert row["design_effect"] == pytest.approx(1 + (len(d) / 14 - 1) * icc, rel=1e-9)
    assert row["clusters_treated"] == 7 and row["clusters_comparison"] == 7
    assert row["variance_ratio"] > 1


def test_too_few_schools_gives_no_interval_and_says_so():
    """3 schools against 2: NaN interval, too_few_clusters True, a plain-English check."""
    df = school_trial(n_schools=5, seed=2)
    df["treated"] = df["school_id"] < 3
    res = estimate_impact(df, "post", "treated", baseline="pre", group="dis",
                          cluster="school_id")
    eff = res.effects.set_index("population")
    for pop in ("all", "focus", "other", "gap change"):
        assert eff.loc[pop, "too_few_clusters"], pop
        assert np.isnan(eff.loc[pop, "ci_low"]) and np.isnan(eff.loc[pop, "g_ci_high"]), pop
    assert eff.loc["all", "clusters_treated"] == 3 and eff.loc["all", "clusters_comparison"] == 2
    # Satterthwaite df with 3 v 2 schools is below 4 (about 2.3 for equal schools)
    assert eff.loc["all", "df"] < 4
    chk = res.checks.set_index("check").loc["too_few_clusters"]
    assert chk["flag"]
    assert chk["message"].startswith(
        "Only 3 schools ran the strategy and 2 did not: too few schools to tell an effect from "
        "the differences between schools."[:-1]
    )
    # one comparison school: too few by the count rule, whatever the df
    one = df[df["school_id"] != 4]
    r1 = estimate_impact(one, "post", "treated", baseline="pre", cluster="school_id")
    assert r1.effects["too_few_clusters"].iloc[0] and np.isnan(r1.effects["ci_low"].iloc[0])
    assert "fewer than 2 on a side" in r1.checks.set_index("check").loc[
        "too_few_clusters", "message"]
    # enough schools: no flag
    ok = estimate_impact(school_trial(), "post", "treated", baseline="pre", cluster="school_id")
    assert not ok.checks.set_index("check").loc["too_few_clusters", "flag"]


def test_cluster_errors():
    """Unknown or incomplete cluster column: DataError that says what to fix."""
    df = school_trial()
    with pytest.raises(DataError, match="lacks column"):
        estimate_impact(df, "post", "treated", cluster="school")
    df.loc[3, "school_id"] = np.nan
    with pytest.raises(DataError, match="every pupil needs one"):
        estimate_impact(df, "post", "treated", cluster="school_id")


@pytest.mark.slow
def test_clustered_interval_coverage_simulation():
    """200 trials of 24 schools (ICC 0.1, true effect 3): CR2 coverage within 3 Monte Carlo SEs
    (3·√(0.95·0.05/200) ≈ 4.6 points) of 95%; the pupils-independent interval falls short."""
    reps, hit_c, hit_n = 200, 0, 0
    for i in range(reps):
        df = school_trial(n_schools=24, seed=1000 + i, effect=3.0, icc=0.1)
        c = estimate_impact(df, "post", "treated", baseline="pre", cluster="school_id").effects
        n = estimate_impact(df, "post", "treated", baseline="pre").effects
        hit_c += c["ci_low"].iloc[0] <= 3.0 <= c["ci_high"].iloc[0]
        hit_n += n["ci_low"].iloc[0] <= 3.0 <= n["ci_high"].iloc[0]
    mcse = np.sqrt(0.95 * 0.05 / reps)
    assert abs(hit_c / reps - 0.95) <= 3 * mcse
    assert hit_n / reps < 0.95 - 3 * mcse
