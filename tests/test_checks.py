"""Tests for cilib.stats.checks: the input checks shared by the statistics modules."""

from __future__ import annotations

import pandas as pd
import pytest

from cilib.core.errors import DataError
from cilib.stats import checks


def test_as_list():
    """None, a string and a sequence all become a list of column names."""
    assert checks.as_list(None) == []
    assert checks.as_list("school_id") == ["school_id"]
    assert checks.as_list(("a", "b")) == ["a", "b"]


def test_need_columns_says_what_is_missing():
    """A missing column or a non-DataFrame raises DataError naming the frame."""
    checks.need_columns(pd.DataFrame({"a": [1]}), ["a"], "the data")
    with pytest.raises(DataError, match=r"the data lacks column\(s\) \['b'\]"):
        checks.need_columns(pd.DataFrame({"a": [1]}), ["a", "b"], "the data")
    with pytest.raises(DataError, match="must be a pandas DataFrame"):
        checks.need_columns([1, 2], ["a"], "table")


def test_numeric_keeps_missing_and_refuses_codes():
    """Booleans become 0/1, missing stays missing, a code such as 'SUPP' is refused."""
    assert checks.numeric(pd.Series([True, False]), "y").tolist() == [1.0, 0.0]
    assert checks.numeric(pd.Series(["1.5", None]), "y").isna().tolist() == [False, True]
    with pytest.raises(DataError, match="'SUPP'"):
        checks.numeric(pd.Series(["1", "SUPP"]), "y")
