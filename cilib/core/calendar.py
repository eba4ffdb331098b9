"""The school calendar: half-term labels such as ``"2024/25 HT3"``, their order and their dates.

Every period in cilib is a label ``"YYYY/YY HTn"``: the academic year (1 September to 31 August)
and the half-term within it, HT1 to HT6. This module is the one place that parses such labels
(:func:`parse_period`), orders them (:func:`period_key`), names academic years
(:func:`academic_year_of`, :func:`academic_year_label`), lists the labels of a calendar
(:func:`half_term_labels`, :func:`periods_between`) and turns labels into dates and back
(:func:`half_term_start`, :func:`half_term_end`, :func:`half_term_of`).

A trust's own calendar (``calendar:`` in its config) is an ordered list of labels; functions that
take a ``calendar`` use it instead of the default six half-terms a year.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from typing import Any

from cilib.core.errors import PlanError

#: First day of each half-term as (month, day); HT1-HT2 fall in the first calendar year of the
#: academic year, HT3-HT6 in the second. Dates in July and August belong to HT6.
HALF_TERM_STARTS: dict[int, tuple[int, int]] = {
    1: (9, 1),
    2: (11, 1),
    3: (1, 1),
    4: (2, 20),
    5: (4, 15),
    6: (6, 1),
}

_PERIOD_RE = re.compile(r"^(\d{4})/(\d{2}) HT([1-6])$")


def is_half_term(label: Any) -> bool:
    """Say whether ``label`` is a half-term label like ``"2024/25 HT3"`` (years consecutive).

    Examples
    --------
    >>> is_half_term("2024/25 HT3"), is_half_term("2024/26 HT3"), is_half_term("2024/25 HT7")
    (True, False, False)
    """
    m = _PERIOD_RE.match(str(label)) if isinstance(label, str) else None
    return bool(m) and (int(m.group(1)) + 1) % 100 == int(m.group(2))


def parse_period(label: str) -> tuple[int, int]:
    """Return ``(first calendar year of the academic year, half-term number)`` of a label.

    Raises
    ------
    PlanError
        ``label`` is not a half-term label like ``"2024/25 HT3"``.

    Examples
    --------
    >>> parse_period("2025/26 HT6")
    (2025, 6)
    """
    if not is_half_term(label):
        raise PlanError(f"period {label!r} is not a half-term label like '2024/25 HT3'")
    return int(label[:4]), int(label[-1])


def period_key(label: str) -> tuple:
    """Return a sort key that orders half-term labels such as ``"2024/25 HT3"`` in time.

    Labels that are not half-terms sort by academic year (first 7 characters), then text.

    Examples
    --------
    >>> sorted(["2024/25 HT2", "2023/24 HT6", "2024/25 HT1"], key=period_key)
    ['2023/24 HT6', '2024/25 HT1', '2024/25 HT2']
    """
    m = _PERIOD_RE.match(str(label))
    if m:
        return (int(m.group(1)), int(m.group(3)), "")
    text = str(label)
    return (int(text[:4]) if text[:4].isdigit() else 0, 0, text)


def academic_year_label(start_year: int) -> str:
    """Return the academic year that starts in September of ``start_year``.

    Examples
    --------
    >>> academic_year_label(2099)
    '2099/00'
    """
    return f"{start_year}/{(start_year + 1) % 100:02d}"


def academic_year_of(period: str) -> str:
    """Return the academic year part of a period label (text before the first space).

    Examples
    --------
    >>> academic_year_of("2024/25 HT3")
    '2024/25'
    """
    return str(period).split(" ", 1)[0]


def half_term_labels(years: Sequence[str], per_year: int = 6, prefix: str = "HT") -> list[str]:
    """Return period labels such as ``2024/25 HT1`` for each academic year, years as given.

    Examples
    --------
    >>> half_term_labels(["2024/25"], 2)
    ['2024/25 HT1', '2024/25 HT2']
    """
    return [f"{y} {prefix}{i}" for y in years for i in range(1, per_year + 1)]


def periods_between(start: str, end: str, calendar: Sequence[str] | None = None) -> list[str]:
    """Return the periods from ``start`` to ``end`` inclusive, in calendar order.

    Without a ``calendar`` the default half-term calendar is used.

    Raises
    ------
    PlanError
        A label is not a half-term label (default calendar) or is not in ``calendar``.

    Examples
    --------
    >>> periods_between("2024/25 HT5", "2025/26 HT1")
    ['2024/25 HT5', '2024/25 HT6', '2025/26 HT1']
    """
    if calendar is None:
        for p in (start, end):
            parse_period(p)
        y0, y1 = int(start[:4]), int(end[:4])
        calendar = half_term_labels([academic_year_label(y) for y in range(y0, y1 + 1)])
    cal = list(calendar)
    for p in (start, end):
        if p not in cal:
            raise PlanError(f"period {p!r} is not in the calendar ({cal[0]} … {cal[-1]})")
    i, j = cal.index(start), cal.index(end)
    return cal[i : j + 1]


def half_term_start(
    label: str, *, starts: Mapping[int, tuple[int, int]] = HALF_TERM_STARTS
) -> dt.date:
    """Return the first day of a half-term (default start dates in :data:`HALF_TERM_STARTS`).

    Examples
    --------
    >>> half_term_start("2024/25 HT4")
    datetime.date(2025, 2, 20)
    """
    y, ht = parse_period(label)
    month, day = starts[ht]
    return dt.date(y if month >= 9 else y + 1, month, day)


def half_term_end(
    label: str, *, starts: Mapping[int, tuple[int, int]] = HALF_TERM_STARTS
) -> dt.date:
    """Return the last day of a half-term (the day before the next one starts; HT6 ends 31 Aug).

    Examples
    --------
    >>> half_term_end("2025/26 HT6")
    datetime.date(2026, 8, 31)
    """
    y, ht = parse_period(label)
    if ht == 6:
        return dt.date(y + 1, 8, 31)
    return half_term_start(f"{label[:7]} HT{ht + 1}", starts=starts) - dt.timedelta(days=1)


def half_term_of(
    date: dt.date,
    calendar: Sequence[str] | None = None,
    *,
    starts: Mapping[int, tuple[int, int]] = HALF_TERM_STARTS,
) -> str:
    """Return the half-term label a date falls in.

    The academic year runs 1 September to 31 August; half-terms start on the dates in
    ``starts`` (default HT1 1 Sep, HT2 1 Nov, HT3 1 Jan, HT4 20 Feb, HT5 15 Apr, HT6 1 Jun), and
    the summer holiday belongs to HT6. With a ``calendar`` the label must be in it.

    Examples
    --------
    >>> half_term_of(dt.date(2026, 11, 26))
    '2026/27 HT2'
    """
    if isinstance(date, dt.datetime):
        date = date.date()
    ay = academic_year_label(date.year if date.month >= 9 else date.year - 1)
    label = f"{ay} HT1"
    for ht in range(1, 7):
        if half_term_start(f"{ay} HT{ht}", starts=starts) <= date:
            label = f"{ay} HT{ht}"
    if calendar is not None and label not in list(calendar):
        raise PlanError(f"date {date} falls in {label}, which is outside the calendar")
    return label
