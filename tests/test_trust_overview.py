"""Trust overview (cilib.report.sections.trust_overview): planted schools, suppression, spread,
trend test, notebook."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from cilib.core.errors import DataError
from cilib.report.sections import trust_overview as ov
from tests.conftest import PERIOD, run_notebook
from tests.test_analyse_impact import _outputs


@pytest.fixture(scope="module")
def store(sample_store):
    """The sample trust, prepared once per test session (tests/conftest.py)."""
    return sample_store


@pytest.fixture(scope="module")
def spots(store):
    """Bright spots and schools needing support for the sample."""
    return ov.spots(store)


def test_nlt07_needs_support_for_attendance(spots):
    """NLT07 (planted 3-point attendance drop) is below the funnel limit for attendance (G2)."""
    s = spots.loc[(spots["school_id"] == "NLT07") & (spots["kind"] == "needs support")]
    assert "G2" in set(s["goal"])
    assert s.loc[s["goal"] == "G2", "reason"].str.contains("below the 99.8% limit").any()


def test_reading_gap_narrowing_bright_spots(spots):
    """NLT01 and NLT03 are bright spots for the reading gap (G1) narrowing beyond noise."""
    b = spots.loc[(spots["kind"] == "bright spot") & (spots["goal"] == "G1")]
    narrowing = set(b.loc[b["reason"].str.contains("narrowing"), "school_id"])
    assert {"NLT01", "NLT03"} <= narrowing
    # the comparison primaries are not bright spots for the reading gap
    assert not narrowing & {"NLT04", "NLT05"}


def test_nlt02_reading_gap_not_narrowing_in_the_sample(store):
    """NLT02's realised reading gap does not narrow (-8.5 to -8.0): no clear change, not a spot."""
    tr = ov.gap_trends(store, store.plan().goal("G1")).set_index("school_id")
    assert tr.loc["NLT02", "trend"] == "no clear change"
    assert tr.loc["NLT01", "trend"] == "narrowing" and tr.loc["NLT03", "trend"] == "narrowing"


def test_funnel_value_matches_pandas(store):
    """G2's funnel value for NLT07 is the mean of its disadvantaged pupils' rates (pandas)."""
    f, latest, who = ov.goal_funnel(store, store.plan().goal("G2"))
    assert latest == PERIOD and who == "disadvantaged pupils"
    att = store.table("attendance")
    att = att.loc[(att["period"] == PERIOD) & (att["possible_sessions"] > 0)]
    per = att.groupby(["pupil_id", "school_id"], as_index=False)[
        ["attended_sessions", "possible_sessions"]
    ].sum()
    p = store.table("pupils")
    p = p.loc[p["academic_year"] == "2025/26", ["pupil_id", "disadvantaged"]]
    per = per.merge(p, on="pupil_id")
    per = per.loc[per["disadvantaged"].fillna(False).astype(bool)]
    rate = 100 * per["attended_sessions"] / per["possible_sessions"]
    row = f.set_index("unit").loc["NLT07"]
    assert row["value"] == pytest.approx(rate[per["school_id"] == "NLT07"].mean(), abs=1e-9)
    assert row["target"] == pytest.approx(rate.mean(), abs=1e-9)
    assert row["status"] == "below"


def test_heatmap_small_cells_are_x_and_uncoloured(store):
    """A gender with too few pupils trust-wide is left out, not hiding girls; x cells uncoloured."""
    data = ov.gap_heatmap_data(store, "attendance")
    # independent counts: pupils with attendance this year, by school and gender
    year = [p for p in store.periods if p.startswith("2025/26")]
    att = store.table("attendance")
    att = att.loc[att["period"].isin(year) & (att["possible_sessions"] > 0)]
    pupils = att[["pupil_id", "school_id"]].drop_duplicates()
    p = store.table("pupils")
    p = p.loc[p["academic_year"] == "2025/26", ["pupil_id", "gender"]].drop_duplicates("pupil_id")
    counts = pupils.merge(p, on="pupil_id").groupby(["school_id", "gender"]).size()
    small = counts[(counts > 0) & (counts < store.threshold)]
    assert len(small) >= 1
    trust = counts.groupby(level="gender").sum()
    for (school, gender), _n in small.items():
        assert trust[gender] < store.threshold  # tiny trust-wide: left out of the table
        cell = data.loc[(data["school_id"] == school) & (data["column"] == f"Gender: {gender}")]
        assert len(cell) == 0
        # ... so the school's large groups are not hidden to protect it
        big = data.loc[(data["school_id"] == school) & (data["lens"] == "Gender")]
        assert len(big) >= 2 and not big["suppressed"].any()
    # every suppressed cell is 'x' and every shown cell has a number
    assert (data.loc[data["suppressed"], "display"] == "x").all()
    assert data.loc[~data["suppressed"], "gap"].notna().all()
    # a suppressed cell is drawn as 'x' and not coloured
    data = data.copy()
    data.loc[0, ["gap", "suppressed", "display"]] = [np.nan, True, "x"]
    fig = ov.plot_gap_heatmap(data, title="t", unit="points")
    arr = fig.axes[0].images[0].get_array()
    cols = list(dict.fromkeys(data["column"]))
    rows = sorted(data["school_id"].unique())
    assert bool(arr.mask[rows.index(data.loc[0, "school_id"]), cols.index(data.loc[0, "column"])])
    texts = {t.get_text() for t in fig.axes[0].texts}
    assert "x" in texts


def test_spread_matches_pandas(store):
    """Floor, quartile, median and SD per period match a plain pandas computation."""
    sp = ov.spread(store).set_index("period")
    att = store.table("attendance")
    g = att.groupby(["period", "school_id"])[["attended_sessions", "possible_sessions"]].sum()
    v = (100 * g["attended_sessions"] / g["possible_sessions"]).unstack()
    for period in ("2023/24 HT1", PERIOD):
        row = v.loc[period]
        assert sp.loc[period, "min"] == pytest.approx(row.min(), abs=1e-9)
        assert sp.loc[period, "lowest"] == row.idxmin()
        assert sp.loc[period, "q1"] == pytest.approx(np.percentile(row, 25), abs=1e-9)
        assert sp.loc[period, "median"] == pytest.approx(np.median(row), abs=1e-9)
        assert sp.loc[period, "sd"] == pytest.approx(np.std(row, ddof=1), abs=1e-9)
    assert sp.loc[PERIOD, "lowest"] == "NLT07"


def test_trend_test_matches_scipy_linregress():
    """The OLS slope, SE-based t interval and verdict agree with scipy.stats.linregress."""
    rng = np.random.default_rng(3)
    y = 90 - 0.2 * np.arange(12) + rng.normal(0, 0.3, 12)
    r = ov.trend_test(y)
    lr = stats.linregress(np.arange(12), y)
    t = stats.t.ppf(0.975, 10)
    assert r["slope"] == pytest.approx(lr.slope, abs=1e-12)
    assert r["ci_low"] == pytest.approx(lr.slope - t * lr.stderr, abs=1e-12)
    assert r["verdict"] == "falling"
    assert ov.trend_test([1.0, 1.0])["verdict"] == "no data"


@pytest.mark.slow
def test_convergence_sentence_and_headlines(store):
    """The sample's floor falls (NLT07's drop): no upward convergence; headlines say so."""
    c = ov.convergence(store)
    assert c["floor"]["verdict"] == "falling" and not c["upward"]
    h = ov.headlines(store)
    assert "since 2025/26 HT5" in h[0]
    assert any("Castlegate Academy (NLT07)" in x and x.startswith("Schools needing") for x in h)


def test_bad_measure_raises(store):
    """Only attendance or score heat maps exist."""
    with pytest.raises(DataError, match="measure must be 'attendance' or 'score'"):
        ov.gap_heatmap_data(store, "behaviour")


def test_spots_columns(spots):
    """The spots table has one row per school, goal and reason, kinds from a fixed set."""
    assert list(spots.columns) == ["school_id", "school", "kind", "goal", "reason"]
    assert set(spots["kind"]) <= {"bright spot", "needs support"}
    assert isinstance(spots, pd.DataFrame)


@pytest.mark.slow
def test_trust_overview_notebook_runs(tmp_path, sample_store_dir):
    """10_trust_overview runs for the trust with headings, figures and no errors."""
    nb = run_notebook("10_trust_overview", tmp_path, store=str(sample_store_dir), school_id=None,
                      period=PERIOD)
    text = json.dumps(nb)
    for heading in ("Bright spots", "Is the floor rising", "Gaps by school", "Headlines"):
        assert heading in text
    outs = _outputs(nb)
    assert sum("image/png" in o.get("data", {}) for o in outs) >= 4

