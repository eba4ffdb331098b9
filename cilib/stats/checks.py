"""Input checks shared by the statistics modules: columns present, numeric values, lists."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from cilib.core.errors import DataError


def as_list(cols: str | Sequence[str] | None) -> list[str]:
    """Return column names as a list: ``None`` gives ``[]``, a string a one-item list.

    Examples
    --------
    >>> as_list(None), as_list("school_id"), as_list(("a", "b"))
    ([], ['school_id'], ['a', 'b'])
    """
    if cols is None:
        return []
    if isinstance(cols, str):
        return [cols]
    return list(cols)


def need_columns(df: pd.DataFrame, cols: Sequence[str], what: str) -> None:
    """Raise :class:`DataError` unless ``df`` is a DataFrame holding every column in ``cols``.

    ``what`` names the frame in the message (e.g. ``"the data"``).

    Examples
    --------
    >>> need_columns(pd.DataFrame({"a": [1]}), ["a"], "the data")
    """
    if not isinstance(df, pd.DataFrame):
        raise DataError(f"{what} must be a pandas DataFrame, got {type(df).__name__}")
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise DataError(f"{what} lacks column(s) {missing}; available columns: {list(df.columns)}")


def numeric(series: pd.Series, name: str) -> pd.Series:
    """Return ``series`` as float64; booleans become 0/1, missing values stay missing.

    Raises :class:`DataError` naming column ``name`` when a value is not a number (codes such as
    ``'SUPP'`` or ``'x'`` must be turned into missing values first).

    Examples
    --------
    >>> numeric(pd.Series([1, None, True]), "y").tolist()
    [1.0, nan, 1.0]
    """
    if pd.api.types.is_bool_dtype(series):
        return series.astype("float64")
    out = pd.to_numeric(series, errors="coerce").astype("float64")
    bad = out.isna() & series.notna()
    if bad.any():
        example = series[bad].iloc[0]
        raise DataError(
            f"column {name!r} must be numeric; found {example!r}. Convert codes such as "
            "'SUPP' or 'x' to missing first."
        )
    return out
