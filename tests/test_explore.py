"""The explorer: explore_view's numbers against plain pandas and scipy; the widget re-renders."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from cilib.core.errors import DataError
from cilib.report.explore import (
    display_frame,
    explore_view,
    explorer,
    focus_options,
    lens_options,
    measure_options,
)
from cilib.run.batch import NOTEBOOK_DIR

PERIODS = ("2025/26 HT1", "2025/26 HT6")


@pytest.fixture(scope="module")
def store(sample_store):
    """The sample trust, prepared once per test session (tests/conftest.py)."""
    return sample_store


def test_attendance_matches_pandas(store):
    """Attendance rate per period and group equals 100 × Σ attended / Σ possible by hand."""
    table, fig = explore_view(
        store,
        school_id="NLT01",
        periods=PERIODS,
        measure="Attendance rate (%)",
        lens="disadvantaged",
        focus=True,
    )
    att = store.table("attendance")
    att = att.loc[(att["school_id"] == "NLT01") & att["period"].str.startswith("2025/26")]
    pup = store.table("pupils")[["pupil_id", "academic_year", "disadvantaged"]]
    m = att.merge(pup, on=["pupil_id", "academic_year"], how="left")
    by = m.groupby(["period", "disadvantaged"]).agg(
        att=("attended_sessions", "sum"),
        poss=("possible_sessions", "sum"),
        n=("pupil_id", "nunique"),
    )
    rate = 100 * by["att"] / by["poss"]
    overall = m.groupby("period").agg(
        att=("attended_sessions", "sum"), poss=("possible_sessions", "sum")
    )
    t = table.set_index("period")
    assert list(t.index) == [f"2025/26 HT{i}" for i in range(1, 7)]
    for p in t.index:
        assert t.loc[p, "focus"] == pytest.approx(rate[(p, True)], abs=1e-9)
        assert t.loc[p, "comparison"] == pytest.approx(rate[(p, False)], abs=1e-9)
        assert t.loc[p, "n_focus"] == by.loc[(p, True), "n"]
        assert t.loc[p, "all"] == pytest.approx(
            100 * overall.loc[p, "att"] / overall.loc[p, "poss"], abs=1e-9
        )
        assert t.loc[p, "gap"] == pytest.approx(rate[(p, True)] - rate[(p, False)], abs=1e-9)
        assert t.loc[p, "gap_ci_low"] < t.loc[p, "gap"] < t.loc[p, "gap_ci_high"]
    assert not t["suppressed"].any()
    assert fig.axes  # a chart per group
    import matplotlib.pyplot as plt

    plt.close(fig)


def test_score_gap_interval_matches_scipy_welch(store):
    """The reading-score gap's 95% interval is Welch's, as scipy computes it on pupil means."""
    table, fig = explore_view(
        store,
        school_id="NLT02",
        periods=PERIODS,
        measure="Score: reading",
        lens="disadvantaged",
        focus=True,
    )
    a = store.table("assessments")
    a = a.loc[(a["school_id"] == "NLT02") & (a["subject"] == "reading")]
    a = a.loc[a["period"] == "2025/26 HT6"]
    per_pupil = a.groupby(["pupil_id", "academic_year"], as_index=False)["score"].mean()
    pup = store.table("pupils")[["pupil_id", "academic_year", "disadvantaged"]]
    m = per_pupil.merge(pup, on=["pupil_id", "academic_year"])
    x = m.loc[m["disadvantaged"] == True, "score"]  # noqa: E712
    y = m.loc[m["disadvantaged"] == False, "score"]  # noqa: E712
    ci = stats.ttest_ind(x, y, equal_var=False).confidence_interval(0.95)
    row = table.set_index("period").loc["2025/26 HT6"]
    assert row["focus"] == pytest.approx(x.mean()) and row["n_focus"] == len(x)
    assert row["gap"] == pytest.approx(x.mean() - y.mean())
    assert (row["gap_ci_low"], row["gap_ci_high"]) == pytest.approx((ci.low, ci.high))
    import matplotlib.pyplot as plt

    plt.close(fig)


def test_small_groups_are_suppressed(store):
    """A group below the threshold shows no n, value or gap, nor does the other side; x shown."""
    table, fig = explore_view(
        store,
        school_id="NLT07",
        periods=PERIODS,
        measure="Attendance rate (%)",
        lens="gender",
        focus="other",
    )
    assert table["suppressed"].all()
    assert table[["focus", "comparison", "gap", "n_focus", "n_comparison"]].isna().all().all()
    assert table["all"].notna().all()  # the whole school is still shown
    html = display_frame(table, store.threshold).data
    assert ">x<" in html and f"fewer than {store.threshold} pupils" in html
    import matplotlib.pyplot as plt

    plt.close(fig)


@pytest.mark.slow
def test_every_measure_renders(store):
    """Each measure on offer gives a table and figure for the trust (systems: one group)."""
    import matplotlib.pyplot as plt

    opts = measure_options(store)
    assert {
        "Attendance rate (%)",
        "Persistent absence (% of pupils)",
        "Score: maths",
        "Survey scale mean: belonging",
        "Systems: staff absence rate",
    } <= set(opts)
    for label in opts:
        table, fig = explore_view(store, periods=PERIODS, measure=label)
        assert len(table) and table["all"].notna().any(), label
        plt.close(fig)
    sys_table, fig = explore_view(store, periods=PERIODS, measure="Systems: staff absence rate")
    sysd = store.table("systems")
    sysd = sysd.loc[(sysd["measure"] == "staff_absence_rate") & (sysd["period"] == "2025/26 HT6")]
    assert sys_table.iloc[-1]["all"] == pytest.approx(sysd["value"].mean())
    assert np.isnan(sys_table.iloc[-1]["gap"])
    plt.close(fig)


def test_bad_choices_raise(store):
    """Unknown measure, focus value or period: a DataError that names the fix."""
    with pytest.raises(DataError, match="unknown measure 'Height'; choose one of"):
        explore_view(store, measure="Height")
    with pytest.raises(DataError, match="focus 'maybe' is not a value of 'sen'"):
        explore_view(store, lens="sen", focus="maybe")
    with pytest.raises(DataError, match="not in the calendar"):
        explore_view(store, periods=("2019/20 HT1", "2025/26 HT6"))
    assert ("Yes", True) in focus_options(store, "disadvantaged")


def test_every_school_and_measure_gives_a_view_or_a_reason(store):
    """Each school x measure gives a table, or a DataError that says why (never a crash).

    Reading is not assessed in secondaries, science not in primaries, and fidelity is reported
    only where the intervention runs: those choices say so instead of raising pandas' merge error.
    """
    import matplotlib.pyplot as plt

    reasons = []
    for school in [None, *store.school_ids]:
        for label in measure_options(store):
            try:
                table, fig = explore_view(store, school_id=school, measure=label)
            except DataError as exc:
                reasons.append((school, label, str(exc)))
                continue
            assert len(table), (school, label)
            plt.close(fig)
    secondary_reading = [r for r in reasons if r[0] == "NLT07" and r[1] == "Score: reading"]
    assert secondary_reading and "has no data for score: reading" in secondary_reading[0][2]
    assert secondary_reading[0][2].startswith("Castlegate Academy")
    assert not [r for r in reasons if r[0] is None]  # the whole trust has every measure


def test_lens_options_are_plain_english(store):
    labels = dict(lens_options(store))
    assert labels["Special educational needs"] == "sen"
    assert all("_" not in label for label in labels)


@pytest.mark.slow
def test_widget_rerenders_on_change(store):
    """The explorer builds; setting a control's value re-renders the Output area."""
    import ipywidgets as w

    box = explorer(store)
    assert isinstance(box, w.VBox) and box.output in box.children
    # starts on the whole trust, with its label showing (not a blank dropdown)
    assert box.controls["school"].index == 0 and box.controls["school"].label == "Whole trust"
    assert box.controls["lens"].label == "Disadvantaged"
    first = box.output.outputs
    assert len(first) == 2 and "image/png" in first[1]["data"]
    box.controls["measure"].value = "Score: maths"
    second = box.output.outputs
    assert second != first and "text/html" in second[0]["data"]
    box.controls["lens"].value = "sen"
    assert [v for _, v in box.controls["focus"].options] == ["ehcp", "none", "support"]
    assert box.output.outputs != second
    box.controls["school"].value = "NLT07"
    box.controls["lens"].value = "gender"
    box.controls["focus"].value = "other"
    assert ">x<" in box.output.outputs[0]["data"]["text/html"]
    box.controls["lens"].value = "disadvantaged"
    box.controls["measure"].value = "Score: reading"  # not assessed in a secondary
    shown = box.output.outputs
    assert len(shown) == 1 and "Nothing to show for this choice" in str(shown[0]["data"])


@pytest.mark.slow
def test_explore_notebook_runs_with_papermill(store, tmp_path):
    """notebooks/explore.ipynb runs with papermill on the sample store; the widget displays."""
    import papermill as pm

    from cilib.run.kernel import QuietKernelManager

    out = tmp_path / "explore.ipynb"
    pm.execute_notebook(
        str(NOTEBOOK_DIR / "explore.ipynb"),
        str(out),
        parameters={"store": str(Path(store.folder)), "school_id": "NLT01"},
        cwd=str(NOTEBOOK_DIR),
        progress_bar=False,
        kernel_manager_class=QuietKernelManager,
    )
    nb = json.loads(out.read_text())
    outputs = [o for c in nb["cells"] if c["cell_type"] == "code" for o in c["outputs"]]
    assert not [o for o in outputs if o.get("output_type") == "error" or o.get("name") == "stderr"]
    kinds = {k for o in outputs for k in o.get("data", {})}
    assert "application/vnd.jupyter.widget-view+json" in kinds and "image/png" in kinds
