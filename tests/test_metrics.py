"""Tests for cilib.measures.metrics: every measure against a hand-worked example on small literal
frames."""

from __future__ import annotations

import statistics

import pandas as pd
import pytest

from cilib.core.errors import DataError, PlanError
from cilib.measures.metrics import compute_metric, describe_metric, metric_by_school

Y = "2024/25"


@pytest.fixture
def tables() -> dict[str, pd.DataFrame]:
    """Four pupils in two schools; p1 and p3 disadvantaged in 2024/25, p2 in 2023/24 only."""
    pupils = pd.DataFrame(
        {
            "pupil_id": ["p1", "p2", "p3", "p4", "p1", "p2"],
            "school_id": ["S1", "S1", "S2", "S2", "S1", "S1"],
            "academic_year": [Y, Y, Y, Y, "2023/24", "2023/24"],
            "year_group": pd.array([6, 6, 5, 6, 5, 5], dtype="Int64"),
            "disadvantaged": pd.array([True, False, True, False, False, True], dtype="boolean"),
            "eal": pd.array([False, True, False, True, False, True], dtype="boolean"),
        }
    )
    attendance = pd.DataFrame(
        {
            "pupil_id": ["p1", "p2", "p3", "p4", "p1", "p2"],
            "school_id": ["S1", "S1", "S2", "S2", "S1", "S1"],
            "academic_year": [Y, Y, Y, Y, "2023/24", "2023/24"],
            "period": [f"{Y} HT1"] * 4 + ["2023/24 HT6"] * 2,
            "possible_sessions": pd.array([60, 60, 50, 50, 60, 60], dtype="Int64"),
            "attended_sessions": pd.array([54, 58, 40, 50, 60, 30], dtype="Int64"),
        }
    )
    assessments = pd.DataFrame(
        {
            "pupil_id": ["p1", "p2", "p3", "p3", "p4", "p1"],
            "school_id": ["S1", "S1", "S2", "S2", "S2", "S1"],
            "academic_year": [Y] * 6,
            "period": [f"{Y} HT3"] * 6,
            "subject": ["reading", "reading", "reading", "reading", "reading", "maths"],
            "assessment": ["rA", "rA", "rA", "rB", "rA", "mA"],
            "score": [40.0, 70.0, 50.0, 60.0, 80.0, 99.0],
        }
    )
    behaviour = pd.DataFrame(
        {
            "pupil_id": ["p1", "p3", "p2"],
            "school_id": ["S1", "S2", "S1"],
            "period": [f"{Y} HT2"] * 3,
            "incident_type": ["suspension", "suspension", "low_level"],
            "count": pd.array([1, 2, 5], dtype="Int64"),
        }
    )
    items = pd.DataFrame(
        {
            "item_id": ["b1", "b2", "w1"],
            "scale": ["belonging", "belonging", "workload"],
            "text": ["I feel I belong", "I feel like an outsider", "My workload is manageable"],
            "reverse_coded": pd.array([False, True, False], dtype="boolean"),
            "min": [1.0, 1.0, 1.0],
            "max": [5.0, 5.0, 5.0],
        }
    )
    responses = pd.DataFrame(
        {
            "respondent_id": ["r1", "r1", "r2", "r2", "r4", "r4", "r3"],
            "respondent_type": ["pupil"] * 6 + ["staff"],
            "school_id": ["S1", "S1", "S1", "S1", "S2", "S2", "S2"],
            "period": [f"{Y} HT6"] * 7,
            "item_id": ["b1", "b2", "b1", "b2", "b1", "b2", "w1"],
            "response": [4.0, 2.0, 3.0, 5.0, 5.0, 1.0, 3.0],
            "pupil_id": ["p1", "p1", "p2", "p2", pd.NA, pd.NA, pd.NA],
        }
    )
    systems = pd.DataFrame(
        {
            "school_id": ["S1", "S2", "S1", "S1"],
            "period": [f"{Y} HT1", f"{Y} HT1", f"{Y} HT2", f"{Y} HT1"],
            "measure": ["staff_absence_rate"] * 3 + ["teacher_vacancies"],
            "value": [3.0, 5.0, 4.0, 2.0],
        }
    )
    return {
        "pupils": pupils,
        "attendance": attendance,
        "assessments": assessments,
        "behaviour": behaviour,
        "survey_items": items,
        "survey_responses": responses,
        "systems": systems,
    }


def row(res: pd.DataFrame, group: str, period: str | None = None) -> pd.Series:
    sel = res.loc[res["group"] == group]
    if period is not None:
        sel = sel.loc[sel["period"] == period]
    assert len(sel) == 1, sel
    return sel.iloc[0]


ATT = {"table": "attendance", "measure": "attendance_rate"}


def test_attendance_rate_by_group(tables):
    """Attendance rate = 100 × Σ attended / Σ possible, hand-worked per group."""
    res = compute_metric(tables, ATT, periods=[f"{Y} HT1"])
    assert list(res.columns) == ["period", "group", "n", "numerator", "denominator", "value", "sd"]
    assert res["group"].tolist() == ["focus", "comparison", "all"]
    assert row(res, "all")["value"] == pytest.approx(100 * 202 / 220)
    assert row(res, "focus")["value"] == pytest.approx(100 * (54 + 40) / 110)
    assert row(res, "comparison")["value"] == pytest.approx(100 * (58 + 50) / 110)
    assert row(res, "all")["n"] == 4
    assert row(res, "focus")["numerator"] == 94 and row(res, "focus")["denominator"] == 110


def test_focus_group_joined_by_academic_year(tables):
    """p2 is disadvantaged in 2023/24 only, so counts as focus in 2023/24 HT6."""
    res = compute_metric(tables, ATT, periods=["2023/24 HT6"])
    assert row(res, "focus")["value"] == pytest.approx(50.0)
    assert row(res, "comparison")["value"] == pytest.approx(100.0)


def test_focus_group_without_academic_year_column(tables):
    """Academic year is derived from the period label when the column is absent."""
    att = tables["attendance"].drop(columns="academic_year")
    res = compute_metric({**tables, "attendance": att}, ATT, periods=["2023/24 HT6"])
    assert row(res, "focus")["value"] == pytest.approx(50.0)


def test_custom_focus_group(tables):
    """A focus group on another pupil column (EAL: p2, p4)."""
    res = compute_metric(tables, ATT, periods=[f"{Y} HT1"], focus={"column": "eal", "value": True})
    assert row(res, "focus")["value"] == pytest.approx(100 * 108 / 110)


def test_one_school(tables):
    """school_id restricts to one school: S1 is p1 and p2 only."""
    res = compute_metric(tables, ATT, school_id="S1", periods=[f"{Y} HT1"])
    assert row(res, "all")["value"] == pytest.approx(100 * 112 / 120)
    assert row(res, "all")["n"] == 2


def test_persistent_absence_counts_exactly_ten_percent(tables):
    """PA = pupils missing ≥10% of sessions: p1 (6/60 = 10%) and p3 (10/50) of four."""
    res = compute_metric(
        tables, {"table": "attendance", "measure": "persistent_absence"}, periods=[f"{Y} HT1"]
    )
    assert row(res, "all")["value"] == pytest.approx(50.0)
    assert row(res, "all")["numerator"] == 2 and row(res, "all")["denominator"] == 4
    assert row(res, "focus")["value"] == pytest.approx(100.0)
    assert row(res, "comparison")["value"] == pytest.approx(0.0)


def test_persistent_absence_custom_threshold(tables):
    """With threshold 85 (missing ≥15%) only p3 (missing 20%) counts."""
    res = compute_metric(
        tables,
        {"table": "attendance", "measure": "persistent_absence", "threshold": 85},
        periods=[f"{Y} HT1"],
    )
    assert row(res, "all")["value"] == pytest.approx(25.0)


def test_mean_score_averages_each_pupil_first(tables):
    """Reading means per pupil (p3: mean of 50 and 60), maths filtered out; sd with ddof=1."""
    res = compute_metric(
        tables, {"table": "assessments", "measure": "mean_score", "filter": {"subject": "reading"}}
    )
    allr = row(res, "all")
    assert allr["value"] == pytest.approx(statistics.mean([40, 70, 55, 80]))
    assert allr["sd"] == pytest.approx(statistics.stdev([40, 70, 55, 80]))
    assert allr["n"] == 4
    assert row(res, "focus")["value"] == pytest.approx(47.5)
    assert row(res, "focus")["sd"] == pytest.approx(statistics.stdev([40, 55]))
    assert row(res, "comparison")["value"] == pytest.approx(75.0)
    assert pd.isna(allr["numerator"])


def test_filter_on_pupil_column(tables):
    """A filter column from the pupils table (year_group 6: p1, p2, p4)."""
    res = compute_metric(
        tables,
        {
            "table": "assessments",
            "measure": "mean_score",
            "filter": {"subject": "reading", "year_group": 6},
        },
    )
    assert row(res, "all")["value"] == pytest.approx((40 + 70 + 80) / 3)


def test_metric_schools_list(tables):
    """The metric's schools key restricts the rows."""
    res = compute_metric(
        tables,
        {
            "table": "assessments",
            "measure": "mean_score",
            "filter": {"subject": "reading"},
            "schools": ["S2"],
        },
    )
    assert row(res, "all")["value"] == pytest.approx((55 + 80) / 2)


def test_pct_at_or_above(tables):
    """% of pupils with mean score ≥ threshold; a score equal to the threshold counts."""
    m = {
        "table": "assessments",
        "measure": "pct_at_or_above",
        "threshold": 55,
        "filter": {"subject": "reading"},
    }
    res = compute_metric(tables, m)
    assert row(res, "all")["value"] == pytest.approx(75.0)  # 70, 55, 80 of 40, 70, 55, 80
    assert row(res, "focus")["value"] == pytest.approx(50.0)  # p3 at 55
    assert row(res, "focus")["numerator"] == 1 and row(res, "focus")["denominator"] == 2
    res60 = compute_metric(tables, {**m, "threshold": 60})
    assert row(res60, "all")["value"] == pytest.approx(50.0)


def test_incidents_per_100_uses_roll_as_denominator(tables):
    """Suspensions per 100 pupils on roll: 3 incidents over 4 pupils = 75."""
    m = {
        "table": "behaviour",
        "measure": "incidents_per_100",
        "filter": {"incident_type": "suspension"},
    }
    res = compute_metric(tables, m)
    assert row(res, "all")["value"] == pytest.approx(75.0)
    assert row(res, "all")["denominator"] == 4
    assert row(res, "focus")["value"] == pytest.approx(150.0)  # 3 over p1, p3
    assert row(res, "comparison")["value"] == pytest.approx(0.0)  # none over p2, p4
    low = compute_metric(tables, {**m, "filter": {"incident_type": "low_level"}})
    assert row(low, "all")["value"] == pytest.approx(125.0)
    s2 = compute_metric(tables, m, school_id="S2")
    assert row(s2, "all")["value"] == pytest.approx(100.0)  # 2 over p3, p4


def test_incidents_per_100_period_without_incidents(tables):
    """A period asked for with no incidents gives 0 per 100, not a missing row."""
    m = {"table": "behaviour", "measure": "incidents_per_100"}
    res = compute_metric(tables, m, periods=[f"{Y} HT1"])
    assert row(res, "all")["value"] == 0.0


def test_scale_mean_with_reverse_coding(tables):
    """Belonging: r1 (4, 6−2) = 4, r2 (3, 6−5) = 2, r4 (5, 6−1) = 5."""
    m = {
        "table": "survey_responses",
        "measure": "scale_mean",
        "scale": "belonging",
        "filter": {"respondent_type": "pupil"},
    }
    res = compute_metric(tables, m)
    assert row(res, "all")["value"] == pytest.approx(11 / 3)
    assert row(res, "all")["sd"] == pytest.approx(statistics.stdev([4, 2, 5]))
    assert row(res, "all")["n"] == 3
    assert row(res, "focus")["value"] == pytest.approx(4.0)
    assert row(res, "comparison")["value"] == pytest.approx(2.0)


def test_staff_scale_has_only_all_group(tables):
    """Staff responses are not linked to pupils, so only the all group appears."""
    m = {"table": "survey_responses", "measure": "scale_mean", "scale": "workload"}
    res = compute_metric(tables, m)
    assert res["group"].tolist() == ["all"]
    assert res["value"].iloc[0] == 3.0


def test_systems_measure_mean_over_schools(tables):
    """School-level mean over schools, sd over schools, n = schools."""
    res = compute_metric(tables, {"table": "systems", "measure": "staff_absence_rate"})
    assert res["period"].tolist() == [f"{Y} HT1", f"{Y} HT2"]
    assert res["group"].unique().tolist() == ["all"]
    assert res["value"].tolist() == pytest.approx([4.0, 4.0])
    assert res["sd"].iloc[0] == pytest.approx(statistics.stdev([3, 5]))
    assert res["n"].tolist() == [2, 1]


def test_metric_by_school(tables):
    """One row per school × period × group."""
    res = metric_by_school(tables, ATT, periods=[f"{Y} HT1"])
    assert res.columns[0] == "school_id"
    s2 = res.loc[(res["school_id"] == "S2") & (res["group"] == "all")]
    assert s2["value"].iloc[0] == pytest.approx(90.0)
    s1f = res.loc[(res["school_id"] == "S1") & (res["group"] == "focus")]
    assert s1f["value"].iloc[0] == pytest.approx(90.0)
    assert len(res) == 6


def test_periods_order_follows_argument(tables):
    """Rows follow the order of the periods given."""
    res = compute_metric(tables, ATT, periods=[f"{Y} HT1", "2023/24 HT6"])
    assert res["period"].iloc[0] == f"{Y} HT1"
    res2 = compute_metric(tables, ATT)
    assert res2["period"].iloc[0] == "2023/24 HT6"


def test_inputs_not_mutated(tables):
    """Inputs are left unchanged."""
    before = {k: v.copy() for k, v in tables.items()}
    compute_metric(tables, {"table": "behaviour", "measure": "incidents_per_100"})
    compute_metric(
        tables, {"table": "survey_responses", "measure": "scale_mean", "scale": "belonging"}
    )
    for k, v in tables.items():
        pd.testing.assert_frame_equal(v, before[k])


@pytest.mark.parametrize(
    ("metric", "match"),
    [
        ({"table": "atendance", "measure": "attendance_rate"}, "table 'atendance' is unknown"),
        ({"table": "attendance", "measure": "rate"}, "measure 'rate' is unknown"),
        (
            {"table": "attendance", "measure": "attendance_rate", "filter": {"colour": "red"}},
            "filter column.*colour",
        ),
        ({"table": "assessments", "measure": "pct_at_or_above"}, "needs a numeric threshold"),
        ({"table": "survey_responses", "measure": "scale_mean"}, "needs a scale"),
        (
            {"table": "survey_responses", "measure": "scale_mean", "scale": "joy"},
            "scale 'joy' is unknown",
        ),
        ({"table": "systems", "measure": "budget"}, "systems measure 'budget'"),
        ({"table": "attendance", "measure": "attendance_rate", "colour": 1}, "unknown key"),
        ("attendance_rate", "must be a mapping"),
    ],
)
def test_bad_metric_definitions(tables, metric, match):
    """Bad metric definitions raise PlanError saying what is wrong."""
    with pytest.raises(PlanError, match=match):
        compute_metric(tables, metric)


def test_unknown_focus_column(tables):
    """A focus column the pupils table lacks is a PlanError."""
    with pytest.raises(PlanError, match="focus group column 'pp'"):
        compute_metric(tables, ATT, focus={"column": "pp", "value": True})


def test_missing_table_and_school(tables):
    """A missing table or unknown school is a DataError."""
    with pytest.raises(DataError, match="table 'behaviour' is needed"):
        compute_metric(
            {"attendance": tables["attendance"]},
            {"table": "behaviour", "measure": "incidents_per_100"},
        )
    with pytest.raises(DataError, match="school 'S9'"):
        compute_metric(tables, ATT, school_id="S9")


def test_describe_metric():
    """Plain-English metric names."""
    assert (
        describe_metric(
            {"table": "survey_responses", "measure": "scale_mean", "scale": "belonging"}
        )
        == "scale mean (scale=belonging)"
    )


def test_persistent_absence_at_exactly_ninety_percent_is_one_definition():
    """54 of 60 sessions (exactly 90%) is persistent absence in metrics, needs and evaluate."""
    from cilib.measures import metrics
    from cilib.report.sections import impact_analysis as evaluate

    att = pd.DataFrame(
        {
            "pupil_id": ["a", "b", "c"],
            "school_id": ["S1"] * 3,
            "academic_year": ["2024/25"] * 3,
            "period": ["2024/25 HT1"] * 3,
            "possible_sessions": [60, 60, 60],
            "attended_sessions": [54, 55, 53],
        }
    )
    # DfE: missed 10% or more of possible sessions -> a (6 of 60 missed) and c; not b
    expected = [True, False, True]
    assert metrics.persistently_absent([60, 60, 60], [54, 55, 53]).tolist() == expected
    r = metrics.compute_metric(
        {"attendance": att}, {"table": "attendance", "measure": "persistent_absence"}
    )
    assert r.loc[r["group"] == "all", "numerator"].item() == 2
    v = evaluate.pupil_values(
        {"attendance": att}, {"table": "attendance", "measure": "persistent_absence"}
    )
    assert sorted(v.set_index("pupil_id")["value"].items()) == [
        ("a", 100.0),
        ("b", 0.0),
        ("c", 100.0),
    ]
