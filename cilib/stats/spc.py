"""Run charts and control charts with the rules improvement teams use.

Chart kinds
-----------
``run``
    Median centre line, no limits; Anhøj runs analysis (shift and crossings), optional trend.
``xmr``
    Individuals chart. Centre = mean; limits = mean ± 3 × MR̄ / 1.128 (= 2.66 × MR̄), where MR̄
    is the mean moving range. With ``screen_outliers`` moving ranges ≥ 3.267 × MR̄ are dropped
    once and MR̄ is recomputed (Provost and Murray; as qicharts2). The moving-range chart is
    returned too (``mr``, ``mr_centre``, ``mr_upper`` = 3.267 × mean MR).
``p``
    Proportions. ``value`` is the count of successes, ``n`` the number of trials.
    p̄ = Σ count / Σ n; limits p̄ ± 3 √(p̄(1 − p̄) / nᵢ), clipped to [0, 1].
``u``
    Rates. ``value`` is the count of events, ``n`` the exposure.
    ū = Σ count / Σ n; limits ū ± 3 √(ū / nᵢ), lower clipped at 0.
``xbar_s``
    Subgroup means from pupil-level rows grouped by period. x̿ = Σ nᵢ x̄ᵢ / Σ nᵢ;
    s̄ = mean of sᵢ when all subgroups have the same size, else the pooled
    √(Σ (nᵢ − 1) sᵢ² / Σ (nᵢ − 1)) (Montgomery 6.29 / 6.31); limits x̿ ± A₃(nᵢ) s̄ with
    A₃ = 3 / (c₄ √n). The S chart is returned too (``s``, ``s_centre`` = s̄, ``s_lower`` = B₃ s̄,
    ``s_upper`` = B₄ s̄ with B₃,₄ = 1 ∓ 3 √(1 − c₄²) / c₄, B₃ ≥ 0).

Rules (each point is labelled with every rule it triggers)
-----------------------------------------------------------
``outside limits``
    The point lies above the upper or below the lower limit (control charts; also flagged on
    excluded points, which are drawn but never used for limits or runs).
``shift``
    The point belongs to a run of points on one side of the centre line longer than
    round(log2(n_useful)) + 3, where n_useful counts the points not on the centre line
    (Anhøj rule as in qicharts2). Points on the centre line neither break nor extend a run.
``trend``
    The point belongs to ``trend_length`` (default 6, as in NHS "Making Data Count") or more
    consecutive points each strictly higher (or lower) than the one before; an equal value breaks
    the trend. Off by default for run charts (Anhøj rules do not use it), on for control charts.
``2 of 3 beyond 2 sigma``
    Two of three consecutive points lie more than 2 sigma from the centre on the same side
    (control charts; sigma = (upper − centre) / 3 before clipping). The points beyond 2 sigma are
    flagged.

A chart-level rule, too few crossings, is reported in the summary only: the number of times the
line crosses the centre is below ``qbinom(0.05, n_useful − 1, 0.5)`` (``scipy.stats.binom.ppf``).
All rules run per phase, on points that are neither missing nor excluded.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import special, stats

from cilib.core.errors import DataError

__all__ = [
    "KINDS",
    "chart",
    "chart_many",
    "runs_analysis",
    "plot",
    "plot_groups",
    "gap_chart",
]

#: Chart kinds that :func:`chart` accepts.
KINDS: tuple[str, ...] = ("run", "xmr", "p", "u", "pp", "up", "xbar_s")
#: Charts of counts over a denominator: p (proportions), u (rates), and Laney's p′ and u′.
RATE_KINDS: tuple[str, ...] = ("p", "u", "pp", "up")

#: d2 for moving ranges of two points; 3 / D2 = 2.66 (2.6596 unrounded).
D2 = 1.128
#: D4 for moving ranges of two points: the upper limit of the moving-range chart.
D4 = 3.267
#: Fewer points than this in a phase: limits are provisional (stated in the summary note).
FEW_POINTS = 12

RULE_OUTSIDE = "outside limits"
RULE_SHIFT = "shift"
RULE_TREND = "trend"
RULE_TWO_OF_THREE = "2 of 3 beyond 2 sigma"

VAR_IMPROVING = "special cause improving"
VAR_CONCERNING = "special cause concerning"
VAR_NEITHER = "special cause neither improving nor concerning"
VAR_COMMON = "common cause"
ASSURE_CHANCE = "target within limits: will be met only by chance"
ASSURE_PASS = "target outside limits: consistently passes"
ASSURE_FAIL = "target outside limits: consistently fails"


# --------------------------------------------------------------------------------------------
# Constants
# --------------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------------
# Runs analysis
# --------------------------------------------------------------------------------------------


def longest_run_max(n_useful: np.ndarray | int) -> np.ndarray:
    """Upper limit of the expected longest run: round(log2(n_useful)) + 3 (Schilling).

    Examples
    --------
    >>> int(longest_run_max(24)), int(longest_run_max(40)), int(longest_run_max(10))
    (8, 8, 6)
    """
    n = np.asarray(n_useful, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.round(np.log2(n)) + 3
    return np.where(n > 0, out, np.nan)


def crossings_min(n_useful: np.ndarray | int) -> np.ndarray:
    """Lower limit of the expected number of crossings: qbinom(0.05, n_useful − 1, 0.5) (Chen).

    Examples
    --------
    >>> int(crossings_min(24)), int(crossings_min(40)), int(crossings_min(10))
    (8, 14, 2)
    """
    n = np.asarray(n_useful, dtype=float)
    out = stats.binom.ppf(0.05, np.maximum(n - 1, 0), 0.5)
    return np.where(n > 0, out, np.nan)


def _run_lengths(codes: np.ndarray, valid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per position: length so far of its run, and full length of its run (0 where invalid).

    A run continues from t−1 to t when both are valid and have equal codes. Vectorised over rows.
    """
    s, length = codes.shape
    so_far = np.zeros((s, length), dtype=np.int64)
    if length == 0:
        return so_far, so_far.copy()
    so_far[:, 0] = valid[:, 0]
    for t in range(1, length):
        same = valid[:, t] & valid[:, t - 1] & (codes[:, t] == codes[:, t - 1])
        so_far[:, t] = np.where(valid[:, t], np.where(same, so_far[:, t - 1] + 1, 1), 0)
    full = so_far.copy()
    for t in range(length - 2, -1, -1):
        cont = valid[:, t] & valid[:, t + 1] & (codes[:, t + 1] == codes[:, t])
        full[:, t] = np.where(cont, full[:, t + 1], so_far[:, t])
    return so_far, full


def _compress(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return (order, valid): a stable order moving masked positions to the front of each row."""
    order = np.argsort(~mask, axis=1, kind="stable")
    count = mask.sum(axis=1)
    valid = np.arange(mask.shape[1])[None, :] < count[:, None]
    return order, valid


def _scatter(order: np.ndarray, values: np.ndarray) -> np.ndarray:
    out = np.zeros_like(values)
    np.put_along_axis(out, order, values, axis=1)
    return out


def _runs_block(y: np.ndarray, centre: np.ndarray, ok: np.ndarray) -> dict[str, np.ndarray]:
    """Anhøj runs analysis on a (series × points) block; returns per-row stats and shift flags."""
    with np.errstate(invalid="ignore"):
        side = np.sign(y - centre)
    useful = ok & np.isfinite(side) & (side != 0)
    order, valid = _compress(useful)
    side_c = np.take_along_axis(np.nan_to_num(side), order, axis=1)
    so_far, full = _run_lengths(side_c, valid)
    n_useful = useful.sum(axis=1)
    longest = so_far.max(axis=1) if so_far.shape[1] else np.zeros(len(y), dtype=np.int64)
    if side_c.shape[1] > 1:
        crossings = (valid[:, 1:] & (side_c[:, 1:] != side_c[:, :-1])).sum(axis=1)
    else:
        crossings = np.zeros(len(y), dtype=np.int64)
    lrm = longest_run_max(n_useful)
    cmin = crossings_min(n_useful)
    shift_c = valid & (full > lrm[:, None])
    shift = _scatter(order, shift_c)
    return {
        "n_useful": n_useful,
        "longest_run": np.where(n_useful > 0, longest, np.nan),
        "longest_run_max": lrm,
        "crossings": np.where(n_useful > 0, crossings, np.nan),
        "crossings_min": cmin,
        "shift_signal": np.where(n_useful > 0, longest > lrm, False),
        "crossings_signal": np.where(n_useful > 0, crossings < cmin, False),
        "shift": shift,
    }


def _trend_block(y: np.ndarray, ok: np.ndarray, trend_length: int) -> tuple[np.ndarray, np.ndarray]:
    """Flag points in runs of ≥ trend_length strictly rising or falling points; return direction."""
    order, valid = _compress(ok)
    v = np.take_along_axis(np.nan_to_num(y), order, axis=1)
    s, length = v.shape
    flags = np.zeros((s, length), dtype=bool)
    direction = np.zeros((s, length), dtype=np.int8)
    if length >= 2:
        d = np.sign(v[:, 1:] - v[:, :-1])
        dvalid = valid[:, 1:] & valid[:, :-1] & (d != 0)
        _, full = _run_lengths(d, dvalid)
        hit = dvalid & (full + 1 >= trend_length)  # k equal diffs span k + 1 points
        flags[:, 1:] |= hit
        flags[:, :-1] |= hit
        dir_hit = np.where(hit, d, 0).astype(np.int8)
        direction[:, 1:] = np.where(hit, dir_hit, direction[:, 1:])
        direction[:, :-1] = np.where(hit, dir_hit, direction[:, :-1])
    return _scatter(order, flags), _scatter(order, direction)


def _two_of_three_block(z: np.ndarray, ok: np.ndarray) -> np.ndarray:
    """Flag points beyond 2 sigma when two of three consecutive (usable) points are, same side."""
    usable = ok & np.isfinite(z)
    order, valid = _compress(usable)
    zc = np.take_along_axis(np.nan_to_num(z), order, axis=1)
    s, length = zc.shape
    flags = np.zeros((s, length), dtype=bool)
    for sign in (1, -1):
        beyond = valid & (sign * zc > 2)
        for j in range(0, max(length - 2, 0)):
            win = beyond[:, j : j + 3]
            hit = (win.sum(axis=1) >= 2) & valid[:, j + 2]
            flags[:, j : j + 3] |= win & hit[:, None]
    return _scatter(order, flags)


def runs_analysis(values: Sequence[float], centre: float | Sequence[float]) -> dict[str, Any]:
    """Anhøj runs analysis of one series around a centre line.

    ``longest_run_max`` = round(log2(n_useful)) + 3; ``crossings_min`` =
    qbinom(0.05, n_useful − 1, 0.5); points equal to the centre and missing points are skipped.

    Parameters
    ----------
    values : sequence of float
        The series, in time order.
    centre : float or sequence of float
        The centre line (median for a run chart).

    Returns
    -------
    dict
        ``n_useful``, ``longest_run``, ``longest_run_max``, ``crossings``, ``crossings_min``,
        ``shift_signal``, ``crossings_signal``, ``runs_signal`` (either).

    Examples
    --------
    >>> r = runs_analysis([1, 2, 3, 7, 8, 9, 4, 5, 6, 10], 5.5)
    >>> r["longest_run"], r["crossings"], r["n_useful"]
    (3, 3, 10)
    """
    y = np.asarray(values, dtype=float)[None, :]
    cl = np.broadcast_to(np.asarray(centre, dtype=float), y.shape[1:])[None, :]
    r = _runs_block(y, cl, np.isfinite(y))
    out = {
        "n_useful": int(r["n_useful"][0]),
        "longest_run": _num(r["longest_run"][0]),
        "longest_run_max": _num(r["longest_run_max"][0]),
        "crossings": _num(r["crossings"][0]),
        "crossings_min": _num(r["crossings_min"][0]),
        "shift_signal": bool(r["shift_signal"][0]),
        "crossings_signal": bool(r["crossings_signal"][0]),
    }
    out["runs_signal"] = out["shift_signal"] or out["crossings_signal"]
    return out


def _num(x: float) -> int | float:
    x = float(x)
    return int(x) if np.isfinite(x) and x == int(x) else x


# --------------------------------------------------------------------------------------------
# Input preparation
# --------------------------------------------------------------------------------------------


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


def _check_columns(df: pd.DataFrame, cols: Sequence[str]) -> None:
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


def _prepare(
    df: pd.DataFrame,
    value: str,
    period: str,
    by: Sequence[str],
    kind: str,
    n: str | None,
    order: Sequence | None,
) -> tuple[pd.DataFrame, list, dict[str, np.ndarray]]:
    """Return (series keys, period labels, arrays of shape (series, periods))."""
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
    _check_columns(df, cols)
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


# --------------------------------------------------------------------------------------------
# Engine
# --------------------------------------------------------------------------------------------


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


def _engine(
    kind: str,
    labels: list,
    arrays: dict[str, np.ndarray],
    *,
    baseline: int | Sequence | None,
    phases: Sequence | None,
    exclude: Sequence | None,
    screen_outliers: bool,
    trend: bool | None,
    trend_length: int,
    multiplier: float,
) -> tuple[dict[str, np.ndarray], list[dict[str, np.ndarray]]]:
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
    if trend is None:
        trend = kind != "run"

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
        "shift": np.zeros(y.shape, dtype=bool),
        "trend": np.zeros(y.shape, dtype=bool),
        "trend_dir": np.zeros(y.shape, dtype=np.int8),
        "two3": np.zeros(y.shape, dtype=bool),
    }
    if kind == "xmr":
        out.update(mr=nan.copy(), mr_centre=nan.copy(), mr_upper=nan.copy())
    if kind == "xbar_s":
        out.update(
            s=arrays["sd"].copy(), s_centre=nan.copy(), s_lower=nan.copy(), s_upper=nan.copy()
        )
    ok_all = np.isfinite(y) & ~excluded[None, :]
    summaries: list[dict[str, np.ndarray]] = []
    warnings_ctx = warnings.catch_warnings()
    with warnings_ctx, np.errstate(invalid="ignore", divide="ignore"):
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
                    sigma_z_phase = sigma_z
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
            vals = out["value"][:, a:b]
            r = _runs_block(vals, clb, ok)
            out["shift"][:, a:b] = r.pop("shift")
            if trend:
                tf, td = _trend_block(vals, ok, trend_length)
                out["trend"][:, a:b] = tf
                out["trend_dir"][:, a:b] = td
            if kind != "run":
                out["two3"][:, a:b] = _two_of_three_block((vals - clb) / sig, ok)
            r["n_obs"] = ok.sum(axis=1)
            r["sigma_z"] = sigma_z_phase if kind in ("pp", "up") else np.full(s, np.nan)
            r["n_base"] = n_base
            r["phase"] = np.full(s, p)
            summaries.append(r)
    with np.errstate(invalid="ignore"):
        out["outside"] = (out["value"] > out["upper"]) | (out["value"] < out["lower"])
    out["excluded"] = np.broadcast_to(excluded[None, :], y.shape)
    out["phase"] = np.broadcast_to(phase[None, :], y.shape)
    return out, summaries


def _rules_text(out: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    parts = [
        (out["outside"], RULE_OUTSIDE),
        (out["shift"], RULE_SHIFT),
        (out["trend"], RULE_TREND),
        (out["two3"], RULE_TWO_OF_THREE),
    ]
    signal = np.zeros(out["outside"].shape, dtype=bool)
    codes = np.zeros(out["outside"].shape, dtype=np.int64)
    for i, (flag, _) in enumerate(parts):
        signal |= flag
        codes |= flag.astype(np.int64) << i
    table = []
    for c in range(16):
        table.append(", ".join(name for i, (_, name) in enumerate(parts) if c >> i & 1))
    return signal, np.asarray(table, dtype=object)[codes]


def _variation(out, signal, improvement) -> tuple[np.ndarray, np.ndarray]:
    """Per series: variation label set by the latest point, as NHS Making Data Count does.

    Special cause only while the latest usable point (a value, not excluded, in the current
    phase) is itself part of a signal (beyond the limits, in a shift or trend, or 2 of 3 beyond
    2 sigma); a spike long ago no longer colours today's label.
    """
    s, t = signal.shape
    last_phase = out["phase"][:, -1:] if t else np.zeros((s, 1))
    usable = np.isfinite(out["value"]) & ~out["excluded"] & (out["phase"] == last_phase)
    idx = t - 1 - np.argmax(usable[:, ::-1], axis=1)
    rows = np.arange(s)
    any_sig = usable.any(axis=1) & signal[rows, idx]
    with np.errstate(invalid="ignore"):
        side = np.sign(out["value"][rows, idx] - out["centre"][rows, idx])
    only_trend = out["trend"][rows, idx] & ~(
        out["outside"][rows, idx] | out["shift"][rows, idx] | out["two3"][rows, idx]
    )
    direction = np.where(only_trend, out["trend_dir"][rows, idx], side)
    good = direction > 0 if improvement == "up" else direction < 0
    bad = direction < 0 if improvement == "up" else direction > 0
    label = np.where(good, VAR_IMPROVING, np.where(bad, VAR_CONCERNING, VAR_NEITHER))
    return np.where(any_sig, label, VAR_COMMON).astype(object), idx


def _assurance(out, kind, improvement, target) -> np.ndarray:
    s, t = out["value"].shape
    if target is None or kind == "run" or t == 0:
        return np.full(s, None, dtype=object)
    lo, hi = out["lower"], out["upper"]
    has = np.isfinite(lo) & np.isfinite(hi) & (out["phase"] == out["phase"][:, -1:])
    idx = t - 1 - np.argmax(has[:, ::-1], axis=1)
    rows = np.arange(s)
    lo_last, hi_last = lo[rows, idx], hi[rows, idx]
    if improvement == "up":
        passes, fails = target <= lo_last, target > hi_last
    else:
        passes, fails = target >= hi_last, target < lo_last
    lab = np.where(passes, ASSURE_PASS, np.where(fails, ASSURE_FAIL, ASSURE_CHANCE)).astype(object)
    lab[~has.any(axis=1)] = None
    return lab


def _check_options(improvement: str, trend_length: int, multiplier: float) -> None:
    if improvement not in ("up", "down"):
        raise DataError(f"improvement={improvement!r}: use 'up' or 'down' (the good direction)")
    if not isinstance(trend_length, (int, np.integer)) or trend_length < 3:
        raise DataError("trend_length must be a whole number of at least 3 points")
    if not multiplier > 0:
        raise DataError("multiplier must be a positive number (e.g. 100 for per cent)")


def _build(
    df,
    value,
    period,
    by,
    *,
    kind,
    n,
    baseline,
    phases,
    exclude,
    improvement,
    target,
    screen_outliers,
    order,
    trend,
    trend_length,
    multiplier,
):
    _check_options(improvement, trend_length, multiplier)
    keys, labels, arrays = _prepare(df, value, period, by, kind, n, order)
    out, summaries = _engine(
        kind,
        labels,
        arrays,
        baseline=baseline,
        phases=phases,
        exclude=exclude,
        screen_outliers=screen_outliers,
        trend=trend,
        trend_length=trend_length,
        multiplier=multiplier,
    )
    signal, rules = _rules_text(out)
    variation, _ = _variation(out, signal, improvement)
    assurance = _assurance(out, kind, improvement, target)
    return keys, labels, arrays, out, summaries, signal, rules, variation, assurance


_POINT_COLS = ("value", "centre", "lower", "upper")


def _points_frame(keys, labels, arrays, out, signal, rules, kind, target) -> pd.DataFrame:
    s, t = out["value"].shape
    keep = arrays["present"].ravel()
    data: dict[str, Any] = {}
    for c in keys.columns:
        data[c] = np.repeat(keys[c].to_numpy(), t)
    data["period"] = np.tile(np.asarray(labels, dtype=object), s)
    for c in _POINT_COLS:
        data[c] = out[c].ravel()
    if kind in RATE_KINDS:
        data["count"] = arrays["count"].ravel()
    if kind in (*RATE_KINDS, "xbar_s"):
        data["n"] = arrays["n"].ravel()
    if kind == "xmr":
        for c in ("mr", "mr_centre", "mr_upper"):
            data[c] = out[c].ravel()
    if kind == "xbar_s":
        for c in ("s", "s_centre", "s_lower", "s_upper"):
            data[c] = out[c].ravel()
    data["target"] = np.full(s * t, np.nan if target is None else float(target))
    data["phase"] = out["phase"].ravel().astype(np.int64)
    data["excluded"] = out["excluded"].ravel().copy()
    data["baseline"] = np.broadcast_to(out["baseline"][None, :], (s, t)).ravel().copy()
    data["signal"] = signal.ravel()
    data["rules"] = rules.ravel()
    frame = pd.DataFrame(data)
    frame = frame.loc[keep].reset_index(drop=True)
    frame["rules"] = frame["rules"].astype("str")
    frame["period"] = frame["period"].infer_objects()
    return frame


def _summary_frame(keys, summaries, variation, assurance, kind, improvement, target):
    last = summaries[-1]
    s = len(keys)
    frame = keys.copy() if len(keys.columns) else pd.DataFrame(index=range(s))
    frame["variation"] = variation
    frame["assurance"] = assurance
    for k in ("n_obs", "n_useful", "longest_run", "longest_run_max", "crossings", "crossings_min"):
        frame[k] = last[k]
    frame["shift_signal"] = last["shift_signal"].astype(bool)
    frame["crossings_signal"] = last["crossings_signal"].astype(bool)
    frame["runs_signal"] = frame["shift_signal"] | frame["crossings_signal"]
    # too few crossings is special cause without a direction
    crossing_only = (frame["variation"] == VAR_COMMON) & frame["crossings_signal"]
    frame.loc[crossing_only, "variation"] = VAR_NEITHER
    frame["phase"] = last["phase"]
    frame["n_base"] = last["n_base"]
    frame["sigma_z"] = last["sigma_z"]
    return frame


def chart_many(
    df: pd.DataFrame,
    value: str,
    period: str,
    by: str | Sequence[str],
    *,
    kind: str = "run",
    n: str | None = None,
    baseline: int | Sequence | None = None,
    phases: Sequence | None = None,
    exclude: Sequence | None = None,
    improvement: str = "up",
    target: float | None = None,
    screen_outliers: bool = True,
    order: Sequence | None = None,
    trend: bool | None = None,
    trend_length: int = 6,
    multiplier: float = 1.0,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Chart many series at once (one per combination of ``by``), vectorised with numpy.

    Same formulas and options as :func:`chart`; ``baseline``, ``phases`` and ``exclude`` apply to
    every series. A series with too few points gets missing limits instead of an error; its
    summary row has ``n_base`` below what the chart needs.

    Parameters
    ----------
    df, value, period, kind, n, baseline, phases, exclude, improvement, target, \
screen_outliers, order, trend, trend_length, multiplier
        As in :func:`chart`.
    by : str or sequence of str
        Column(s) identifying each series (e.g. ``"school_id"``).

    Returns
    -------
    points : DataFrame
        One row per series and period: the ``by`` columns and the columns of :func:`chart`.
    summary : DataFrame
        One row per series: the ``by`` columns and the summary keys of :func:`chart` for the
        current (last) phase.

    Examples
    --------
    >>> df = pd.DataFrame({"school": ["A"] * 4 + ["B"] * 4, "t": [1, 2, 3, 4] * 2,
    ...                    "y": [1.0, 2.0, 1.0, 2.0, 5.0, 5.0, 6.0, 6.0]})
    >>> pts, summ = chart_many(df, "y", "t", "school", kind="xmr")
    >>> summ[["school", "variation"]].to_dict("list")
    {'school': ['A', 'B'], 'variation': ['common cause', 'common cause']}
    >>> float(pts.loc[0, "centre"]), float(pts.loc[4, "centre"])
    (1.5, 5.5)
    """
    by = [by] if isinstance(by, str) else list(by)
    if not by:
        raise DataError("by= must name at least one column; use chart() for a single series")
    keys, labels, arrays, out, summaries, signal, rules, variation, assurance = _build(
        df,
        value,
        period,
        by,
        kind=kind,
        n=n,
        baseline=baseline,
        phases=phases,
        exclude=exclude,
        improvement=improvement,
        target=target,
        screen_outliers=screen_outliers,
        order=order,
        trend=trend,
        trend_length=trend_length,
        multiplier=multiplier,
    )
    points = _points_frame(keys, labels, arrays, out, signal, rules, kind, target)
    summary = _summary_frame(keys, summaries, variation, assurance, kind, improvement, target)
    return points, summary


def _min_base(kind: str) -> int:
    return 1 if kind in ("run", *RATE_KINDS, "xbar_s") else 2


def chart(
    df: pd.DataFrame,
    value: str,
    period: str,
    *,
    kind: str = "run",
    n: str | None = None,
    baseline: int | Sequence | None = None,
    phases: Sequence | None = None,
    exclude: Sequence | None = None,
    improvement: str = "up",
    target: float | None = None,
    screen_outliers: bool = True,
    order: Sequence | None = None,
    trend: bool | None = None,
    trend_length: int = 6,
    multiplier: float = 1.0,
) -> pd.DataFrame:
    """Compute a run chart or control chart with its signals and improvement-team labels.

    Formulas are given in the module docstring (:mod:`cilib.stats.spc`) and in ``docs/spc.md``.

    Parameters
    ----------
    df : DataFrame
        One row per period (``run``, ``xmr``, ``p``, ``u``) or pupil-level rows (``xbar_s``).
        Not modified.
    value : str
        Column plotted: the measure (run, xmr), the count of successes (p), the count of events
        (u), or the pupil-level score (xbar_s).
    period : str
        Column of period labels: an ordered categorical, or sortable labels, or see ``order``.
    kind : {"run", "xmr", "p", "u", "pp", "up", "xbar_s"}
        Chart type; ``pp`` and ``up`` are Laney's p′ and u′ charts (qicharts2's names): the p (u)
        chart's sigma at each point times ``sigma_z``, the moving-range SD of the points'
        z-scores, for large denominators whose points vary more than binomial (Poisson) chance.
    n : str, optional
        Column of trials (p, pp) or exposure (u, up); required for those kinds.
    baseline : int or list of period labels, optional
        Freeze centre and limits on the first ``baseline`` periods of each phase (excluded and
        missing points among them are not used), or on the listed periods (a phase without listed
        periods uses all its points).
    phases : list of period labels, optional
        Periods where a new phase begins (limits recalculated from there).
    exclude : list of period labels, optional
        Points drawn but not used for limits or runs analysis.
    improvement : {"up", "down"}
        Which direction is good.
    target : float, optional
        Target line; used for the assurance label (control charts).
    screen_outliers : bool
        XmR only: drop moving ranges ≥ 3.267 × MR̄ before computing limits.
    order : list, optional
        Period labels in time order (overrides sorting).
    trend : bool, optional
        Apply the trend rule (default: off for run charts, on for control charts).
    trend_length : int
        Number of consecutive rising or falling points that make a trend (default 6).
    multiplier : float
        p and u only: scale the plotted value, centre and limits (100 for per cent).

    Returns
    -------
    DataFrame
        One row per period, sorted by period: ``period``, ``value``, ``centre``, ``lower``,
        ``upper`` (NaN for run charts), ``count`` and ``n`` (p, u), ``n`` (xbar_s), ``mr``,
        ``mr_centre``, ``mr_upper`` (xmr), ``s``, ``s_centre``, ``s_lower``, ``s_upper``
        (xbar_s), ``target``, ``phase`` (1, 2, …), ``excluded``, ``baseline`` (used for
        limits), ``signal`` and ``rules`` (rule names joined by ", "). ``.attrs["summary"]`` is a
        dict for the current (last) phase: ``variation``, ``assurance``, ``longest_run``,
        ``longest_run_max``, ``crossings``, ``crossings_min``, ``n_useful``, ``n_obs``,
        ``shift_signal``, ``crossings_signal``, ``runs_signal`` (either), ``kind``,
        ``improvement``, ``target``, ``note``, ``sigma_z`` (p′ and u′: Laney's factor; NaN
        otherwise) and ``phases`` (the same runs figures per phase).

    Raises
    ------
    DataError
        Missing columns, missing or duplicated periods, negative counts, zero denominators,
        counts above trials, unknown period labels in options, or too few points.

    Notes
    -----
    Missing values are drawn as a gap and skipped by every calculation. A missing period label is
    an error. A point with a missing denominator is a gap.

    Examples
    --------
    >>> df = pd.DataFrame({"ht": [1, 2, 3, 4, 5, 6], "att": [94.0, 95, 93, 96, 94, 95]})
    >>> res = chart(df, "att", "ht", kind="xmr")
    >>> float(res["centre"].iloc[0])  # mean of the six points
    94.5
    >>> round(float(res["upper"].iloc[0]), 3)  # MR = 1,2,3,2,1; 94.5 + 3 * 1.8 / 1.128
    99.287
    >>> res.attrs["summary"]["variation"]
    'common cause'
    """
    keys, labels, arrays, out, summaries, signal, rules, variation, assurance = _build(
        df,
        value,
        period,
        [],
        kind=kind,
        n=n,
        baseline=baseline,
        phases=phases,
        exclude=exclude,
        improvement=improvement,
        target=target,
        screen_outliers=screen_outliers,
        order=order,
        trend=trend,
        trend_length=trend_length,
        multiplier=multiplier,
    )
    if len(labels) < 2:
        raise DataError(f"a {kind} chart needs at least 2 periods; found {len(labels)}")
    need = _min_base(kind)
    for r in summaries:
        if int(r["n_base"][0]) < need:
            what = "subgroups with 2 or more values" if kind == "xbar_s" else "usable points"
            raise DataError(
                f"phase {int(r['phase'][0])} has {int(r['n_base'][0])} baseline {what}; a {kind} "
                f"chart needs at least {need}. Add data, move the phase start or widen baseline="
            )
    points = _points_frame(keys, labels, arrays, out, signal, rules, kind, target)
    summ = _summary_frame(keys, summaries, variation, assurance, kind, improvement, target)
    d = {k: _pyval(v) for k, v in summ.iloc[0].to_dict().items()}
    d.update(kind=kind, improvement=improvement, target=target)
    d["phases"] = [
        {
            k: _pyval(r[k][0])
            for k in (
                "phase",
                "n_obs",
                "n_useful",
                "longest_run",
                "longest_run_max",
                "crossings",
                "crossings_min",
                "shift_signal",
                "crossings_signal",
                "n_base",
            )
        }
        for r in summaries
    ]
    for ph in d["phases"]:
        ph["runs_signal"] = bool(ph["shift_signal"] or ph["crossings_signal"])
    n_cur = d["n_obs"]
    d["note"] = (
        f"only {n_cur} points in the current phase: treat limits and signals as provisional"
        if n_cur < FEW_POINTS
        else ""
    )
    points.attrs["summary"] = d
    return points


def _pyval(v: Any) -> Any:
    if isinstance(v, (np.bool_, bool)):
        return bool(v)
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (np.floating, float)):
        return _num(v) if np.isfinite(v) else float("nan")
    return v


# --------------------------------------------------------------------------------------------
# Equity lens: gap chart
# --------------------------------------------------------------------------------------------


def _per_period(frame: pd.DataFrame, value: str, period: str, n: str | None) -> pd.Series:
    _check_columns(frame, [value, period] + ([n] if n else []))
    if frame[period].isna().any():
        raise DataError(f"rows with a missing period in {period!r}; drop them or give a period")
    if n is not None:
        g = frame.groupby(period, sort=False, observed=True)[[value, n]].sum(min_count=1)
        if (g[n] <= 0).any():
            raise DataError(f"column {n!r} has zero or negative denominators; fix or drop them")
        return g[value] / g[n]
    return frame.groupby(period, sort=False, observed=True)[value].mean()


def gap_chart(
    focus_df: pd.DataFrame,
    comparison_df: pd.DataFrame,
    value: str,
    period: str,
    *,
    kind: str = "xmr",
    n: str | None = None,
    order: Sequence | None = None,
    baseline: int | Sequence | None = None,
    phases: Sequence | None = None,
    exclude: Sequence | None = None,
    improvement: str = "up",
    target: float | None = None,
    screen_outliers: bool = True,
) -> pd.DataFrame:
    """Chart the gap (focus minus comparison) per period as an XmR (or run) chart.

    Per period: with ``n`` the gap is Σ value / Σ n for the focus group minus the same for the
    comparison group (a gap in proportions or rates); without ``n`` it is the mean of ``value``
    (one row per period, or pupil-level rows) for the focus group minus that of the comparison.
    A period present in only one group gives a missing gap (a break in the line).

    Parameters
    ----------
    focus_df, comparison_df : DataFrame
        Rows for the focus group (e.g. disadvantaged pupils) and the comparison group.
    value, period, n, order, baseline, phases, exclude, improvement, target, screen_outliers
        As in :func:`chart`; ``improvement="up"`` means a larger gap (focus above comparison) is
        good, so for a gap that should close from below use ``"up"``.
    kind : {"xmr", "run"}
        Chart type for the gap series.

    Returns
    -------
    DataFrame
        The chart of the gap (as :func:`chart`), with extra columns ``focus`` and ``comparison``.

    Examples
    --------
    >>> f = pd.DataFrame({"t": [1, 2, 3, 4], "y": [60.0, 62, 61, 64]})
    >>> c = pd.DataFrame({"t": [1, 2, 3, 4], "y": [70.0, 71, 70, 71]})
    >>> gap_chart(f, c, "y", "t")["value"].tolist()
    [-10.0, -9.0, -9.0, -7.0]
    """
    if kind not in ("xmr", "run"):
        raise DataError("gap_chart supports kind='xmr' or kind='run'")
    fv = _per_period(focus_df, value, period, n).rename("focus")
    cv = _per_period(comparison_df, value, period, n).rename("comparison")
    both = pd.concat([fv, cv], axis=1)
    both.index.name = period
    both = both.reset_index()
    both["gap"] = both["focus"] - both["comparison"]
    res = chart(
        both,
        "gap",
        period,
        kind=kind,
        order=order,
        baseline=baseline,
        phases=phases,
        exclude=exclude,
        improvement=improvement,
        target=target,
        screen_outliers=screen_outliers,
    )
    lookup = both.set_index(period)
    res["focus"] = lookup["focus"].reindex(res["period"]).to_numpy()
    res["comparison"] = lookup["comparison"].reindex(res["period"]).to_numpy()
    return res


# --------------------------------------------------------------------------------------------
# Plotting
# --------------------------------------------------------------------------------------------


def _phase_segments(result: pd.DataFrame) -> list[np.ndarray]:
    ph = result["phase"].to_numpy()
    return [np.flatnonzero(ph == p) for p in pd.unique(ph)]


def _draw(result: pd.DataFrame, ax, *, colour: str, marker: str, label: str | None, limits=True):
    from cilib.report.style import COLOURS, MARKERS

    x = np.arange(len(result))
    y = result["value"].to_numpy(dtype=float)
    ax.plot(x, y, color=colour, marker=marker, label=label, zorder=3)
    exc = result["excluded"].to_numpy(dtype=bool)
    if exc.any():
        ax.plot(
            x[exc],
            y[exc],
            linestyle="none",
            marker=marker,
            markerfacecolor="white",
            markeredgecolor=colour,
            zorder=4,
            label="excluded from limits",
        )
    for i, seg in enumerate(_phase_segments(result)):
        xs = np.r_[x[seg] - 0.5, x[seg][-1] + 0.5]
        cen = result["centre"].to_numpy(dtype=float)[seg]
        ax.stairs(
            cen,
            xs,
            baseline=None,
            color=COLOURS["centre"] if limits else colour,
            linewidth=1.2,
            linestyle="-" if limits else "--",
            label=("centre" if i == 0 and limits else None),
        )
        if limits:
            for col in ("lower", "upper"):
                v = result[col].to_numpy(dtype=float)[seg]
                if np.isfinite(v).any():
                    ax.stairs(
                        v,
                        xs,
                        baseline=None,
                        color=COLOURS["limit"],
                        linestyle="--",
                        linewidth=1.2,
                        label=("control limits" if i == 0 and col == "lower" else None),
                    )
        if i > 0:
            ax.axvline(x[seg][0] - 0.5, color=COLOURS["neutral"], linestyle=":", linewidth=1.2)
    sig = result["signal"].to_numpy(dtype=bool)
    if sig.any():
        ax.plot(
            x[sig],
            y[sig],
            linestyle="none",
            marker=MARKERS["signal"],
            markersize=9,
            color=COLOURS["signal"],
            markeredgecolor="black",
            zorder=5,
            label="special-cause signal",
        )
    return x


def plot(result: pd.DataFrame, ax=None, *, title: str | None = None, ylabel: str | None = None):
    """Draw a chart returned by :func:`chart` (or :func:`gap_chart`) and return the Axes.

    Centre line and limits are drawn as steps per phase, phase starts as dotted vertical lines,
    the target as a green line, and signal points with a larger diamond in a distinct colour.
    Excluded points are drawn hollow.

    Parameters
    ----------
    result : DataFrame
        Output of :func:`chart`.
    ax : matplotlib Axes, optional
        Axes to draw on; a new styled figure is made when omitted.
    title, ylabel : str, optional
        Chart title and y-axis label.

    Returns
    -------
    matplotlib.axes.Axes
    """
    from cilib.report.style import COLOURS, MARKERS, new_axes

    _check_columns(
        result, ["period", "value", "centre", "lower", "upper", "signal", "phase", "excluded"]
    )
    _, ax = new_axes(ax, title=title)
    x = _draw(result, ax, colour=COLOURS["neutral"], marker=MARKERS["neutral"], label="value")
    tgt = result["target"].iloc[0] if "target" in result.columns and len(result) else np.nan
    if pd.notna(tgt):
        ax.axhline(float(tgt), color=COLOURS["target"], linewidth=1.5, label="target")
    _ticks(ax, x, result["period"])
    if ylabel:
        ax.set_ylabel(ylabel)
    summary = result.attrs.get("summary")
    if isinstance(summary, Mapping) and summary.get("variation"):
        text = summary["variation"]
        if summary.get("assurance"):
            text += f"; {summary['assurance']}"
        ax.set_xlabel(text, fontsize=9, color=COLOURS["neutral"], loc="left")
    ax.legend(loc="best", fontsize=8)
    return ax


def _ticks(ax, x, periods) -> None:
    labels = [str(p) for p in periods]
    step = max(1, int(np.ceil(len(labels) / 12)))
    ax.set_xticks(x[::step])
    ax.set_xticklabels(
        labels[::step],
        rotation=45 if len(labels) > 6 else 0,
        ha="right" if len(labels) > 6 else "center",
    )


def plot_groups(
    results: Mapping[str, pd.DataFrame],
    ax=None,
    *,
    title: str | None = None,
    overlay: bool | None = None,
):
    """Draw the focus and comparison group charts on one figure.

    Two (or more) panels sharing the y axis, one full chart per group, or, when ``ax`` is given
    or ``overlay=True``, the groups overlaid on one Axes (values and centre lines in each group's
    colour; limits are left out so the lines stay readable). The first group is drawn in the focus
    colour, the second in the comparison colour.

    Parameters
    ----------
    results : dict of str to DataFrame
        Group name to the output of :func:`chart`, in the order focus, comparison.
    ax : matplotlib Axes, optional
        Draw overlaid on this Axes.
    title : str, optional
        Figure title.
    overlay : bool, optional
        Force the overlaid (True) or panel (False) layout.

    Returns
    -------
    list of matplotlib.axes.Axes
    """
    from cilib.report.style import COLOURS, MARKERS, apply_style, new_axes

    if not results:
        raise DataError("plot_groups needs at least one chart in results")
    if overlay is None:
        overlay = ax is not None
    roles = ["focus", "comparison", "neutral"]
    if overlay:
        _, ax = new_axes(ax, title=title)
        for i, (name, res) in enumerate(results.items()):
            role = roles[min(i, 2)]
            x = _draw(res, ax, colour=COLOURS[role], marker=MARKERS[role], label=name, limits=False)
        _ticks(ax, x, res["period"])
        ax.legend(loc="best", fontsize=8)
        return [ax]
    import matplotlib.pyplot as plt

    apply_style()
    k = len(results)
    fig, axes = plt.subplots(1, k, figsize=(6 * k, 4.2), sharey=True, squeeze=False)
    axes = list(axes[0])
    for a, (name, res) in zip(axes, results.items(), strict=True):
        plot(res, ax=a, title=name)
    if title:
        fig.suptitle(title, fontweight="bold", x=0.01, ha="left")
    return axes
