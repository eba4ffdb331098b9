"""One answer across reports (cilib.report.sections.verdicts): bright spots, support, gap trends.

Checked on the sample store against independent computations (pandas, numpy, statsmodels'
Benjamini–Hochberg), and the trust overview against the schools' Monitor reports.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.multitest import multipletests

from cilib.report.sections import monitor_charts as mc
from cilib.report.sections import verdicts as vd

NAMED = ("narrowing", "widening", "reversed")


@pytest.fixture(scope="module")
def store(sample_store):
    """The sample trust, prepared once per test session (tests/conftest.py)."""
    return sample_store


@pytest.fixture(scope="module")
def verdicts(store):
    """Every school's verdicts for every goal."""
    return vd.school_verdicts(store)


@pytest.fixture(scope="module")
def spots(store):
    """Bright spots and schools needing support."""
    return vd.spots(store)


def test_overview_and_monitor_agree_for_every_school_and_goal(store, spots):
    """The overview's gap verdict and the school's Monitor report say the same, every time.

    For each school × goal of the sample: a gap the overview calls narrowing (a bright spot) or
    widening (needs support) is called the same in the school's Monitor report, never "common
    cause" or "no clear change"; and a gap the overview does not flag is never called narrowing
    or widening in the Monitor report.
    """
    plan = store.plan()
    checked = 0
    for goal in plan.goals:
        for school in store.meta["schools"]:
            sid = school["school_id"] if isinstance(school, dict) else school
            rows = spots.loc[(spots["school_id"] == sid)
                             & spots["goal"].str.startswith(f"{goal.id}:")]
            flagged = rows.loc[rows["reason"].str.startswith("The gap for")]
            sentence = mc.gap_sentence(store, goal, sid) if goal.applies_to(sid) else None
            if len(flagged):
                assert sentence is not None, (sid, goal.id)
                word = "narrowing" if flagged["kind"].iloc[0] == "bright spot" else "widening"
                assert word in flagged["reason"].iloc[0]
                assert word in sentence or "reversed" in sentence, (sid, goal.id, sentence)
                assert "no clear change" not in sentence and "Common cause" not in sentence
                assert flagged["reason"].iloc[0] in sentence
            elif sentence is not None:
                assert not any(f"is {w}" in sentence for w in ("narrowing", "widening"))
                assert "has reversed" not in sentence
            checked += 1
    assert checked == len(plan.goals) * len(store.meta["schools"])
    # the planted narrowing reading gaps are found and agree in both reports
    assert "is narrowing" in mc.gap_sentence(store, plan.goal("G1"), "NLT01")
    assert "is narrowing" in mc.gap_sentence(store, plan.goal("G1"), "NLT03")


def test_flags_follow_benjamini_hochberg_across_the_family(verdicts):
    """Trend and funnel flags are those statsmodels' fdr_bh keeps over all p-values shown."""
    p = np.concatenate([verdicts["funnel_p"].to_numpy(float), verdicts["p_value"].to_numpy(float)])
    ok = np.isfinite(p)
    assert verdicts.attrs["checks"] == ok.sum()
    keep = np.zeros(len(p), bool)
    keep[ok] = multipletests(p[ok], alpha=0.05, method="fdr_bh")[0]
    n = len(verdicts)
    funnel_keep, trend_keep = keep[:n], keep[n:]
    outside = (verdicts["position"] != "within").to_numpy()
    assert ((verdicts["funnel_flag"] != "").to_numpy() == (funnel_keep & outside)).all()
    raw_named = (verdicts["slope_ci_low"] > 0) | (verdicts["slope_ci_high"] < 0)
    assert (verdicts["trend"].isin(NAMED).to_numpy() == (trend_keep & raw_named.to_numpy())).all()
    # at least one trend is clear on its own but not once the 72 checks are allowed for
    demoted = verdicts.loc[raw_named & ~verdicts["trend"].isin(NAMED)]
    assert len(demoted) >= 1 and (demoted["trend"] == "no clear change").all()


def test_reading_gap_slope_matches_an_independent_computation(store, verdicts):
    """NLT01's reading-gap slope equals a least-squares slope of per-half-term gaps (numpy)."""
    a = store.table("assessments")
    a = a.loc[(a["school_id"] == "NLT01") & (a["subject"] == "reading") & a["score"].notna()]
    a = a.loc[a["period"].isin(store.periods)]
    per = a.groupby(["pupil_id", "academic_year", "period"], as_index=False)["score"].mean()
    p = store.table("pupils")[["pupil_id", "academic_year", "disadvantaged"]]
    per = per.merge(p.drop_duplicates(["pupil_id", "academic_year"]), how="inner")
    per = per.loc[per["disadvantaged"].notna()]
    per["dis"] = per["disadvantaged"].astype(bool)
    cells = per.groupby(["period", "dis"])["score"].agg(["mean", "size"]).unstack("dis")
    cells = cells.loc[(cells["size"] >= store.threshold).all(axis=1)]
    order = [x for x in store.periods if x in cells.index]
    gaps = (cells["mean"][True] - cells["mean"][False]).reindex(order)
    x = np.array([store.periods.index(q) for q in order], float)
    # the trend's x is the index among periods with data (assessment half-terms)
    have = [q for q in store.periods if q in set(a["period"])]
    x = np.array([have.index(q) for q in order], float)
    slope = np.polyfit(x, gaps.to_numpy(), 1)[0]
    row = verdicts.set_index(["school_id", "goal"]).loc[("NLT01", "G1")]
    assert row["slope"] == pytest.approx(slope, rel=1e-9)
    assert row["first_gap"] == pytest.approx(gaps.iloc[0], rel=1e-9)
    assert row["trend"] == "narrowing"


def test_each_spot_names_its_goal_and_goals_cover_their_schools(store, spots, verdicts):
    """Every spot row says which goal it is for; no school is judged on a goal not its own."""
    titles = {g.id: g.title for g in store.plan().goals}
    for goal in spots["goal"]:
        gid, title = goal.split(": ", 1)
        assert titles[gid] == title
    plan = store.plan()
    for _, r in verdicts.iterrows():
        assert plan.goal(r["goal"]).applies_to(r["school_id"])
    # NLT07's planted attendance drop: needs support for attendance (G2), named in the row
    s = spots.loc[(spots["school_id"] == "NLT07") & (spots["kind"] == "needs support")]
    assert s["goal"].str.startswith("G2:").any()


def test_a_school_can_be_a_bright_spot_for_one_goal_and_need_support_for_another():
    """Two goals, two verdicts for one school: two rows, each naming its goal."""
    base = {"school_id": "S1", "measure": "attendance (%)", "unit": "percentage points",
            "who": "disadvantaged pupils", "latest_period": "2025/26 HT6",
            "n": 80, "value": 95.0, "target": 90.0, "lower998": 88.0, "upper998": 92.0,
            "n_periods": 6, "first_gap": -5.0, "last_gap": -2.0, "slope": 0.6,
            "slope_ci_low": 0.2, "slope_ci_high": 1.0}
    v = pd.DataFrame([
        {**base, "goal": "G1", "goal_title": "Attendance", "position": "above",
         "funnel_flag": "bright spot", "trend": "no clear change"},
        {**base, "goal": "G2", "goal_title": "Reading gap", "position": "within",
         "funnel_flag": "", "trend": "widening"},
    ])
    out = vd.spots_from(v, "Disadvantaged pupils")
    kinds = dict(zip(out["goal"], out["kind"], strict=True))
    assert kinds == {"G1: Attendance": "bright spot", "G2: Reading gap": "needs support"}
    assert out["kind"].iloc[0] == "needs support"  # support listed first
    assert "is widening" in out.loc[out["goal"].str.startswith("G2"), "reason"].item()


def test_trust_verdicts_hold_the_false_discovery_rate_across_goals(store):
    """The trust's Monitor report: q-values across its goals equal statsmodels' fdr_bh."""
    tv = vd.trust_verdicts(store)
    ok = tv["p_value"].notna().to_numpy()
    q = multipletests(tv.loc[ok, "p_value"], method="fdr_bh")[1]
    assert tv.loc[ok, "q_value"].to_numpy() == pytest.approx(q, abs=1e-12)
    assert tv.attrs["checks"] == ok.sum()
    assert "checking 5 goals at once" in mc.checks_note(store, None)
    assert "checking 72 school results at once" in mc.checks_note(store, "NLT01")


def test_sentences_say_the_verdict_plainly():
    """The shared sentence names the verdict; a demoted trend says why it is not named."""
    row = {"measure": "attendance (%)", "unit": "percentage points", "n_periods": 18,
           "first_gap": 23.3, "last_gap": 15.3, "slope": -0.64, "slope_ci_low": -1.2,
           "slope_ci_high": -0.09, "trend": "no clear change"}
    s = vd.trend_sentence(row, "Disadvantaged pupils")
    assert s.startswith("The gap for disadvantaged pupils in attendance (%) shows no clear change")
    assert "not once every school and goal" in s
    row["trend"] = "widening"
    assert "is widening over 18 half-terms" in vd.trend_sentence(row, "Disadvantaged pupils")
