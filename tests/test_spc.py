"""Tests for cilib.stats.spc: hand-worked rule examples, qicharts2 reference vectors, bad input."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cilib.core.errors import DataError
from cilib.stats import control_limits, run_rules, spc
from tests.conftest import REAL

REF = REAL / "spc-reference" / "qicharts2"
TOL = 1e-6


def series(values, start=1):
    return pd.DataFrame({"t": range(start, start + len(values)), "y": [float(v) for v in values]})


# ---------------------------------------------------------------------------------------------
# Hand-worked rule examples
# ---------------------------------------------------------------------------------------------


def test_run_chart_shift_hand_worked():
    """Median frozen on 6 points = 11; the next 14 points all lie below it: a shift."""
    # baseline 10,12,10,12,10,12 -> median 11. All 20 points are useful (none equal 11).
    # Runs: b,a,b,a,b,a then 14 below -> longest run 14 > round(log2 20)+3 = 7 -> shift on 7..20.
    # Crossings: 6; qbinom(0.05, 19, 0.5) = 6; 6 < 6 is false -> no crossings signal.
    df = series([10, 12, 10, 12, 10, 12] + [5, 3] * 7)
    res = spc.chart(df, "y", "t", kind="run", options=spc.ChartOptions(baseline=6))
    s = res.attrs["summary"]
    assert (res["centre"] == 11).all()
    assert res["lower"].isna().all() and res["upper"].isna().all()
    assert (s["n_useful"], s["longest_run"], s["longest_run_max"]) == (20, 14, 7)
    assert (s["crossings"], s["crossings_min"]) == (6, 6)
    assert s["shift_signal"] and not s["crossings_signal"] and s["runs_signal"]
    assert res["signal"].tolist() == [False] * 6 + [True] * 14
    assert set(res.loc[6:, "rules"]) == {"shift"}
    assert set(res.loc[:5, "rules"]) == {""}
    assert s["variation"] == "special cause concerning"  # improvement up, shift below


def test_run_chart_points_on_median_are_skipped():
    """Points on the median neither break nor extend a run and are not useful observations."""
    # median of [1,2,3,3,3,4,5] is 3; useful: 1,2 (below) and 4,5 (above) -> n_useful 4.
    res = spc.chart(series([1, 2, 3, 3, 3, 4, 5]), "y", "t")
    s = res.attrs["summary"]
    assert (s["n_useful"], s["longest_run"], s["crossings"]) == (4, 2, 1)


def test_run_chart_too_few_crossings_hand_worked():
    """1..10: median 5.5, one crossing < qbinom(0.05, 9, 0.5) = 2; longest run 5 <= 6."""
    res = spc.chart(series(range(1, 11)), "y", "t", kind="run")
    s = res.attrs["summary"]
    assert res["centre"].iloc[0] == 5.5
    assert (s["crossings"], s["crossings_min"], s["longest_run"], s["longest_run_max"]) == (
        1,
        2,
        5,
        6,
    )
    assert s["crossings_signal"] and not s["shift_signal"] and s["runs_signal"]
    assert not res["signal"].any()  # trend is off by default on run charts
    assert s["variation"] == "special cause neither improving nor concerning"


def test_trend_hand_worked():
    """5,3,5,3 then 1..6 strictly rising (6 points) is a trend; 7 would be needed if asked."""
    # rises: 1<2<3<4<5<6 = six points, indices 4..9. 5,3,1 is only three falling points.
    df = series([5, 3, 5, 3, 1, 2, 3, 4, 5, 6, 3, 5, 3, 5])
    res = spc.chart(df, "y", "t", kind="run", options=spc.ChartOptions(trend=True))
    assert res.index[res["rules"].str.contains("trend")].tolist() == list(range(4, 10))
    res7 = spc.chart(df, "y", "t", kind="run", options=spc.ChartOptions(trend=True, trend_length=7))
    assert not res7["rules"].str.contains("trend").any()


def test_trend_broken_by_equal_values():
    """An equal value breaks a trend: 1,2,3,3,4,5,6 has rising runs of 3 and 4 points only."""
    res = spc.chart(
        series([1, 2, 3, 3, 4, 5, 6, 1, 6, 1]),
        "y",
        "t",
        kind="run",
        options=spc.ChartOptions(trend=True),
    )
    assert not res["rules"].str.contains("trend").any()


def test_xmr_outside_limits_and_screening_hand_worked():
    """Nine points of 10/11 and a 30: limits use MR-bar 1 after screening the MR of 20."""
    # mean = (5*10 + 4*11 + 30)/10 = 12.4. MRs: eight 1s and 20 -> MR-bar 28/9 = 3.11.
    # Screening: 20 >= 3.267*28/9 = 10.16 is dropped -> MR-bar = 1 -> limits 12.4 +/- 3/1.128.
    df = series([10, 11, 10, 11, 10, 11, 10, 11, 10, 30])
    res = spc.chart(df, "y", "t", kind="xmr")
    assert res["centre"].iloc[0] == pytest.approx(12.4)
    assert res["upper"].iloc[0] == pytest.approx(12.4 + 3 / 1.128, abs=1e-12)
    assert res["lower"].iloc[0] == pytest.approx(12.4 - 3 / 1.128, abs=1e-12)
    unscreened = spc.chart(
        df, "y", "t", kind="xmr", options=spc.ChartOptions(screen_outliers=False)
    )
    assert unscreened["upper"].iloc[0] == pytest.approx(12.4 + 3 * (28 / 9) / 1.128, abs=1e-12)
    # Rules: 30 > 15.06 -> outside. First nine points are below 12.4: run of 9 > round(log2 10)+3
    # = 6 -> shift. 2 sigma below = 12.4 - 2/1.128 = 10.63: every 10 is beyond, and each window
    # (10, 11, 10) has two -> the 10s are flagged.
    assert res["rules"].iloc[9] == "outside limits"
    assert res["rules"].iloc[0] == "shift, 2 of 3 beyond 2 sigma"
    assert res["rules"].iloc[1] == "shift"
    # moving-range chart: MR-bar of all nine MRs (28/9), upper limit 3.267 * 28/9
    assert res["mr"].iloc[9] == 20 and np.isnan(res["mr"].iloc[0])
    assert res["mr_upper"].iloc[0] == pytest.approx(3.267 * 28 / 9)
    assert res.attrs["summary"]["variation"] == "special cause improving"  # last signal: 30 high


def _two_of_three_df():
    # baseline 10,12 x4: mean 11, every MR 2 -> sigma 2/1.128 = 1.773; limits 11 +/- 5.319.
    # 2 sigma above = 14.546: the two 15s (indices 8 and 10) within three points -> flagged.
    # Runs: 12 useful points (the 11 is on the centre) -> max round(log2 12)+3 = 7; longest run 5
    # (indices 7-10 and 12: 12,15,12,15,12) -> no shift; no point outside the limits.
    return series([10, 12] * 4 + [15, 12, 15, 11, 12])


def test_two_of_three_beyond_two_sigma_hand_worked():
    """Two 15s within three points beyond 11 + 2 x 1.773 are flagged; nothing else is."""
    res = spc.chart(_two_of_three_df(), "y", "t", kind="xmr", options=spc.ChartOptions(baseline=8))
    assert res["upper"].iloc[0] == pytest.approx(11 + 3 * 2 / 1.128, abs=1e-12)
    assert res.index[res["signal"]].tolist() == [8, 10]
    assert set(res.loc[[8, 10], "rules"]) == {"2 of 3 beyond 2 sigma"}
    assert res.attrs["summary"]["longest_run"] == 5
    assert res.attrs["summary"]["n_useful"] == 12
    assert res["baseline"].tolist() == [True] * 8 + [False] * 5


def test_variation_labels_follow_improvement_direction():
    """The same high signal is improving when up is good and concerning when down is good."""
    df = _two_of_three_df().iloc[:11]  # ends on the second 15, part of the signal
    up = spc.chart(df, "y", "t", kind="xmr", options=spc.ChartOptions(baseline=8, improvement="up"))
    down = spc.chart(
        df, "y", "t", kind="xmr", options=spc.ChartOptions(baseline=8, improvement="down")
    )
    assert up.attrs["summary"]["variation"] == "special cause improving"
    assert down.attrs["summary"]["variation"] == "special cause concerning"
    calm = spc.chart(series([10, 12] * 6), "y", "t", kind="xmr")
    assert calm.attrs["summary"]["variation"] == "common cause"


@pytest.mark.parametrize(
    ("target", "improvement", "label"),
    [
        (5.0, "up", "target outside limits: consistently passes"),  # 5 <= lower 5.68
        (20.0, "up", "target outside limits: consistently fails"),  # 20 > upper 16.32
        (12.0, "up", "target within limits: will be met only by chance"),
        (20.0, "down", "target outside limits: consistently passes"),
        (5.0, "down", "target outside limits: consistently fails"),
    ],
)
def test_assurance_labels(target, improvement, label):
    """Limits 11 +/- 5.319: a target outside them is consistently passed or failed."""
    res = spc.chart(
        _two_of_three_df(),
        "y",
        "t",
        kind="xmr",
        options=spc.ChartOptions(baseline=8, target=target, improvement=improvement),
    )
    assert res.attrs["summary"]["assurance"] == label
    assert (res["target"] == target).all()


def test_run_chart_has_no_assurance():
    """A run chart has no limits, so no assurance label."""
    res = spc.chart(series(range(12)), "y", "t", options=spc.ChartOptions(target=3))
    assert res.attrs["summary"]["assurance"] is None


def test_p_chart_hand_worked():
    """p-bar = 30/200 = 0.15; limits 0.15 +/- 3 sqrt(0.15 x 0.85 / n_i), clipped at 0."""
    df = pd.DataFrame({"t": [1, 2, 3], "k": [10, 20, 0], "n": [100, 100, 4]})
    # p-bar = 30 / 204
    res = spc.chart(df, "k", "t", kind="p", n="n")
    pbar = 30 / 204
    assert res["value"].tolist() == pytest.approx([0.1, 0.2, 0.0])
    assert res["centre"].iloc[0] == pytest.approx(pbar)
    se = np.sqrt(pbar * (1 - pbar) / np.array([100, 100, 4]))
    assert res["upper"].to_numpy() == pytest.approx(pbar + 3 * se)
    assert res["lower"].to_numpy() == pytest.approx(np.maximum(pbar - 3 * se, 0))
    assert res["lower"].iloc[2] == 0
    pct = spc.chart(df, "k", "t", kind="p", n="n", options=spc.ChartOptions(multiplier=100))
    assert pct["upper"].to_numpy() == pytest.approx(100 * np.minimum(pbar + 3 * se, 1))


def test_u_chart_hand_worked():
    """u-bar = 13/5 = 2.6; limits 2.6 +/- 3 sqrt(2.6 / exposure), lower clipped at 0."""
    df = pd.DataFrame({"t": ["a", "b"], "k": [4, 9], "days": [2.0, 3.0]})
    res = spc.chart(df, "k", "t", kind="u", n="days")
    assert res["value"].tolist() == pytest.approx([2.0, 3.0])
    assert res["upper"].tolist() == pytest.approx(
        [2.6 + 3 * math.sqrt(1.3), 2.6 + 3 * math.sqrt(2.6 / 3)]
    )
    assert res["lower"].tolist() == [0.0, 0.0]


def test_xbar_s_hand_worked():
    """Subgroups [1,2,3] and [2,4,6]: means 2, 4; sds 1, 2; s-bar 1.5; A3(3) = 3/(c4 sqrt 3)."""
    df = pd.DataFrame({"t": ["A"] * 3 + ["B"] * 3, "score": [1, 2, 3, 2, 4, 6]})
    res = spc.chart(df, "score", "t", kind="xbar_s")
    c4_3 = math.sqrt(math.pi) / 2
    a3 = 3 / (c4_3 * math.sqrt(3))
    assert res["value"].tolist() == [2.0, 4.0]
    assert res["n"].tolist() == [3, 3]
    assert res["s"].tolist() == pytest.approx([1.0, 2.0])
    assert res["centre"].iloc[0] == 3.0
    assert res["upper"].iloc[0] == pytest.approx(3 + a3 * 1.5)
    b4 = 1 + 3 * math.sqrt(1 - c4_3**2) / c4_3
    assert res["s_upper"].iloc[0] == pytest.approx(b4 * 1.5)
    assert res["s_lower"].iloc[0] == 0  # B3 < 0 for n = 3 is clipped


def test_xbar_s_pooled_sd_for_unequal_subgroups():
    """Unequal n: s-bar = sqrt(sum (n_i - 1) s_i^2 / sum (n_i - 1)) (Montgomery 6.31)."""
    a, b = [1.0, 2, 3], [2.0, 4, 6, 8, 10]
    df = pd.DataFrame({"t": [1] * 3 + [2] * 5, "score": a + b})
    res = spc.chart(df, "score", "t", kind="xbar_s")
    pooled = math.sqrt((2 * np.var(a, ddof=1) + 4 * np.var(b, ddof=1)) / 6)
    assert res["s_centre"].iloc[0] == pytest.approx(pooled)
    assert res["centre"].iloc[0] == pytest.approx(np.mean(a + b))
    assert res["upper"].iloc[1] == pytest.approx(
        np.mean(a + b) + 3 / (control_limits.c4(5) * np.sqrt(5)) * pooled
    )


def test_phases_and_exclude_and_baseline_labels():
    """Limits restart at each phase; excluded points are drawn but not used."""
    df = series([1, 3, 1, 3, 100, 10, 12, 10, 12])
    res = spc.chart(df, "y", "t", kind="xmr", options=spc.ChartOptions(phases=[6], exclude=[5]))
    assert res["phase"].tolist() == [1] * 5 + [2] * 4
    assert res["centre"].iloc[0] == 2.0  # mean of 1,3,1,3 (100 excluded)
    assert res["upper"].iloc[0] == pytest.approx(2 + 3 * 2 / 1.128)  # MRs 2,2,2
    assert res["centre"].iloc[5] == 11.0
    assert res["excluded"].tolist() == [False] * 4 + [True] + [False] * 4
    assert res["rules"].iloc[4] == "outside limits"  # excluded points still show as outside
    assert res.attrs["summary"]["phase"] == 2
    assert len(res.attrs["summary"]["phases"]) == 2
    by_label = spc.chart(df, "y", "t", kind="xmr", options=spc.ChartOptions(baseline=[1, 2, 3, 4]))
    assert by_label["centre"].iloc[8] == 2.0


def test_missing_values_are_gaps():
    """A missing value is a gap: skipped in the mean, and both moving ranges next to it dropped."""
    df = series([1, np.nan, 3, 5])
    res = spc.chart(df, "y", "t", kind="xmr")
    assert res["centre"].iloc[0] == 3.0
    assert res["upper"].iloc[0] == pytest.approx(3 + 3 * 2 / 1.128)  # only MR |5-3| = 2
    assert np.isnan(res["value"].iloc[1]) and not res["signal"].iloc[1]


def test_missing_denominator_is_a_gap():
    """A missing n makes that point a gap, not part of p-bar."""
    df = pd.DataFrame({"t": [1, 2, 3], "k": [1, 5, 3], "n": [10, np.nan, 10]})
    res = spc.chart(df, "k", "t", kind="p", n="n")
    assert res["centre"].iloc[0] == pytest.approx(4 / 20)
    assert np.isnan(res["value"].iloc[1])


def test_period_order_rules():
    """Shuffled rows come back in period order; categorical and order= orders are respected."""
    df = pd.DataFrame({"t": ["2024/25 HT2", "2024/25 HT1", "2024/25 HT3"], "y": [2.0, 1.0, 3.0]})
    res = spc.chart(df, "y", "t")
    assert res["period"].tolist() == ["2024/25 HT1", "2024/25 HT2", "2024/25 HT3"]
    custom = spc.chart(
        df, "y", "t", options=spc.ChartOptions(order=["2024/25 HT3", "2024/25 HT1", "2024/25 HT2"])
    )
    assert custom["value"].tolist() == [3.0, 1.0, 2.0]
    cat = df.assign(
        t=pd.Categorical(
            df["t"], categories=["2024/25 HT3", "2024/25 HT2", "2024/25 HT1"], ordered=True
        )
    )
    assert spc.chart(cat, "y", "t")["value"].tolist() == [3.0, 2.0, 1.0]


def test_input_not_mutated():
    """chart() leaves its input frame unchanged."""
    df = series([3, 1, 2, 5, 4])
    before = df.copy()
    spc.chart(df, "y", "t", kind="xmr", options=spc.ChartOptions(exclude=[2]))
    pd.testing.assert_frame_equal(df, before)


def test_chart_by_matches_chart():
    """chart with by= gives the same limits and rules as chart, series by series."""
    rng = np.random.default_rng(3)
    df = pd.DataFrame(
        {
            "s": np.repeat(["a", "b", "c"], 20),
            "t": np.tile(range(20), 3),
            "y": rng.normal(size=60).cumsum(),
        }
    )
    pts, summ = spc.chart(df, "y", "t", kind="xmr", by="s", options=spc.ChartOptions(baseline=10))
    for name, g in df.groupby("s"):
        one = spc.chart(g, "y", "t", kind="xmr", options=spc.ChartOptions(baseline=10))
        sub = pts[pts["s"] == name].reset_index(drop=True)
        np.testing.assert_allclose(
            sub[["centre", "lower", "upper"]], one[["centre", "lower", "upper"]]
        )
        assert sub["rules"].tolist() == one["rules"].tolist()
        row = summ[summ["s"] == name].iloc[0]
        assert row["variation"] == one.attrs["summary"]["variation"]
        assert row["longest_run"] == one.attrs["summary"]["longest_run"]


# ---------------------------------------------------------------------------------------------
# qicharts2 reference vectors
# ---------------------------------------------------------------------------------------------


def _ref(name):
    return pd.read_csv(REF / f"expected_{name}.csv")


def _inp(name):
    return pd.read_csv(REF / f"input_{name}.csv")


def _check_runs(summary, e):
    got = [
        summary[k]
        for k in (
            "n_useful",
            "longest_run",
            "longest_run_max",
            "crossings",
            "crossings_min",
            "runs_signal",
        )
    ]
    want = [
        int(e[k].iloc[0])
        for k in ("n.useful", "longest.run", "longest.run.max", "n.crossings", "n.crossings.min")
    ]
    assert got[:5] == want
    assert got[5] == bool(e["runs.signal"].iloc[0])


def _check_limits(res, e, cols=("centre", "upper", "lower")):
    for ours, theirs in zip(cols, ("cl", "ucl", "lcl"), strict=True):
        np.testing.assert_allclose(
            res[ours].to_numpy(float), e[theirs].to_numpy(float), atol=TOL, rtol=0, equal_nan=True
        )


def _check_outside(res, e, value="value", lower="lower", upper="upper"):
    outside = (res[value] > res[upper]) | (res[value] < res[lower])
    assert outside.tolist() == e["sigma.signal"].astype(bool).tolist()


def chart_with(frame, value, period, *, kind="run", n=None, **options):
    """Call spc.chart with the chart options given as keywords (the parametrized cases)."""
    return spc.chart(frame, value, period, kind=kind, n=n, options=spc.ChartOptions(**options))


REFERENCE_CASES = {
    # name: (input, chart kwargs, which chart of the pair)
    "ex_6.3_1": ("tbl_06.03", {"kind": "xbar_s"}, "xbar"),
    "ex_6.3_2": ("tbl_06.03", {"kind": "xbar_s"}, "s"),
    "ex_6.4_1": ("tbl_06.04", {"kind": "xbar_s"}, "xbar"),
    "ex_6.4_2": ("tbl_06.04", {"kind": "xbar_s"}, "s"),
    "ex_6.5_3": ("tbl_06.07", {"kind": "xmr", "baseline": 20}, "i"),
    "ex_6.5_4": ("tbl_06.07", {"kind": "xmr", "baseline": 20}, "mr"),
    "tbl_7.4_1": ("tbl_07.04", {"kind": "p", "n": "size"}, "main"),
    "ex_7.4_1": ("tbl_07.10", {"kind": "u", "n": "size"}, "main"),
    "ex_7.5_1": ("tbl_07.11", {"kind": "u", "n": "meters", "multiplier": 50}, "main"),
}
COLUMNS = {
    "tbl_06.03": ("obs", "sample"),
    "tbl_06.04": ("obs", "sample"),
    "tbl_06.07": ("cost", "weeks"),
    "tbl_07.04": ("count", "sample"),
    "tbl_07.10": ("count", "sample"),
    "tbl_07.11": ("count", "roll"),
}


@pytest.mark.parametrize("name", list(REFERENCE_CASES))
def test_reference_single_phase(name):
    """Centre, limits, points outside limits and runs analysis equal the qicharts2 snapshot."""
    inp, kwargs, which = REFERENCE_CASES[name]
    value, period = COLUMNS[inp]
    res = chart_with(_inp(inp), value, period, **kwargs)
    e = _ref(name)
    assert len(res) == len(e)
    if which == "s":
        _check_limits(res, e, ("s_centre", "s_upper", "s_lower"))
        np.testing.assert_allclose(res["s"], e["y"], atol=TOL)
        _check_outside(res, e, "s", "s_lower", "s_upper")
        _check_runs(run_rules.runs_analysis(res["s"], res["s_centre"]), e)
    elif which == "mr":
        np.testing.assert_allclose(res["mr"], e["y"], atol=TOL, equal_nan=True)
        np.testing.assert_allclose(res["mr_centre"], e["cl"], atol=TOL)
        np.testing.assert_allclose(res["mr_upper"], e["ucl"], atol=TOL)
        assert (res["mr"] > res["mr_upper"]).tolist() == e["sigma.signal"].tolist()
        _check_runs(run_rules.runs_analysis(res["mr"], res["mr_centre"]), e)
    else:
        _check_limits(res, e)
        np.testing.assert_allclose(res["value"], e["y"], atol=TOL)
        _check_outside(res, e)
        _check_runs(res.attrs["summary"], e)


def test_reference_ex_7_1_p_chart_phases_and_exclusions():
    """Montgomery example 7.1: p chart, points 15 and 23 excluded, new phase from sample 31."""
    e = _ref("ex_7.1_5")
    res = spc.chart(
        _inp("tbl_07.03"),
        "count",
        "sample",
        kind="p",
        n="size",
        options=spc.ChartOptions(exclude=[15, 23], phases=[31]),
    )
    _check_limits(res, e)
    _check_outside(res, e)
    assert res["excluded"].tolist() == (~e["include"]).tolist()
    for ph, part in zip(res.attrs["summary"]["phases"], (1, 2), strict=True):
        _check_runs(ph, e[e["part"] == part])


def test_reference_ex_7_3_c_chart_as_u_chart():
    """Montgomery example 7.3: a c chart is a u chart with exposure 1; freeze 26, exclude 6, 20."""
    e = _ref("ex_7.3_3")
    inp = _inp("tbl_07.08").assign(one=1.0)
    res = spc.chart(
        inp,
        "count",
        "sample",
        kind="u",
        n="one",
        options=spc.ChartOptions(baseline=26, exclude=[6, 20]),
    )
    _check_limits(res, e)
    _check_outside(res, e)
    _check_runs(res.attrs["summary"], e)
    assert res.attrs["summary"]["crossings_signal"]  # 14 crossings < 16


def test_reference_na_test_differs_by_design():
    """Missing data: qicharts2 counts an empty subgroup as -1 degree of freedom; we do not.

    The centre line and runs analysis match; the limits match once our pooled s-bar (divisor
    sum(n_i - 1) = 76 over non-empty subgroups) is rescaled to qicharts2's divisor 75.
    """
    e = _ref("NA_test")
    inp = _inp("NA_test")
    with pytest.raises(DataError, match="missing period"):
        spc.chart(inp, "obs", "sample", kind="xbar_s")
    res = spc.chart(inp.dropna(subset=["sample"]), "obs", "sample", kind="xbar_s")
    np.testing.assert_allclose(res["centre"], e["cl"], atol=TOL)
    _check_runs(res.attrs["summary"], e)
    assert np.isnan(res["upper"]).tolist() == e["ucl"].isna().tolist()
    half_ours = res["upper"] - res["centre"]
    half_ref = e["ucl"] - e["cl"]
    assert np.nanmax(np.abs(half_ours - half_ref)) > 1e-4  # the real difference
    np.testing.assert_allclose(half_ours * math.sqrt(76 / 75), half_ref, atol=TOL)


def _hai_check(pts, summ, e, keys):
    agg = (
        pts.groupby(keys, sort=True)
        .agg(
            aLCL=("lower", "mean"),
            CL=("centre", "mean"),
            aUCL=("upper", "mean"),
            sig=("rules", lambda r: r.str.contains("outside limits").sum()),
        )
        .reset_index()
    )
    m = summ.merge(agg, on=keys)
    for col in ("aLCL", "CL", "aUCL"):
        np.testing.assert_allclose(m[col], e[col], atol=TOL, rtol=0)
    pairs = [
        ("n_obs", "n.obs"),
        ("n_useful", "n.useful"),
        ("longest_run", "longest.run"),
        ("longest_run_max", "longest.run.max"),
        ("crossings", "n.crossings"),
        ("crossings_min", "n.crossings.min"),
        ("runs_signal", "runs.signal"),
        ("sig", "sigma.signal"),
    ]
    for ours, theirs in pairs:
        assert m[ours].astype(float).tolist() == e[theirs].astype(float).tolist(), ours


@pytest.fixture(scope="module")
def hai():
    return pd.read_csv(REF / "data_hospital_infections.csv")


def test_reference_hai_1_total(hai):
    """Hospital infections, all hospitals and infections: u chart of monthly totals."""
    monthly = hai.groupby("month", as_index=False)[["n", "days"]].sum().assign(all=1)
    res = spc.chart(monthly, "n", "month", kind="u", n="days")
    e = _ref("hai_1")
    assert res["centre"].iloc[0] == pytest.approx(e["CL"].iloc[0], abs=TOL)
    assert res["lower"].mean() == pytest.approx(e["aLCL"].iloc[0], abs=TOL)
    _check_runs(res.attrs["summary"], e)
    pts, summ = spc.chart(monthly, "n", "month", kind="u", n="days", by="all")
    _hai_check(pts, summ, e, ["all"])


def test_reference_hai_2_by_infection(hai):
    """Hospital infections by infection type: three u charts at once."""
    by_inf = hai.groupby(["infection", "month"], as_index=False)[["n", "days"]].sum()
    pts, summ = spc.chart(by_inf, "n", "month", kind="u", n="days", by="infection")
    _hai_check(pts, summ, _ref("hai_2").rename(columns={"facet1": "infection"}), ["infection"])


def test_reference_hai_3_by_hospital_and_infection(hai):
    """Hospital infections by hospital and infection: 18 u charts, two of them runs signals."""
    pts, summ = spc.chart(hai, "n", "month", kind="u", n="days", by=["hospital", "infection"])
    e = _ref("hai_3").rename(columns={"facet1": "hospital", "facet2": "infection"})
    _hai_check(pts, summ, e, ["hospital", "infection"])
    assert summ["runs_signal"].sum() == 2


def test_reference_hai_4_funnel_order(hai):
    """Last six months per hospital, hospitals ordered by mean patient-days, per 10,000 days."""
    sub = hai[hai["month"] >= "2016-07-01"]
    order = sub.groupby("hospital")["days"].mean().sort_values().index.tolist()
    per = sub.groupby(["infection", "hospital"], as_index=False)[["n", "days"]].sum()
    pts, summ = spc.chart(
        per,
        "n",
        "hospital",
        kind="u",
        n="days",
        by="infection",
        options=spc.ChartOptions(order=order, multiplier=10_000),
    )
    _hai_check(pts, summ, _ref("hai_4").rename(columns={"facet1": "infection"}), ["infection"])


def test_unsupported_reference_t_chart_is_documented():
    """ex_7.6_1 is a t chart (time between events), which cilib.stats.spc does not offer."""
    assert "t" not in control_limits.KINDS
    text = (Path(__file__).resolve().parents[1] / "docs" / "spc.md").read_text()
    assert "ex_7.6_1" in text and "not supported" in text


# ---------------------------------------------------------------------------------------------
# Bad input
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("frame", "kwargs", "match"),
    [
        (series([1, 2, 3]), {"kind": "i"}, "kind='i' is not supported"),
        (series([1, 2, 3]), {"kind": "p"}, "needs n="),
        (series([1, 2, 3]).rename(columns={"y": "z"}), {}, r"column\(s\) \['y'\] not found"),
        (series([1]), {"kind": "xmr"}, "at least 2 periods"),
        (series([1, 2]), {"kind": "xmr", "phases": [2]}, "needs at least 2"),
        (pd.DataFrame({"t": [1, 1, 2], "y": [1.0, 2, 3]}), {}, "appear more than once"),
        (pd.DataFrame({"t": [1, None, 2], "y": [1.0, 2, 3]}), {}, "missing period"),
        (series([1, 2, 3]), {"exclude": [9]}, "exclude= names periods not in the data"),
        (series([1, 2, 3]), {"phases": ["x"]}, "phases= names periods not in the data"),
        (series([1, 2, 3]), {"baseline": 0}, "positive number"),
        (series([1, 2, 3]), {"improvement": "better"}, "'up' or 'down'"),
        (series([1, 2, 3]), {"order": [1, 2]}, "not in order="),
        (series([1, np.inf, 3]), {}, "infinite"),
        (pd.DataFrame({"t": [1, "b"], "y": [1.0, 2]}), {}, "cannot be sorted"),
        (pd.DataFrame({"t": pd.Categorical(["a", "b"]), "y": [1.0, 2]}), {}, "unordered"),
        (pd.DataFrame({"t": [1, 2], "y": ["a", "b"]}), {}, "must be numeric"),
        (pd.DataFrame({"t": ["a", "b"], "y": [1.0, 2]}), {"kind": "xbar_s"}, "needs at least 1"),
    ],
)
def test_bad_input_raises(frame, kwargs, match):
    """Each user error raises DataError with a message that says what to fix."""
    with pytest.raises(DataError, match=match):
        chart_with(frame, "y", "t", **kwargs)


@pytest.mark.parametrize(
    ("k", "n", "kind", "match"),
    [
        ([1, 2], [0, 5], "p", "zero denominators"),
        ([-1, 2], [5, 5], "u", "negative counts"),
        ([1, 2], [-5, 5], "u", "negative denominators"),
        ([6, 2], [5, 5], "p", "cannot exceed"),
    ],
)
def test_bad_counts_raise(k, n, kind, match):
    """Zero or negative denominators, negative counts and counts above trials are refused."""
    df = pd.DataFrame({"t": [1, 2], "k": k, "n": n})
    with pytest.raises(DataError, match=match):
        spc.chart(df, "k", "t", kind=kind, n="n")


def test_chart_by_short_series_gets_missing_limits():
    """In chart with by= a one-point series gets missing limits instead of stopping the others."""
    df = pd.DataFrame({"s": ["a", "a", "a", "b"], "t": [1, 2, 3, 1], "y": [1.0, 2, 4, 5]})
    pts, summ = spc.chart(df, "y", "t", kind="xmr", by="s")
    assert pts.loc[pts["s"] == "b", "upper"].isna().all()
    assert pts.loc[pts["s"] == "a", "upper"].notna().all()
    assert summ.set_index("s").loc["b", "n_base"] == 1


# ---------------------------------------------------------------------------------------------
# Equity lens and plots
# ---------------------------------------------------------------------------------------------


def test_gap_chart_proportions_and_means():
    """Gap per period = focus rate minus comparison rate, charted as XmR."""
    f = pd.DataFrame({"t": [1, 2, 3, 4], "k": [5, 6, 7, 8], "n": [10, 10, 10, 10]})
    c = pd.DataFrame({"t": [1, 2, 3, 4], "k": [8, 8, 8, 9], "n": [10, 10, 10, 10]})
    res = spc.gap_chart(f, c, "k", "t", n="n")
    assert res["value"].tolist() == pytest.approx([-0.3, -0.2, -0.1, -0.1])
    assert res["centre"].iloc[0] == pytest.approx(-0.175)
    # pupil-level rows: mean per period
    fp = pd.DataFrame({"t": [1, 1, 2, 2, 3, 3], "y": [1.0, 3, 2, 4, 5, 5]})
    cp = pd.DataFrame({"t": [1, 2, 3], "y": [4.0, 4, 4]})
    g = spc.gap_chart(fp, cp, "y", "t", kind="run")
    assert g["value"].tolist() == [-2.0, -1.0, 1.0]
    assert g["focus"].tolist() == [2.0, 3.0, 5.0]


def test_variation_label_follows_the_latest_point():
    """A signal that has ended no longer sets the label (NHS Making Data Count)."""
    full = spc.chart(_two_of_three_df(), "y", "t", kind="xmr", options=spc.ChartOptions(baseline=8))
    assert full["signal"].iloc[8] and not full["signal"].iloc[-1]
    assert full.attrs["summary"]["variation"] == "common cause"
    # a spike long ago, then 15 ordinary half-terms: common cause today
    y = [10, 12] * 3 + [30] + [11, 12, 10, 11, 12, 11, 10, 12, 11, 12, 10, 11, 12, 11, 10]
    res = spc.chart(series(y), "y", "t", kind="xmr")
    assert res["rules"].iloc[6] == "outside limits"
    assert res.attrs["summary"]["variation"] == "common cause"
    # the same spike as the latest point is special cause
    latest = spc.chart(
        series(y[7:] + [30]), "y", "t", kind="xmr", options=spc.ChartOptions(baseline=15)
    )
    assert latest.attrs["summary"]["variation"] == "special cause improving"


def _laney_reference(count, n):
    """Laney (2002) p′ limits written out: p-chart sigma times the MR SD of z-scores."""
    p = count / n
    pbar = count.sum() / n.sum()
    sig = np.sqrt(pbar * (1 - pbar) / n)
    z = (p - pbar) / sig
    mr = np.abs(np.diff(z))
    amr = mr.mean()
    mr = mr[mr < 3.267 * amr]
    sigma_z = mr.mean() / 1.128
    return pbar, pbar - 3 * sig * sigma_z, pbar + 3 * sig * sigma_z, sigma_z


def test_laney_p_prime_limits_hand_computation():
    """kind='pp' limits equal the p chart's sigma times sigma_z, computed independently."""
    rng = np.random.default_rng(3)
    n = rng.integers(900, 1100, 18).astype(float)
    true_p = np.clip(0.25 + rng.normal(0, 0.03, 18), 0.01, 0.99)  # overdispersed
    count = rng.binomial(n.astype(int), true_p).astype(float)
    df = pd.DataFrame({"t": range(18), "x": count, "n": n})
    res = spc.chart(df, "x", "t", kind="pp", n="n")
    pbar, lo, hi, sigma_z = _laney_reference(count, n)
    assert res["centre"].iloc[0] == pytest.approx(pbar)
    assert np.allclose(res["lower"], lo) and np.allclose(res["upper"], hi)
    assert res.attrs["summary"]["sigma_z"] == pytest.approx(sigma_z)
    assert sigma_z > 2  # binomial limits are far too narrow here
    plain = spc.chart(df, "x", "t", kind="p", n="n")
    assert plain["signal"].sum() > res["signal"].sum()
    assert np.isnan(plain.attrs["summary"]["sigma_z"])


@pytest.mark.slow
def test_laney_false_alarms_with_overdispersed_large_denominators():
    """No true change, about 1,000 pupils a half-term: p-charts cry wolf, p′ charts do not."""
    rng = np.random.default_rng(11)
    p_alarm, pp_alarm = [], []
    for _ in range(200):
        n = np.full(18, 1000.0)
        true_p = np.clip(0.2 + rng.normal(0, 0.025, 18), 0.01, 0.99)
        df = pd.DataFrame({"t": range(18), "x": rng.binomial(1000, true_p), "n": n})
        p_alarm.append(
            spc.chart(df, "x", "t", kind="p", n="n")["rules"].str.contains("outside").any()
        )
        pp_alarm.append(
            spc.chart(df, "x", "t", kind="pp", n="n")["rules"].str.contains("outside").any()
        )
    assert np.mean(p_alarm) > 0.5
    assert np.mean(pp_alarm) < 0.15


def test_laney_u_prime_is_near_the_u_chart_when_poisson():
    """With Poisson counts sigma_z is close to 1 and u′ limits close to the u chart's."""
    rng = np.random.default_rng(4)
    n = rng.uniform(50, 150, 30)
    df = pd.DataFrame({"t": range(30), "x": rng.poisson(0.5 * n), "n": n})
    up = spc.chart(df, "x", "t", kind="up", n="n")
    u = spc.chart(df, "x", "t", kind="u", n="n")
    assert 0.7 < up.attrs["summary"]["sigma_z"] < 1.3
    ratio = (up["upper"] - up["centre"]) / (u["upper"] - u["centre"])
    assert np.allclose(ratio, up.attrs["summary"]["sigma_z"])
