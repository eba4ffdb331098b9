"""Tests for cilib.stats.chart_data: the data for a chart, checked and reshaped."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cilib.core.errors import DataError
from cilib.stats import chart_data


def test_prepare_orders_periods_and_leaves_gaps_per_series():
    """Series are sorted by key, periods by label; a period a series lacks is a gap."""
    df = pd.DataFrame({"s": ["b", "a", "a"], "t": [2, 2, 1], "y": [5.0, 2.0, 1.0]})
    keys, labels, arrays = chart_data.prepare(df, "y", "t", ["s"], "xmr", None, None)
    assert keys["s"].tolist() == ["a", "b"] and labels == [1, 2]
    assert arrays["present"].tolist() == [[True, True], [False, True]]
    np.testing.assert_array_equal(arrays["y"], [[1.0, 2.0], [np.nan, 5.0]])


def test_prepare_subgroup_means_and_sds_for_xbar_s():
    """Pupil-level rows become subgroup sizes, means and standard deviations per period."""
    df = pd.DataFrame({"t": [1, 1, 1, 2, 2], "y": [1.0, 2.0, 3.0, 4.0, 6.0]})
    _, labels, arrays = chart_data.prepare(df, "y", "t", [], "xbar_s", None, None)
    assert labels == [1, 2]
    assert arrays["n"].tolist() == [[3.0, 2.0]]
    assert arrays["y"].tolist() == [[2.0, 5.0]]
    assert arrays["sd"][0] == pytest.approx([1.0, np.sqrt(2)])


def test_check_columns_names_the_missing_ones():
    """The message names the missing columns and lists those available."""
    with pytest.raises(DataError, match=r"\['z'\] not found"):
        chart_data.check_columns(pd.DataFrame({"y": [1]}), ["y", "z"])
