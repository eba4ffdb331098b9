"""The data for a chart: checked, periods put in time order, reshaped to (series × periods)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from cilib.core.errors import DataError
from cilib.stats.control_limits import KINDS, RATE_KINDS


def _period_labels(col: pd.Series, order: Sequence | None, period: str) -> list:
    if col.isna().any():
        k = int(col.isna().sum())
        raise DataError(
            f"{k} row(s) have a missing period in column {period!r}; "
            "drop them or give them a period"
        )
    present = pd.unique(col)
    if order is not None:
        order = list(order)
        if len(set(order)) != len(order):
            raise DataError("order= lists a period more than once; give each period once")
        unknown = [p for p in present if p not in set(order)]
        if unknown:
            raise DataError(
                f"periods {unknown[:5]} are not in order=; add them to order= or drop those rows"
            )
        keep = set(present)
        return [p for p in order if p in keep]
    if isinstance(col.dtype, pd.CategoricalDtype):
        if not col.cat.ordered:
            raise DataError(
                f"column {period!r} is an unordered categorical; make it ordered or pass order="
            )
        keep = set(present)
        return [p for p in col.cat.categories if p in keep]
    try:
        return sorted(present)
    except TypeError as err:
        raise DataError(
            f"period labels in {period!r} cannot be sorted (mixed types); pass order= with the "
            "labels in time order"
        ) from err


def check_columns(df: pd.DataFrame, cols: Sequence[str]) -> None:
    """Raise :class:`DataError` naming the columns of ``cols`` that ``df`` lacks."""
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise DataError(f"column(s) {missing} not found; available columns: {list(df.columns)}")


def _as_float(df: pd.DataFrame, col: str) -> np.ndarray:
    s = df[col]
    if not (pd.api.types.is_numeric_dtype(s) or s.isna().all()):
        raise DataError(f"column {col!r} must be numeric (found dtype {s.dtype})")
    arr = s.astype("float64").to_numpy(na_value=np.nan)
    if np.isinf(arr).any():
        raise DataError(f"column {col!r} holds infinite values; replace them or set them missing")
    return arr


def prepare(
    df: pd.DataFrame,
    value: str,
    period: str,
    by: Sequence[str],
    kind: str,
    n: str | None,
    order: Sequence | None,
) -> tuple[pd.DataFrame, list, dict[str, np.ndarray]]:
    """Check the data for a chart and reshape it into arrays of shape (series, periods).

    Returns
    -------
    tuple
        ``(keys, labels, arrays)``: one row of ``by`` values per series, the period labels in
        time order, and the arrays ``present`` and ``y`` (``count`` and ``n`` for p and u kinds;
        ``n``, ``y`` (subgroup means) and ``sd`` for xbar_s).
    """
    if kind not in KINDS:
        raise DataError(f"kind={kind!r} is not supported; use one of {list(KINDS)}")
    if not isinstance(df, pd.DataFrame):
        raise DataError("df must be a pandas DataFrame")
    needs_n = kind in RATE_KINDS
    if needs_n and n is None:
        raise DataError(
            f"kind={kind!r} needs n= (the column of "
            f"{'trials' if kind in ('p', 'pp') else 'exposure'})"
        )
    cols = [value, period, *by] + ([n] if needs_n else [])
    check_columns(df, cols)
    if len(df) == 0:
        raise DataError("the data frame is empty; a chart needs at least two periods")
    labels = _period_labels(df[period], order, period)
    t_code = pd.Categorical(df[period], categories=labels).codes
    if by:
        for b in by:
            if df[b].isna().any():
                raise DataError(f"column {b!r} (in by=) has missing values; fill or drop them")
        s_code = df.groupby(list(by), sort=True, observed=True).ngroup().to_numpy()
        keys = (
            df[list(by)]
            .assign(_s=s_code)
            .drop_duplicates("_s")
            .sort_values("_s")
            .drop(columns="_s")
            .reset_index(drop=True)
        )
    else:
        s_code = np.zeros(len(df), dtype=np.int64)
        keys = pd.DataFrame(index=[0])
    shape = (len(keys), len(labels))
    y = _as_float(df, value)
    arrays: dict[str, np.ndarray] = {}
    if kind == "xbar_s":
        flat = s_code * shape[1] + t_code
        ok = ~np.isnan(y)
        size = shape[0] * shape[1]
        cnt = np.bincount(flat[ok], minlength=size).astype(float)
        tot = np.bincount(flat[ok], weights=y[ok], minlength=size)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = tot / cnt
            dev = y[ok] - mean[flat[ok]]
            ss = np.bincount(flat[ok], weights=dev**2, minlength=size)
            sd = np.sqrt(ss / (cnt - 1))
        sd[cnt < 2] = np.nan
        arrays["n"] = cnt.reshape(shape)
        arrays["y"] = mean.reshape(shape)
        arrays["sd"] = sd.reshape(shape)
        arrays["present"] = (np.bincount(flat, minlength=size) > 0).reshape(shape)
        return keys, labels, arrays
    flat = s_code * shape[1] + t_code
    if len(np.unique(flat)) != len(flat):
        dup = df.loc[pd.Series(flat).duplicated(keep=False).to_numpy(), [*by, period]]
        raise DataError(
            f"period(s) appear more than once: {dup.drop_duplicates().head(5).to_dict('records')}; "
            "aggregate to one row per period first (or use kind='xbar_s' for pupil-level rows)"
        )
    present = np.zeros(shape, dtype=bool)
    present.ravel()[flat] = True
    yy = np.full(shape, np.nan)
    yy.ravel()[flat] = y
    arrays["present"] = present
    if needs_n:
        nn = np.full(shape, np.nan)
        nv = _as_float(df, n)
        nn.ravel()[flat] = nv
        if (yy < 0).any():
            raise DataError(f"column {value!r} has negative counts; counts must be 0 or more")
        if (nn < 0).any():
            raise DataError(f"column {n!r} has negative denominators; they must be more than 0")
        if (nn == 0).any():
            raise DataError(
                f"column {n!r} has zero denominators; drop those periods or set n missing to "
                "show a gap"
            )
        if kind in ("p", "pp") and (yy > nn).any():
            raise DataError(
                f"{value!r} exceeds {n!r} in some rows; a count cannot exceed its trials"
            )
        arrays["count"] = yy
        arrays["n"] = nn
    else:
        arrays["y"] = yy
    return keys, labels, arrays
