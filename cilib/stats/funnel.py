"""Funnel plots: each unit's value against its n, with limits that depend on n.

Limits (Spiegelhalter 2005): exact binomial for rates and exact Poisson for counts (both
interpolated between whole counts, as in the paper's appendix), ``mu ± z·sigma/sqrt(n)`` for means
with ``z`` = 1.959964 (95%) and 3.090232 (99.8%). The drawing is
:func:`cilib.report.charts.funnel.plot_funnel`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats as st
from scipy.stats import mstats

from cilib.core.errors import DataError
from cilib.stats.checks import need_columns, numeric
from cilib.stats.equity import aggregate_stats, check_kind
from cilib.stats.intervals import ArrayLike, as_array

#: Two-sided 95% and 99.8% standard normal quantiles (funnel plot limits).
Z95 = float(st.norm.ppf(0.975))
Z998 = float(st.norm.ppf(0.999))


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
    n = np.maximum(np.rint(as_array(n)), 1.0)
    r = st.binom.ppf(prob, n, p0)
    f_r = st.binom.cdf(r, n, p0)
    f_below = st.binom.cdf(r - 1, n, p0)
    with np.errstate(divide="ignore", invalid="ignore"):
        alpha = np.where(f_r > f_below, (f_r - prob) / (f_r - f_below), 0.0)
    return np.clip((r - alpha) / n, 0.0, 1.0)


def poisson_limits(rate0: float, n: ArrayLike, prob: float) -> np.ndarray:
    """Exact Poisson funnel limit, as a rate per unit of ``n``, at cumulative probability ``prob``.

    Spiegelhalter (2005), appendix A.2, for counts (events such as exclusions or incidents) over
    an exposure ``n`` (pupils, or pupil-years) with target rate ``rate0``: the expected count is
    ``mu = rate0·n``; ``r_p`` is the smallest count with ``F(r_p) >= prob`` under
    ``Poisson(mu)``; the step is interpolated, ``alpha = (F(r_p) - prob) / (F(r_p) - F(r_p - 1))``,
    and the limit is ``(r_p - alpha) / n``. Use ``prob = 0.001, 0.999`` for 99.8% limits and
    ``0.025, 0.975`` for 95%.

    Examples
    --------
    >>> round(float(poisson_limits(0.3, 10, 0.999)[0]), 3)
    0.913
    """
    n = as_array(n)
    mu = rate0 * n
    r = st.poisson.ppf(prob, mu)
    f_r = st.poisson.cdf(r, mu)
    f_below = st.poisson.cdf(r - 1, mu)
    with np.errstate(divide="ignore", invalid="ignore"):
        alpha = np.where(f_r > f_below, (f_r - prob) / (f_r - f_below), 0.0)
        return np.maximum((r - alpha) / n, 0.0)


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
    :func:`group_summary`; for ``kind="count"`` it is each pupil's number of events, summed per
    unit over its pupils), or one row per unit (``n`` names the column of pupil counts, or the
    exposure, and ``value`` holds the unit's mean, its rate as a proportion, or for counts its
    events per unit of ``n``).

    Limits (Spiegelhalter 2005, *Statistics in Medicine* 24:1185-1202): rates, exact binomial
    limits at ``n`` with the appendix's interpolation between whole counts
    (:func:`binomial_limits`; the normal ``p0 ± z·sqrt(p0(1 - p0)/n)`` flags an in-control
    school of 10 pupils at p0 = 0.05 1.15% of the time at 99.8%, exact limits at most 0.2%);
    counts, exact Poisson limits for events per unit of ``n`` (:func:`poisson_limits`, the
    appendix's interpolation likewise); means ``mu ± z·sigma/sqrt(n)``, with ``z = 1.959964``
    (95%) and ``3.090232`` (99.8%). The target ``p0`` or ``mu`` defaults to the pooled overall
    value ``Σ n·value / Σ n``. ``sigma`` for means is ``sd`` if given, else the SD of all
    pupils' values (pupil-level input); unit-level input with ``kind="mean"`` needs ``sd``.
    ``outside95`` / ``outside998`` mark units beyond the limits (either side); for exact limits
    a unit must also have an exact binomial (Poisson) tail probability below 2.5% (0.1%), so
    the flags hold their error rate.

    ``overdispersion=True`` widens the limits for real between-unit variation beyond chance
    (additive random effects, Spiegelhalter 2005 section 6.5): with ``s_i`` the SD at unit ``i``'s
    n and ``z_i = (y_i - target)/s_i`` winsorised at 10% in each tail
    (``scipy.stats.mstats.winsorize``), ``phi = Σ z_i² / I``; if ``I·phi > I - 1``,
    ``tau² = (I·phi - (I - 1)) / (Σ w_i - Σ w_i² / Σ w_i)`` with ``w_i = 1/s_i²``, else 0; the
    limits become ``target ± z·sqrt(s_i² + tau²)`` (normal, also for rates and counts, with
    ``s_i = sqrt(target/n)`` for counts). Columns ``phi`` and
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
    if kind != "count":
        check_kind(kind)
    if n is None and kind == "count":
        need_columns(df, [value, unit], "the data")
        ev = numeric(df[value], value)
        if (ev < 0).any():
            raise DataError(f"{value!r} must be a number of events (0 or more) for kind='count'")
        g = df.assign(_y=ev).groupby(unit, sort=True, observed=True)["_y"].agg(["size", "sum"])
        t = pd.DataFrame(
            {
                "unit": g.index.to_numpy(),
                "n": g["size"].to_numpy(),
                "value": (g["sum"] / g["size"]).to_numpy(),
            }
        )
        eff = t["n"].to_numpy(float)
    elif n is None:
        stats = aggregate_stats(df, value, unit, kind=kind, weight=weight)
        if kind == "rate":
            vals = stats["successes"] / stats["trials"]
            sizes = stats["trials"]
        else:
            vals, sizes = stats["mean"], stats["n"]
            if sd is None:
                sd = float(numeric(df[value], value).std(ddof=1))
        t = pd.DataFrame(
            {
                "unit": stats[unit].to_numpy(),
                "n": stats["n"].to_numpy(),
                "value": vals.to_numpy(float),
            }
        )
        eff = sizes.to_numpy(float)
    else:
        need_columns(df, [value, unit, n], "the data")
        t = pd.DataFrame(
            {
                "unit": df[unit].to_numpy(),
                "n": numeric(df[n], n).to_numpy(),
                "value": numeric(df[value], value).to_numpy(),
            }
        )
        t = t[t["n"].notna() & t["value"].notna() & (t["n"] > 0)].reset_index(drop=True)
        if kind == "rate" and (t["value"] > 1).any():
            raise DataError(f"{value!r} must be a proportion (0-1) for kind='rate'")
        if kind == "count" and (t["value"] < 0).any():
            raise DataError(f"{value!r} must be events per unit of {n!r} (0 or more)")
        if kind == "mean" and sd is None:
            raise DataError("a funnel of unit means needs sd= (the pupil-level standard deviation)")
        eff = t["n"].to_numpy(float)
    if target is None:
        target = float(np.sum(eff * t["value"]) / np.sum(eff))
    t["target"] = target
    if kind == "rate":
        spread = np.sqrt(target * (1 - target) / eff)
    elif kind == "count":
        spread = np.sqrt(target / eff)
    else:
        spread = float(sd) / np.sqrt(eff)
    phi, tau2 = np.nan, 0.0
    if overdispersion:
        phi, tau2 = _overdispersion(t["value"].to_numpy(float), target, spread)
        spread = np.sqrt(spread**2 + tau2)
    t["phi"], t["tau2"] = phi, tau2
    exact = kind in ("rate", "count") and not overdispersion
    t["limits"] = ("exact binomial" if kind == "rate" else "exact Poisson") if exact else "normal"
    for z, tag, tail in ((Z95, "95", 0.025), (Z998, "998", 0.001)):
        if exact and kind == "count":
            lo, hi = poisson_limits(target, eff, tail), poisson_limits(target, eff, 1 - tail)
        elif exact:
            lo, hi = binomial_limits(target, eff, tail), binomial_limits(target, eff, 1 - tail)
        else:
            lo, hi = target - z * spread, target + z * spread
        if kind == "rate":
            lo, hi = np.clip(lo, 0, 1), np.clip(hi, 0, 1)
        elif kind == "count":
            lo = np.maximum(lo, 0.0)
        t[f"lower{tag}"], t[f"upper{tag}"] = lo, hi
    for tag, tail in (("95", 0.025), ("998", 0.001)):
        low, high = t["value"] < t[f"lower{tag}"], t["value"] > t[f"upper{tag}"]
        if exact and kind == "count":
            count = np.rint(t["value"].to_numpy(float) * eff)
            low &= st.poisson.cdf(count, target * eff) < tail
            high &= st.poisson.sf(count - 1, target * eff) < tail
        elif exact:
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


def funnel_curve(result: pd.DataFrame) -> pd.DataFrame:
    """Return the limits of a :func:`funnel` result as curves over its range of n, for drawing.

    The spread at n = 1 is recovered from the row with the largest n (half-width at 99.8% times
    ``sqrt(n)`` over ``Z998``, less ``tau2``). Exact binomial limits are evaluated at every whole
    n in range (so their steps show); normal limits at 200 points. Rates are clipped to [0, 1].

    Returns
    -------
    DataFrame
        ``n``, ``lower95``, ``upper95``, ``lower998``, ``upper998``.

    Examples
    --------
    >>> t = pd.DataFrame({"school": ["A", "B"], "n": [100, 400], "rate": [0.7, 0.6]})
    >>> list(funnel_curve(funnel(t, "rate", "school", kind="rate", n="n")).columns)
    ['n', 'lower95', 'upper95', 'lower998', 'upper998']
    """
    need_columns(result, ["unit", "n", "value", "target", "outside998"], "funnel result")
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
    method = result["limits"].iloc[0] if "limits" in result.columns else "normal"
    exact = method == "exact binomial"
    if method == "exact Poisson":  # smooth in n: the interpolation also runs between counts
        rate_like = False
        out = {"n": ns}
        for tail, tag in ((0.025, "95"), (0.001, "998")):
            out[f"lower{tag}"] = poisson_limits(target, ns, tail)
            out[f"upper{tag}"] = poisson_limits(target, ns, 1 - tail)
        return pd.DataFrame(out)
    if exact:  # the step-interpolated limits at every whole n in range
        ns = np.arange(max(1, int(ns[0])), int(np.ceil(ns[-1])) + 1, dtype=float)
    out = {"n": ns}
    for z, tag in ((Z95, "95"), (Z998, "998")):
        sp = np.sqrt(k**2 / ns + tau2)
        lo, hi = target - z * sp, target + z * sp
        if exact:
            tail = 0.025 if z == Z95 else 0.001
            lo, hi = binomial_limits(target, ns, tail), binomial_limits(target, ns, 1 - tail)
        if rate_like:
            lo, hi = np.clip(lo, 0, 1), np.clip(hi, 0, 1)
        out[f"lower{tag}"], out[f"upper{tag}"] = lo, hi
    return pd.DataFrame(out)
