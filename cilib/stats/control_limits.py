"""Control limits per chart kind: centre line, limits and sigma for each phase of each series.

Formulas are in :mod:`cilib.stats.spc` and ``docs/spc.md``; the rules that read the limits are in
:mod:`cilib.stats.run_rules`.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import special

from cilib.core.errors import DataError

#: Chart kinds that :func:`cilib.stats.spc.chart` accepts.
KINDS: tuple[str, ...] = ("run", "xmr", "p", "u", "pp", "up", "xbar_s")
#: Charts of counts over a denominator: p (proportions), u (rates), and Laney's p′ and u′.
RATE_KINDS: tuple[str, ...] = ("p", "u", "pp", "up")

#: d2 for moving ranges of two points; 3 / D2 = 2.66 (2.6596 unrounded).
D2 = 1.128
#: D4 for moving ranges of two points: the upper limit of the moving-range chart.
D4 = 3.267


def c4(n: np.ndarray | float) -> np.ndarray:
    """Return the bias-correction constant c₄(n) = √(2/(n−1)) Γ(n/2) / Γ((n−1)/2).

    NaN for n < 2.

    Examples
    --------
    >>> round(float(c4(5)), 4)
    0.94
    """
    n = np.asarray(n, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.sqrt(2.0 / (n - 1)) * np.exp(special.gammaln(n / 2) - special.gammaln((n - 1) / 2))
    return np.where(n >= 2, out, np.nan)


def _a3(n: np.ndarray) -> np.ndarray:
    return 3.0 / (c4(n) * np.sqrt(np.asarray(n, dtype=float)))


def _b3_b4(n: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    c = c4(n)
    k = 3.0 * np.sqrt(1.0 - c**2) / c
    return np.maximum(1.0 - k, 0.0), 1.0 + k


def _label_mask(labels: list, chosen: Sequence | None, what: str) -> np.ndarray:
    mask = np.zeros(len(labels), dtype=bool)
    if chosen is None:
        return mask
    if isinstance(chosen, (str, bytes)) or not isinstance(chosen, Sequence | np.ndarray | pd.Index):
        chosen = [chosen]
    pos = {lab: i for i, lab in enumerate(labels)}
    unknown = [c for c in chosen if c not in pos]
    if unknown:
        raise DataError(f"{what} names periods not in the data: {list(unknown)[:5]}")
    for c in chosen:
        mask[pos[c]] = True
    return mask


def _laney_sigma_z(
    y: np.ndarray, centre: np.ndarray, sigma: np.ndarray, base: np.ndarray, screen: bool
) -> np.ndarray:
    """Laney's sigma_z per series: the moving-range SD of the baseline points' z-scores.

    ``z_i = (y_i - centre) / sigma_i`` with the p (or u) chart's sigma at each point;
    ``sigma_z = mean|z_i - z_(i-1)| / 1.128`` over consecutive baseline points, after dropping
    moving ranges above ``3.267 × mean`` when ``screen`` (as for XmR charts and qicharts2).
    p′ and u′ limits are the p (u) limits with sigma multiplied by ``sigma_z`` (Laney 2002).
    """
    with np.errstate(invalid="ignore", divide="ignore"):
        z = (y - centre[:, None]) / sigma
    z = z[:, base]
    mr = np.abs(np.diff(z, axis=1))
    amr = np.nanmean(mr, axis=1)
    if screen:
        mr = np.where(mr < D4 * amr[:, None], mr, np.nan)
        amr = np.nanmean(mr, axis=1)
    return amr / D2


def limits(
    kind: str,
    labels: list,
    arrays: dict[str, np.ndarray],
    *,
    baseline: int | Sequence | None,
    phases: Sequence | None,
    exclude: Sequence | None,
    screen_outliers: bool,
    multiplier: float,
) -> tuple[dict[str, np.ndarray], list[dict]]:
    """Centre lines, limits and sigma of every series, phase by phase.

    Parameters
    ----------
    kind : str
        One of :data:`KINDS`.
    labels : list
        Period labels in time order.
    arrays : dict of str to ndarray
        Arrays of shape (series, periods) from :func:`cilib.stats.chart_data.prepare`.
    baseline, phases, exclude, screen_outliers, multiplier
        As in :class:`cilib.stats.spc.ChartOptions`.

    Returns
    -------
    out : dict of str to ndarray
        ``value``, ``centre``, ``lower``, ``upper``, ``sigma`` (multiplied for p and u kinds),
        ``ok`` (a value, not excluded), ``baseline`` (per period), ``excluded``, ``phase``, and
        the moving-range (xmr) or S chart (xbar_s) columns.
    phase_info : list of dict
        Per phase: ``phase`` (1, 2, …), ``start`` and ``stop`` (column slice), ``n_base`` (per
        series) and ``sigma_z`` (per series; NaN unless p′ or u′).
    """
    t = len(labels)
    excluded = _label_mask(labels, exclude, "exclude=")
    starts = _label_mask(labels, phases, "phases=")
    starts[0] = True
    phase = np.cumsum(starts)
    if baseline is None:
        base_sel = None
    elif isinstance(baseline, (int, np.integer)) and not isinstance(baseline, bool):
        if baseline < 1:
            raise DataError("baseline= must be a positive number of points or a list of periods")
        base_sel = int(baseline)
    else:
        base_sel = _label_mask(labels, baseline, "baseline=")

    if kind in RATE_KINDS:
        count, den = arrays["count"], arrays["n"]
        with np.errstate(invalid="ignore", divide="ignore"):
            y = count / den
    else:
        y = arrays["y"]
        den = arrays.get("n")
    s = y.shape[0]
    nan = np.full(y.shape, np.nan)
    out = {
        "value": y.copy(),
        "centre": nan.copy(),
        "lower": nan.copy(),
        "upper": nan.copy(),
        "sigma": nan.copy(),
        "baseline": np.zeros(t, dtype=bool),
    }
    if kind == "xmr":
        out.update(mr=nan.copy(), mr_centre=nan.copy(), mr_upper=nan.copy())
    if kind == "xbar_s":
        out.update(
            s=arrays["sd"].copy(), s_centre=nan.copy(), s_lower=nan.copy(), s_upper=nan.copy()
        )
    ok_all = np.isfinite(y) & ~excluded[None, :]
    phase_info: list[dict] = []
    with warnings.catch_warnings(), np.errstate(invalid="ignore", divide="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        for p in range(1, int(phase.max()) + 1):
            cols = np.flatnonzero(phase == p)
            a, b = cols[0], cols[-1] + 1
            usable_cols = ~excluded[a:b]
            if base_sel is None:
                base = usable_cols.copy()
            elif isinstance(base_sel, int):
                base = usable_cols & (np.arange(b - a) < base_sel)
            else:
                base = usable_cols & base_sel[a:b]
                if not base.any():
                    base = usable_cols.copy()
            out["baseline"][a:b] = base
            yb = y[:, a:b]
            ok = ok_all[:, a:b]
            bmask = ok & base[None, :]
            n_base = bmask.sum(axis=1)
            sigma_z = np.full(s, np.nan)
            if kind == "run":
                cl = np.nanmedian(np.where(bmask, yb, np.nan), axis=1)
                lo = hi = sig = np.full((s, b - a), np.nan)
            elif kind == "xmr":
                ybase = yb[:, base]  # excluded points removed; missing values stay (MR missing)
                mr = np.abs(np.diff(ybase, axis=1))
                amr = np.nanmean(mr, axis=1)
                if screen_outliers:
                    mr = np.where(mr < D4 * amr[:, None], mr, np.nan)
                    amr = np.nanmean(mr, axis=1)
                cl = np.nanmean(np.where(bmask, yb, np.nan), axis=1)
                sig = np.broadcast_to((amr / D2)[:, None], (s, b - a))
                lo, hi = cl[:, None] - 3 * sig, cl[:, None] + 3 * sig
                mr_pts = np.full((s, b - a), np.nan)
                mr_pts[:, 1:] = np.abs(np.diff(yb, axis=1))
                mr_cl = np.nanmean(np.where(bmask, mr_pts, np.nan), axis=1)
                out["mr"][:, a:b] = mr_pts
                out["mr_centre"][:, a:b] = mr_cl[:, None]
                out["mr_upper"][:, a:b] = D4 * mr_cl[:, None]
                n_base = np.minimum(n_base, np.isfinite(mr).sum(axis=1) + 1)
            elif kind in RATE_KINDS:
                cb = np.where(bmask, arrays["count"][:, a:b], np.nan)
                nb = np.where(bmask, den[:, a:b], np.nan)
                cl = np.nansum(cb, axis=1) / np.nansum(nb, axis=1)
                if kind in ("p", "pp"):
                    sig = np.sqrt(cl[:, None] * (1 - cl[:, None]) / den[:, a:b])
                else:
                    sig = np.sqrt(cl[:, None] / den[:, a:b])
                if kind in ("pp", "up"):
                    sigma_z = _laney_sigma_z(yb, cl, sig, base, screen_outliers)
                    sig = sig * sigma_z[:, None]
                lo = np.maximum(cl[:, None] - 3 * sig, 0.0)
                hi = cl[:, None] + 3 * sig
                if kind in ("p", "pp"):
                    hi = np.minimum(hi, 1.0)
            else:  # xbar_s
                nsub = den[:, a:b]
                sd = arrays["sd"][:, a:b]
                wb = np.where(bmask, nsub, 0.0)
                cl = np.nansum(wb * np.nan_to_num(yb), axis=1) / wb.sum(axis=1)
                sdok = bmask & (nsub >= 2)
                nmin = np.where(sdok, nsub, np.inf).min(axis=1)
                nmax = np.where(sdok, nsub, -np.inf).max(axis=1)
                sbar_const = np.nanmean(np.where(sdok, sd, np.nan), axis=1)
                w = np.where(sdok, nsub - 1, 0.0)
                sbar_pool = np.sqrt(np.nansum(w * np.nan_to_num(sd) ** 2, axis=1) / w.sum(axis=1))
                sbar = np.where(nmin == nmax, sbar_const, sbar_pool)
                n_base = sdok.sum(axis=1)
                a3 = _a3(nsub)
                lo = cl[:, None] - a3 * sbar[:, None]
                hi = cl[:, None] + a3 * sbar[:, None]
                sig = (hi - cl[:, None]) / 3
                b3, b4 = _b3_b4(nsub)
                out["s_centre"][:, a:b] = sbar[:, None]
                out["s_lower"][:, a:b] = b3 * sbar[:, None]
                out["s_upper"][:, a:b] = b4 * sbar[:, None]
            clb = np.broadcast_to(cl[:, None], (s, b - a))
            if kind in RATE_KINDS:
                m = multiplier
                out["value"][:, a:b] = yb * m
                clb, lo, hi, sig = clb * m, lo * m, hi * m, sig * m
            out["centre"][:, a:b] = clb
            out["lower"][:, a:b] = lo
            out["upper"][:, a:b] = hi
            out["sigma"][:, a:b] = sig
            phase_info.append(
                {"phase": p, "start": a, "stop": b, "n_base": n_base, "sigma_z": sigma_z}
            )
    out["ok"] = ok_all
    out["excluded"] = np.broadcast_to(excluded[None, :], y.shape)
    out["phase"] = np.broadcast_to(phase[None, :], y.shape)
    return out, phase_info
