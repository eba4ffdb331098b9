"""Sufficient statistics per cell: the sums every engine computes, and the one finishing step.

Every summary and gap in :mod:`cilib.stats.equity` is a function of a few sums per cell, so the
pupil-level rows are touched once, by whichever engine holds them (pandas here, DuckDB or Dask in
:mod:`cilib.data.aggregate`), and the same formulas finish the job. The sums are:

* ``kind="mean"``: ``n``, ``sum_d = Σ d`` and ``sum_d2 = Σ d²`` of ``d = y - shift``, where
  ``shift`` is one number for the whole data (any value near the data's centre; shifting keeps
  ``Σ d² - n·mean_d²`` from losing digits when the mean is large against the SD). The cell's
  mean is ``shift + sum_d / n`` and its variance ``(sum_d2 - n·mean_d²) / (n - 1)``.
* ``kind="rate"`` without weight: ``n`` and ``successes = Σ y`` (``y`` is 0/1); trials ``= n``.
* ``kind="rate"`` with weight ``w`` (``y`` a proportion, ``w`` its trials): ``n``, ``sum_w``,
  ``sum_wy``, ``sum_w2``, ``sum_w2y``, ``sum_w2y2``, from which :func:`stats_from_sums` gives the
  ratio estimate ``R = Σ w·y / Σ w`` and the effective trials described in
  :func:`cilib.stats.equity.aggregate_stats`.

Sums from separate chunks or partitions are added with :func:`combine_sums` (for means they must
share one ``shift``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from cilib.core.errors import DataError
from cilib.stats.checks import as_list, need_columns, numeric

__all__ = [
    "MEAN_SUMS",
    "RATE_SUMS",
    "WEIGHTED_SUMS",
    "cell_sums",
    "combine_sums",
    "sum_columns",
    "stats_from_sums",
]

#: Sums per cell for ``kind="mean"`` (of ``d = y - shift``).
MEAN_SUMS = ("n", "sum_d", "sum_d2")
#: Sums per cell for ``kind="rate"`` with 0/1 values.
RATE_SUMS = ("n", "successes")
#: Sums per cell for ``kind="rate"`` with a weight (trials) per pupil.
WEIGHTED_SUMS = ("n", "sum_w", "sum_wy", "sum_w2", "sum_w2y", "sum_w2y2")


def sum_columns(kind: str, weighted: bool) -> tuple[str, ...]:
    """Names of the sums for a kind of measure.

    Examples
    --------
    >>> sum_columns("rate", weighted=False)
    ('n', 'successes')
    """
    if kind == "mean":
        if weighted:
            raise DataError("weight is only used with kind='rate' (a proportion and its trials)")
        return MEAN_SUMS
    if kind == "rate":
        return WEIGHTED_SUMS if weighted else RATE_SUMS
    raise DataError(f"kind must be 'mean' or 'rate', got {kind!r}")


def clean_values(
    df: pd.DataFrame, value: str, by: list[str], *, kind: str, weight: str | None
) -> pd.DataFrame:
    """Rows with a value (and weight), as ``by`` columns plus ``_y`` (and ``_w``), checked.

    Raises :class:`DataError` for a non-numeric value, a negative weight, a rate value that is
    not 0/1 (without weight) or not in [0, 1] (with weight).

    Examples
    --------
    >>> clean_values(pd.DataFrame({"y": [1, None]}), "y", [], kind="mean", weight=None)["_y"]
    0    1.0
    Name: _y, dtype: float64
    """
    sum_columns(kind, weight is not None)
    need_columns(df, [value, *by] + ([weight] if weight else []), "the data")
    y = numeric(df[value], value)
    work = df[by].copy() if by else pd.DataFrame(index=df.index)
    work["_y"] = y
    keep = y.notna()
    if weight is not None:
        w = numeric(df[weight], weight)
        if (w < 0).any():
            raise DataError(f"weight column {weight!r} has negative values; trials must be >= 0")
        work["_w"] = w
        keep &= w.notna()
    work = work[keep]
    if kind == "rate":
        yv = work["_y"]
        if weight is None:
            if not yv.isin([0.0, 1.0]).all():
                raise DataError(
                    f"kind='rate' needs {value!r} to be 0/1 or boolean per pupil; found "
                    f"{yv[~yv.isin([0.0, 1.0])].iloc[0]!r}. Pass weight= for a proportion."
                )
        elif ((yv < 0) | (yv > 1)).any():
            raise DataError(f"with weight=, {value!r} must be a proportion between 0 and 1")
    return work


def cell_sums(
    df: pd.DataFrame,
    value: str,
    by: str | Sequence[str] | None = None,
    *,
    kind: str = "mean",
    weight: str | None = None,
    shift: float | None = None,
) -> pd.DataFrame:
    """Compute the sums per ``by`` cell (see the module docstring) with pandas.

    Rows with a missing ``value`` (or ``weight``) are left out. For means, ``shift`` defaults to
    the mean of all kept values and is returned in a ``shift`` column. Cells are sorted by
    ``by`` (missing values last); with no ``by`` there is one row.

    Examples
    --------
    >>> df = pd.DataFrame({"g": ["a", "a", "b"], "y": [1.0, 3.0, 5.0]})
    >>> cell_sums(df, "y", "g", shift=0.0)
       g  n  sum_d  sum_d2  shift
    0  a  2    4.0    10.0    0.0
    1  b  1    5.0    25.0    0.0
    """
    by = as_list(by)
    work = clean_values(df, value, by, kind=kind, weight=weight)
    if kind == "mean":
        if shift is None:
            shift = float(work["_y"].mean()) if len(work) else 0.0
        work["sum_d"] = work["_y"] - shift
        work["sum_d2"] = work["sum_d"] ** 2
        cols = ["sum_d", "sum_d2"]
    elif weight is None:
        work["successes"] = work["_y"]
        cols = ["successes"]
    else:
        w, y = work["_w"], work["_y"]
        work["sum_w"] = w
        work["sum_wy"] = w * y
        work["sum_w2"] = w**2
        work["sum_w2y"] = work["sum_w2"] * y
        work["sum_w2y2"] = work["sum_w2"] * y**2
        cols = list(WEIGHTED_SUMS[1:])
    if by:
        g = work.groupby(by, dropna=False, sort=True, observed=True)
        out = g[cols].sum()
        out.insert(0, "n", g.size())
        out = out.reset_index()
    else:  # one cell, or none when no row has a value
        rows = 1 if len(work) else 0
        out = pd.DataFrame({"n": [len(work)] * rows, **{c: [work[c].sum()] * rows for c in cols}})
    out["n"] = out["n"].astype("int64")
    if kind == "mean":
        out["shift"] = float(shift)
    return out


def combine_sums(frames: Sequence[pd.DataFrame], by: str | Sequence[str] | None) -> pd.DataFrame:
    """Add sums of the same cells from several chunks or partitions (same ``shift`` for means).

    Examples
    --------
    >>> a = pd.DataFrame({"g": ["x"], "n": [2], "successes": [1.0]})
    >>> b = pd.DataFrame({"g": ["x", "y"], "n": [1, 3], "successes": [1.0, 0.0]})
    >>> combine_sums([a, b], "g")
       g  n  successes
    0  x  3        2.0
    1  y  3        0.0
    """
    by = as_list(by)
    allf = pd.concat(list(frames), ignore_index=True)
    shift = None
    if "shift" in allf.columns:
        shifts = allf["shift"].unique()
        if len(shifts) > 1:
            raise DataError("sums to combine were taken about different shifts")
        shift = float(shifts[0]) if len(shifts) else 0.0
        allf = allf.drop(columns="shift")
    if by:
        out = allf.groupby(by, dropna=False, sort=True, observed=True).sum().reset_index()
    else:
        out = allf.sum().to_frame().T
    out["n"] = out["n"].astype("int64")
    if shift is not None:
        out["shift"] = shift
    return out


def stats_from_sums(
    sums: pd.DataFrame, *, kind: str = "mean", weighted: bool = False
) -> pd.DataFrame:
    """Finish the sums into the cell statistics the summary and gap formulas take.

    Means: ``n``, ``mean = shift + sum_d/n`` and ``sd = sqrt((sum_d2 - n·mean_d²)/(n - 1))``
    (NaN for ``n < 2``). Rates: ``n``, ``successes``, ``trials`` (``= n``); with a weight,
    ``successes = R·n_eff``, ``trials = n_eff`` and ``weight_total = Σ w`` where
    ``R = Σ w·y / Σ w``, ``v = n/(n - 1) · Σ w²(y - R)² / (Σ w)²`` and
    ``n_eff = min(Σ w, R(1 - R)/v)`` (``Σ w`` when ``v = 0``). Other columns are kept in front.

    Examples
    --------
    >>> s = pd.DataFrame({"n": [3], "sum_d": [0.0], "sum_d2": [2.0], "shift": [5.0]})
    >>> stats_from_sums(s)
       n  mean   sd
    0  3   5.0  1.0
    """
    cols = sum_columns(kind, weighted)
    need_columns(sums, list(cols), "the sums")
    keys = [c for c in sums.columns if c not in cols and c != "shift"]
    out = sums[keys].copy()
    n = sums["n"].to_numpy(float)
    if kind == "mean":
        shift = sums["shift"].to_numpy(float) if "shift" in sums.columns else 0.0
        with np.errstate(divide="ignore", invalid="ignore"):
            mean_d = sums["sum_d"].to_numpy(float) / n
            var = (sums["sum_d2"].to_numpy(float) - n * mean_d**2) / (n - 1)
        out["n"] = sums["n"].to_numpy()
        out["mean"] = mean_d + shift
        out["sd"] = np.where(n > 1, np.sqrt(np.maximum(var, 0)), np.nan)
    elif not weighted:
        out["n"] = sums["n"].to_numpy()
        out["successes"] = sums["successes"].to_numpy(float)
        out["trials"] = n
    else:
        sw, swy = sums["sum_w"].to_numpy(float), sums["sum_wy"].to_numpy(float)
        w2, w2y = sums["sum_w2"].to_numpy(float), sums["sum_w2y"].to_numpy(float)
        w2y2 = sums["sum_w2y2"].to_numpy(float)
        with np.errstate(divide="ignore", invalid="ignore"):
            r = swy / sw
            ss = w2y2 - 2 * r * w2y + r**2 * w2
            v = n / (n - 1) * np.maximum(ss, 0) / sw**2
            n_eff = np.where(v > 0, np.minimum(sw, r * (1 - r) / v), sw)
        out["n"] = sums["n"].to_numpy()
        out["successes"] = r * n_eff
        out["trials"] = n_eff
        out["weight_total"] = sw
    out["n"] = out["n"].astype("int64")
    return out.reset_index(drop=True)
