"""Monitor and Adjust: goal charts, signals in words, evidence and decisions on the sample trust."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cilib import cycle as cp
from cilib.core.calendar import half_term_labels
from cilib.core.errors import ConfigError
from cilib.data.store import Store
from cilib.measures import registry
from cilib.report.html import esc
from cilib.report.sections import monitor_adjust as monitor
from cilib.report.sections import monitor_charts as mcharts
from cilib.report.sections import monitor_decisions as mdecide
from cilib.stats import run_rules, spc
from tests.conftest import run_notebook

PERIOD = "2025/26 HT6"


@pytest.fixture(scope="module")
def store(sample_store):
    """The sample trust, prepared once per test session (tests/conftest.py)."""
    return sample_store


def _copy_store(store: Store, folder: Path, **meta) -> Store:
    """A copy of the prepared store with some meta values changed."""
    shutil.copytree(store.folder, folder)
    m = json.loads((folder / "meta.json").read_text())
    m.update(meta)
    (folder / "meta.json").write_text(json.dumps(m))
    return Store(folder)


def _attendance_by_period(store: Store, school: str, disadvantaged: bool) -> pd.Series:
    """Independent half-termly attendance %: 100 × Σ attended / Σ possible for one group."""
    att = store.table("attendance")
    att = att.loc[att["school_id"] == school]
    pupils = store.table("pupils")[["pupil_id", "academic_year", "disadvantaged"]]
    att = att.merge(pupils, on=["pupil_id", "academic_year"], how="inner")
    att = att.loc[att["disadvantaged"] == disadvantaged]
    g = att.groupby("period")[["attended_sessions", "possible_sessions"]].sum()
    return 100 * g["attended_sessions"] / g["possible_sessions"]


def _reading_gap(store: Store, schools: list[str]) -> pd.Series:
    """Independent reading gap per period: mean of pupils' mean scores, disadvantaged − others."""
    a = store.table("assessments")
    a = a.loc[(a["subject"] == "reading") & a["school_id"].isin(schools) & a["score"].notna()]
    per = a.groupby(["pupil_id", "academic_year", "period"], as_index=False)["score"].mean()
    pupils = store.table("pupils")[["pupil_id", "academic_year", "disadvantaged"]]
    per = per.merge(pupils, on=["pupil_id", "academic_year"], how="inner")
    m = per.groupby(["period", "disadvantaged"])["score"].mean().unstack()
    return m[True] - m[False]


# --------------------------------------------------------------------------------------------
# planted effects


def test_nlt07_attendance_shows_special_cause_concerning(store):
    """NLT07's attendance drop from 2024/25 HT4 is a concerning shift on its control chart."""
    goal = store.plan().goal("G2")
    res = mcharts.goal_charts(store, goal, "NLT07")["focus"]
    expected = _attendance_by_period(store, "NLT07", True)
    got = res.set_index("period")["value"]
    assert np.allclose(got.to_numpy(), expected.reindex(got.index).to_numpy())
    # limits from all 18 points: the first nine lie above the mean, the last nine below
    centre = expected.mean()
    assert res["centre"].iloc[0] == pytest.approx(centre)
    after = expected.index >= "2024/25 HT4"
    assert (expected[after] < centre).all() and (expected[~after] > centre).all()
    assert res.attrs["summary"]["variation"] == "special cause concerning"
    info = mcharts.signal_info(res, mcharts.goal_label(store, goal), calendar=store.meta["periods"])
    assert info["signal"] == "concerning" and info["since"] == "2024/25 HT4"
    assert (
        "below its average (87.3) for 9 half-terms in a row, since 2024/25 HT4"
        in (info["sentence"])
    )
    # the other pupils at NLT07 dropped too: the shift is school-wide
    others = mcharts.goal_charts(store, goal, "NLT07")["comparison"]
    assert others.attrs["summary"]["variation"] == "special cause concerning"


def test_other_schools_attendance_has_no_shift(store):
    """No other school's disadvantaged attendance shows a sustained shift from 2024/25 HT4."""
    goal = store.plan().goal("G2")
    for school in ("NLT01", "NLT06", "NLT08"):
        res = mcharts.goal_charts(store, goal, school)["focus"]
        assert not res.loc[res["period"] >= "2024/25 HT4", "rules"].str.contains("shift").any()


def test_reading_gap_narrows_in_intervention_schools(store):
    """The reading gap chart improves in NLT01 and NLT03 and across NLT01-03, not in NLT04-05."""
    goal = store.plan().goal("G1")
    start = "2024/25 HT1"
    for school in ("NLT01", "NLT02", "NLT03"):
        res = mcharts.goal_charts(store, goal, school)["gap"]
        indep = _reading_gap(store, [school])
        got = res.set_index("period")["value"]
        assert np.allclose(got.to_numpy(), indep.reindex(got.index).to_numpy())
        # the gap after the start is narrower (higher) than before it in every school; by
        # 0.7 points in NLT02 (smallest cohort), by more than 1.5 in NLT01 and NLT03
        change = indep[indep.index > start].mean() - indep[indep.index < start].mean()
        assert change > (0.5 if school == "NLT02" else 1.5)
    for school in ("NLT01", "NLT03"):
        res = mcharts.goal_charts(store, goal, school)["gap"]
        assert res.attrs["summary"]["variation"] == "special cause improving"
        last3 = res.iloc[-3:]
        assert last3["signal"].all() and (last3["value"] > last3["centre"]).all()
        assert res["value"].iloc[-3:].min() > res["value"].iloc[:3].max()  # narrower than 2023/24
    # NLT02 (the smallest cohort) narrows too, but not beyond its noise: said as it is
    nlt02 = mcharts.goal_charts(store, goal, "NLT02")["gap"]
    assert nlt02.attrs["summary"]["variation"] == "common cause"
    # the two comparison primaries show no improvement signal
    for school in ("NLT04", "NLT05"):
        res = mcharts.goal_charts(store, goal, school)["gap"]
        assert res.attrs["summary"]["variation"] != "special cause improving"
    # across the primaries (the goal's schools) the gap improves, above the upper limit at the end
    trust = mcharts.goal_charts(store, goal, None)["gap"]
    assert trust.attrs["summary"]["variation"] == "special cause improving"
    assert trust["value"].iloc[-1] > trust["upper"].iloc[-1]
    indep = _reading_gap(store, ["NLT01", "NLT02", "NLT03", "NLT04", "NLT05"])
    assert trust["value"].iloc[-1] == pytest.approx(indep[PERIOD])


def test_persistent_absence_is_a_p_chart(store):
    """Persistent absence is a p chart (or Laney p′): p̄ = Σ count / Σ n, limits vary with n."""
    goal = store.plan().goal("G3")
    res = mcharts.goal_charts(store, goal, "NLT07")["focus"]
    kind = res.attrs["summary"]["kind"]
    assert kind in ("p", "pp")
    sigma_z = res.attrs["summary"]["sigma_z"] if kind == "pp" else 1.0
    assert (kind == "pp") == (sigma_z >= 1.5 and res["n"].mean() >= 100)
    pbar = res["count"].sum() / res["n"].sum()
    i = 5
    half = 3 * sigma_z * np.sqrt(pbar * (1 - pbar) / res["n"].iloc[i])
    assert res["centre"].iloc[i] == pytest.approx(100 * pbar)
    assert res["upper"].iloc[i] == pytest.approx(100 * (pbar + half))
    assert registry.chart_kind(goal.metric) == "p"
    assert registry.chart_kind(store.plan().goal("G2").metric) == "xmr"


# --------------------------------------------------------------------------------------------
# evidence and decisions


def _maths_by_year(store: Store, schools: list[str]) -> pd.Series:
    """Independent mean maths score per academic year over the given schools' pupils' scores."""
    a = store.table("assessments")
    a = a.loc[(a["subject"] == "maths") & a["score"].notna() & a["school_id"].isin(schools)]
    return a.groupby("academic_year")["score"].mean()


def test_decisions_for_each_sample_strategy(store):
    """S1, S2, S3: review: evidence insufficient; S4, S5: adjust. Why, from what was planted.

    S3 (homework app in NLT06-08) was "stop" (frees £12,000 a year) from an invalid comparison:
    Y7-9 secondary maths gains against Y1-6 primary gains, with primary Year 6 leavers counted
    as lost. What the sample planted (cilib/sample/design.py, outcomes.py): the app has no
    effect (INTERVENTION_EFFECT touches only NLT01-03, the primaries of S1), and every score in
    every school rises 0.5 points a year. An honest analysis therefore has (a) no comparison:
    every secondary took part and primaries are another phase outside G6's schools, so the
    effect cannot be estimated, and no "stop" can rest on it; (b) an improving maths chart
    that is the trust-wide rise, shared by schools that never used the app (checked below), so
    it is no evidence to continue either. The data cannot say whether the app works:
    "review: evidence insufficient".

    S1: its planted effect (+6 reading points for disadvantaged pupils) is recovered as an
    estimate, but 3 schools against 2 are too few for a school-clustered interval, so the
    decision waits (it was "continue" on pupil-level intervals). S2: every school took part,
    so there is no comparison (it was "adjust"). S4 and S5 name no intervention schools and
    their goals are off trajectory: adjust (unchanged).
    """
    dec = mdecide.strategy_decisions(store).set_index("strategy")
    review = "review: evidence insufficient"
    assert dec["decision"].to_dict() == {
        "S1": review,
        "S2": review,
        "S3": review,
        "S4": "adjust",
        "S5": "adjust",
    }
    # S3: no comparison of its own phase, so no effect estimate; not stopped, not continued
    assert dec.loc["S3", "n_comparison"] == 0 and np.isnan(dec.loc["S3", "effect_ci_low"])
    why = dec.loc["S3", "reason"]
    assert "cannot be estimated" in why and "no comparison group" in why
    assert "frees" not in why and "Stop" not in why
    # the improving chart is the trust-wide rise: schools without the app rose as much
    assert dec.loc["S3", "signal"] == "improving"
    sec = _maths_by_year(store, ["NLT06", "NLT07", "NLT08"])
    prim = _maths_by_year(store, ["NLT04", "NLT05"])  # in no intervention at all
    rise_sec, rise_prim = sec["2025/26"] - sec["2023/24"], prim["2025/26"] - prim["2023/24"]
    assert 0.5 < rise_sec < 2.0 and rise_prim > rise_sec - 0.5
    # S1: an estimate, but too few schools for an interval
    ev1 = mdecide.strategy_evidence(store, "S1")
    assert ev1["too_few_clusters"] is True and ev1["effect_ci"] is None
    assert ev1["g"] > 0.2 and "too few schools" in dec.loc["S1", "reason"]
    # S2: trust-wide, so no comparison schools
    assert "every school in the trust" in dec.loc["S2", "reason"]
    for sid in ("S4", "S5"):
        assert "off its trajectory" in dec.loc[sid, "reason"]
        assert dec.loc[sid, "periods_since_start"] > dec.loc[sid, "review_after_periods"]
    # no reason uses a setting's code name
    assert not dec["reason"].str.contains(r"\w_\w").any()


def test_evidence_matches_plan_progress_and_periods(store):
    """on_trajectory (within the config's tolerance, as the progress table says) and
    periods_since_start come from cilib.cycle for each strategy."""
    plan = store.plan()
    tables = store.tables_dict()
    setting = store.meta["progress"]["on_trajectory_tolerance"]
    for sid, gid, start in (("S1", "G1", "2024/25 HT1"), ("S5", "G5", "2024/25 HT4")):
        ev = mdecide.strategy_evidence(store, sid)
        goal = plan.goal(gid)
        pr = cp.progress(
            goal,
            tables,
            periods=store.meta["periods"],
            tolerance=cp.tolerance_for(goal, setting),
        )
        pr = pr.loc[pr["observed"].notna()]
        assert ev["on_trajectory"] == bool(pr["on_trajectory"].iloc[-1])
        cal = store.meta["periods"]
        assert ev["periods_since_start"] == cal.index(PERIOD) - cal.index(start)


def test_s1_effect_against_independent_computation(store):
    """S1's effect: reading gains 2023/24 HT6 → 2025/26 HT6, disadvantaged, NLT01-03 vs NLT04-05."""
    a = store.table("assessments")
    a = a.loc[(a["subject"] == "reading") & a["score"].notna()]
    per = a.groupby(["pupil_id", "period"], as_index=False).agg(
        school_id=("school_id", "first"), score=("score", "mean")
    )
    base = per.loc[per["period"] == "2023/24 HT6"]
    out = per.loc[per["period"] == PERIOD, ["pupil_id", "score"]]
    d = base.merge(out, on="pupil_id", suffixes=("_b", "_o"))
    pupils = store.table("pupils")
    dis = pupils.loc[
        (pupils["academic_year"] == "2023/24") & (pupils["disadvantaged"] == True),  # noqa: E712
        "pupil_id",
    ]
    d = d.loc[d["pupil_id"].isin(set(dis))]
    t = d.loc[d["school_id"].isin(["NLT01", "NLT02", "NLT03"])]
    c = d.loc[d["school_id"].isin(["NLT04", "NLT05"])]
    gain_t, gain_c = t["score_o"] - t["score_b"], c["score_o"] - c["score_b"]
    n1, n2 = len(t), len(c)
    sd = np.sqrt(((n1 - 1) * t["score_o"].var() + (n2 - 1) * c["score_o"].var()) / (n1 + n2 - 2))
    j = 1 - 3 / (4 * (n1 + n2) - 9)
    g = j * (gain_t.mean() - gain_c.mean()) / sd
    ev = mdecide.strategy_evidence(store, "S1")
    assert (ev["n_treated"], ev["n_comparison"]) == (n1, n2)
    assert ev["g"] == pytest.approx(g)
    # 3 schools against 2: too few for a school-clustered interval, so none is used
    assert len(set(t["school_id"])) == 3 and len(set(c["school_id"])) == 2
    assert ev["effect_ci"] is None and ev["too_few_clusters"] is True
    assert (ev["baseline_period"], ev["outcome_period"]) == ("2023/24 HT6", PERIOD)


@pytest.mark.slow
def test_rule_override_changes_a_decision(store, tmp_path):
    """decision_rule in the trust config is merged over DEFAULT_RULE and printed."""
    over = _copy_store(store, tmp_path / "s2", decision_rule={"small_effect": 0.05})
    assert mdecide.decision_rule(over) == {**cp.DEFAULT_RULE, "small_effect": 0.05}
    dec = mdecide.strategy_decisions(over).set_index("strategy")
    # no strategy on the sample has a valid interval, so the threshold changes no decision
    # here; the rule printed in the report follows the config
    assert dec["decision"].to_dict() == mdecide.strategy_decisions(store)["decision"].set_axis(
        dec.index
    ).to_dict()
    same = mdecide.strategy_decisions(store, rule={"stop_after_reviews": 100})
    assert (same["decision"] != "stop").all()
    # the report prints the rule in force and where each setting came from
    html = "".join(getattr(x, "data", "") for x in monitor.decisions_section(over))
    assert "below 0.05" in html and "the trust" in html


def test_decisions_section_states_the_rule_in_plain_words(store):
    """The rule as sentences (what each decision needs), every reason, and no setting names."""
    html = "".join(getattr(x, "data", "") for x in monitor.decisions_section(store))
    for sentence in cp.rule_sentences(mdecide.decision_rule(store)):
        assert esc(sentence) in html
    for key in cp.DEFAULT_RULE:
        assert key not in html
    for reason in mdecide.strategy_decisions(store)["reason"]:
        assert esc(reason) in html
    t = mdecide.rule_table(store).set_index("What it sets")
    assert t.loc["Smallest effect worth having (Hedges' g)", "Value"] == "0.1"
    assert (t["Set by"] == "default").all()


def test_bad_decision_rule_in_config(store, tmp_path):
    """An unknown or mistyped decision_rule key is a ConfigError that says what is allowed."""
    bad = _copy_store(store, tmp_path / "b1", decision_rule={"small_efect": 0.2})
    with pytest.raises(ConfigError, match="unknown key.*small_efect.*allowed keys"):
        mdecide.decision_rule(bad)
    bad = _copy_store(store, tmp_path / "b2", decision_rule={"stop_if_harmful": "yes"})
    with pytest.raises(ConfigError, match="stop_if_harmful.*true or false"):
        mdecide.decision_rule(bad)


@pytest.mark.slow
def test_school_scope_leaves_out_strategies_elsewhere(store):
    """For a secondary school the primary reading strategy is left out; S1 is there for NLT01."""
    assert "S1" not in set(mdecide.strategy_decisions(store, "NLT07")["strategy"])
    d01 = mdecide.strategy_decisions(store, "NLT01").set_index("strategy")
    assert "S3" not in d01.index
    # NLT01 alone against NLT04-05: one intervention school is too few for an interval
    assert d01.loc["S1", "decision"] == "review: evidence insufficient"


# --------------------------------------------------------------------------------------------
# headlines, suppression, sections


def test_headlines(store):
    """Headlines state signals with since when, changes since the previous point, decisions."""
    h = monitor.headlines(store, "NLT07")
    assert (
        "Attendance (%) for disadvantaged pupils: special cause concerning since 2024/25 HT4." in h
    )
    att = _attendance_by_period(store, "NLT07", True)
    d = round(att["2025/26 HT6"] - att["2025/26 HT5"], 1)
    word = "down" if d < 0 else "up"
    assert (
        f"Attendance (%) for disadvantaged pupils was {att['2025/26 HT6']:.1f} in 2025/26 HT6, "
        f"{word} {abs(d):.1f} points since 2025/26 HT5." in h
    )
    assert monitor.headlines(store)[-1] == (
        "Suggested decisions: 0 continue, 2 adjust, 0 stop, 3 review: evidence insufficient."
    )


def test_small_groups_are_suppressed(store, tmp_path):
    """With a high threshold, small groups are not charted and show as suppressed."""
    high = _copy_store(store, tmp_path / "hi", suppression_threshold=100)
    goal = high.plan().goal("G2")
    series = mcharts.goal_series(high, goal, "NLT03")
    focus = series.loc[series["group"] == "focus"]
    assert focus["suppressed"].all() and focus["value"].isna().all()
    assert (focus["n"] < 100).all()
    comp = series.loc[series["group"] == "comparison"]
    assert comp["suppressed"].all() and comp["value"].isna().all()
    charts = mcharts.goal_charts(high, goal, "NLT03")
    # the comparison goes too: "all" minus the comparison would give the focus group back
    assert charts["focus"] is None and charts["gap"] is None and charts["comparison"] is None
    assert not any("for disadvantaged pupils" in x for x in monitor.headlines(high, "NLT03"))


def test_sections_render(store):
    """Sections return figures and HTML; one group figure and one gap figure per goal at most."""
    from matplotlib.figure import Figure

    items = monitor.goals_section(store, "NLT07")
    figs = [x for x in items if isinstance(x, Figure)]
    n_goals = sum(g.applies_to("NLT07") for g in store.plan().goals)
    assert 0 < len(figs) <= 2 * n_goals
    html = "".join(getattr(x, "data", "") for x in items)
    assert "measured in other schools only" in html and "progress against the trajectory" in html
    import matplotlib.pyplot as plt

    plt.close("all")
    pdsa = "".join(getattr(x, "data", "") for x in monitor.pdsa_section(store))
    assert "C3: result 52 against a prediction of 80 (-28); decision: abandon." in pdsa


def test_gap_verdict_is_the_trust_overviews(store):
    """NLT01's Monitor report calls its reading gap narrowing, in the overview's own words.

    The verdict is the pupil-clustered gap trend with Benjamini–Hochberg q-values across every
    school and goal (cilib.report.sections.verdicts); the report says how many checks it allows
    for, and never calls the same gap common cause.
    """
    import matplotlib.pyplot as plt

    from cilib.report.sections import verdicts

    goal = store.plan().goal("G1")
    spot = verdicts.spots(store)
    reason = spot.loc[(spot["school_id"] == "NLT01") & spot["goal"].str.startswith("G1:"),
                      "reason"].item()
    assert reason.startswith("The gap for disadvantaged pupils in reading score is narrowing")
    items = monitor.goals_section(store, "NLT01")
    html = "".join(getattr(x, "data", "") for x in items)
    plt.close("all")
    assert reason in html
    assert "We allow for checking 72 school results at once" in html
    assert "Common cause: mean reading score gap" not in html
    heads = monitor.headlines(store, "NLT01")
    assert any(h.startswith(reason) for h in heads)
    # NLT02's gap is not flagged in the overview, and its Monitor report does not name a trend
    assert "shows no clear change" in mcharts.gap_sentence(store, goal, "NLT02")
    # the trust's own Monitor report: q-values across its goals; reading gap still narrowing
    assert "is narrowing" in mcharts.gap_sentence(store, goal, None)


# --------------------------------------------------------------------------------------------
# signal sentences on hand-made series


def _series(values: list[float]) -> pd.DataFrame:
    return pd.DataFrame({"t": [f"P{i:02d}" for i in range(len(values))], "y": values})


def test_sentence_shift_below_improving_when_down_is_good():
    """A run below the average is improving when lower is better; length and start are named."""
    res = spc.chart(
        _series([8.5, 7.5] * 4 + [6.0, 5.0] * 4),
        "y",
        "t",
        kind="xmr",
        options=spc.ChartOptions(improvement="down"),
    )
    info = mcharts.signal_info(res, "Absence")
    assert info["signal"] == "improving" and info["since"] == "P08"
    assert info["sentence"] == (
        "Special cause improving: absence has been below its average (6.8) for 8 half-terms in "
        "a row, since P08."
    )


def test_sentence_trend():
    """Six or more strictly rising points are a trend: counted and dated."""
    vals = [10.0, 12, 10, 12, 10, 12, 10, 12, 10.1, 10.3, 10.5, 10.7, 10.9, 11.1]
    res = spc.chart(_series(vals), "y", "t", kind="xmr")
    assert "trend" in res["rules"].iloc[-1]
    info = mcharts.signal_info(res, "Score")
    assert info["signal"] == "improving" and info["since"] == "P08"
    assert "score has risen 5 times in a row, from P08 to P13" in info["sentence"]


def test_sentence_outside_limits_and_two_of_three():
    """A point beyond the limit is named with its value and the limit."""
    vals = [50.0, 51, 50, 51, 50, 51, 50, 51, 50, 51, 50, 40]
    res = spc.chart(_series(vals), "y", "t", kind="xmr")
    lower = res["lower"].iloc[-1]
    info = mcharts.signal_info(res, "Attendance", digits=1)
    assert info["signal"] == "concerning" and info["since"] == "P11"
    assert (
        f"attendance in P11 (40.0) was below the lower control limit ({lower:.1f})"
        in info["sentence"]
    )
    vals = [50.0, 51, 50, 51, 50, 51, 50, 51, 50, 51, 52.6, 52.6]
    res = spc.chart(_series(vals), "y", "t", kind="xmr")
    assert run_rules.RULE_TWO_OF_THREE in res["rules"].iloc[-1]
    info = mcharts.signal_info(res, "Attendance")
    assert info["since"] == "P10"
    assert (
        "two of three points up to P11 were more than two sigma above the average"
        in (info["sentence"])
    )


def test_sentence_common_cause():
    """No signal: the sentence says common cause and gives the limits."""
    res = spc.chart(_series([50.0, 51, 50, 51, 50, 51, 50, 51]), "y", "t", kind="xmr")
    info = mcharts.signal_info(res, "Attendance")
    assert info["signal"] is None and info["since"] is None
    lo, hi = res["lower"].iloc[0], res["upper"].iloc[0]
    assert info["sentence"] == (
        f"Common cause: attendance varies between its control limits ({lo:.1f} to {hi:.1f}) "
        "with no signal beyond normal variation over 8 points."
    )


def test_sentence_counts_results_when_periods_skip():
    """A run over termly results (every other half-term) is counted in results, not half-terms."""
    cal = half_term_labels([f"{y}/{(y + 1) % 100:02d}" for y in range(2020, 2026)])
    periods = cal[1::2][:16]  # HT2, HT4, HT6 each year: 16 results
    df = pd.DataFrame({"t": periods, "y": [5.0, 6] * 4 + [7.5, 8.5] * 4})
    res = spc.chart(df, "y", "t", kind="xmr", options=spc.ChartOptions(order=periods))
    info = mcharts.signal_info(res, "Score", calendar=cal)
    assert info["sentence"] == (
        "Special cause improving: score has been above its average (6.8) for 8 results in a "
        f"row, since {periods[8]}."
    )


# --------------------------------------------------------------------------------------------
# the notebook


@pytest.mark.slow
@pytest.mark.parametrize("school", [None, "NLT07"])
def test_monitor_notebook_runs_with_papermill(school, tmp_path, sample_store_dir):
    """04_monitor_adjust runs on the sample for the trust and NLT07, without errors or stderr."""
    nb = run_notebook("04_monitor_adjust", tmp_path, store=str(sample_store_dir),
                      school_id=school, period=PERIOD)
    text = json.dumps(nb)
    for heading in (
        "Monitor and Adjust: is it working?",
        "## Is each goal moving beyond normal variation?",
        "## PDSA cycles: did the prediction come true?",
        "## Suggested decision per strategy: continue, adjust, or stop?",
    ):
        assert heading in text
    assert "What this means" in text and "Decision rule in force" in text
    assert "the suggested decisions are" in text and "image/png" in text
    if school == "NLT07":
        assert "Castlegate Academy" in text
        assert "a concern beyond normal variation since 2024/25 HT4" in text
        assert (
            "attendance (%) for disadvantaged pupils has been below its average (87.3) for 9 "
            "half-terms in a row, since 2024/25 HT4" in text
        )


def test_persistent_absence_uses_laney_p_prime_on_the_trust(store):
    """Trust persistent absence (about 1,000 pupils a half-term) is charted as Laney p′."""
    from cilib.measures import metrics

    goal = next(
        g for g in store.plan().goals if (g.metric or {}).get("measure") == "persistent_absence"
    )
    charts = mcharts.goal_charts(store, goal)
    own = charts["own"] if charts["own"] is not None else charts["all"]
    assert own.attrs["summary"]["kind"] == "pp"
    assert own.attrs["summary"]["sigma_z"] > 1.5
    assert not own["rules"].str.contains("outside").any()
    # independently: binomial p-chart limits on the same counts put many half-terms outside
    r = metrics.compute_metric(store.tables_dict(), goal.metric, periods=store.periods)
    r = r.loc[r["group"] == "focus"]
    pbar = r["numerator"].sum() / r["denominator"].sum()
    half = 3 * np.sqrt(pbar * (1 - pbar) / r["denominator"])
    outside = (abs(r["numerator"] / r["denominator"] - pbar) > half).sum()
    assert outside >= 3
    assert mcharts.chart_name(own) == "Laney p′ chart"
