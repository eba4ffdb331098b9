"""Is a gap narrowing? Gap trends from pupil-level rows, with pupil-clustered inference.

The same pupils appear in successive half-terms, so their half-termly gaps are not independent:
a pupil who is often absent this half-term is likely to be often absent the next. A trend test
that treats each half-term's gap as a fresh sample (:func:`gap_trend_from_gaps` on a frame of
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
``b ± t·sqrt(V)`` and the p-value two-sided, both from Student's t with ``G − 1`` degrees of
freedom (the small-sample reference distribution for cluster-robust inference recommended by
Cameron & Miller 2015, section VI; with hundreds of pupils it is the normal). The verdict is
:func:`trend_verdict`'s, so a trend is named exactly when ``p_value < 1 − level``.

Limits: shocks that move a whole group in one half-term (a cohort effect, the season) are not
pupil-level noise and are not in ``V``; read a trend over few half-terms as a guide.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from cilib.core.errors import DataError
from cilib.stats.checks import need_columns, numeric
from cilib.stats.equity import GAP_COLUMNS, RATIO_COLUMNS, group_mask
from cilib.stats.intervals import as_array, normal_quantile

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
    "p_value",
    "trend",
]

#: Statistic columns of a frame of gaps; the other columns (except the period) name the cells.
_GAP_STAT_COLS = (
    *GAP_COLUMNS,
    *RATIO_COLUMNS,
    "suppressed",
    "mean_focus",
    "sd_focus",
    "mean_comparison",
    "sd_comparison",
    "successes_focus",
    "trials_focus",
    "successes_comparison",
    "trials_comparison",
    "rate_focus",
    "rate_comparison",
    "se",
)


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
    trend of :func:`gap_trend_from_gaps`, which treats periods as independent; prefer the
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
        ``slope_se``, ``slope_ci_low``, ``slope_ci_high``, ``p_value`` (two-sided, of no change
        in the gap) and ``trend``.

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
        return gap_trend_from_gaps(data, period, order=order, level=level)
    if group is None or pupil is None or focus is None:
        raise DataError("pupil-level gap_trend needs value=, group=, focus= and pupil=")
    by = [by] if isinstance(by, str) else list(by or [])
    need_columns(data, [period, value, group, pupil, *by], "the data")
    d = data[[*by, period, value, group, pupil]].copy()
    d["_y"] = numeric(d[value], value)
    fmask = group_mask(d[group], focus)
    if comparison is None:
        cmask = ~fmask & d[group].notna()
    else:
        cmask = group_mask(d[group], comparison)
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
        row.update(_clustered_slope(sub, pupil, labels, threshold, level))
        rows.append(row)
    return pd.DataFrame(rows, columns=[*by, *TREND_COLUMNS])


def gap_trend_from_gaps(
    gaps: pd.DataFrame,
    period: str,
    *,
    order: Sequence[Any] | None = None,
    level: float = 0.95,
) -> pd.DataFrame:
    """Say whether each gap is narrowing, widening, reversed or showing no clear change.

    For each cell (the columns of ``gaps`` other than ``period`` and the statistic columns made
    by :func:`cilib.stats.equity.gap`), fit the gap on the period index ``x`` (0, 1, ... in
    ``order``; default the sorted period labels) by weighted least squares with weights
    ``w = 1/se²``. The SE of each gap is the ``gap_se`` (or ``se``) column, else
    ``(gap_ci_high - gap_ci_low) / (2·1.96)``.

    Uncertainty: the gap variances are known, so the slope's SE is
    ``sqrt(φ / Σ w(x - x̄_w)²)`` with ``φ = max(1, Σ w·r² / (k - 2))`` (scale fixed at 1, inflated
    only when the gaps scatter round the line more than their own SEs allow; ``φ = 1`` when
    ``k = 2``), and the interval is ``slope ± z·se`` (normal). With ``φ = 1`` this equals
    statsmodels ``WLS(...).fit(cov_type="fixed scale")``. ``p_value`` is the two-sided normal
    p-value of ``slope / se`` (so the trend is named exactly when ``p_value < 1 − level``).

    Decision: ``"no clear change"`` when the interval includes zero. Otherwise, using the fitted
    gaps at the first and last period: ``"reversed"`` when they have opposite signs (the gap
    crossed zero), ``"narrowing"`` when the last is closer to zero, else ``"widening"``. So a
    negative gap that rises towards zero is narrowing. Suppressed or missing gaps are left out;
    a cell with fewer than 2 periods is ``"insufficient data"``.

    Examples
    --------
    >>> g = pd.DataFrame({"year": [2021, 2022, 2023, 2024], "gap": [-8.0, -6.5, -5.2, -3.9],
    ...                   "gap_se": [0.5, 0.5, 0.5, 0.5]})
    >>> gap_trend_from_gaps(g, "year")[["n_periods", "slope", "trend"]].round(2)
       n_periods  slope      trend
    0          4   1.36  narrowing
    """
    need_columns(gaps, [period, "gap"], "gaps")
    z = normal_quantile(level)
    d = gaps.copy()
    if "gap_se" in d.columns:
        se = as_array(d["gap_se"])
    elif "se" in d.columns:
        se = as_array(d["se"])
    elif {"gap_ci_low", "gap_ci_high"} <= set(d.columns):
        se = (as_array(d["gap_ci_high"]) - as_array(d["gap_ci_low"])) / (2 * 1.96)
    else:
        raise DataError("gaps needs a 'gap_se' (or 'se') column or 'gap_ci_low'/'gap_ci_high'")
    d["_se"] = se
    labels = list(order) if order is not None else sorted(d[period].dropna().unique())
    unknown = set(d[period].dropna().unique()) - set(labels)
    if unknown:
        raise DataError(f"periods {sorted(map(str, unknown))} are not in order={labels}")
    d["_x"] = d[period].map({p: i for i, p in enumerate(labels)}).astype(float)
    cells = [c for c in d.columns if c not in _GAP_STAT_COLS and c not in (period, "_se", "_x")]
    rows = []
    groups = d.groupby(cells, dropna=False, sort=True) if cells else [((), d)]
    for key, sub in groups:
        key = key if isinstance(key, tuple) else (key,)
        ok = sub["gap"].notna() & np.isfinite(sub["_se"]) & (sub["_se"] > 0)
        s = sub[ok].sort_values("_x")
        row = dict(zip(cells, key, strict=True))
        row.update(_wls_trend(s, labels, z))
        rows.append(row)
    return pd.DataFrame(rows)


def trend_verdict(low: float, high: float, first: float, last: float) -> str:
    """Name a gap's trend from its slope's interval and the fitted first and last gaps.

    ``"no clear change"`` when the interval includes 0 (or is not finite); otherwise
    ``"reversed"`` when the fitted gaps have opposite signs, ``"narrowing"`` when the last is
    closer to 0, else ``"widening"``.

    Examples
    --------
    >>> trend_verdict(0.2, 1.1, -6.0, -2.0), trend_verdict(-0.1, 0.5, -6.0, -2.0)
    ('narrowing', 'no clear change')
    """
    if not (np.isfinite(low) and np.isfinite(high)) or low <= 0 <= high:
        return "no clear change"
    if first * last < 0:
        return "reversed"
    return "narrowing" if abs(last) < abs(first) else "widening"


def _wls_trend(s: pd.DataFrame, labels: list, z: float) -> dict[str, Any]:
    k = len(s)
    res: dict[str, Any] = {
        "n_periods": k,
        "first_period": labels[int(s["_x"].iloc[0])] if k else None,
        "last_period": labels[int(s["_x"].iloc[-1])] if k else None,
        "first_gap": float(s["gap"].iloc[0]) if k else np.nan,
        "last_gap": float(s["gap"].iloc[-1]) if k else np.nan,
        "slope": np.nan,
        "slope_se": np.nan,
        "slope_ci_low": np.nan,
        "slope_ci_high": np.nan,
        "dispersion": np.nan,
        "p_value": np.nan,
        "trend": "insufficient data",
    }
    if k < 2 or s["_x"].nunique() < 2:
        return res
    x, y = s["_x"].to_numpy(float), s["gap"].to_numpy(float)
    w = 1 / s["_se"].to_numpy(float) ** 2
    xb, yb = np.sum(w * x) / np.sum(w), np.sum(w * y) / np.sum(w)
    sxx = np.sum(w * (x - xb) ** 2)
    slope = np.sum(w * (x - xb) * (y - yb)) / sxx
    intercept = yb - slope * xb
    resid = y - intercept - slope * x
    phi = max(1.0, float(np.sum(w * resid**2) / (k - 2))) if k > 2 else 1.0
    se = np.sqrt(phi / sxx)
    lo, hi = slope - z * se, slope + z * se
    trend = trend_verdict(lo, hi, intercept + slope * x[0], intercept + slope * x[-1])
    p = float(2 * stats.norm.sf(abs(slope / se)))
    res.update(
        slope=slope,
        slope_se=se,
        slope_ci_low=lo,
        slope_ci_high=hi,
        dispersion=phi,
        p_value=p,
        trend=trend,
    )
    return res


def _clustered_slope(
    d: pd.DataFrame, pupil: str, labels: list, threshold: int, level: float
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
    df = max(g - 1, 1)
    t = float(stats.t.ppf(0.5 + level / 2, df))
    lo, hi = slope - t * se, slope + t * se
    p = float(2 * stats.t.sf(abs(slope / se), df)) if se > 0 else np.nan
    trend = trend_verdict(lo, hi, intercept + slope * x[0], intercept + slope * x[-1])
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
        p_value=p,
        trend=trend,
    )
    return res
