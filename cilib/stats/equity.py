"""Group summaries, gaps, gap trends, funnel plots and small-number suppression.

Every function works from sufficient statistics per cell (for means: count, mean and standard
deviation, which come from count, sum and sum of squares; for rates: successes and trials), so the
same code serves pupil-level data and a published table of counts and means. The pupil-level API
(:func:`group_summary`, :func:`gap`, :func:`funnel`) aggregates first and then calls the
``*_from_stats`` functions.

Formulas (95% by default; ``z`` is the standard normal quantile, 1.959964 for 95%):

* mean: ``se = sd / sqrt(n)``, interval ``mean ± t(n-1) · se`` (Student's t).
* rate: Wilson score interval (Wilson 1927).
* difference of two means: Welch's unequal-variance interval with Welch–Satterthwaite df.
* difference of two rates: Newcombe's hybrid score interval (method 10 of Newcombe 1998).
* ratio of two rates: MOVER with Wilson limits (Donner and Zou 2012), valid at 0% and 100%.
* effect size: Hedges' g (pooled SD, ``J = 1 - 3 / (4(n1 + n2) - 9)``), ``se = sqrt((n1 + n2) /
  (n1·n2) + g² / (2(n1 + n2)))``, interval ``g ± z·se``. For rates g is computed on the 0/1 values
  (so it is on the same scale as for means and can be converted to months of progress).
* funnel limits (Spiegelhalter 2005): exact binomial for rates (interpolated between counts),
  ``mu ± z·sigma/sqrt(n)`` for means with ``z`` = 1.959964 (95%) and 3.090232 (99.8%).

Small numbers: a cell with fewer pupils than ``threshold`` shows no value (``suppressed=True``,
values NaN), a gap is suppressed when either side is, and :func:`suppress` adds secondary
suppression so no suppressed value can be worked back from a total.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats as st
from scipy.stats import mstats

from cilib.core.errors import DataError

#: Symbol shown in place of a suppressed figure (the DfE convention uses 'x' or 'c').
SUPPRESSED_SYMBOL = "x"
#: Footnote to print under any table that may contain suppressed figures.
SUPPRESSION_FOOTNOTE = (
    "x = suppressed: fewer than {threshold} pupils, or a figure from which a suppressed figure "
    "could be worked out."
)
#: Two-sided 95% and 99.8% standard normal quantiles (funnel plot limits).
Z95 = float(st.norm.ppf(0.975))
Z998 = float(st.norm.ppf(0.999))

KINDS = ("mean", "rate")

ArrayLike = Any


# --------------------------------------------------------------------------------------------
# Interval primitives on sufficient statistics (vectorised over numpy arrays)
# --------------------------------------------------------------------------------------------


def _z(level: float) -> float:
    if not 0 < level < 1:
        raise DataError(f"level must be between 0 and 1 (e.g. 0.95), got {level!r}")
    return float(st.norm.ppf(0.5 + level / 2))


def _arr(x: ArrayLike) -> np.ndarray:
    return np.asarray(pd.to_numeric(pd.Series(np.atleast_1d(x)), errors="coerce"), dtype=float)


def mean_interval(n: ArrayLike, mean: ArrayLike, sd: ArrayLike, *, level: float = 0.95):
    """Return the standard error and t-based confidence interval of a mean from n, mean and SD.

    Formula: ``se = sd / sqrt(n)``; interval ``mean ± t_{n-1} · se`` where ``t_{n-1}`` is the
    ``(1 + level)/2`` quantile of Student's t with ``n - 1`` degrees of freedom. NaN when n < 2.

    Returns
    -------
    tuple of numpy arrays
        ``(se, low, high)``.

    Examples
    --------
    >>> se, lo, hi = mean_interval(10, 50.0, 10.0)
    >>> round(float(se[0]), 4), round(float(lo[0]), 2), round(float(hi[0]), 2)
    (3.1623, 42.85, 57.15)
    """
    n, mean, sd = _arr(n), _arr(mean), _arr(sd)
    with np.errstate(divide="ignore", invalid="ignore"):
        se = np.where(n > 0, sd / np.sqrt(n), np.nan)
        t = np.where(n >= 2, st.t.ppf(0.5 + level / 2, np.maximum(n - 1, 1)), np.nan)
    return se, mean - t * se, mean + t * se


def wilson_interval(successes: ArrayLike, trials: ArrayLike, *, level: float = 0.95):
    """Wilson score interval for a proportion ``successes / trials``.

    Formula (Wilson 1927): with ``p = x/n`` and ``z`` the normal quantile,
    ``(p + z²/(2n) ± z·sqrt(p(1 - p)/n + z²/(4n²))) / (1 + z²/n)``. Works for non-integer
    (effective) counts. NaN when ``trials`` is 0.

    Returns
    -------
    tuple of numpy arrays
        ``(low, high)``.

    Examples
    --------
    >>> lo, hi = wilson_interval(81, 263)
    >>> round(float(lo[0]), 4), round(float(hi[0]), 4)
    (0.2553, 0.3662)
    """
    z = _z(level)
    x, n = _arr(successes), _arr(trials)
    with np.errstate(divide="ignore", invalid="ignore"):
        n = np.where(n > 0, n, np.nan)
        p = x / n
        denom = 1 + z**2 / n
        centre = (p + z**2 / (2 * n)) / denom
        half = z / denom * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2))
    return np.clip(centre - half, 0, 1), np.clip(centre + half, 0, 1)


def welch_interval(n1, mean1, sd1, n2, mean2, sd2, *, level: float = 0.95):
    """Welch's unequal-variance interval for ``mean1 - mean2``.

    Formula: ``se = sqrt(s1²/n1 + s2²/n2)``; Welch–Satterthwaite
    ``df = se⁴ / ((s1²/n1)²/(n1 - 1) + (s2²/n2)²/(n2 - 1))``; interval ``diff ± t_df · se``.

    Returns
    -------
    tuple of numpy arrays
        ``(diff, se, df, low, high)``.

    Examples
    --------
    >>> d, se, df, lo, hi = welch_interval(30, 52.0, 10.0, 40, 47.0, 12.0)
    >>> round(float(d[0]), 1), round(float(df[0]), 1), round(float(lo[0]), 2)
    (5.0, 67.2, -0.26)
    """
    n1, m1, s1, n2, m2, s2 = map(_arr, (n1, mean1, sd1, n2, mean2, sd2))
    with np.errstate(divide="ignore", invalid="ignore"):
        v1, v2 = s1**2 / n1, s2**2 / n2
        se = np.sqrt(v1 + v2)
        df = (v1 + v2) ** 2 / (v1**2 / (n1 - 1) + v2**2 / (n2 - 1))
        t = st.t.ppf(0.5 + level / 2, df)
    diff = m1 - m2
    return diff, se, df, diff - t * se, diff + t * se


def newcombe_interval(x1, n1, x2, n2, *, level: float = 0.95):
    """Newcombe's hybrid score interval for the difference of two proportions ``p1 - p2``.

    Method 10 of Newcombe (1998), *Statistics in Medicine* 17:873-890. With Wilson intervals
    ``(l1, u1)`` for ``p1`` and ``(l2, u2)`` for ``p2`` and ``d = p1 - p2``:
    ``low = d - sqrt((p1 - l1)² + (u2 - p2)²)``, ``high = d + sqrt((u1 - p1)² + (p2 - l2)²)``.

    Returns
    -------
    tuple of numpy arrays
        ``(diff, low, high)``.

    Examples
    --------
    Newcombe's example (a), 56/70 against 48/80 (published: 0.0524 to 0.3339):

    >>> d, lo, hi = newcombe_interval(56, 70, 48, 80)
    >>> round(float(d[0]), 4), round(float(lo[0]), 4), round(float(hi[0]), 4)
    (0.2, 0.0524, 0.3339)
    """
    x1, n1, x2, n2 = map(_arr, (x1, n1, x2, n2))
    l1, u1 = wilson_interval(x1, n1, level=level)
    l2, u2 = wilson_interval(x2, n2, level=level)
    with np.errstate(divide="ignore", invalid="ignore"):
        p1, p2 = x1 / n1, x2 / n2
    d = p1 - p2
    low = d - np.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    high = d + np.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return d, low, high


def rate_ratio_interval(x1, n1, x2, n2, *, level: float = 0.95):
    """Ratio of two proportions ``p1 / p2`` with a score-based (MOVER-Wilson) interval.

    Formula (Donner and Zou 2012, *Statistical Methods in Medical Research* 21:347-359; the
    ratio form of Newcombe's hybrid method): with Wilson intervals ``(l1, u1)`` for ``p1`` and
    ``(l2, u2)`` for ``p2`` and ``r = p1/p2``,
    ``low = r·exp(-sqrt(ln(p1/l1)² + ln(u2/p2)²))`` and
    ``high = r·exp(sqrt(ln(u1/p1)² + ln(p2/l2)²))``. Unlike the Katz log method, whose
    ``se(log r) = sqrt(1/x1 - 1/n1 + 1/x2 - 1/n2)`` collapses to zero when ``x = n``, the interval
    stays honest at 100% (3/3 against 500/1000 gives 0.88 to 2.13, not 1.88 to 2.13). NaN when
    either count of successes is 0 (no finite ratio on the log scale).

    Returns
    -------
    tuple of numpy arrays
        ``(ratio, low, high)``.

    Examples
    --------
    >>> r, lo, hi = rate_ratio_interval(3, 3, 500, 1000)
    >>> round(float(r[0]), 2), round(float(lo[0]), 2), round(float(hi[0]), 2)
    (2.0, 0.88, 2.13)
    """
    x1, n1, x2, n2 = map(_arr, (x1, n1, x2, n2))
    l1, u1 = wilson_interval(x1, n1, level=level)
    l2, u2 = wilson_interval(x2, n2, level=level)
    with np.errstate(divide="ignore", invalid="ignore"):
        ok = (x1 > 0) & (x2 > 0) & (n1 > 0) & (n2 > 0)
        p1, p2 = x1 / n1, x2 / n2
        r = np.where(ok, p1 / p2, np.nan)
        down = np.sqrt(np.log(p1 / l1) ** 2 + np.log(u2 / p2) ** 2)
        up = np.sqrt(np.log(u1 / p1) ** 2 + np.log(p2 / l2) ** 2)
        lo = np.where(ok, r * np.exp(-down), np.nan)
        hi = np.where(ok, r * np.exp(up), np.nan)
    return r, lo, hi


def hedges_g(n1, mean1, sd1, n2, mean2, sd2, *, level: float = 0.95):
    """Hedges' g for ``mean1 - mean2`` with its standard error and normal interval.

    Formula: pooled ``sp = sqrt(((n1 - 1)s1² + (n2 - 1)s2²) / (n1 + n2 - 2))``,
    ``d = (m1 - m2)/sp``, ``J = 1 - 3 / (4(n1 + n2) - 9)``, ``g = J·d``,
    ``se = sqrt((n1 + n2)/(n1·n2) + g²/(2(n1 + n2)))``, interval ``g ± z·se`` (Hedges and Olkin
    1985; Borenstein et al. 2009, ch. 4).

    Returns
    -------
    tuple of numpy arrays
        ``(g, se, low, high)``.

    Examples
    --------
    Borenstein et al. (2009) worked example (published g = 0.5924):

    >>> g, se, lo, hi = hedges_g(50, 103, 5.5, 50, 100, 4.5)
    >>> round(float(g[0]), 4)
    0.5924
    """
    n1, m1, s1, n2, m2, s2 = map(_arr, (n1, mean1, sd1, n2, mean2, sd2))
    z = _z(level)
    with np.errstate(divide="ignore", invalid="ignore"):
        sp = np.sqrt(((n1 - 1) * s1**2 + (n2 - 1) * s2**2) / (n1 + n2 - 2))
        d = np.where(sp > 0, (m1 - m2) / sp, np.nan)
        j = 1 - 3 / (4 * (n1 + n2) - 9)
        g = j * d
        se = np.sqrt((n1 + n2) / (n1 * n2) + g**2 / (2 * (n1 + n2)))
    return g, se, g - z * se, g + z * se


def _bernoulli_sd(p: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Sample SD (n - 1 denominator) of n values that are 0/1 with mean p."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(n > 1, np.sqrt(p * (1 - p) * n / (n - 1)), np.nan)


# --------------------------------------------------------------------------------------------
# Input checks and aggregation to sufficient statistics
# --------------------------------------------------------------------------------------------


def _as_list(cols: str | Sequence[str] | None) -> list[str]:
    if cols is None:
        return []
    if isinstance(cols, str):
        return [cols]
    return list(cols)


def _need(df: pd.DataFrame, cols: Sequence[str], what: str) -> None:
    if not isinstance(df, pd.DataFrame):
        raise DataError(f"{what} must be a pandas DataFrame, got {type(df).__name__}")
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise DataError(f"{what} lacks column(s) {missing}; available columns: {list(df.columns)}")


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise DataError(f"kind must be 'mean' or 'rate', got {kind!r}")


def _numeric(series: pd.Series, name: str) -> pd.Series:
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
    _check_kind(kind)
    by = _as_list(by)
    _need(df, [value, *by] + ([weight] if weight else []), "the data")
    y = _numeric(df[value], value)
    work = df[by].copy() if by else pd.DataFrame(index=df.index)
    work["_y"] = y
    keep = y.notna()
    if weight is not None:
        if kind != "rate":
            raise DataError("weight is only used with kind='rate' (a proportion and its trials)")
        w = _numeric(df[weight], weight)
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
    a t interval (``mean ± t_{n-1}·sd/sqrt(n)``); rates use the Wilson interval with
    ``se = sqrt(p(1 - p)/trials)`` and ``sd`` the sample SD of the 0/1 values. Cells with
    ``n < threshold`` get ``suppressed=True`` and NaN values.

    Examples
    --------
    >>> t = pd.DataFrame({"school": ["A", "B"], "n": [20, 3], "rate": [0.5, 1.0]})
    >>> summary_from_stats(t, kind="rate")[["school", "rate", "ci_low", "suppressed"]].round(3)
      school  rate  ci_low  suppressed
    0      A   0.5   0.299       False
    1      B   NaN     NaN        True
    """
    _check_kind(kind)
    out = stats.copy()
    _need(out, ["n"], "stats")
    n = _arr(out["n"])
    if kind == "mean":
        _need(out, ["mean", "sd"], "stats for kind='mean'")
        se, lo, hi = mean_interval(n, out["mean"], out["sd"], level=level)
        vcols = ["mean", "sd", "se", "ci_low", "ci_high"]
    else:
        out = _rate_stats(out, "")
        trials, succ = _arr(out["trials"]), _arr(out["successes"])
        with np.errstate(divide="ignore", invalid="ignore"):
            p = succ / trials
        out["rate"] = p
        out["sd"] = _bernoulli_sd(p, trials)
        with np.errstate(divide="ignore", invalid="ignore"):
            se = np.sqrt(p * (1 - p) / trials)
        lo, hi = wilson_interval(succ, trials, level=level)
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
# --------------------------------------------------------------------------------------------

_GAP_STAT_COLS = (
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
    "ratio",
    "ratio_ci_low",
    "ratio_ci_high",
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
    _check_kind(kind)
    out = stats.copy()
    _need(out, ["n_focus", "n_comparison"], "stats")
    n1, n2 = _arr(out["n_focus"]), _arr(out["n_comparison"])
    if kind == "mean":
        _need(out, ["mean_focus", "mean_comparison"], "stats for kind='mean'")
        for c in ("sd_focus", "sd_comparison"):
            if c not in out.columns:
                out[c] = np.nan
        m1, s1 = _arr(out["mean_focus"]), _arr(out["sd_focus"])
        m2, s2 = _arr(out["mean_comparison"]), _arr(out["sd_comparison"])
        diff, se, _, lo, hi = welch_interval(n1, m1, s1, n2, m2, s2, level=level)
        g, _, glo, ghi = hedges_g(n1, m1, s1, n2, m2, s2, level=level)
        res = {"focus": m1, "comparison": m2}
        extra: dict[str, np.ndarray] = {}
    else:
        out = _rate_stats(out, "_focus")
        out = _rate_stats(out, "_comparison")
        x1, t1 = _arr(out["successes_focus"]), _arr(out["trials_focus"])
        x2, t2 = _arr(out["successes_comparison"]), _arr(out["trials_comparison"])
        diff, lo, hi = newcombe_interval(x1, t1, x2, t2, level=level)
        with np.errstate(divide="ignore", invalid="ignore"):
            p1, p2 = x1 / t1, x2 / t2
        # score-based SE from the Newcombe interval's width: the Wald form
        # sqrt(p1(1-p1)/n1 + p2(1-p2)/n2) collapses at 0% and 100% (0/6 would get a tiny SE
        # and dominate any weighting by 1/se²)
        se = (hi - lo) / (2 * _z(level))
        g, _, glo, ghi = hedges_g(
            t1, p1, _bernoulli_sd(p1, t1), t2, p2, _bernoulli_sd(p2, t2), level=level
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


def _group_mask(series: pd.Series, values: Any) -> pd.Series:
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
    _check_kind(kind)
    by = _as_list(by)
    _need(df, [value, group, *by], "the data")
    fmask = _group_mask(df[group], focus)
    if not fmask.any():
        raise DataError(
            f"no rows have {group!r} equal to focus={focus!r}; values present: "
            f"{sorted(map(str, df[group].dropna().unique()))[:10]}"
        )
    if comparison is None:
        cmask = ~fmask & df[group].notna()
    else:
        cmask = _group_mask(df[group], comparison)
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
    keep = by + [
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
    ]
    if kind == "rate":
        keep += ["ratio", "ratio_ci_low", "ratio_ci_high"]
    return out[keep + ["suppressed"]].reset_index(drop=True)


# --------------------------------------------------------------------------------------------
# Gap trend
# --------------------------------------------------------------------------------------------


def gap_trend(
    gaps: pd.DataFrame,
    period: str,
    *,
    order: Sequence[Any] | None = None,
    level: float = 0.95,
) -> pd.DataFrame:
    """Say whether each gap is narrowing, widening, reversed or showing no clear change.

    For each cell (the columns of ``gaps`` other than ``period`` and the statistic columns made
    by :func:`gap`), fit the gap on the period index ``x`` (0, 1, ... in ``order``; default the
    sorted period labels) by weighted least squares with weights ``w = 1/se²``. The SE of each
    gap is the ``gap_se`` (or ``se``) column, else ``(gap_ci_high - gap_ci_low) / (2·1.96)``.

    Uncertainty: the gap variances are known, so the slope's SE is
    ``sqrt(φ / Σ w(x - x̄_w)²)`` with ``φ = max(1, Σ w·r² / (k - 2))`` (scale fixed at 1, inflated
    only when the gaps scatter round the line more than their own SEs allow; ``φ = 1`` when
    ``k = 2``), and the interval is ``slope ± z·se`` (normal). With ``φ = 1`` this equals
    statsmodels ``WLS(...).fit(cov_type="fixed scale")``.

    Decision: ``"no clear change"`` when the interval includes zero. Otherwise, using the fitted
    gaps at the first and last period: ``"reversed"`` when they have opposite signs (the gap
    crossed zero), ``"narrowing"`` when the last is closer to zero, else ``"widening"``. So a
    negative gap that rises towards zero is narrowing. Suppressed or missing gaps are left out;
    a cell with fewer than 2 periods is ``"insufficient data"``.

    Examples
    --------
    >>> g = pd.DataFrame({"year": [2021, 2022, 2023, 2024], "gap": [-8.0, -6.5, -5.2, -3.9],
    ...                   "gap_se": [0.5, 0.5, 0.5, 0.5]})
    >>> gap_trend(g, "year")[["n_periods", "slope", "trend"]].round(2)
       n_periods  slope      trend
    0          4   1.36  narrowing
    """
    _need(gaps, [period, "gap"], "gaps")
    z = _z(level)
    d = gaps.copy()
    if "gap_se" in d.columns:
        se = _arr(d["gap_se"])
    elif "se" in d.columns:
        se = _arr(d["se"])
    elif {"gap_ci_low", "gap_ci_high"} <= set(d.columns):
        se = (_arr(d["gap_ci_high"]) - _arr(d["gap_ci_low"])) / (2 * 1.96)
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
    res.update(
        slope=slope, slope_se=se, slope_ci_low=lo, slope_ci_high=hi, dispersion=phi, trend=trend
    )
    return res


# --------------------------------------------------------------------------------------------
# Funnel plots
# --------------------------------------------------------------------------------------------


def binomial_limits(p0: float, n: ArrayLike, prob: float) -> np.ndarray:
    """Exact binomial funnel limit, as a proportion, at cumulative probability ``prob``.

    Spiegelhalter (2005), appendix A.1.1: ``r_p`` is the smallest count with
    ``F(r_p) >= prob`` under ``Binomial(n, p0)``; the step is interpolated,
    ``alpha = (F(r_p) - prob) / (F(r_p) - F(r_p - 1))``, and the limit is ``(r_p - alpha) / n``.
    Non-integer ``n`` (effective trials of a weighted rate) is rounded to the nearest whole number.
    Use ``prob = 0.001, 0.999`` for 99.8% limits and ``0.025, 0.975`` for 95%.

    Examples
    --------
    >>> round(float(binomial_limits(0.05, 10, 0.999)[0]), 3)
    0.303
    """
    n = np.maximum(np.rint(_arr(n)), 1.0)
    r = st.binom.ppf(prob, n, p0)
    f_r = st.binom.cdf(r, n, p0)
    f_below = st.binom.cdf(r - 1, n, p0)
    with np.errstate(divide="ignore", invalid="ignore"):
        alpha = np.where(f_r > f_below, (f_r - prob) / (f_r - f_below), 0.0)
    return np.clip((r - alpha) / n, 0.0, 1.0)


def funnel(
    df: pd.DataFrame,
    value: str,
    unit: str,
    *,
    kind: str,
    target: float | None = None,
    n: str | None = None,
    sd: float | None = None,
    weight: str | None = None,
    overdispersion: bool = False,
) -> pd.DataFrame:
    """Funnel plot data: each unit's value and n with 95% and 99.8% limits at its n.

    Two inputs: pupil-level rows (``n=None``: ``value`` is aggregated per ``unit`` as in
    :func:`group_summary`), or one row per unit (``n`` names the column of pupil counts and
    ``value`` holds the unit's mean or rate as a proportion).

    Limits (Spiegelhalter 2005, *Statistics in Medicine* 24:1185-1202): rates, exact binomial
    limits at ``n`` with the appendix's interpolation between whole counts
    (:func:`binomial_limits`; the normal ``p0 ± z·sqrt(p0(1 - p0)/n)`` flags an in-control
    school of 10 pupils at p0 = 0.05 1.15% of the time at 99.8%, exact limits at most 0.2%);
    means ``mu ± z·sigma/sqrt(n)``, with ``z = 1.959964`` (95%) and ``3.090232`` (99.8%). The
    target ``p0`` or ``mu`` defaults to the pooled overall value ``Σ n·value / Σ n``. ``sigma``
    for means is ``sd`` if given, else the SD of all pupils' values (pupil-level input);
    unit-level input with ``kind="mean"`` needs ``sd``. ``outside95`` / ``outside998`` mark units
    beyond the limits (either side); for exact rate limits a unit must also have an exact
    binomial tail probability below 2.5% (0.1%), so the flags hold their error rate.

    ``overdispersion=True`` widens the limits for real between-unit variation beyond chance
    (additive random effects, Spiegelhalter 2005 section 6.5): with ``s_i`` the SD at unit ``i``'s
    n and ``z_i = (y_i - target)/s_i`` winsorised at 10% in each tail
    (``scipy.stats.mstats.winsorize``), ``phi = Σ z_i² / I``; if ``I·phi > I - 1``,
    ``tau² = (I·phi - (I - 1)) / (Σ w_i - Σ w_i² / Σ w_i)`` with ``w_i = 1/s_i²``, else 0; the
    limits become ``target ± z·sqrt(s_i² + tau²)`` (normal, also for rates). Columns ``phi`` and
    ``tau2`` record it.

    Examples
    --------
    >>> t = pd.DataFrame({"school": ["A", "B", "C"], "n": [100, 400, 25],
    ...                   "rate": [0.70, 0.60, 0.62]})
    >>> f = funnel(t, "rate", "school", kind="rate", n="n")
    >>> f[["unit", "lower95", "upper95", "outside95"]].round(3)
      unit  lower95  upper95  outside95
    0    A    0.519    0.709      False
    1    B    0.571    0.666      False
    2    C    0.405    0.788      False
    """
    _check_kind(kind)
    if n is None:
        stats = aggregate_stats(df, value, unit, kind=kind, weight=weight)
        if kind == "rate":
            vals = stats["successes"] / stats["trials"]
            sizes = stats["trials"]
        else:
            vals, sizes = stats["mean"], stats["n"]
            if sd is None:
                sd = float(_numeric(df[value], value).std(ddof=1))
        t = pd.DataFrame(
            {
                "unit": stats[unit].to_numpy(),
                "n": stats["n"].to_numpy(),
                "value": vals.to_numpy(float),
            }
        )
        eff = sizes.to_numpy(float)
    else:
        _need(df, [value, unit, n], "the data")
        t = pd.DataFrame(
            {
                "unit": df[unit].to_numpy(),
                "n": _numeric(df[n], n).to_numpy(),
                "value": _numeric(df[value], value).to_numpy(),
            }
        )
        t = t[t["n"].notna() & t["value"].notna() & (t["n"] > 0)].reset_index(drop=True)
        if kind == "rate" and (t["value"] > 1).any():
            raise DataError(f"{value!r} must be a proportion (0-1) for kind='rate'")
        if kind == "mean" and sd is None:
            raise DataError("a funnel of unit means needs sd= (the pupil-level standard deviation)")
        eff = t["n"].to_numpy(float)
    if target is None:
        target = float(np.sum(eff * t["value"]) / np.sum(eff))
    t["target"] = target
    if kind == "rate":
        spread = np.sqrt(target * (1 - target) / eff)
    else:
        spread = float(sd) / np.sqrt(eff)
    phi, tau2 = np.nan, 0.0
    if overdispersion:
        phi, tau2 = _overdispersion(t["value"].to_numpy(float), target, spread)
        spread = np.sqrt(spread**2 + tau2)
    t["phi"], t["tau2"] = phi, tau2
    exact = kind == "rate" and not overdispersion
    t["limits"] = "exact binomial" if exact else "normal"
    for z, tag, tail in ((Z95, "95", 0.025), (Z998, "998", 0.001)):
        if exact:
            lo, hi = binomial_limits(target, eff, tail), binomial_limits(target, eff, 1 - tail)
        else:
            lo, hi = target - z * spread, target + z * spread
        if kind == "rate":
            lo, hi = np.clip(lo, 0, 1), np.clip(hi, 0, 1)
        t[f"lower{tag}"], t[f"upper{tag}"] = lo, hi
    for tag, tail in (("95", 0.025), ("998", 0.001)):
        low, high = t["value"] < t[f"lower{tag}"], t["value"] > t[f"upper{tag}"]
        if exact:
            # beyond the drawn (interpolated) limit *and* an exact tail probability below the
            # nominal one, so a school at the last whole count of a step is never flagged by
            # the interpolation alone (25 of 25 pupils at p0 = 0.9 happens 7% of the time)
            whole_n = np.maximum(np.rint(eff), 1.0)
            count = np.rint(t["value"].to_numpy(float) * whole_n)
            low &= st.binom.cdf(count, whole_n, target) < tail
            high &= st.binom.sf(count - 1, whole_n, target) < tail
        t[f"outside{tag}"] = low | high
    return t


def _overdispersion(y: np.ndarray, target: float, s: np.ndarray) -> tuple[float, float]:
    """Spiegelhalter's (2005) winsorised phi and additive between-unit variance tau²."""
    ok = np.isfinite(y) & np.isfinite(s) & (s > 0)
    y, s = y[ok], s[ok]
    n_units = len(y)
    if n_units < 3:
        return np.nan, 0.0
    z = np.asarray(mstats.winsorize((y - target) / s, limits=(0.1, 0.1)), dtype=float)
    phi = float(np.sum(z**2) / n_units)
    w = 1 / s**2
    if n_units * phi <= n_units - 1:
        return phi, 0.0
    return phi, float((n_units * phi - (n_units - 1)) / (w.sum() - np.sum(w**2) / w.sum()))


def plot_funnel(result: pd.DataFrame, ax=None, *, title: str | None = None, label_outside=True):
    """Draw a funnel plot from :func:`funnel` output with the project style.

    Limits are drawn as smooth curves over the range of n (dashed 95%, solid 99.8%); units outside
    the 99.8% limits are drawn as larger diamonds in the signal colour and labelled.

    Returns
    -------
    tuple
        ``(fig, ax)``.

    Examples
    --------
    >>> t = pd.DataFrame({"school": ["A", "B"], "n": [100, 400], "rate": [0.7, 0.6]})
    >>> fig, ax = plot_funnel(funnel(t, "rate", "school", kind="rate", n="n"))
    >>> len(ax.lines) >= 5
    True
    """
    from cilib.report import style as plots

    _need(result, ["unit", "n", "value", "target", "outside998"], "funnel result")
    fig, ax = plots.new_axes(ax, title=title)
    target = float(result["target"].iloc[0])
    ns = np.linspace(max(1.0, float(result["n"].min()) * 0.8), float(result["n"].max()) * 1.05, 200)
    # recover the spread at n = 1 from any row: half-width95 * sqrt(n) / Z95
    r0 = result.iloc[int(np.argmax(result["n"].to_numpy()))]
    rate_like = bool(result["value"].between(0, 1).all()) and 0 < target < 1
    tau2 = float(result["tau2"].iloc[0]) if "tau2" in result.columns else 0.0
    half = (float(r0["upper998"]) - target) / Z998
    k = np.sqrt(max(half**2 - tau2, 0.0) * float(r0["n"]))
    if rate_like and np.isclose(k, np.sqrt(target * (1 - target)), rtol=1e-6):
        k = np.sqrt(target * (1 - target))
    exact = "limits" in result.columns and result["limits"].iloc[0] == "exact binomial"
    if exact:  # draw the step-interpolated limits at every whole n in range
        ns = np.arange(max(1, int(ns[0])), int(np.ceil(ns[-1])) + 1, dtype=float)
    for z, style in ((Z95, "--"), (Z998, "-")):
        sp = np.sqrt(k**2 / ns + tau2)
        lo, hi = target - z * sp, target + z * sp
        if exact:
            tail = 0.025 if z == Z95 else 0.001
            lo, hi = binomial_limits(target, ns, tail), binomial_limits(target, ns, 1 - tail)
        if rate_like:
            lo, hi = np.clip(lo, 0, 1), np.clip(hi, 0, 1)
        lab = "95% limits" if z == Z95 else "99.8% limits"
        ax.plot(ns, lo, style, color=plots.COLOURS["limit"], label=lab)
        ax.plot(ns, hi, style, color=plots.COLOURS["limit"])
    ax.axhline(target, color=plots.COLOURS["centre"], linewidth=1, label="target")
    inside = ~result["outside998"].astype(bool)
    ax.plot(
        result.loc[inside, "n"],
        result.loc[inside, "value"],
        plots.MARKERS["neutral"],
        color=plots.COLOURS["neutral"],
        linestyle="none",
        label="unit",
    )
    if (~inside).any():
        ax.plot(
            result.loc[~inside, "n"],
            result.loc[~inside, "value"],
            plots.MARKERS["signal"],
            color=plots.COLOURS["signal"],
            markersize=8,
            linestyle="none",
            label="outside 99.8%",
        )
        if label_outside:
            for _, r in result[~inside].iterrows():
                ax.annotate(
                    str(r["unit"]),
                    (r["n"], r["value"]),
                    fontsize=8,
                    xytext=(3, 3),
                    textcoords="offset points",
                )
    ax.set_xlabel("number of pupils (n)")
    ax.set_ylabel("value")
    ax.legend()
    return fig, ax


# --------------------------------------------------------------------------------------------
# Suppression
# --------------------------------------------------------------------------------------------


def suppress(
    table: pd.DataFrame,
    threshold: int = 5,
    *,
    count_cols: str | Sequence[str] = "n",
    value_cols: str | Sequence[str] | None = None,
    group_col: str | None = None,
    total_row: Any = None,
    by: str | Sequence[str] | None = None,
    hide_counts: bool = False,
) -> pd.DataFrame:
    """Primary and secondary suppression of a summary table.

    Primary: a row with any count in ``count_cols`` above 0 and below ``threshold`` is suppressed.
    Secondary (only when ``total_row`` is given): the rows of each block (``by`` columns; the
    whole table if ``None``) whose ``group_col`` is not ``total_row`` are subgroups that add up to
    the total row. If the total is visible and exactly one subgroup with pupils is suppressed, its
    value could be worked back from the total and the others, so the smallest visible subgroup
    with pupils is suppressed too. Repeated until nothing changes. Suppressed rows get
    ``suppressed=True`` and NaN in ``value_cols`` (default: every numeric column except the counts
    and ``by``); counts stay visible, as in DfE tables, unless ``hide_counts=True``. Display the
    gaps with :data:`SUPPRESSED_SYMBOL` and :data:`SUPPRESSION_FOOTNOTE`.

    Examples
    --------
    >>> t = pd.DataFrame({"group": ["all", "other", "disadvantaged"], "n": [40, 36, 4],
    ...                   "mean": [50.0, 51.0, 41.0]})
    >>> suppress(t, 5, group_col="group", total_row="all")[["group", "mean", "suppressed"]]
               group  mean  suppressed
    0            all  50.0       False
    1          other   NaN        True
    2  disadvantaged   NaN        True
    """
    counts = _as_list(count_cols)
    by = _as_list(by)
    _need(table, counts + by + ([group_col] if group_col else []), "table")
    if total_row is not None and group_col is None:
        raise DataError("total_row needs group_col= (the column that holds the total's label)")
    out = table.copy()
    if value_cols is None:
        skip = set(counts) | set(by) | {group_col, "suppressed"}
        values = [
            c
            for c in out.columns
            if c not in skip
            and pd.api.types.is_numeric_dtype(out[c])
            and not pd.api.types.is_bool_dtype(out[c])
        ]
    else:
        values = _as_list(value_cols)
        _need(out, values, "table")
    cnt = out[counts].apply(pd.to_numeric, errors="coerce")
    size = cnt.min(axis=1)
    has_pupils = (cnt > 0).all(axis=1)
    sup = np.array((has_pupils & (cnt < threshold).any(axis=1)).to_numpy(), dtype=bool)
    if "suppressed" in out.columns:
        sup |= out["suppressed"].fillna(False).astype(bool).to_numpy()
    if total_row is not None:
        blocks = (
            out.groupby(by, dropna=False, sort=False).indices if by else {(): np.arange(len(out))}
        )
        is_total = (out[group_col] == total_row).fillna(False).to_numpy()
        hp = has_pupils.to_numpy()
        sz = size.to_numpy(float)
        changed = True
        while changed:
            changed = False
            for idx in blocks.values():
                idx = np.asarray(idx)
                tot = idx[is_total[idx]]
                subs = idx[~is_total[idx] & hp[idx]]
                if len(tot) == 0 or sup[tot].any():
                    continue
                hidden = subs[sup[subs]]
                visible = subs[~sup[subs]]
                if len(hidden) == 1 and len(visible) > 0:
                    sup[visible[np.argmin(sz[visible])]] = True
                    changed = True
    out["suppressed"] = sup
    for c in values:
        out[c] = pd.to_numeric(out[c], errors="coerce").astype("float64").mask(sup)
    if hide_counts:
        for c in counts:
            out[c] = pd.to_numeric(out[c], errors="coerce").astype("float64").mask(sup)
    return out


def format_suppressed(table: pd.DataFrame, *, symbol: str = SUPPRESSED_SYMBOL, digits: int = 1):
    """Return a display copy with suppressed figures shown as ``symbol`` (default ``"x"``).

    Numeric columns are rounded to ``digits`` and turned into text; in rows with
    ``suppressed=True`` every missing numeric figure becomes ``symbol``.

    Examples
    --------
    >>> t = pd.DataFrame({"n": [3], "mean": [float("nan")], "suppressed": [True]})
    >>> format_suppressed(t)["mean"].tolist()
    ['x']
    """
    out = table.copy()
    sup = out["suppressed"].fillna(False).astype(bool) if "suppressed" in out else False
    for c in out.columns:
        if c == "suppressed" or not pd.api.types.is_numeric_dtype(out[c]):
            continue
        if pd.api.types.is_bool_dtype(out[c]):
            continue
        txt = out[c].round(digits).astype(str)
        out[c] = txt.where(~(out[c].isna() & sup), symbol).where(out[c].notna() | sup, "")
    return out
