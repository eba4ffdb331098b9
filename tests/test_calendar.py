"""Tests for cilib.core.calendar: half-term labels, their order, academic years and dates."""

from __future__ import annotations

import datetime as dt

import pytest

from cilib.core.calendar import (
    HALF_TERM_STARTS,
    academic_year_label,
    academic_year_of,
    half_term_end,
    half_term_labels,
    half_term_of,
    half_term_start,
    is_half_term,
    parse_period,
    period_key,
    periods_between,
)
from cilib.core.errors import PlanError


def test_parse_period():
    """A label gives the academic year's first calendar year and the half-term number."""
    assert parse_period("2024/25 HT1") == (2024, 1)
    assert parse_period("2025/26 HT6") == (2025, 6)
    assert parse_period("1999/00 HT3") == (1999, 3)


@pytest.mark.parametrize(
    "label",
    ["2024/26 HT1", "2024/25 HT7", "2024/25 HT0", "2024-25 HT1", "2024/25 ht1", "Autumn 2024", ""],
)
def test_bad_labels_give_a_clear_error(label):
    """Anything but 'YYYY/YY HTn' with consecutive years and n in 1..6 is refused by name."""
    assert not is_half_term(label)
    with pytest.raises(PlanError, match="is not a half-term label like '2024/25 HT3'"):
        parse_period(label)
    with pytest.raises(PlanError, match="is not a half-term label"):
        periods_between(label, "2025/26 HT1")


def test_is_half_term_needs_text():
    """Non-text values are not labels."""
    assert not is_half_term(None)
    assert not is_half_term(2024)


def test_period_key_orders_across_year_boundaries():
    """HT6 of one year comes before HT1 of the next; other labels sort by year then text."""
    labels = ["2025/26 HT1", "2024/25 HT6", "2023/24 HT2", "2024/25 HT1", "2023/24 HT6"]
    assert sorted(labels, key=period_key) == [
        "2023/24 HT2",
        "2023/24 HT6",
        "2024/25 HT1",
        "2024/25 HT6",
        "2025/26 HT1",
    ]
    assert period_key("2024/25 HT6") < period_key("2025/26 HT1")
    assert sorted(["2025 Summer", "2024 Autumn"], key=period_key) == ["2024 Autumn", "2025 Summer"]


def test_academic_years():
    """Academic years from a start year and from a label, across the century."""
    assert academic_year_label(2024) == "2024/25"
    assert academic_year_label(1999) == "1999/00"
    assert academic_year_of("2024/25 HT3") == "2024/25"
    assert academic_year_of("Autumn 2024") == "Autumn"


def test_half_term_labels():
    """Labels run HT1..HTn within each year, in the order the years are given."""
    assert half_term_labels(["2023/24", "2024/25"], 2) == [
        "2023/24 HT1",
        "2023/24 HT2",
        "2024/25 HT1",
        "2024/25 HT2",
    ]
    assert half_term_labels(["2024/25"], 3, "T") == ["2024/25 T1", "2024/25 T2", "2024/25 T3"]
    assert len(half_term_labels(["2024/25"])) == 6


def test_periods_between_across_years():
    """Half-terms between two periods, inclusive, over a year boundary and over two."""
    assert periods_between("2024/25 HT5", "2025/26 HT2") == [
        "2024/25 HT5",
        "2024/25 HT6",
        "2025/26 HT1",
        "2025/26 HT2",
    ]
    assert periods_between("2024/25 HT3", "2024/25 HT3") == ["2024/25 HT3"]
    assert len(periods_between("2023/24 HT1", "2025/26 HT6")) == 18


def test_periods_between_in_a_trust_calendar():
    """With a calendar, the labels are the trust's own; one outside it is named."""
    cal = ["Autumn 2024", "Spring 2025", "Summer 2025"]
    assert periods_between("Spring 2025", "Summer 2025", cal) == ["Spring 2025", "Summer 2025"]
    with pytest.raises(PlanError, match="'Winter 2025' is not in the calendar"):
        periods_between("Autumn 2024", "Winter 2025", cal)


def test_half_term_dates():
    """Start and end dates by the default start dates; HT6 runs to 31 August."""
    assert HALF_TERM_STARTS[1] == (9, 1)
    assert half_term_start("2024/25 HT1") == dt.date(2024, 9, 1)
    assert half_term_start("2024/25 HT3") == dt.date(2025, 1, 1)
    assert half_term_end("2024/25 HT2") == dt.date(2024, 12, 31)
    assert half_term_end("2024/25 HT6") == dt.date(2025, 8, 31)
    with pytest.raises(PlanError, match="not a half-term label"):
        half_term_end("Summer 2025")


@pytest.mark.parametrize(
    ("date", "label"),
    [
        (dt.date(2024, 9, 1), "2024/25 HT1"),
        (dt.date(2024, 10, 31), "2024/25 HT1"),
        (dt.date(2024, 11, 1), "2024/25 HT2"),
        (dt.date(2025, 1, 1), "2024/25 HT3"),
        (dt.date(2025, 2, 19), "2024/25 HT3"),
        (dt.date(2025, 2, 20), "2024/25 HT4"),
        (dt.date(2025, 4, 15), "2024/25 HT5"),
        (dt.date(2025, 6, 1), "2024/25 HT6"),
        (dt.date(2025, 8, 31), "2024/25 HT6"),
        (dt.date(2025, 9, 1), "2025/26 HT1"),
    ],
)
def test_half_term_of(date, label):
    """Dates map to half-terms by the documented start dates."""
    assert half_term_of(date) == label


def test_half_term_of_custom_starts_and_calendar():
    """Start dates are configurable; a date outside the calendar is an error."""
    starts = {1: (9, 1), 2: (10, 28), 3: (1, 6), 4: (2, 24), 5: (4, 22), 6: (6, 2)}
    assert half_term_of(dt.date(2024, 10, 30), starts=starts) == "2024/25 HT2"
    assert half_term_end("2024/25 HT1", starts=starts) == dt.date(2024, 10, 27)
    with pytest.raises(PlanError, match="outside the calendar"):
        half_term_of(dt.date(2030, 1, 1), ["2024/25 HT1"])
