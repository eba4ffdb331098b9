"""Confidence intervals and effect sizes from sufficient statistics, vectorised over arrays.

Formulas (95% by default; ``z`` is the standard normal quantile, 1.959964 for 95%):

* mean: ``se = sd / sqrt(n)``, interval ``mean ± t(n-1) · se`` (Student's t).
* rate: Wilson score interval (Wilson 1927).
* difference of two means: Welch's unequal-variance interval with Welch–Satterthwaite df.
* difference of two rates: Newcombe's hybrid score interval (method 10 of Newcombe 1998).
* ratio of two rates: MOVER with Wilson limits (Donner and Zou 2012), valid at 0% and 100%.
* effect size: Hedges' g (pooled SD, ``J = 1 - 3 / (4(n1 + n2) - 9)``), ``se = sqrt((n1 + n2) /
  (n1·n2) + g² / (2(n1 + n2)))`` (the What Works Clearinghouse form), interval ``g ± z·se``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy import stats as st

from cilib.core.errors import DataError

ArrayLike = Any


def normal_quantile(level: float) -> float:
    """Return the two-sided standard normal quantile for a confidence ``level`` (1.96 for 0.95).

    Examples
    --------
    >>> round(normal_quantile(0.95), 6)
    1.959964
    """
    if not 0 < level < 1:
        raise DataError(f"level must be between 0 and 1 (e.g. 0.95), got {level!r}")
    return float(st.norm.ppf(0.5 + level / 2))


def as_array(x: ArrayLike) -> np.ndarray:
    """Return ``x`` (a number, list, Series or array) as a float array; non-numbers become NaN.

    Examples
    --------
    >>> as_array([1, "x", 2.5]).tolist()
    [1.0, nan, 2.5]
    """
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
    n, mean, sd = as_array(n), as_array(mean), as_array(sd)
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
    z = normal_quantile(level)
    x, n = as_array(successes), as_array(trials)
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
    n1, m1, s1, n2, m2, s2 = map(as_array, (n1, mean1, sd1, n2, mean2, sd2))
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
    x1, n1, x2, n2 = map(as_array, (x1, n1, x2, n2))
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
    x1, n1, x2, n2 = map(as_array, (x1, n1, x2, n2))
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
    ``se = sqrt((n1 + n2)/(n1·n2) + g²/(2(n1 + n2)))``, interval ``g ± z·se``. The point
    estimate is Hedges and Olkin's (1985; Borenstein et al. 2009, ch. 4); the SE is the What Works
    Clearinghouse form (Procedures and Standards Handbook v5.0: g in place of d, no ``J²``
    factor), which Borenstein's ``J·sqrt((n1 + n2)/(n1·n2) + d²/(2(n1 + n2)))`` matches to
    within 1% for 40 or more pupils a group (about 2% at 20 a group: the factor J).

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
    n1, m1, s1, n2, m2, s2 = map(as_array, (n1, mean1, sd1, n2, mean2, sd2))
    z = normal_quantile(level)
    with np.errstate(divide="ignore", invalid="ignore"):
        sp = np.sqrt(((n1 - 1) * s1**2 + (n2 - 1) * s2**2) / (n1 + n2 - 2))
        d = np.where(sp > 0, (m1 - m2) / sp, np.nan)
        j = 1 - 3 / (4 * (n1 + n2) - 9)
        g = j * d
        se = np.sqrt((n1 + n2) / (n1 * n2) + g**2 / (2 * (n1 + n2)))
    return g, se, g - z * se, g + z * se


def bernoulli_sd(p: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Sample SD (n - 1 denominator) of n values that are 0/1 with mean p.

    Examples
    --------
    >>> round(float(bernoulli_sd(np.array(0.5), np.array(4.0))), 4)
    0.5774
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(n > 1, np.sqrt(p * (1 - p) * n / (n - 1)), np.nan)
