"""Run and Shewhart rules: Anhøj runs analysis, trend, 2 of 3 beyond 2 sigma, and the labels.

The rules and their thresholds are described in :mod:`cilib.stats.spc` and ``docs/spc.md``.
Every rule runs per phase, on points that are neither missing nor excluded.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy import stats

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
        "longest_run": plain_number(r["longest_run"][0]),
        "longest_run_max": plain_number(r["longest_run_max"][0]),
        "crossings": plain_number(r["crossings"][0]),
        "crossings_min": plain_number(r["crossings_min"][0]),
        "shift_signal": bool(r["shift_signal"][0]),
        "crossings_signal": bool(r["crossings_signal"][0]),
    }
    out["runs_signal"] = out["shift_signal"] or out["crossings_signal"]
    return out


def plain_number(x: float) -> int | float:
    """Return ``x`` as an int when it is a whole finite number, else as a float.

    Examples
    --------
    >>> plain_number(3.0), plain_number(2.5)
    (3, 2.5)
    """
    x = float(x)
    return int(x) if np.isfinite(x) and x == int(x) else x


def rules_text(out: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Per point: whether any rule fired, and the names of the rules fired joined by ", "."""
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


def variation_labels(out, signal, improvement) -> tuple[np.ndarray, np.ndarray]:
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


def assurance_labels(out, kind, improvement, target) -> np.ndarray:
    """Per series: whether the target lies within the current phase's limits (control charts)."""
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


def apply_rules(
    out: dict[str, np.ndarray],
    phase_info: list[dict],
    *,
    kind: str,
    trend: bool,
    trend_length: int,
) -> list[dict[str, np.ndarray]]:
    """Flag every point by the rules, phase by phase, on the limits from ``control_limits``.

    Adds ``shift``, ``trend``, ``trend_dir``, ``two3`` (per point) and ``outside`` to ``out``
    (the output of :func:`cilib.stats.control_limits.limits`) and returns, per phase, the runs
    figures of each series with ``n_obs``, ``sigma_z``, ``n_base`` and ``phase``.
    """
    shape = out["value"].shape
    out["shift"] = np.zeros(shape, dtype=bool)
    out["trend"] = np.zeros(shape, dtype=bool)
    out["trend_dir"] = np.zeros(shape, dtype=np.int8)
    out["two3"] = np.zeros(shape, dtype=bool)
    summaries: list[dict[str, np.ndarray]] = []
    with warnings.catch_warnings(), np.errstate(invalid="ignore", divide="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        for info in phase_info:
            a, b = info["start"], info["stop"]
            ok = out["ok"][:, a:b]
            vals = out["value"][:, a:b]
            clb = out["centre"][:, a:b]
            r = _runs_block(vals, clb, ok)
            out["shift"][:, a:b] = r.pop("shift")
            if trend:
                tf, td = _trend_block(vals, ok, trend_length)
                out["trend"][:, a:b] = tf
                out["trend_dir"][:, a:b] = td
            if kind != "run":
                sig = out["sigma"][:, a:b]
                out["two3"][:, a:b] = _two_of_three_block((vals - clb) / sig, ok)
            r["n_obs"] = ok.sum(axis=1)
            r["sigma_z"] = info["sigma_z"]
            r["n_base"] = info["n_base"]
            r["phase"] = np.full(shape[0], info["phase"])
            summaries.append(r)
    with np.errstate(invalid="ignore"):
        out["outside"] = (out["value"] > out["upper"]) | (out["value"] < out["lower"])
    return summaries
