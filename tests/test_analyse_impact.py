"""Analyse Impact (cilib.report.sections.analyse_impact): planted effects, independent checks,
errors, notebook run."""

from __future__ import annotations

import json

import numpy as np
import pytest
import statsmodels.formula.api as smf
from scipy import stats

from cilib.core.errors import DataError, PlanError
from cilib.report.sections import analyse_impact as impact_report
from cilib.report.sections import impact_analysis as ev
from cilib.stats.impact import MONTHS_NOTE
from tests.conftest import PERIOD, run_notebook


@pytest.fixture(scope="module")
def store(sample_store):
    """The sample trust, prepared once per test session (tests/conftest.py)."""
    return sample_store


def _effects(a):
    return a.result.effects.set_index("population")


def test_reading_intervention_recovers_planted_effect(store):
    """S1 (reading, NLT01-03 from 2024/25 HT1): focus-group effect and gap change are positive."""
    a = ev.analyse(store, "S1")
    assert a.status == "ok"
    assert a.treated_schools == ["NLT01", "NLT02", "NLT03"]
    assert a.comparison_schools == ["NLT04", "NLT05"]
    assert (a.baseline_period, a.outcome_period) == ("2023/24 HT6", "2025/26 HT6")
    e = _effects(a)
    assert e.loc["focus", "diff"] > 0 and e.loc["focus", "ci_low"] > 0
    assert e.loc["focus", "g_ci_low"] > 0
    assert e.loc["gap change", "ci_low"] > 0
    # the planted effect does not touch other pupils: their interval includes zero
    assert e.loc["other", "ci_low"] < 0 < e.loc["other", "ci_high"]
    text = ev.verdict(a, store)
    assert "associated with" in text and "not randomly assigned" in text


def test_homework_app_shows_no_clear_effect(store):
    """S3 (every secondary took part): compared with the primaries, flagged weaker; no effect."""
    a = ev.analyse(store, "S3")
    assert a.status == "ok" and a.weaker_comparison
    assert a.comparison_schools == ["NLT01", "NLT02", "NLT03", "NLT04", "NLT05"]
    e = _effects(a)
    assert e.loc["all", "g_ci_low"] < 0 < e.loc["all", "g_ci_high"]
    assert abs(e.loc["all", "g"]) < 0.1
    text = ev.verdict(a, store)
    assert "no clear effect" in text and "weaker comparison" in text
    assert "associated with" not in text
    # the primary pupils who leave at the end of Year 6 show up as differential attrition
    flagged = set(a.result.flagged["check"])
    assert "attrition_differential" in flagged


def _independent_cohort(store):
    """Rebuild S1's pupils from the store tables with plain pandas."""
    a = store.table("assessments")
    a = a.loc[(a["subject"] == "reading") & a["score"].notna()]
    per = a.groupby(["pupil_id", "school_id", "period"], as_index=False)["score"].mean()
    base = per.loc[
        (per["period"] == "2023/24 HT6")
        & per["school_id"].isin(["NLT0" + str(i) for i in range(1, 6)])
    ]
    out = per.loc[per["period"] == "2025/26 HT6", ["pupil_id", "score"]]
    d = base.rename(columns={"score": "baseline"}).merge(
        out.rename(columns={"score": "outcome"}), on="pupil_id", how="left"
    )
    p = store.table("pupils")
    p = p.loc[p["academic_year"] == "2023/24", ["pupil_id", "year_group", "disadvantaged"]]
    d = d.merge(p, on="pupil_id", how="left")
    d = d.loc[~(d["year_group"] + 2 > 6)]  # Years 5 and 6 at baseline leave primary
    d["treated"] = d["school_id"].isin(["NLT01", "NLT02", "NLT03"])
    d["focus"] = d["disadvantaged"].astype(bool)
    return d


def test_effects_match_independent_scipy_computation(store):
    """Welch difference, Hedges' g and the DiD agree with scipy/statsmodels on the same pupils."""
    a = ev.analyse(store, "S1")
    d = _independent_cohort(store)
    assert len(d) == len(a.data)
    assert d["outcome"].isna().mean() == pytest.approx(
        a.result.checks.set_index("check").loc["attrition_overall", "value"]
    )
    c = d.dropna(subset=["outcome", "baseline"]).assign(gain=lambda x: x["outcome"] - x["baseline"])
    e = _effects(a)
    for pop, rows in (("all", c), ("focus", c.loc[c["focus"]])):
        t, k = rows.loc[rows["treated"]], rows.loc[~rows["treated"]]
        res = stats.ttest_ind(t["gain"], k["gain"], equal_var=False)
        ci = res.confidence_interval(0.95)
        assert e.loc[pop, "n_treated"] == len(t) and e.loc[pop, "n_comparison"] == len(k)
        assert e.loc[pop, "diff"] == pytest.approx(t["gain"].mean() - k["gain"].mean(), abs=1e-10)
        assert e.loc[pop, "ci_low"] == pytest.approx(ci.low, abs=1e-8)
        assert e.loc[pop, "ci_high"] == pytest.approx(ci.high, abs=1e-8)
        n1, n2 = len(t), len(k)
        sp = np.sqrt(
            ((n1 - 1) * t["outcome"].var() + (n2 - 1) * k["outcome"].var()) / (n1 + n2 - 2)
        )
        g = (1 - 3 / (4 * (n1 + n2) - 9)) * (t["gain"].mean() - k["gain"].mean()) / sp
        assert e.loc[pop, "g"] == pytest.approx(g, abs=1e-10)
    # change in the gap: the treated x focus coefficient of a saturated OLS with HC2 SEs
    m = smf.ols("gain ~ treated * focus", data=c.astype({"treated": int, "focus": int})).fit(
        cov_type="HC2"
    )
    assert e.loc["gap change", "diff"] == pytest.approx(m.params["treated:focus"], abs=1e-9)
    assert e.loc["gap change", "diff_se"] == pytest.approx(m.bse["treated:focus"], rel=1e-9)


def test_school_report_uses_that_school_only(store):
    """In NLT01's report the treated arm is NLT01's pupils; NLT05 did not take part."""
    a = ev.analyse(store, "S1", "NLT01")
    assert a.treated_schools == ["NLT01"]
    assert set(a.data.loc[a.data["treated"], "school_id"]) == {"NLT01"}
    b = ev.analyse(store, "S1", "NLT05")
    assert b.status == "not taking part" and "did not take part" in b.message
    items = impact_report.effects_section(store, "NLT05", "S1")
    html = "".join(getattr(x, "data", "") for x in items)
    assert "did not take part" in html


def test_effects_section_prints_months_note_and_checks(store):
    """The effects section prints the Toolkit note; the checks are in plain English."""
    html = "".join(getattr(x, "data", "") for x in impact_report.effects_section(store, None, "S1"))
    assert MONTHS_NOTE.split(",")[0] in html.replace("&#x27;", "'")
    t = ev.checks_table(ev.analyse(store, "S1"))
    assert "Groups not alike at the start (baseline imbalance)" in set(
        t["What could make this result wrong"]
    )


def test_headlines_name_the_earlier_period(store):
    """Headlines give a verdict per intervention and say which earlier period they compare with."""
    h = impact_report.headlines(store, None, "S1")
    assert h[0].startswith("Structured reading intervention")
    assert "since 2025/26 HT4 (the previous period with data)" in h[1]


def test_bad_inputs_raise(store):
    """An unknown strategy, one without an intervention, or a school-level measure are refused."""
    with pytest.raises(PlanError, match="no strategy with id 'S9'"):
        ev.interventions(store, "S9")
    with pytest.raises(PlanError, match="names no intervention"):
        ev.interventions(store, "S4")
    with pytest.raises(DataError, match="has no value per pupil"):
        ev.pupil_values(store.tables_dict(), {"table": "systems", "measure": "teacher_vacancies"})


def _outputs(nb):
    return [o for c in nb["cells"] if c["cell_type"] == "code" for o in c["outputs"]]


@pytest.mark.slow
@pytest.mark.parametrize("school", [None, "NLT01"])
def test_analyse_impact_notebook_runs(school, tmp_path, sample_store_dir):
    """05_analyse_impact runs for the trust and NLT01 with headings, figures and no errors."""
    nb = run_notebook("05_analyse_impact", tmp_path, store=str(sample_store_dir),
                      school_id=school, period=PERIOD)
    text = json.dumps(nb)
    for heading in ("Did it make a difference", "What could make this result wrong", "Headlines"):
        assert heading in text
    outs = _outputs(nb)
    assert sum("image/png" in o.get("data", {}) for o in outs) >= 1

