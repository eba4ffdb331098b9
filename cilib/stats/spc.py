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

The work is split by job: :mod:`cilib.stats.chart_data` checks and reshapes the data,
:mod:`cilib.stats.control_limits` computes the limits per chart kind,
:mod:`cilib.stats.run_rules` applies the rules, and this module holds the entry point,
:func:`chart`, with its settings in :class:`ChartOptions`. Charts are drawn by
:mod:`cilib.report.charts.spc`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from cilib.core.errors import DataError
from cilib.stats.chart_data import check_columns, prepare
from cilib.stats.checks import as_list
from cilib.stats.control_limits import RATE_KINDS, limits
from cilib.stats.run_rules import (
    VAR_COMMON,
    VAR_NEITHER,
    apply_rules,
    assurance_labels,
    plain_number,
    rules_text,
    variation_labels,
)

__all__ = ["ChartOptions", "chart", "gap_chart"]

#: Fewer points than this in a phase: limits are provisional (stated in the summary note).
FEW_POINTS = 12


@dataclass(frozen=True)
class ChartOptions:
    """The settings of a chart, shared by :func:`chart` and :func:`gap_chart`.

    Every field has today's default, so ``ChartOptions()`` is a plain chart; change only what you
    need, e.g. ``ChartOptions(baseline=6, improvement="down")``, or derive one with
    :func:`dataclasses.replace`.

    Attributes
    ----------
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

    """

    baseline: int | Sequence | None = None
    phases: Sequence | None = None
    exclude: Sequence | None = None
    improvement: str = "up"
    target: float | None = None
    screen_outliers: bool = True
    order: Sequence | None = None
    trend: bool | None = None
    trend_length: int = 6
    multiplier: float = 1.0


def _check_options(improvement: str, trend_length: int, multiplier: float) -> None:
    if improvement not in ("up", "down"):
        raise DataError(f"improvement={improvement!r}: use 'up' or 'down' (the good direction)")
    if not isinstance(trend_length, (int, np.integer)) or trend_length < 3:
        raise DataError("trend_length must be a whole number of at least 3 points")
    if not multiplier > 0:
        raise DataError("multiplier must be a positive number (e.g. 100 for per cent)")


def _build(df, value, period, by, *, kind, n, options: ChartOptions):
    o = options
    _check_options(o.improvement, o.trend_length, o.multiplier)
    keys, labels, arrays = prepare(df, value, period, by, kind, n, o.order)
    out, phase_info = limits(
        kind,
        labels,
        arrays,
        baseline=o.baseline,
        phases=o.phases,
        exclude=o.exclude,
        screen_outliers=o.screen_outliers,
        multiplier=o.multiplier,
    )
    trend = kind != "run" if o.trend is None else o.trend
    summaries = apply_rules(out, phase_info, kind=kind, trend=trend, trend_length=o.trend_length)
    signal, rules = rules_text(out)
    variation, _ = variation_labels(out, signal, o.improvement)
    assurance = assurance_labels(out, kind, o.improvement, o.target)
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


def _min_base(kind: str) -> int:
    return 1 if kind in ("run", *RATE_KINDS, "xbar_s") else 2


def chart(
    df: pd.DataFrame,
    value: str,
    period: str,
    *,
    kind: str = "run",
    n: str | None = None,
    by: str | Sequence[str] | None = None,
    options: ChartOptions | None = None,
) -> pd.DataFrame | tuple[pd.DataFrame, pd.DataFrame]:
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
    by : str or list of str, optional
        Column(s) identifying each series (e.g. ``"school_id"``): chart many series at once,
        vectorised with numpy. The options apply to every series; a series with too few points
        gets missing limits instead of an error (its summary row has ``n_base`` below what the
        chart needs).
    options : ChartOptions, optional
        Baseline, phases, exclusions, direction, target and the other settings; the defaults of
        :class:`ChartOptions` when omitted.

    Returns
    -------
    DataFrame or tuple of DataFrame
        Without ``by``: one row per period, sorted by period: ``period``, ``value``,
        ``centre``, ``lower``, ``upper`` (NaN for run charts), ``count`` and ``n`` (p, u),
        ``n`` (xbar_s), ``mr``, ``mr_centre``, ``mr_upper`` (xmr), ``s``, ``s_centre``,
        ``s_lower``, ``s_upper`` (xbar_s), ``target``, ``phase`` (1, 2, …), ``excluded``,
        ``baseline`` (used for limits), ``signal`` and ``rules`` (rule names joined by ", ").
        ``.attrs["summary"]`` is a dict for the current (last) phase: ``variation``,
        ``assurance``, ``longest_run``, ``longest_run_max``, ``crossings``, ``crossings_min``,
        ``n_useful``, ``n_obs``, ``shift_signal``, ``crossings_signal``, ``runs_signal``
        (either), ``kind``, ``improvement``, ``target``, ``note``, ``sigma_z`` (p′ and u′:
        Laney's factor; NaN otherwise) and ``phases`` (the same runs figures per phase). With
        ``by``: ``(points, summary)``, ``points`` one row per series and period (the ``by``
        columns, then the columns above) and ``summary`` one row per series (the ``by``
        columns, then the summary keys for the current phase).

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
    >>> frozen = chart(df, "att", "ht", kind="xmr", options=ChartOptions(baseline=3))
    >>> round(float(frozen["upper"].iloc[0]), 3)  # 94 + 3 * 1.5 / 1.128
    97.989
    >>> df = pd.DataFrame({"school": ["A"] * 4 + ["B"] * 4, "t": [1, 2, 3, 4] * 2,
    ...                    "y": [1.0, 2.0, 1.0, 2.0, 5.0, 5.0, 6.0, 6.0]})
    >>> pts, summ = chart(df, "y", "t", kind="xmr", by="school")
    >>> summ[["school", "variation"]].to_dict("list")
    {'school': ['A', 'B'], 'variation': ['common cause', 'common cause']}
    >>> float(pts.loc[0, "centre"]), float(pts.loc[4, "centre"])
    (1.5, 5.5)
    """
    o = ChartOptions() if options is None else options
    if by is not None:
        by = as_list(by)
        if not by:
            raise DataError("by= must name at least one column; leave it out for a single series")
        keys, labels, arrays, out, summaries, signal, rules, variation, assurance = _build(
            df, value, period, by, kind=kind, n=n, options=o
        )
        points = _points_frame(keys, labels, arrays, out, signal, rules, kind, o.target)
        summary = _summary_frame(
            keys, summaries, variation, assurance, kind, o.improvement, o.target
        )
        return points, summary
    keys, labels, arrays, out, summaries, signal, rules, variation, assurance = _build(
        df, value, period, [], kind=kind, n=n, options=o
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
    points = _points_frame(keys, labels, arrays, out, signal, rules, kind, o.target)
    summ = _summary_frame(keys, summaries, variation, assurance, kind, o.improvement, o.target)
    d = {k: _pyval(v) for k, v in summ.iloc[0].to_dict().items()}
    d.update(kind=kind, improvement=o.improvement, target=o.target)
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
        return plain_number(v) if np.isfinite(v) else float("nan")
    return v


def _per_period(frame: pd.DataFrame, value: str, period: str, n: str | None) -> pd.Series:
    check_columns(frame, [value, period] + ([n] if n else []))
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
    options: ChartOptions | None = None,
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
    value, period, n
        As in :func:`chart`.
    kind : {"xmr", "run"}
        Chart type for the gap series.
    options : ChartOptions, optional
        As in :func:`chart`; ``improvement="up"`` means a larger gap (focus above comparison) is
        good, so for a gap that should close from below use ``"up"``.

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
    res = chart(both, "gap", period, kind=kind, options=options)
    lookup = both.set_index(period)
    res["focus"] = lookup["focus"].reindex(res["period"]).to_numpy()
    res["comparison"] = lookup["comparison"].reindex(res["period"]).to_numpy()
    return res
