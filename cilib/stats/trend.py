"""Is a gap narrowing? Gap trends from pupil-level rows, with pupil-clustered inference.

The same pupils appear in successive half-terms, so their half-termly gaps are not independent:
a pupil who is often absent this half-term is likely to be often absent the next. A trend test
that treats each half-term's gap as a fresh sample (``cilib.stats.equity.gap_trend`` on a frame of
gaps) is then overconfident; simulated with autocorrelated pupils and no true trend it declared
a trend in about 23% of runs at a nominal 5%. :func:`gap_trend` here works from one row per
pupil per period and takes the pupils as clusters.

Method (per cell)
-----------------
For each period ``t`` with both groups at or above the suppression threshold, the gap is
``g_t = mean(focus) - mean(comparison)``. The slope is the ordinary least-squares slope of
``g_t`` on the period index ``x_t``: ``b = Σ c_t g_t`` with ``c_t = (x_t - x̄)/Σ(x_t - x̄)²``.
``b`` is linear in the pupils' values: ``b = Σ_i Σ_t a_it y_it`` with ``a_it = c_t / n_F,t``
for a focus pupil and ``-c_t / n_C,t`` for a comparison pupil, so its cluster-robust variance is
``V = G/(G - 1) · (N - 1)/(N - K) · Σ_i (Σ_t a_it e_it)²`` with ``e_it`` the pupil's
deviation from their group's mean in that period, ``G`` pupils, ``N`` rows and ``K`` group-period
means (the CR1 correction of Stata and statsmodels' ``cov_type="cluster"``). The interval is
``b ± z·sqrt(V)``. The verdict is :func:`cilib.stats.equity.trend_verdict`'s.

Limits: shocks that move a whole group in one half-term (a cohort effect, the season) are not
pupil-level noise and are not in ``V``; read a trend over few half-terms as a guide.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from cilib.core.errors import DataError
from cilib.stats import equity

#: Columns of :func:`gap_trend` for each cell (after the cell's own columns).
TREND_COLUMNS = [
    "n_periods",
    "n_pupils",
    "first_period",
    "last_period",
    "first_gap",
    "last_gap",
    "slope",
    "slope_se",
    "slope_ci_low",
    "slope_ci_high",
    "trend",
]


def gap_trend(
    data: pd.DataFrame,
    period: str,
    *,
    value: str | None = None,
    group: str | None = None,
    focus: Any = None,
    comparison: Any = None,
    pupil: str | None = None,
    by: str | Sequence[str] | None = None,
    order: Sequence[Any] | None = None,
    threshold: int = 5,
    level: float = 0.95,
) -> pd.DataFrame:
    """Say whether each gap is narrowing, widening, reversed or showing no clear change.

    Two inputs. Pupil-level rows (give ``value``, ``group``, ``focus`` and ``pupil``: one row per
    pupil per period, rows repeated for a pupil are averaged): the slope of the gap with
    pupil-clustered inference (module docstring). A frame of gaps (no ``value``): the weighted
    trend of :func:`cilib.stats.equity.gap_trend`, which treats periods as independent; prefer the
    pupil-level form whenever the rows are at hand.

    Parameters
    ----------
    data : DataFrame
        Pupil-level rows, or one row per cell and period with ``gap`` and ``gap_se``.
    period : str
        Column of period labels.
    value, group, focus, comparison, pupil : optional
        Pupil-level form: the measure, the group column, the focus value(s), the comparison
        value(s) (default: everyone else with a group), and the pupil id column.
    by : str or list of str, optional
        Pupil-level form: cells (e.g. ``"school_id"``); default one cell.
    order : list, optional
        Period labels in time order (default: sorted labels).
    threshold : int
        Pupil-level form: a period where either group has fewer pupils is left out.
    level : float
        Confidence level of the slope's interval.

    Returns
    -------
    DataFrame
        One row per cell: the cell's columns, then ``n_periods``, ``n_pupils``,
        ``first_period``, ``last_period``, ``first_gap``, ``last_gap``, ``slope``,
        ``slope_se``, ``slope_ci_low``, ``slope_ci_high`` and ``trend``.

    Examples
    --------
    >>> rows = pd.DataFrame({"pupil": list("abcdabcd"), "t": [1] * 4 + [2] * 4,
    ...     "dis": [True, True, False, False] * 2, "y": [4.0, 6, 8, 10, 6, 8, 9, 11]})
    >>> r = gap_trend(rows, "t", value="y", group="dis", focus=True, pupil="pupil",
    ...               threshold=1)
    >>> float(r["slope"].iloc[0]), r["trend"].iloc[0]
    (1.0, 'narrowing')
    """
    if value is None:
        return equity.gap_trend(data, period, order=order, level=level)
    if group is None or pupil is None or focus is None:
        raise DataError("pupil-level gap_trend needs value=, group=, focus= and pupil=")
    by = [by] if isinstance(by, str) else list(by or [])
    equity._need(data, [period, value, group, pupil, *by], "the data")
    z = equity._z(level)
    d = data[[*by, period, value, group, pupil]].copy()
    d["_y"] = equity._numeric(d[value], value)
    fmask = equity._group_mask(d[group], focus)
    if comparison is None:
        cmask = ~fmask & d[group].notna()
    else:
        cmask = equity._group_mask(d[group], comparison)
    d["_side"] = np.where(fmask, 1, np.where(cmask, -1, 0))
    d = d.loc[(d["_side"] != 0) & d["_y"].notna()]
    labels = list(order) if order is not None else sorted(d[period].dropna().unique())
    unknown = set(d[period].dropna().unique()) - set(labels)
    if unknown:
        raise DataError(f"periods {sorted(map(str, unknown))} are not in order={labels}")
    d["_x"] = d[period].map({p: i for i, p in enumerate(labels)}).astype(float)
    # one row per pupil, period and side (a pupil's several assessments are averaged)
    d = d.groupby([*by, pupil, "_x", "_side"], as_index=False, sort=True)["_y"].mean()
    rows = []
    cells = d.groupby(by, sort=True) if by else [((), d)]
    for key, sub in cells:
        key = key if isinstance(key, tuple) else (key,)
        row = dict(zip(by, key, strict=True))
        row.update(_clustered_slope(sub, pupil, labels, threshold, z))
        rows.append(row)
    return pd.DataFrame(rows, columns=[*by, *TREND_COLUMNS])


def _clustered_slope(
    d: pd.DataFrame, pupil: str, labels: list, threshold: int, z: float
) -> dict[str, Any]:
    """Slope of the per-period gap and its pupil-cluster-robust SE for one cell."""
    cell = d.groupby(["_x", "_side"])["_y"].agg(["size", "mean"]).unstack("_side")
    res: dict[str, Any] = {c: np.nan for c in TREND_COLUMNS}
    res.update(n_periods=0, n_pupils=0, first_period=None, last_period=None)
    res["trend"] = "insufficient data"
    if cell.shape[1] < 2:
        return res
    n_f, n_c = cell[("size", 1)], cell[("size", -1)]
    keep = (n_f >= threshold) & (n_c >= threshold)
    cell = cell.loc[keep]
    k = len(cell)
    if k < 2:
        return res
    x = cell.index.to_numpy(float)
    gaps = (cell[("mean", 1)] - cell[("mean", -1)]).to_numpy(float)
    c = (x - x.mean()) / np.sum((x - x.mean()) ** 2)
    slope = float(np.sum(c * gaps))
    intercept = float(gaps.mean() - slope * x.mean())
    # influence of each row on the slope, then summed within pupils (clusters)
    used = d.loc[d["_x"].isin(cell.index)]
    weight = pd.Series(c, index=cell.index)
    n_side = {1: cell[("size", 1)], -1: cell[("size", -1)]}
    mean_side = {1: cell[("mean", 1)], -1: cell[("mean", -1)]}
    a = np.empty(len(used))
    e = np.empty(len(used))
    for side in (1, -1):
        m = (used["_side"] == side).to_numpy()
        xs = used.loc[m, "_x"]
        a[m] = side * (weight.loc[xs].to_numpy() / n_side[side].loc[xs].to_numpy())
        e[m] = used.loc[m, "_y"].to_numpy() - mean_side[side].loc[xs].to_numpy()
    u = pd.Series(a * e).groupby(used[pupil].to_numpy()).sum().to_numpy()
    g, n, kk = len(u), len(used), 2 * k
    factor = g / (g - 1) * (n - 1) / (n - kk) if g > 1 and n > kk else np.nan
    se = float(np.sqrt(factor * np.sum(u**2)))
    lo, hi = slope - z * se, slope + z * se
    trend = equity.trend_verdict(lo, hi, intercept + slope * x[0], intercept + slope * x[-1])
    res.update(
        n_periods=k,
        n_pupils=g,
        first_period=labels[int(x[0])],
        last_period=labels[int(x[-1])],
        first_gap=float(gaps[0]),
        last_gap=float(gaps[-1]),
        slope=slope,
        slope_se=se,
        slope_ci_low=lo,
        slope_ci_high=hi,
        trend=trend,
    )
    return res
