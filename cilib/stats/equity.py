"""Group summaries and gaps between pupil groups, with intervals and small-number suppression.

Every function works from sufficient statistics per cell (for means: count, mean and standard
deviation, which come from count, sum and sum of squares; for rates: successes and trials), so the
same code serves pupil-level data and a published table of counts and means. The pupil-level API
(:func:`group_summary`, :func:`gap`) aggregates first and then calls the ``*_from_stats``
functions. Interval formulas are in :mod:`cilib.stats.intervals`; for rates the effect size g is
computed on the 0/1 values (so it is on the same scale as for means and can be converted to months
of progress). Funnel plots are in :mod:`cilib.stats.funnel`, gap trends in
:mod:`cilib.stats.trend`.

Small numbers: a cell with fewer pupils than ``threshold`` shows no value (``suppressed=True``,
values NaN), a gap is suppressed when either side is, and :func:`cilib.stats.suppression.suppress`
adds secondary suppression so no suppressed value can be worked back from a total.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from cilib.core.errors import DataError
from cilib.stats.checks import as_list, need_columns, numeric
from cilib.stats.intervals import (
    as_array,
    bernoulli_sd,
    hedges_g,
    mean_interval,
    newcombe_interval,
    normal_quantile,
    rate_ratio_interval,
    welch_interval,
    wilson_interval,
)

KINDS = ("mean", "rate")
#: Columns of :func:`gap` after the ``by`` columns; rates add :data:`RATIO_COLUMNS`, then
#: ``suppressed``.
GAP_COLUMNS = (
    "n_focus",
    "n_comparison",
    "focus",
    "comparison",
    "gap",
    "gap_se",
    "gap_ci_low",
    "gap_ci_high",
    "effect_size",
    "es_ci_low",
    "es_ci_high",
)
#: Columns of :func:`gap` for rates only: the ratio focus/comparison and its interval.
RATIO_COLUMNS = ("ratio", "ratio_ci_low", "ratio_ci_high")


def check_kind(kind: str) -> None:
    """Raise :class:`DataError` unless ``kind`` is ``"mean"`` or ``"rate"``.

    Examples
    --------
    >>> check_kind("rate")
    """
    if kind not in KINDS:
        raise DataError(f"kind must be 'mean' or 'rate', got {kind!r}")


def aggregate_stats(
    df: pd.DataFrame,
    value: str,
    by: str | Sequence[str] | None = None,
    *,
    kind: str = "mean",
    weight: str | None = None,
) -> pd.DataFrame:
    """Sufficient statistics per cell: the only step that touches pupil-level rows.

    Rows with a missing ``value`` (or ``weight``) are left out. For ``kind="mean"`` the result has
    ``n``, ``mean``, ``sd`` (from count, sum and sum of squares, shifted by the overall mean for
    numerical stability). For ``kind="rate"`` it has ``n`` (rows, i.e. pupils), ``successes`` and
    ``trials``:

    * no ``weight``: ``value`` is 0/1 or boolean per pupil; ``successes = Σ value``,
      ``trials = n``.
    * with ``weight``: ``value`` is a proportion in [0, 1] per pupil and ``weight`` its trials
      (e.g. attendance rate and possible sessions). The rate is ``R = Σ w·y / Σ w``. Sessions of
      one pupil are not independent, so the interval uses an *effective* number of trials
      ``n_eff = min(Σ w, R(1 - R) / v)`` where ``v = n / (n - 1) · Σ w²(y - R)² / (Σ w)²`` is the
      linearised (ratio-estimator) variance of ``R`` across pupils; ``successes = R·n_eff``.

    Examples
    --------
    >>> df = pd.DataFrame({"g": ["a", "a", "b"], "y": [1.0, 3.0, 5.0]})
    >>> aggregate_stats(df, "y", "g")[["g", "n", "mean"]]
       g  n  mean
    0  a  2   2.0
    1  b  1   5.0
    """
    check_kind(kind)
    by = as_list(by)
    need_columns(df, [value, *by] + ([weight] if weight else []), "the data")
    y = numeric(df[value], value)
    work = df[by].copy() if by else pd.DataFrame(index=df.index)
    work["_y"] = y
    keep = y.notna()
    if weight is not None:
        if kind != "rate":
            raise DataError("weight is only used with kind='rate' (a proportion and its trials)")
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
    if by:
        g = work.groupby(by, dropna=False, sort=True, observed=True)
    else:
        work["_all"] = "all"
        g = work.groupby("_all")
    if kind == "mean":
        shift = float(work["_y"].mean()) if len(work) else 0.0
        work["_d"] = work["_y"] - shift
        work["_d2"] = work["_d"] ** 2
        agg = g.agg(n=("_y", "size"))
        s = work.groupby(by, dropna=False, sort=True, observed=True) if by else work.groupby("_all")
        sums = s[["_d", "_d2"]].sum()
        n = agg["n"].to_numpy(float)
        with np.errstate(divide="ignore", invalid="ignore"):
            mean_d = sums["_d"].to_numpy() / n
            var = (sums["_d2"].to_numpy() - n * mean_d**2) / (n - 1)
        out = pd.DataFrame(
            {
                "n": agg["n"].to_numpy(),
                "mean": mean_d + shift,
                "sd": np.where(n > 1, np.sqrt(np.maximum(var, 0)), np.nan),
            },
            index=agg.index,
        )
    elif weight is None:
        out = g["_y"].agg(n="size", successes="sum")
        out["trials"] = out["n"].astype(float)
    else:
        work["_wy"] = work["_w"] * work["_y"]
        work["_w2"] = work["_w"] ** 2
        work["_w2y"] = work["_w2"] * work["_y"]
        work["_w2y2"] = work["_w2"] * work["_y"] ** 2
        s = work.groupby(by, dropna=False, sort=True, observed=True) if by else work.groupby("_all")
        sums = s[["_w", "_wy", "_w2", "_w2y", "_w2y2"]].sum()
        n = s["_y"].size().to_numpy(float)
        sw, swy = sums["_w"].to_numpy(), sums["_wy"].to_numpy()
        with np.errstate(divide="ignore", invalid="ignore"):
            r = swy / sw
            ss = sums["_w2y2"].to_numpy() - 2 * r * sums["_w2y"].to_numpy() + r**2 * sums["_w2"]
            v = n / (n - 1) * np.maximum(np.asarray(ss, float), 0) / sw**2
            n_eff = np.where(v > 0, np.minimum(sw, r * (1 - r) / v), sw)
        out = pd.DataFrame(
            {"n": n.astype(int), "successes": r * n_eff, "trials": n_eff, "weight_total": sw},
            index=sums.index,
        )
    out = out.reset_index()
    if not by:
        out = out.drop(columns="_all")
    out["n"] = out["n"].astype("int64")
    return out


# --------------------------------------------------------------------------------------------
# Group summaries
# --------------------------------------------------------------------------------------------


def summary_from_stats(
    stats: pd.DataFrame, *, kind: str = "mean", threshold: int = 5, level: float = 0.95
) -> pd.DataFrame:
    """One row per cell with ``n``, the mean or rate, ``sd``, ``se``, ``ci_low``, ``ci_high``.

    ``stats`` has ``n`` and, for means, ``mean`` and ``sd``; for rates ``successes`` and
    ``trials`` (or ``rate`` with ``trials`` defaulting to ``n``). Other columns are kept. Means use
    a t interval (``mean ± t_{n-1}·sd/sqrt(n)``); rates use the Wilson interval with the
    score-based ``se = (ci_high - ci_low) / (2z)`` (it does not collapse to 0 at 0% or 100% as
    the Wald ``sqrt(p(1 - p)/trials)`` does) and ``sd`` the sample SD of the 0/1 values. Cells with
    ``n < threshold`` get ``suppressed=True`` and NaN values.

    Examples
    --------
    >>> t = pd.DataFrame({"school": ["A", "B"], "n": [20, 3], "rate": [0.5, 1.0]})
    >>> summary_from_stats(t, kind="rate")[["school", "rate", "ci_low", "suppressed"]].round(3)
      school  rate  ci_low  suppressed
    0      A   0.5   0.299       False
    1      B   NaN     NaN        True
    """
    check_kind(kind)
    out = stats.copy()
    need_columns(out, ["n"], "stats")
    n = as_array(out["n"])
    if kind == "mean":
        need_columns(out, ["mean", "sd"], "stats for kind='mean'")
        se, lo, hi = mean_interval(n, out["mean"], out["sd"], level=level)
        vcols = ["mean", "sd", "se", "ci_low", "ci_high"]
    else:
        out = _rate_stats(out, "")
        trials, succ = as_array(out["trials"]), as_array(out["successes"])
        with np.errstate(divide="ignore", invalid="ignore"):
            p = succ / trials
        out["rate"] = p
        out["sd"] = bernoulli_sd(p, trials)
        lo, hi = wilson_interval(succ, trials, level=level)
        # score-based SE (the Wilson interval's half-width over z): the Wald sqrt(p(1 - p)/n) is 0
        # at 0% and 100%, so one such cell would take all the weight in a 1/se² average
        se = (hi - lo) / (2 * normal_quantile(level))
        vcols = ["rate", "sd", "se", "ci_low", "ci_high", "successes"]
    out["se"], out["ci_low"], out["ci_high"] = se, lo, hi
    sup = ~(n >= threshold)
    out["suppressed"] = sup
    for c in vcols:
        out[c] = out[c].astype("float64").mask(sup)
    return out


def _rate_stats(df: pd.DataFrame, suffix: str) -> pd.DataFrame:
    """Fill ``successes{suffix}``/``trials{suffix}`` from ``rate{suffix}`` and ``n{suffix}``."""
    s, t, r, n = (f"successes{suffix}", f"trials{suffix}", f"rate{suffix}", f"n{suffix}")
    if t not in df.columns:
        df[t] = pd.to_numeric(df[n], errors="coerce").astype(float)
    if s not in df.columns:
        if r not in df.columns:
            raise DataError(f"stats for kind='rate' need {s!r} (with {t!r}) or {r!r}")
        rate = pd.to_numeric(df[r], errors="coerce").astype(float)
        if (rate > 1).any():
            raise DataError(f"{r!r} must be a proportion (0-1); divide percentages by 100")
        df[s] = rate * df[t]
    return df


def group_summary(
    df: pd.DataFrame,
    value: str,
    by: str | Sequence[str] | None = None,
    *,
    kind: str = "mean",
    weight: str | None = None,
    threshold: int = 5,
    level: float = 0.95,
) -> pd.DataFrame:
    """Summarise ``value`` per group: n, mean (or rate), SD, SE, confidence interval, suppression.

    ``kind="mean"``: ``mean ± t_{n-1}·sd/sqrt(n)``. ``kind="rate"``: ``value`` is 0/1 or boolean
    per pupil and the interval is Wilson's; or, with ``weight``, ``value`` is a proportion per
    pupil (e.g. attendance rate) and ``weight`` its trials (possible sessions): the rate is
    ``Σ weight·value / Σ weight`` and its Wilson interval uses the effective number of trials
    described in :func:`aggregate_stats` (sessions of one pupil are not independent). ``n`` is
    always the number of pupils (rows with a value), and is what ``threshold`` is checked against:
    a group with ``n < threshold`` has its values set to NaN and ``suppressed=True``.

    Examples
    --------
    >>> df = pd.DataFrame({"dis": [True] * 3 + [False] * 5, "score": [4, 5, 6, 6, 7, 8, 9, 10]})
    >>> group_summary(df, "score", "dis", threshold=3)[["dis", "n", "mean", "ci_low"]].round(2)
         dis  n  mean  ci_low
    0  False  5   8.0    6.04
    1   True  3   5.0    2.52
    """
    stats = aggregate_stats(df, value, by, kind=kind, weight=weight)
    return summary_from_stats(stats, kind=kind, threshold=threshold, level=level)


# --------------------------------------------------------------------------------------------
# Gaps


def gap_from_stats(
    stats: pd.DataFrame, *, kind: str = "mean", threshold: int = 5, level: float = 0.95
) -> pd.DataFrame:
    """Gap (focus minus comparison) with intervals, from per-cell sufficient statistics.

    ``stats`` has ``n_focus`` and ``n_comparison`` and, for means, ``mean_focus``, ``sd_focus``,
    ``mean_comparison``, ``sd_comparison``; for rates ``successes_*`` and ``trials_*`` (or
    ``rate_*`` as proportions, trials defaulting to n). Other columns (e.g. school, period) are
    kept. A published table without SDs can pass ``sd_*`` as NaN: the gap is then shown without an
    interval or effect size.

    Formulas: means, Welch interval (Welch–Satterthwaite df); rates, Newcombe hybrid score
    interval (method 10) for the difference and the MOVER-Wilson interval for ``ratio`` =
    focus/comparison; effect size Hedges' g (for rates, g on the 0/1 values) with
    ``se = sqrt((n1 + n2)/(n1·n2) + g²/(2(n1 + n2)))`` and interval ``g ± z·se``. ``gap_se`` is
    Welch's SE for means and, for rates, the Newcombe interval's width over ``2z`` (score-based,
    so it does not collapse at 0% or 100% the way ``sqrt(p1(1-p1)/n1 + p2(1-p2)/n2)`` does). A
    row is suppressed (all figures NaN) when either side has fewer than ``threshold`` pupils.

    Examples
    --------
    >>> s = pd.DataFrame({"n_focus": [70], "rate_focus": [0.8], "n_comparison": [80],
    ...                   "rate_comparison": [0.6]})
    >>> gap_from_stats(s, kind="rate")[["gap", "gap_ci_low", "gap_ci_high"]].round(4)
       gap  gap_ci_low  gap_ci_high
    0  0.2      0.0524       0.3339
    """
    check_kind(kind)
    out = stats.copy()
    need_columns(out, ["n_focus", "n_comparison"], "stats")
    n1, n2 = as_array(out["n_focus"]), as_array(out["n_comparison"])
    if kind == "mean":
        need_columns(out, ["mean_focus", "mean_comparison"], "stats for kind='mean'")
        for c in ("sd_focus", "sd_comparison"):
            if c not in out.columns:
                out[c] = np.nan
        m1, s1 = as_array(out["mean_focus"]), as_array(out["sd_focus"])
        m2, s2 = as_array(out["mean_comparison"]), as_array(out["sd_comparison"])
        diff, se, _, lo, hi = welch_interval(n1, m1, s1, n2, m2, s2, level=level)
        g, _, glo, ghi = hedges_g(n1, m1, s1, n2, m2, s2, level=level)
        res = {"focus": m1, "comparison": m2}
        extra: dict[str, np.ndarray] = {}
    else:
        out = _rate_stats(out, "_focus")
        out = _rate_stats(out, "_comparison")
        x1, t1 = as_array(out["successes_focus"]), as_array(out["trials_focus"])
        x2, t2 = as_array(out["successes_comparison"]), as_array(out["trials_comparison"])
        diff, lo, hi = newcombe_interval(x1, t1, x2, t2, level=level)
        with np.errstate(divide="ignore", invalid="ignore"):
            p1, p2 = x1 / t1, x2 / t2
        # score-based SE from the Newcombe interval's width: the Wald form
        # sqrt(p1(1-p1)/n1 + p2(1-p2)/n2) collapses at 0% and 100% (0/6 would get a tiny SE
        # and dominate any weighting by 1/se²)
        se = (hi - lo) / (2 * normal_quantile(level))
        g, _, glo, ghi = hedges_g(
            t1, p1, bernoulli_sd(p1, t1), t2, p2, bernoulli_sd(p2, t2), level=level
        )
        r, rlo, rhi = rate_ratio_interval(x1, t1, x2, t2, level=level)
        res = {"focus": p1, "comparison": p2}
        extra = {"ratio": r, "ratio_ci_low": rlo, "ratio_ci_high": rhi}
    res.update(
        {
            "gap": diff,
            "gap_se": se,
            "gap_ci_low": lo,
            "gap_ci_high": hi,
            "effect_size": g,
            "es_ci_low": glo,
            "es_ci_high": ghi,
            **extra,
        }
    )
    sup = ~((n1 >= threshold) & (n2 >= threshold))
    for k, v in res.items():
        out[k] = np.where(sup, np.nan, np.asarray(v, float))
    out["suppressed"] = sup
    hide = [
        c
        for c in (
            "mean_focus",
            "sd_focus",
            "mean_comparison",
            "sd_comparison",
            "rate_focus",
            "rate_comparison",
            "successes_focus",
            "successes_comparison",
        )
        if c in out.columns
    ]
    for c in hide:
        out[c] = pd.to_numeric(out[c], errors="coerce").astype("float64").mask(sup)
    return out


def group_mask(series: pd.Series, values: Any) -> pd.Series:
    """Rows whose ``series`` value is ``values`` (one value or a list); missing is never in.

    Examples
    --------
    >>> group_mask(pd.Series([True, False, None]), True).tolist()
    [True, False, False]
    """
    vals = list(values) if isinstance(values, (list, tuple, set)) else [values]
    return series.isin(vals) & series.notna()


def gap(
    df: pd.DataFrame,
    value: str,
    group: str,
    *,
    focus: Any,
    comparison: Any = None,
    by: str | Sequence[str] | None = None,
    kind: str = "mean",
    weight: str | None = None,
    threshold: int = 5,
    level: float = 0.95,
) -> pd.DataFrame:
    """Gap between a focus group and a comparison group, per ``by`` cell.

    ``focus`` is a value of column ``group`` (e.g. ``True``) or a list of values; ``comparison``
    likewise, or ``None`` for everyone not in the focus group. Rows whose ``group`` is missing are
    in neither side. The gap is focus minus comparison, so a negative gap means the focus group is
    behind. Columns: ``n_focus``, ``n_comparison``, ``focus``, ``comparison`` (means or rates),
    ``gap``, ``gap_se``, ``gap_ci_low``, ``gap_ci_high``, ``effect_size``, ``es_ci_low``,
    ``es_ci_high``, ``suppressed``, and for rates ``ratio``, ``ratio_ci_low``, ``ratio_ci_high``.
    Formulas are those of :func:`gap_from_stats` (Welch; Newcombe method 10; log ratio;
    Hedges' g). A cell is suppressed when either side has fewer than ``threshold`` pupils.

    Examples
    --------
    >>> df = pd.DataFrame({"dis": [True] * 5 + [False] * 5,
    ...                    "score": [4, 5, 6, 5, 5, 7, 8, 6, 7, 7]})
    >>> gap(df, "score", "dis", focus=True)[["n_focus", "gap", "gap_ci_low"]].round(3)
       n_focus  gap  gap_ci_low
    0        5 -2.0      -3.031
    """
    check_kind(kind)
    by = as_list(by)
    need_columns(df, [value, group, *by], "the data")
    fmask = group_mask(df[group], focus)
    if not fmask.any():
        raise DataError(
            f"no rows have {group!r} equal to focus={focus!r}; values present: "
            f"{sorted(map(str, df[group].dropna().unique()))[:10]}"
        )
    if comparison is None:
        cmask = ~fmask & df[group].notna()
    else:
        cmask = group_mask(df[group], comparison)
        if (cmask & fmask).any():
            raise DataError("focus and comparison overlap; give disjoint groups")
    sides = []
    for mask, suffix in ((fmask, "_focus"), (cmask, "_comparison")):
        s = aggregate_stats(df[mask], value, by, kind=kind, weight=weight)
        cols = {c: f"{c}{suffix}" for c in s.columns if c not in by}
        sides.append(s.rename(columns=cols))
    if by:
        stats = sides[0].merge(sides[1], on=by, how="outer", sort=True)
    else:
        stats = pd.concat(
            [sides[0].reset_index(drop=True), sides[1].reset_index(drop=True)], axis=1
        )
    for c in ("n_focus", "n_comparison"):
        stats[c] = stats[c].fillna(0).astype("int64")
    if kind == "rate":
        for c in ("successes_focus", "trials_focus", "successes_comparison", "trials_comparison"):
            stats[c] = stats[c].fillna(0.0)
    out = gap_from_stats(stats, kind=kind, threshold=threshold, level=level)
    keep = by + list(GAP_COLUMNS)
    if kind == "rate":
        keep += list(RATIO_COLUMNS)
    return out[keep + ["suppressed"]].reset_index(drop=True)
