"""Monitor and Adjust: goal measures as control charts and their signals.

Each goal's measure per half-term (:func:`cilib.measures.metrics.compute_metric`) as a control
chart (:func:`cilib.stats.spc.chart`) for the focus group and the comparison group, the gap
between them (:func:`cilib.stats.spc.gap_chart`), and the special-cause signals written as
plain-English sentences (:func:`signal_sentence`).

Chart kinds (:func:`cilib.measures.registry.chart_kind`): a p chart (``count / n``, limits
p̄ ± 3 √(p̄(1 − p̄)/nᵢ)) for shares of pupils (``persistent_absence``, ``pct_at_or_above``), where
the trials are pupils, replaced by Laney's p′ chart (:func:`use_laney`) when the points average
at least 100 pupils and vary at least 1.5 times beyond binomial chance (the report says so and
why); an XmR chart (limits x̄ ± 2.66 MR̄) for means and scale scores, and for the
attendance rate. The attendance rate is a ratio of sessions, and sessions are clustered within
pupils: a p chart with sessions as trials gives limits far too narrow (on the sample it flags 12
of 18 half-terms of the trust's disadvantaged attendance, including the usual seasonal dips), so
it is charted as an XmR chart of the half-termly rate, as NHS "Making Data Count" advises for
percentages with large denominators. Limits use every point shown (``baseline=None``).

Group figures are suppressed, not drawn, in a period where the group has fewer than
``store.threshold`` pupils (or respondents).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from cilib import cycle as cp
from cilib.core.errors import DataError
from cilib.data.store import Store
from cilib.measures import registry
from cilib.measures.metrics import compute_metric, period_key
from cilib.measures.registry import chart_kind
from cilib.stats import run_rules, spc

#: Laney p′ replaces the p chart when sigma_z reaches this and points average this many pupils.
LANEY_SIGMA_Z = 1.5
LANEY_MIN_N = 100


def monitor_tables(store: Store) -> dict[str, pd.DataFrame]:
    """Return the store's tables by name (kept in the store's memo)."""
    return store.memo("monitor", "tables", make=store.tables_dict)


# --------------------------------------------------------------------------------------------
# Labels and kinds
# --------------------------------------------------------------------------------------------


def _measure_name(metric: Mapping[str, Any]) -> str:
    m = metric.get("measure", "")
    filt = metric.get("filter") or {}
    if m == "mean_score":
        subj = filt.get("subject")
        return f"mean {subj} score" if subj else "mean score"
    if m == "pct_at_or_above":
        subj = filt.get("subject", "")
        where = f" in {subj}" if subj else ""
        return f"% scoring {metric.get('threshold', 0):g} or more{where}"
    if m == "scale_mean":
        who = filt.get("respondent_type")
        scale = str(metric.get("scale", "scale")).replace("_", " ")
        return f"{scale} score (1-5{', ' + str(who) + ' survey' if who else ''})"
    if m == "incidents_per_100" and filt.get("incident_type"):
        return f"{str(filt['incident_type']).replace('_', ' ')} incidents per 100 pupils"
    return registry.REGISTRY[m].label if m in registry.REGISTRY else str(m).replace("_", " ")


def _focus_dict(store: Store, goal: cp.Goal) -> dict[str, Any]:
    if goal.focus_group is not None:
        return dict(goal.focus_group)
    f = store.focus
    return {"column": f.column, "value": f.value}


def group_names(store: Store, goal: cp.Goal) -> dict[str, str]:
    """Return the reader's name of each group of a goal (focus, comparison, all)."""
    if goal.focus_group is None:
        focus, comp = store.focus.label, store.focus.comparison_label
    else:
        fg = goal.focus_group
        focus = f"Pupils with {fg['column']} = {fg['value']}"
        comp = "Other pupils"
    return {"focus": focus, "comparison": comp, "all": "All pupils"}


def goal_label(store: Store, goal: cp.Goal, group: str | None = None) -> str:
    """Return a plain-English name for a goal's measure for one group (default: its own group).

    E.g. ``"Attendance (%) for disadvantaged pupils"`` or ``"Mean reading score gap
    (disadvantaged pupils minus other pupils)"``.
    """
    group = group or goal.group
    name = _measure_name(goal.metric or {})
    names = group_names(store, goal)
    if group == "gap":
        text = f"{name} gap ({names['focus'].lower()} minus {names['comparison'].lower()})"
    elif group == "all":
        metric = goal.metric or {}
        staff = (metric.get("filter") or {}).get("respondent_type") == "staff"
        text = name if metric.get("table") == "systems" or staff else f"{name}, all pupils"
    else:
        text = f"{name} for {names[group].lower()}"
    return text[0].upper() + text[1:]


def digits_of(goal: cp.Goal) -> int:
    """Return the decimals a goal's values are shown with (two for scale scores)."""
    return 2 if (goal.metric or {}).get("measure") == "scale_mean" else 1


# --------------------------------------------------------------------------------------------
# Goal series and charts
# --------------------------------------------------------------------------------------------


def goal_series(store: Store, goal: cp.Goal, school_id: str | None = None) -> pd.DataFrame:
    """Return the goal's metric per half-term and group, with a ``suppressed`` flag.

    :func:`cilib.measures.metrics.compute_metric` over the store's periods (up to the report
    period),
    for the goal's focus group (the trust's focus group unless the goal names its own). A row is
    suppressed when its ``n`` is below ``store.threshold``; its value, numerator and
    denominator are then set missing. Empty when the goal's metric excludes the school.
    """

    def make() -> pd.DataFrame:
        cols = ["period", "group", "n", "numerator", "denominator", "value", "sd", "suppressed"]
        if goal.metric is None or not goal.applies_to(school_id):
            return pd.DataFrame(columns=cols)
        try:
            res = compute_metric(
                monitor_tables(store),
                goal.metric,
                school_id=school_id,
                focus=_focus_dict(store, goal),
                periods=store.periods,
            )
        except DataError:
            return pd.DataFrame(columns=cols)
        small = res["n"].fillna(0) < store.threshold
        # focus + comparison add up to "all": a small one hides the other too (no subtraction)
        two = res["group"].isin(["focus", "comparison"])
        small |= two & res["period"].isin(res.loc[small & two, "period"])
        res = res.assign(suppressed=small.astype(bool))
        for c in ("numerator", "denominator", "value", "sd"):
            res[c] = res[c].mask(res["suppressed"])
        return res[cols]

    return store.memo("monitor", "series", goal.id, school_id, make=make).copy()


def _chart_group(series: pd.DataFrame, goal: cp.Goal, group: str, order: Sequence[str]):
    d = series.loc[(series["group"] == group) & series["value"].notna()]
    if d["period"].nunique() < 2:
        return None
    kind = chart_kind(goal.metric or {})
    try:
        if kind == "p":
            opts = spc.ChartOptions(multiplier=100, order=order, improvement=goal.direction)
            laney = spc.chart(d, "numerator", "period", kind="pp", n="denominator", options=opts)
            if use_laney(laney):
                return laney
            return spc.chart(d, "numerator", "period", kind="p", n="denominator", options=opts)
        opts = spc.ChartOptions(order=order, improvement=goal.direction)
        return spc.chart(d, "value", "period", kind="xmr", options=opts)
    except DataError:
        return None


def use_laney(laney: pd.DataFrame) -> bool:
    """Say whether a p′ chart should replace the p chart (Laney 2002).

    When denominators are large (on average at least :data:`LANEY_MIN_N` pupils a point) and the
    points vary well beyond binomial chance (``sigma_z`` at least :data:`LANEY_SIGMA_Z`), binomial
    limits are too narrow and flag ordinary variation between cohorts as special cause.
    """
    sigma_z = laney.attrs["summary"].get("sigma_z")
    n = laney["n"].mean() if "n" in laney.columns else 0
    return bool(np.isfinite(sigma_z) and sigma_z >= LANEY_SIGMA_Z and n >= LANEY_MIN_N)


def chart_name(result: pd.DataFrame | None) -> str:
    """Plain name of a chart result's kind, for titles and notes."""
    kind = (result.attrs.get("summary", {}) if result is not None else {}).get("kind", "xmr")
    return {"p": "p chart", "pp": "Laney p′ chart", "u": "u chart", "up": "Laney u′ chart"}.get(
        kind, "XmR chart"
    )


def goal_charts(store: Store, goal: cp.Goal, school_id: str | None = None) -> dict[str, Any]:
    """Control charts of a goal's measure for one school or the trust.

    Returns
    -------
    dict
        ``focus``, ``comparison``, ``all``: :func:`cilib.stats.spc.chart` results (p chart or XmR,
        see
        :func:`chart_kind`; ``None`` when fewer than two unsuppressed points); ``gap``: the
        :func:`cilib.stats.spc.gap_chart` of focus minus comparison (``None`` likewise); ``own``:
        the
        chart of the goal's own group (the gap chart for a ``gap`` goal); ``series``: the data
        from :func:`goal_series`.
    """

    def make() -> dict[str, Any]:
        series = goal_series(store, goal, school_id)
        order = [p for p in store.periods if p in set(series["period"])]
        out: dict[str, Any] = {"series": series}
        for g in ("focus", "comparison", "all"):
            out[g] = _chart_group(series, goal, g, order)
        f = series.loc[(series["group"] == "focus") & series["value"].notna()]
        c = series.loc[(series["group"] == "comparison") & series["value"].notna()]
        both = sorted(set(f["period"]) & set(c["period"]), key=period_key)
        out["gap"] = None
        if len(both) >= 2:
            try:
                out["gap"] = spc.gap_chart(
                    f.loc[f["period"].isin(both)],
                    c.loc[c["period"].isin(both)],
                    "value",
                    "period",
                    options=spc.ChartOptions(
                        order=[p for p in order if p in both], improvement=goal.direction
                    ),
                )
            except DataError:
                out["gap"] = None
        out["own"] = out[goal.group]
        return out

    return store.memo("monitor", "charts", goal.id, school_id, make=make)


# --------------------------------------------------------------------------------------------
# Signals in words
# --------------------------------------------------------------------------------------------


def _usable(res: pd.DataFrame) -> np.ndarray:
    v = res["value"].to_numpy(dtype=float)
    exc = res["excluded"].to_numpy(dtype=bool) if "excluded" in res else np.zeros(len(res), bool)
    return np.isfinite(v) & ~exc


def _run_start(res: pd.DataFrame, i: int) -> tuple[int, int, int]:
    """Start index, end index and length of the run on one side of the centre through point i."""
    v = res["value"].to_numpy(dtype=float)
    c = res["centre"].to_numpy(dtype=float)
    ph = res["phase"].to_numpy()
    ok = _usable(res)
    side = np.sign(v[i] - c[i])
    idx = [j for j in range(len(res)) if ok[j] and ph[j] == ph[i] and v[j] != c[j]]
    pos = idx.index(i)
    lo = pos
    while lo > 0 and np.sign(v[idx[lo - 1]] - c[idx[lo - 1]]) == side:
        lo -= 1
    hi = pos
    while hi < len(idx) - 1 and np.sign(v[idx[hi + 1]] - c[idx[hi + 1]]) == side:
        hi += 1
    return idx[lo], idx[hi], hi - lo + 1


def _trend_start(res: pd.DataFrame, i: int) -> tuple[int, int, int]:
    """Start index, direction (+1/−1) and number of points of the monotone trend ending at i."""
    v = res["value"].to_numpy(dtype=float)
    ph = res["phase"].to_numpy()
    ok = _usable(res)
    idx = [j for j in range(i + 1) if ok[j] and ph[j] == ph[i]]
    if len(idx) < 2:
        return i, 0, 1
    d = np.sign(v[idx[-1]] - v[idx[-2]])
    k = len(idx) - 1
    while k > 0 and np.sign(v[idx[k]] - v[idx[k - 1]]) == d and d != 0:
        k -= 1
    return idx[k], int(d), len(idx) - k


def _outside_same_side(res: pd.DataFrame, j: int, up: bool) -> bool:
    v = float(res["value"].iloc[j])
    if not np.isfinite(v):
        return False
    return v > res["upper"].iloc[j] if up else v < res["lower"].iloc[j]


def _span_unit(res: pd.DataFrame, a: int, b: int, calendar: Sequence[str] | None) -> str:
    if calendar is None:
        return "half-terms"
    cal = list(calendar)
    ps = [p for p in res["period"].iloc[a : b + 1] if p in cal]
    if len(ps) >= 2 and cal.index(ps[-1]) - cal.index(ps[0]) != len(ps) - 1:
        return "results"
    return "half-terms"


def signal_info(
    res: pd.DataFrame, label: str, *, digits: int = 1, calendar: Sequence[str] | None = None
) -> dict[str, Any]:
    """Describe a chart's special-cause signal: direction, since when, and a sentence.

    The most recent signalling point of the current phase decides (as the chart's
    ``summary["variation"]``); each rule it triggers is put in words from the chart's points:
    ``shift`` (the run on one side of the centre line through that point: its length and first
    period), ``trend`` (the run of strictly rising or falling points ending there),
    ``outside limits`` (the value against the limit it crossed) and ``2 of 3 beyond 2 sigma``.

    Parameters
    ----------
    res : DataFrame
        A :func:`cilib.stats.spc.chart` or :func:`cilib.stats.spc.gap_chart` result.
    label : str
        The measure in words, e.g. ``"Attendance for disadvantaged pupils"``.
    digits : int
        Decimals for values in the sentence.
    calendar : list of str, optional
        The period calendar: a run over non-consecutive half-terms (termly assessments) is
        counted in "results" rather than "half-terms".

    Returns
    -------
    dict
        ``variation`` (the chart's label), ``signal`` (``"improving"``, ``"concerning"`` or
        None), ``since`` (first period of the signalling run, or None), ``last`` (the deciding
        point's period), ``sentence``.

    Examples
    --------
    >>> df = pd.DataFrame({"t": [f"P{i:02d}" for i in range(16)],
    ...                    "y": [5.0, 6] * 4 + [7.5, 8.5] * 4})
    >>> info = signal_info(spc.chart(df, "y", "t", kind="xmr"), "Score")
    >>> info["signal"], info["since"]
    ('improving', 'P08')
    >>> print(info["sentence"])  # doctest: +NORMALIZE_WHITESPACE
    Special cause improving: score has been above its average (6.8) for 8 half-terms in a row,
    since P08.
    """
    summ = res.attrs.get("summary", {})
    variation = summ.get("variation", run_rules.VAR_COMMON)
    low = label[0].lower() + label[1:] if label else label
    out: dict[str, Any] = {"variation": variation, "signal": None, "since": None, "last": None}
    if variation == run_rules.VAR_IMPROVING:
        out["signal"] = "improving"
    elif variation == run_rules.VAR_CONCERNING:
        out["signal"] = "concerning"
    cur = res["phase"].to_numpy() == res["phase"].max()
    sig = res["signal"].to_numpy(dtype=bool) & cur & _usable(res)
    v = res["value"].to_numpy(dtype=float)
    fmt = f"{{:.{digits}f}}"
    if variation == run_rules.VAR_COMMON or not sig.any():
        lo, hi = res["lower"].iloc[-1], res["upper"].iloc[-1]
        n = int(_usable(res).sum())
        limits = (
            f" between its control limits ({fmt.format(lo)} to {fmt.format(hi)})"
            if pd.notna(lo) and pd.notna(hi)
            else ""
        )
        if variation == run_rules.VAR_NEITHER:
            out["sentence"] = (
                f"Special cause neither improving nor concerning: {low} crosses its average "
                f"{summ.get('crossings')} times in {n} points, fewer than the "
                f"{summ.get('crossings_min')} expected by chance."
            )
        else:
            out["sentence"] = (
                f"Common cause: {low} varies{limits} with no signal beyond normal variation "
                f"over {n} points."
            )
        return out
    i = int(np.flatnonzero(sig)[-1])
    periods = res["period"].tolist()
    rules = [r for r in str(res["rules"].iloc[i]).split(", ") if r]
    parts, starts = [], []
    is_last = i == int(np.flatnonzero(_usable(res))[-1])
    for rule in rules:
        if rule == run_rules.RULE_SHIFT:
            a, b, k = _run_start(res, i)
            where = "above" if v[i] > res["centre"].iloc[i] else "below"
            unit = _span_unit(res, a, b, calendar)
            centre = fmt.format(res["centre"].iloc[i])
            if b == int(np.flatnonzero(_usable(res))[-1]):
                parts.append(
                    f"{low} has been {where} its average ({centre}) for {k} {unit} "
                    f"in a row, since {periods[a]}"
                )
            else:
                parts.append(
                    f"{low} was {where} its average ({centre}) for {k} {unit} in a "
                    f"row, from {periods[a]} to {periods[b]}"
                )
            starts.append(a)
        elif rule == run_rules.RULE_TREND:
            a, d, k = _trend_start(res, i)
            verb = (
                ("has risen" if d > 0 else "has fallen")
                if is_last
                else ("rose" if d > 0 else "fell")
            )
            parts.append(f"{low} {verb} {k - 1} times in a row, from {periods[a]} to {periods[i]}")
            starts.append(a)
        elif rule == run_rules.RULE_OUTSIDE:
            up = v[i] > res["centre"].iloc[i]
            lim = res["upper" if up else "lower"].iloc[i]
            parts.append(
                f"{low} in {periods[i]} ({fmt.format(v[i])}) was "
                f"{'above the upper' if up else 'below the lower'} control limit "
                f"({fmt.format(lim)})"
            )
            j = i
            while j > 0 and _outside_same_side(res, j - 1, up):
                j -= 1
            starts.append(j)
        elif rule == run_rules.RULE_TWO_OF_THREE:
            up = v[i] > res["centre"].iloc[i]
            parts.append(
                f"two of three points up to {periods[i]} were more than two sigma "
                f"{'above' if up else 'below'} the average"
            )
            rl = res["rules"].astype("str").tolist()
            window = [
                j for j in range(max(0, i - 2), i + 1) if run_rules.RULE_TWO_OF_THREE in rl[j]
            ]
            starts.append(window[0] if window else i)
    since = periods[min(starts)] if starts else periods[i]
    out.update(since=since, last=periods[i])
    text = "; ".join(parts) if parts else f"{low} signalled in {periods[i]}"
    out["sentence"] = f"{variation[0].upper()}{variation[1:]}: {text}."
    return out


def signal_sentence(
    res: pd.DataFrame, label: str, *, digits: int = 1, calendar: Sequence[str] | None = None
) -> str:
    """Return the chart's signal in plain English (see :func:`signal_info`)."""
    return signal_info(res, label, digits=digits, calendar=calendar)["sentence"]
