"""Many checks at once: the Benjamini–Hochberg false discovery rate.

A report that checks 48 schools × goals at the 5% level flags about 2 or 3 of them by chance
alone even when nothing is happening. Benjamini and Hochberg (1995) control the false discovery
rate instead: among the flags raised, the expected share that are chance is at most ``fdr``.

Method: sort the ``m`` p-values, ``p(1) ≤ … ≤ p(m)``. The q-value of ``p(i)`` is
``min over j ≥ i of min(1, m·p(j)/j)``; a check is flagged when its q-value is at most ``fdr``
(the step-up rule: flag the ``k`` smallest, with ``k`` the largest ``i`` where
``p(i) ≤ i·fdr/m``). Missing p-values (a check that could not be made) are left out of ``m``
and get a missing q-value and no flag.

Limits: BH assumes the p-values are independent or positively dependent (Benjamini & Yekutieli
2001), which holds for schools judged against the same trust value in the usual cases; it says
nothing about which flag is the chance one.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from cilib.core.errors import DataError
from cilib.stats.checks import need_columns


def bh_adjust(pvalues: Sequence[float] | np.ndarray) -> np.ndarray:
    """Return Benjamini–Hochberg q-values (adjusted p-values), in the input order.

    Parameters
    ----------
    pvalues : sequence of float
        P-values in [0, 1]; NaN for a check that was not made (left out of the count).

    Returns
    -------
    ndarray
        q-values, NaN where the p-value was NaN.

    Examples
    --------
    >>> bh_adjust([0.01, 0.04, 0.03, 0.20]).round(3).tolist()
    [0.04, 0.053, 0.053, 0.2]
    """
    p = np.asarray(pvalues, dtype=float).ravel()
    ok = np.isfinite(p)
    if np.any((p[ok] < 0) | (p[ok] > 1)):
        raise DataError("p-values must lie between 0 and 1")
    q = np.full(p.shape, np.nan)
    m = int(ok.sum())
    if m == 0:
        return q
    pv = p[ok]
    order = np.argsort(pv, kind="mergesort")
    ranked = pv[order] * m / np.arange(1, m + 1)
    ranked = np.minimum.accumulate(ranked[::-1])[::-1]
    adj = np.empty(m)
    adj[order] = np.minimum(ranked, 1.0)
    q[ok] = adj
    return q


def bh_flags(pvalues: Sequence[float] | np.ndarray, fdr: float = 0.05) -> np.ndarray:
    """Say which checks to flag with the false discovery rate held at ``fdr``.

    Parameters
    ----------
    pvalues : sequence of float
        P-values (NaN: not checked, never flagged).
    fdr : float
        The false discovery rate, between 0 and 1 (default 0.05).

    Returns
    -------
    ndarray of bool
        True where the Benjamini–Hochberg q-value is at most ``fdr``.

    Examples
    --------
    >>> bh_flags([0.01, 0.04, 0.03, 0.20]).tolist()
    [True, False, False, False]
    """
    if not 0 < fdr < 1:
        raise DataError(f"fdr must be between 0 and 1, got {fdr}")
    q = bh_adjust(pvalues)
    return np.isfinite(q) & (q <= fdr)


def funnel_p_values(result: pd.DataFrame, *, kind: str) -> np.ndarray:
    """Two-sided p-value of each unit of a funnel plot against the funnel's target.

    The test behind the funnel's limits, so that its p-values can be adjusted with
    :func:`bh_adjust`. Rates (``kind="rate"``, values as proportions): the exact binomial test of
    ``x = round(value·n)`` successes in ``n`` against ``target``, two-sided as twice the smaller
    tail, ``min(1, 2·min(P(X ≤ x), P(X ≥ x)))`` (the equal-tailed test of the exact limits).
    Means and anything else: ``2·Φ(−|value − target| / se)`` with ``se`` taken from the 99.8%
    limit, ``se = (upper998 − target) / z(0.999)``.

    Parameters
    ----------
    result : DataFrame
        A :func:`cilib.stats.funnel.funnel` result (``n``, ``value``, ``target``, ``upper998``).
    kind : str
        The funnel's kind.

    Returns
    -------
    ndarray
        One p-value per row (NaN where it cannot be computed).

    Examples
    --------
    >>> f = pd.DataFrame({"n": [100], "value": [0.7], "target": [0.5], "upper998": [0.65]})
    >>> round(float(funnel_p_values(f, kind="rate")[0]), 5)
    8e-05
    """
    need_columns(result, ["n", "value", "target", "upper998"], "funnel result")
    n = result["n"].to_numpy(float)
    v = result["value"].to_numpy(float)
    t = result["target"].to_numpy(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        if kind == "rate":
            nn = np.maximum(np.rint(n), 1)
            x = np.rint(v * nn)
            lo = stats.binom.cdf(x, nn, t)
            hi = stats.binom.sf(x - 1, nn, t)
            p = np.minimum(1.0, 2 * np.minimum(lo, hi))
        else:
            se = (result["upper998"].to_numpy(float) - t) / stats.norm.ppf(0.999)
            p = 2 * stats.norm.sf(np.abs(v - t) / se)
    return np.where(np.isfinite(v) & np.isfinite(n) & (n > 0), p, np.nan)


def fdr_sentence(m: int, what: str = "schools") -> str:
    """Say in one plain sentence that flags allow for checking ``m`` things at once.

    Examples
    --------
    >>> fdr_sentence(12)
    'We allow for checking 12 schools at once, so that about 1 in 20 flags could be chance at most.'
    """
    return (
        f"We allow for checking {m} {what} at once, so that about 1 in 20 flags could be "
        "chance at most."
    )
