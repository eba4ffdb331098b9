"""Sufficient statistics: sums per cell, combining chunks, and the finishing formulas."""

import numpy as np
import pandas as pd
import pytest

from cilib.core.errors import DataError
from cilib.stats.sufficient import cell_sums, combine_sums, stats_from_sums


@pytest.fixture
def pupils():
    """Random scores, 0/1 flags and attendance with NaNs in three schools."""
    rng = np.random.default_rng(3)
    n = 500
    df = pd.DataFrame(
        {
            "school": rng.choice(["A", "B", "C"], n),
            "score": rng.normal(1000.0, 15.0, n),
            "flag": rng.integers(0, 2, n).astype(float),
            "rate": rng.uniform(0.5, 1.0, n),
            "sessions": rng.integers(1, 300, n).astype(float),
        }
    )
    df.loc[::17, "score"] = np.nan
    df.loc[::13, "sessions"] = np.nan
    return df


def test_mean_and_sd_match_numpy(pupils):
    """Mean and SD from the shifted sums equal numpy's per school (large mean, small SD)."""
    stats = stats_from_sums(cell_sums(pupils, "score", "school"))
    for _, row in stats.iterrows():
        y = pupils.loc[pupils["school"] == row["school"], "score"].dropna().to_numpy()
        assert row["n"] == len(y)
        assert row["mean"] == pytest.approx(y.mean(), rel=1e-12)
        assert row["sd"] == pytest.approx(y.std(ddof=1), rel=1e-9)


def test_shift_does_not_change_the_result(pupils):
    """Sums about any shift finish into the same mean and SD."""
    a = stats_from_sums(cell_sums(pupils, "score", "school", shift=0.0))
    b = stats_from_sums(cell_sums(pupils, "score", "school", shift=990.0))
    np.testing.assert_allclose(a[["mean", "sd"]], b[["mean", "sd"]], rtol=1e-9)


def test_chunks_combine_to_the_whole(pupils):
    """Sums of three chunks added together equal the sums of the whole frame."""
    whole = cell_sums(pupils, "score", "school", shift=1000.0)
    parts = [cell_sums(pupils.iloc[i::3], "score", "school", shift=1000.0) for i in range(3)]
    pd.testing.assert_frame_equal(combine_sums(parts, "school"), whole, rtol=1e-12)


def test_combine_refuses_different_shifts(pupils):
    """Sums about different shifts cannot be added."""
    a = cell_sums(pupils, "score", "school", shift=0.0)
    b = cell_sums(pupils, "score", "school", shift=1.0)
    with pytest.raises(DataError, match="different shifts"):
        combine_sums([a, b], "school")


def test_weighted_rate_is_the_ratio_estimate(pupils):
    """With a weight, the rate is Σw·y/Σw and the variance is the linearised ratio variance."""
    stats = stats_from_sums(cell_sums(pupils, "rate", "school", kind="rate", weight="sessions"),
                            kind="rate", weighted=True)
    row = stats.iloc[0]
    d = pupils[(pupils["school"] == row["school"]) & pupils["sessions"].notna()]
    w, y = d["sessions"].to_numpy(), d["rate"].to_numpy()
    r = (w * y).sum() / w.sum()
    v = len(w) / (len(w) - 1) * ((w * (y - r)) ** 2).sum() / w.sum() ** 2
    assert row["successes"] / row["trials"] == pytest.approx(r, rel=1e-12)
    assert row["trials"] == pytest.approx(min(w.sum(), r * (1 - r) / v), rel=1e-9)
    assert row["weight_total"] == pytest.approx(w.sum())


def test_rate_counts_successes(pupils):
    """For 0/1 values the sums are the count and the number of ones."""
    stats = stats_from_sums(cell_sums(pupils, "flag", "school", kind="rate"), kind="rate")
    expect = pupils.groupby("school")["flag"].agg(["size", "sum"])
    assert stats["n"].tolist() == expect["size"].tolist()
    assert stats["successes"].tolist() == expect["sum"].tolist()


def test_no_rows_without_by_gives_no_cell():
    """With no value at all and no grouping there is no cell (as before)."""
    df = pd.DataFrame({"y": [np.nan, np.nan]})
    assert len(cell_sums(df, "y")) == 0


def test_rate_needs_zero_one():
    """A rate without weight must be 0/1."""
    with pytest.raises(DataError, match="0/1"):
        cell_sums(pd.DataFrame({"y": [0.0, 2.0]}), "y", kind="rate")
