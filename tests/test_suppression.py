"""Tests for cilib.stats.suppression: primary and secondary suppression and display."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cilib.stats import suppression as sup


def test_secondary_suppression_two_subgroups():
    """Total 40 = 36 + 4: the 4 is suppressed and so is the 36 (else 4's mean = back-sum)."""
    t = pd.DataFrame({"group": ["all", "a", "b"], "n": [40, 36, 4], "mean": [50.0, 51.0, 41.0]})
    out = sup.suppress(t, 5, group_col="group", total_row="all")
    assert out["suppressed"].tolist() == [False, True, True]
    assert out["mean"].isna().tolist() == [False, True, True]
    # proof of the leak being closed: without secondary suppression the 4's mean is recoverable
    assert (40 * 50.0 - 36 * 51.0) / 4 == pytest.approx(41.0)


def test_secondary_suppression_three_subgroups_picks_next_smallest():
    """Total 40 = 20 + 17 + 3: the 3 and the next smallest (17) are suppressed, 20 stays."""
    t = pd.DataFrame(
        {
            "school": ["S"] * 4,
            "group": ["all", "x", "y", "z"],
            "n": [40, 20, 17, 3],
            "rate": [0.5, 0.6, 0.4, 0.33],
        }
    )
    out = sup.suppress(t, 5, group_col="group", total_row="all", by="school")
    assert out.set_index("group")["suppressed"].to_dict() == {
        "all": False,
        "x": False,
        "y": True,
        "z": True,
    }
    assert t["rate"].notna().all()  # input untouched


def test_secondary_suppression_per_block_and_zero_cells():
    """Blocks are handled separately; an empty subgroup cannot serve as the complement."""
    t = pd.DataFrame(
        {
            "school": ["S", "S", "S", "S", "T", "T", "T"],
            "group": ["all", "x", "y", "z", "all", "x", "y"],
            "n": [30, 27, 3, 0, 50, 25, 25],
            "mean": [1.0, 1.0, 1.0, np.nan, 2.0, 2.0, 2.0],
        }
    )
    out = sup.suppress(t, 5, group_col="group", total_row="all", by="school")
    assert out["suppressed"].tolist() == [False, True, True, False, False, False, False]
    hidden = sup.suppress(t, 5, group_col="group", total_row="all", by="school", hide_counts=True)
    assert hidden["n"].isna().tolist() == [False, True, True, False, False, False, False]


def test_format_suppressed_and_constants():
    """Suppressed figures display as 'x' and the footnote names the threshold."""
    t = sup.suppress(pd.DataFrame({"n": [3, 10], "mean": [1.0, 2.0]}), 5)
    shown = sup.format_suppressed(t)
    assert shown["mean"].tolist() == ["x", "2.0"]
    assert sup.SUPPRESSED_SYMBOL == "x"
    assert "5" in sup.SUPPRESSION_FOOTNOTE.format(threshold=5)
