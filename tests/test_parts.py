"""Finishing a part: the rows a failed value rule flags, found on whole columns."""

from __future__ import annotations

import pandas as pd

from cilib.data.parts import Check, check_rows


def test_value_rule_flags_rows_holding_a_bad_value():
    df = pd.DataFrame({"score": [10.0, 150.0, None, 150.0]})
    exp = {"type": "expect_column_values_to_be_between", "kwargs": {"column": "score"},
           "meta": {"cilib_rule": "range"}}
    assert check_rows(Check(0, exp, pd.Series([150.0])), df).tolist() == [1, 3]


def test_not_null_rule_flags_missing_cells():
    df = pd.DataFrame({"gender": pd.Series(["f", None, "m"], dtype="str")})
    exp = {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "gender"},
           "meta": {"cilib_rule": "not_null"}}
    assert check_rows(Check(0, exp, None), df).tolist() == [1]


def test_pair_rule_flags_rows_holding_a_bad_pair():
    df = pd.DataFrame({"possible": [70, 70, 5, 70], "attended": [74, 69, 5, 74]})
    exp = {"type": "expect_column_pair_values_a_to_be_greater_than_b",
           "kwargs": {"column_A": "possible", "column_B": "attended"},
           "meta": {"cilib_rule": "attended_le_possible"}}
    bad = pd.DataFrame({"possible": [70], "attended": [74]})
    assert check_rows(Check(0, exp, bad), df).tolist() == [0, 3]
