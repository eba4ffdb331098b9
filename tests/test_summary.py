"""The first screen of a report: heading, goals at a glance, ranked findings, data-quality line."""

from __future__ import annotations

import importlib
import re

import pandas as pd
import pytest

#: the module (``cilib.report.summary`` the name is the function re-exported by cilib.report)
sm = importlib.import_module("cilib.report.summary")

PERIOD = "2025/26 HT6"


@pytest.fixture(scope="module")
def store(sample_store):
    """The sample trust, prepared once per test session (tests/conftest.py)."""
    return sample_store


def _reading_gap(store, schools):
    """Independent reading gap per period: mean of pupils' mean scores, disadvantaged − others."""
    a = store.table("assessments")
    a = a.loc[(a["subject"] == "reading") & a["school_id"].isin(schools) & a["score"].notna()]
    per = a.groupby(["pupil_id", "academic_year", "period"], as_index=False)["score"].mean()
    pupils = store.table("pupils")[["pupil_id", "academic_year", "disadvantaged"]]
    per = per.merge(pupils, on=["pupil_id", "academic_year"], how="inner")
    m = per.groupby(["period", "disadvantaged"])["score"].mean().unstack()
    return m[True] - m[False]


def _visible_text(markup: str) -> str:
    """The text a reader sees: tags removed, entities left (none hold a code word)."""
    return re.sub(r"<[^>]+>", " ", markup)


def test_reading_gap_row_matches_an_independent_computation(store):
    """NLT01's reading-gap goal: latest and previous values, improving variation (planted)."""
    rows = sm.goal_rows(store, "NLT01").set_index("goal")
    g1 = rows.loc["G1"]
    gap = _reading_gap(store, ["NLT01"]).dropna()
    assert g1["period"] == PERIOD
    assert g1["latest"] == pytest.approx(gap[PERIOD])
    assert g1["previous"] == pytest.approx(gap.iloc[-2])
    assert g1["variation"] == "improving" and bool(g1["is_gap"])


def test_concerning_attendance_comes_first_at_nlt07(store):
    """NLT07's planted attendance drop is the concerning goal and the first finding."""
    rows = sm.goal_rows(store, "NLT07").set_index("goal")
    assert rows.loc["G2", "variation"] == "concerning"
    first = sm.findings(store, "NLT07")[0]
    assert first.startswith("Attendance") and "a concern since 2024/25 HT4" in first


def test_findings_are_three_to_five_sentences_and_end_with_the_decisions(store):
    """Every school gets three to five findings; the decisions close the list."""
    for school in [None, "NLT01", "NLT06"]:
        items = sm.findings(store, school)
        assert 3 <= len(items) <= 5, (school, items)
        assert all(i.endswith(".") for i in items)
    assert "suggested decisions" in sm.findings(store, "NLT01")[-1]


def test_assurance_follows_the_trajectory(store):
    """A goal is on course exactly when its latest observed point meets the trajectory."""
    from cilib import cycle as cp
    from cilib.report.sections.monitor_charts import monitor_tables

    goal = store.plan().goal("G1")
    pr = cp.progress(goal, monitor_tables(store), school_id="NLT01",
                     periods=store.meta["periods"])
    last = pr.loc[pr["observed"].notna() & (pr["period"] <= PERIOD)].iloc[-1]
    on = last["observed"] >= last["expected"]  # G1: higher (narrower) is better
    assert sm.goal_rows(store, "NLT01").set_index("goal").loc["G1", "assurance"] == (
        "on" if on else "off"
    )


def test_summary_heading_table_icons_and_links(store):
    """One h1 naming school and period first; the goals table with icons; the two links."""
    page = sm.summary(store, "NLT01", "Monitor and Adjust").data
    assert page.startswith("<h1>Northfield Primary Academy: Monitor and Adjust, 2025/26 HT6</h1>")
    assert page.count("<h1>") == 1
    assert "cilib-summary-goals" in page and "<svg" in page and "Improving" in page
    assert "href='../data-quality.html'" in page and "href='../glossary.html'" in page
    assert "<img" not in page and "http" not in page
    assert not re.findall(r"\b[a-z0-9]+(?:_[a-z0-9]+)+\b", _visible_text(page))


def test_icon_words_and_colours():
    """Making Data Count colours: blue improving, orange concerning, grey common cause."""
    assert sm.COLOURS["improving"] in sm.icon("improving")
    assert sm.COLOURS["concerning"] in sm.icon("concerning")
    assert sm.COLOURS["common"] in sm.icon("common") and "Normal variation" in sm.icon("common")
    assert "Not yet known" in sm.icon("no such verdict")


def testchange_words_say_narrowed_or_widened_by_direction():
    """A gap moving the better way narrowed; one unit is singular."""
    r = pd.Series({"latest": -2.3, "previous": -3.3, "digits": 1, "unit": "points",
                   "direction": "up", "is_gap": True})
    assert sm.change_words(r) == "narrowed by 1.0 point"
    r2 = r.copy()
    r2["direction"] = "down"
    assert sm.change_words(r2) == "widened by 1.0 point"
    r3 = r.copy()
    r3["is_gap"] = False
    r3["latest"] = -4.3
    assert sm.change_words(r3) == "fell by 1.0 point"
