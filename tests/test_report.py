"""Report building blocks: tables with suppression, the data-quality note, changes in words."""

import pandas as pd

from cilib import report


def test_suppressed_rows_show_the_symbol_and_footnote():
    """A suppressed row shows x in every value column, and the table carries the footnote."""
    df = pd.DataFrame({"group": ["a", "b"], "n": [40, 3], "value": [51.25, float("nan")],
                       "suppressed": [False, True]})
    shown = report.format_table(df, value_columns=["n", "value"])
    assert shown["value"].tolist() == ["51.2", "x"] and shown["n"].tolist() == ["40", "x"]
    html = report.table(df, threshold=5, value_columns=["n", "value"]).data
    assert "fewer than 5 pupils" in html and ">x<" in html


def test_data_quality_brief_and_full(sample_store):
    """The brief note is one sentence; the full note adds the per-table and per-rule tables."""
    brief = report.data_quality(sample_store, brief=True).data
    full = report.data_quality(sample_store).data
    total = int(sample_store.data_quality["rows_in"].sum())
    assert f"{total:,} rows read" in brief and "<table" not in brief
    assert "Why rows were set aside" in full and full.count("<table") == 2


def test_fmt_change_words():
    """Changes are described with direction and size."""
    assert report.fmt_change(93.4, 92.2) == "up 1.2 points"
    assert report.fmt_change(90.0, 92.5) == "down 2.5 points"
    assert report.fmt_change(float("nan"), 1.0) == "no earlier figure to compare"
