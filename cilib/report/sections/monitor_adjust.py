"""Monitor and Adjust: is it working? Goal measures as control charts, signals and decisions.

The functions here turn the prepared store and the trust's plan (``store.plan()``) into the
charts, sentences, tables and headlines of the ``04_monitor_adjust`` notebook, for one school or
the whole trust (``school_id=None``):

* each goal's measure per half-term (:func:`cilib.measures.metrics.compute_metric`) as a control
chart
  (:func:`cilib.stats.spc.chart`) for the focus group and the comparison group, the gap between them
  (:func:`cilib.stats.spc.gap_chart`) and progress against the trajectory
  (:func:`cilib.cycle.plan.progress`);
* the special-cause signals written as plain-English sentences (:func:`signal_sentence`);
* the PDSA log, prediction against result (:func:`cilib.cycle.plan.pdsa_log`);
* a suggested decision per strategy (:func:`strategy_decisions`) from
  :func:`cilib.cycle.plan.decide`, with the rule in force (:func:`decision_rule`: ``DEFAULT_RULE``
  with the trust config's ``decision_rule`` merged over it).

Chart kinds (:func:`chart_kind`): a p chart (``count / n``, limits
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

from cilib.core.errors import ConfigError, DataError, PlanError
from cilib.cycle import plan as cp
from cilib.data.store import Store
from cilib.measures import registry
from cilib.measures.metrics import compute_metric, period_key
from cilib.measures.registry import chart_kind
from cilib.stats import spc

__all__ = [
    "chart_name",
    "use_laney",
    "decision_rule",
    "decisions_section",
    "goal_charts",
    "goal_label",
    "goals_section",
    "headlines",
    "pdsa_section",
    "rule_text",
    "signal_info",
    "signal_sentence",
    "strategy_decisions",
    "strategy_effect",
    "strategy_evidence",
]

#: Laney p′ replaces the p chart when sigma_z reaches this and points average this many pupils.
LANEY_SIGMA_Z = 1.5
LANEY_MIN_N = 100

#: What each decision-rule key means, for the printed rule.
RULE_MEANING = {
    "small_effect": "an effect whose whole 95% interval lies within ± this (Hedges' g) counts "
    "as no worthwhile effect",
    "stop_after_reviews": "stop for no worthwhile effect only after this many review periods",
    "stop_if_harmful": "stop when the effect's whole interval lies on the harmful side of zero",
    "periods_per_year": "half-terms in a year, used to state yearly costs",
}


def _tables(store: Store) -> dict[str, pd.DataFrame]:
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


def _group_names(store: Store, goal: cp.Goal) -> dict[str, str]:
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
    names = _group_names(store, goal)
    if group == "gap":
        text = f"{name} gap ({names['focus'].lower()} minus {names['comparison'].lower()})"
    elif group == "all":
        metric = goal.metric or {}
        staff = (metric.get("filter") or {}).get("respondent_type") == "staff"
        text = name if metric.get("table") == "systems" or staff else f"{name}, all pupils"
    else:
        text = f"{name} for {names[group].lower()}"
    return text[0].upper() + text[1:]


def _digits(goal: cp.Goal) -> int:
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
                _tables(store),
                goal.metric,
                school_id=school_id,
                focus=_focus_dict(store, goal),
                periods=store.periods,
            )
        except DataError:
            return pd.DataFrame(columns=cols)
        small = res["n"].fillna(0) < store.threshold
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
            opts = dict(n="denominator", multiplier=100, order=order, improvement=goal.direction)
            laney = spc.chart(d, "numerator", "period", kind="pp", **opts)
            if use_laney(laney):
                return laney
            return spc.chart(d, "numerator", "period", kind="p", **opts)
        return spc.chart(d, "value", "period", kind="xmr", order=order, improvement=goal.direction)
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
                    order=[p for p in order if p in both],
                    improvement=goal.direction,
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
    variation = summ.get("variation", spc.VAR_COMMON)
    low = label[0].lower() + label[1:] if label else label
    out: dict[str, Any] = {"variation": variation, "signal": None, "since": None, "last": None}
    if variation == spc.VAR_IMPROVING:
        out["signal"] = "improving"
    elif variation == spc.VAR_CONCERNING:
        out["signal"] = "concerning"
    cur = res["phase"].to_numpy() == res["phase"].max()
    sig = res["signal"].to_numpy(dtype=bool) & cur & _usable(res)
    v = res["value"].to_numpy(dtype=float)
    fmt = f"{{:.{digits}f}}"
    if variation == spc.VAR_COMMON or not sig.any():
        lo, hi = res["lower"].iloc[-1], res["upper"].iloc[-1]
        n = int(_usable(res).sum())
        limits = (
            f" between its control limits ({fmt.format(lo)} to {fmt.format(hi)})"
            if pd.notna(lo) and pd.notna(hi)
            else ""
        )
        if variation == spc.VAR_NEITHER:
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
        if rule == spc.RULE_SHIFT:
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
        elif rule == spc.RULE_TREND:
            a, d, k = _trend_start(res, i)
            verb = (
                ("has risen" if d > 0 else "has fallen")
                if is_last
                else ("rose" if d > 0 else "fell")
            )
            parts.append(f"{low} {verb} {k - 1} times in a row, from {periods[a]} to {periods[i]}")
            starts.append(a)
        elif rule == spc.RULE_OUTSIDE:
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
        elif rule == spc.RULE_TWO_OF_THREE:
            up = v[i] > res["centre"].iloc[i]
            parts.append(
                f"two of three points up to {periods[i]} were more than two sigma "
                f"{'above' if up else 'below'} the average"
            )
            rl = res["rules"].astype("str").tolist()
            window = [j for j in range(max(0, i - 2), i + 1) if spc.RULE_TWO_OF_THREE in rl[j]]
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


# --------------------------------------------------------------------------------------------
# Evidence for decisions
# --------------------------------------------------------------------------------------------


def decision_rule(store: Store) -> dict[str, Any]:
    """Return the decision rule in force: the default with the config's ``decision_rule`` over it.

    :data:`cilib.cycle.plan.DEFAULT_RULE`, with the trust config's ``decision_rule`` (available as
    ``store.meta["decision_rule"]``) merged over it.

    Raises
    ------
    ConfigError
        An unknown key, or a value of the wrong kind, in the config's ``decision_rule``.
    """
    over = dict(store.meta.get("decision_rule") or {})
    unknown = [k for k in over if k not in cp.DEFAULT_RULE]
    if unknown:
        raise ConfigError(
            f"decision_rule in the trust config has unknown key(s) {', '.join(unknown)}; "
            f"allowed keys are {', '.join(cp.DEFAULT_RULE)}"
        )
    for k, v in over.items():
        want_bool = isinstance(cp.DEFAULT_RULE[k], bool)
        if want_bool != isinstance(v, bool) or not isinstance(v, (int, float)):
            kind = "true or false" if want_bool else "a number"
            raise ConfigError(f"decision_rule {k!r} in the trust config must be {kind}, not {v!r}")
    return {**cp.DEFAULT_RULE, **over}


def rule_text(rule: Mapping[str, Any]) -> str:
    """Return the decision rule in force as plain-English steps (R = review_after_periods)."""
    return (
        "Rule in force (the first that applies wins; R = the strategy's review_after_periods, "
        "t = half-terms since it started): "
        "1. stop when the effect's 95% interval lies wholly on the harmful side of zero"
        f"{'' if rule['stop_if_harmful'] else ' (switched off)'}; "
        f"2. stop when t ≥ {rule['stop_after_reviews']} × R and the interval includes zero "
        f"within ±{rule['small_effect']:g} (no worthwhile effect); "
        "3. continue when on trajectory, or improving beyond noise (an improving signal, or an "
        "effect interval wholly on the beneficial side); "
        "4. adjust when off trajectory or the signal is concerning; "
        "5. adjust when t ≥ R with no signal; 6. otherwise continue: too early to judge."
    )


def strategy_effect(store: Store, strategy: cp.Strategy, school_id: str | None = None) -> dict:
    """Effect of a strategy's intervention on its outcome measure (Hedges' g, 95% CI).

    The design is the Analyse Impact report's,
    :func:`cilib.report.sections.analyse_impact.analyse`, so the decision
    and the impact report rest on the same estimate: treated pupils in the intervention's
    schools, comparison pupils in the other schools of the same phase (when every school of the
    phase takes part, the trust's other schools, a weaker comparison said in ``comparison``),
    gains from the last period before the start to the latest period. ``effect_ci`` is the
    interval of the intervention's group: the focus group when the intervention is for it,
    else all pupils.

    Returns
    -------
    dict
        ``effect_ci`` (tuple or None), ``g``, ``diff``, ``n_treated``, ``n_comparison``,
        ``baseline_period``, ``outcome_period``, ``comparison`` (who the comparison is, or why
        there is none) and ``effects`` (the :class:`cilib.stats.impact.ImpactResult`, or None).
    """
    from cilib.report.sections import analyse_impact as evaluate

    none: dict[str, Any] = {
        "effect_ci": None,
        "g": np.nan,
        "diff": np.nan,
        "n_treated": 0,
        "n_comparison": 0,
        "baseline_period": None,
        "outcome_period": None,
        "effects": None,
    }
    if not strategy.intervention:
        return {**none, "comparison": "no intervention schools named in the plan"}
    a = evaluate.analyse(store, strategy.id, school_id)
    info = {**none, "baseline_period": a.baseline_period, "outcome_period": a.outcome_period}
    if a.status == "no comparison" or (a.status == "ok" and not a.comparison_schools):
        return {**info, "comparison": "no comparison: every school in the trust takes part"}
    if a.status != "ok" or a.result is None:
        return {**info, "comparison": a.message or a.status}
    what = (
        "the same group in the trust's other schools (every school of this phase takes "
        "part, so this is a weaker comparison)"
        if a.weaker_comparison
        else "the same group in the other schools of the same phase"
    )
    eff = a.result.effects.set_index("population")
    pop = "focus" if a.group == "focus" and "focus" in eff.index else "all"
    row = eff.loc[pop]
    ci = (float(row["g_ci_low"]), float(row["g_ci_high"]))
    return {
        **info,
        "comparison": what,
        "effect_ci": ci if np.isfinite(ci).all() else None,
        "g": float(row["g"]),
        "diff": float(row["diff"]),
        "n_treated": int(row["n_treated"]),
        "n_comparison": int(row["n_comparison"]),
        "effects": a.result,
    }


def strategy_evidence(store: Store, strategy_id: str, school_id: str | None = None) -> dict:
    """All the evidence :func:`cilib.cycle.plan.decide` needs for one strategy, wired from the data.

    ``on_trajectory`` and ``periods_since_start`` from :func:`cilib.cycle.plan.strategy_evidence`
    (:func:`cilib.cycle.plan.progress` on the outcome goal); ``signal`` from the control chart of
    the
    outcome goal's own group (:func:`goal_charts`): ``"improving"`` / ``"concerning"`` when the
    chart's variation says so and the deciding signal point falls at or after the strategy's
    start, else None; ``effect_ci`` from :func:`strategy_effect` when the strategy names an
    intervention. Extra keys: ``signal_sentence``, ``signal_since``, ``comparison``, ``g``,
    ``n_treated``, ``n_comparison``, ``baseline_period``, ``outcome_period``.
    """

    def make() -> dict:
        plan = store.plan()
        s = plan.strategy(strategy_id)
        goal = plan.outcome_goal(s)
        try:
            ev = cp.strategy_evidence(
                plan,
                s.id,
                _tables(store),
                as_of=store.period,
                school_id=school_id,
                periods=store.meta["periods"],
            )
        except (PlanError, DataError):
            ev = {
                "goal": goal.id,
                "on_trajectory": None,
                "periods_since_start": 0,
                "signal": None,
                "effect_ci": None,
                "direction": goal.direction,
            }
        charts = goal_charts(store, goal, school_id)
        own = charts["own"]
        start = s.start_period or (s.intervention or {}).get("start_period")
        if own is not None:
            info = signal_info(
                own, goal_label(store, goal), digits=_digits(goal), calendar=store.meta["periods"]
            )
            late = start is None or (
                info["last"] is not None and period_key(info["last"]) >= period_key(start)
            )
            ev["signal"] = info["signal"] if late else None
            ev["signal_sentence"] = info["sentence"]
            ev["signal_since"] = info["since"]
        else:
            ev["signal_sentence"] = "Too few unsuppressed points for a control chart."
            ev["signal_since"] = None
        eff = strategy_effect(store, s, school_id)
        ev["effect_ci"] = eff["effect_ci"]
        for k in (
            "comparison",
            "g",
            "n_treated",
            "n_comparison",
            "baseline_period",
            "outcome_period",
        ):
            ev[k] = eff[k]
        return ev

    return dict(store.memo("monitor", "evidence", strategy_id, school_id, make=make))


def strategy_decisions(
    store: Store, school_id: str | None = None, *, rule: Mapping[str, Any] | None = None
) -> pd.DataFrame:
    """Suggest continue, adjust or stop for each strategy of the plan, with the reason.

    The decision is :func:`cilib.cycle.plan.decide` on the evidence of :func:`strategy_evidence`
    under the rule in force (:func:`decision_rule`, or ``rule`` merged over
    :data:`cilib.cycle.plan.DEFAULT_RULE` when given). For a school, strategies whose intervention
    or
    outcome goal does not include it are left out.

    Returns
    -------
    DataFrame
        One row per strategy: ``strategy, title, goal, decision, reason, on_trajectory, signal,
        periods_since_start, review_after_periods, effect_g, effect_ci_low, effect_ci_high,
        n_treated, n_comparison, comparison``.
    """
    plan = store.plan()
    cols = [
        "strategy",
        "title",
        "goal",
        "decision",
        "reason",
        "on_trajectory",
        "signal",
        "periods_since_start",
        "review_after_periods",
        "effect_g",
        "effect_ci_low",
        "effect_ci_high",
        "n_treated",
        "n_comparison",
        "comparison",
    ]
    if plan is None:
        return pd.DataFrame(columns=cols)
    r = decision_rule(store) if rule is None else {**cp.DEFAULT_RULE, **dict(rule)}
    rows = []
    for s in plan.strategies:
        if not plan.strategy_applies_to(s, school_id):
            continue
        ev = strategy_evidence(store, s.id, school_id)
        decision, reason = cp.decide(s, ev, r)
        ci = ev["effect_ci"]
        rows.append(
            {
                "strategy": s.id,
                "title": s.title,
                "goal": ev["goal"],
                "decision": decision,
                "reason": reason,
                "on_trajectory": ev["on_trajectory"],
                "signal": ev["signal"],
                "periods_since_start": ev["periods_since_start"],
                "review_after_periods": s.review_after_periods,
                "effect_g": ev["g"] if ci is not None else np.nan,
                "effect_ci_low": ci[0] if ci is not None else np.nan,
                "effect_ci_high": ci[1] if ci is not None else np.nan,
                "n_treated": ev["n_treated"],
                "n_comparison": ev["n_comparison"],
                "comparison": ev["comparison"],
            }
        )
    out = pd.DataFrame(rows, columns=cols)
    out["on_trajectory"] = out["on_trajectory"].astype("boolean")
    for c in ("effect_g", "effect_ci_low", "effect_ci_high"):
        out[c] = out[c].astype("float64")
    return out


# --------------------------------------------------------------------------------------------
# Headlines
# --------------------------------------------------------------------------------------------


def _latest_change(store: Store, goal: cp.Goal, school_id: str | None) -> str | None:
    charts = goal_charts(store, goal, school_id)
    own = charts["own"]
    if own is None:
        return None
    d = own.loc[own["value"].notna()]
    if len(d) < 2:
        return None
    from cilib.report.html import fmt_change

    last, prev = d.iloc[-1], d.iloc[-2]
    dg = _digits(goal)
    return (
        f"{goal_label(store, goal)} was {last['value']:.{dg}f} in {last['period']}, "
        f"{fmt_change(float(last['value']), float(prev['value']), digits=dg)} since "
        f"{prev['period']}."
    )


def headlines(store: Store, school_id: str | None = None) -> list[str]:
    """Headline sentences: each goal's signal (since when) and latest change, the decisions."""
    plan = store.plan()
    if plan is None:
        return ["The trust has no improvement plan (plan.yml), so there is nothing to monitor."]
    out = []
    for goal in plan.goals:
        if not goal.applies_to(school_id):
            continue
        own = goal_charts(store, goal, school_id)["own"]
        if own is None:
            continue
        info = signal_info(
            own, goal_label(store, goal), digits=_digits(goal), calendar=store.meta["periods"]
        )
        if info["since"]:
            out.append(f"{goal_label(store, goal)}: {info['variation']} since {info['since']}.")
        change = _latest_change(store, goal, school_id)
        if change:
            out.append(change)
    dec = strategy_decisions(store, school_id)
    if len(dec):
        counts = dec["decision"].value_counts()
        out.append(
            f"Suggested decisions: {counts.get('continue', 0)} continue, "
            f"{counts.get('adjust', 0)} adjust, {counts.get('stop', 0)} stop."
        )
    return out


# --------------------------------------------------------------------------------------------
# Report sections
# --------------------------------------------------------------------------------------------


def _progress_table(store: Store, goal: cp.Goal, school_id: str | None):
    from cilib.report.html import table

    try:
        pr = cp.progress(goal, _tables(store), school_id=school_id, periods=store.meta["periods"])
    except (PlanError, DataError) as err:
        from cilib.report.html import note

        return note(f"Progress against the trajectory cannot be shown: {err}")
    pr = pr.loc[pr["period"].map(lambda p: period_key(p) <= period_key(store.period))]
    series = goal_series(store, goal, school_id)
    if goal.group == "gap":
        n = series.loc[series["group"].isin(["focus", "comparison"])].groupby("period")["n"].min()
        sup = (
            series.loc[series["group"].isin(["focus", "comparison"])]
            .groupby("period")["suppressed"]
            .any()
        )
    else:
        s = series.loc[series["group"] == goal.group].set_index("period")
        n, sup = s["n"], s["suppressed"]
    pr = pr.loc[pr["observed"].notna() | (pr["kind"] != "interpolated")].copy()
    pr["n"] = pr["period"].map(n).astype("Int64")
    pr["suppressed"] = pr["period"].map(sup).fillna(False).astype(bool)
    pr["difference"] = pr["observed"] - pr["expected"]
    pr["on_trajectory"] = pr["on_trajectory"].map({True: "yes", False: "no"}).fillna("")
    pr["kind"] = pr["kind"].replace({"interpolated": ""})
    pr = pr[
        ["period", "kind", "n", "observed", "expected", "difference", "on_trajectory", "suppressed"]
    ]
    return table(
        pr,
        threshold=store.threshold,
        digits=_digits(goal),
        value_columns=["n", "observed", "expected", "difference"],
        caption=f"{goal.id} progress against the trajectory to {goal.target:g} by "
        f"{goal.target_period} ({'higher' if goal.direction == 'up' else 'lower'} is "
        "better)",
        rename={
            "period": "Half-term",
            "kind": "Point",
            "n": "Pupils (smallest group)" if goal.group == "gap" else "n",
            "observed": "Observed",
            "expected": "Expected",
            "difference": "Observed minus expected",
            "on_trajectory": "On trajectory",
        },
    )


def _goal_items(store: Store, goal: cp.Goal, school_id: str | None) -> list:
    from cilib.report.html import note

    charts = goal_charts(store, goal, school_id)
    names = _group_names(store, goal)
    cal = store.meta["periods"]
    dg = _digits(goal)
    items: list = [
        note(
            f"{goal.id}: {goal.title}. Measure: {goal_label(store, goal)}; target "
            f"{goal.target:g} by {goal.target_period}."
        )
    ]
    groups = {names[g]: charts[g] for g in ("focus", "comparison") if charts[g] is not None}
    used = next((charts[g] for g in ("own", "all", "focus") if charts[g] is not None), None)
    kind = chart_name(used)
    if len(groups) == 2:
        axes = spc.plot_groups(
            groups,
            title=f"{goal_label(store, goal, 'all').split(',')[0]}: is either group "
            f"moving beyond normal variation? ({kind})",
        )
        items.append(axes[0].figure)
    elif charts["all"] is not None:
        ax = spc.plot(
            charts["all"],
            title=f"{goal_label(store, goal, 'all')}: any change beyond normal variation? ({kind})",
        )
        ax.figure.set_size_inches(10, 4.2)
        items.append(ax.figure)
    caution = next(
        (c.attrs["summary"]["note"] for c in (charts["own"], charts["all"]) if c is not None), ""
    )
    if caution:
        items.append(note(f"Caution: {caution}.", warn=True))
    if used is not None and used.attrs["summary"].get("kind") == "pp":
        sz = used.attrs["summary"]["sigma_z"]
        items.append(
            note(
                f"Why a Laney p′ chart: with about {used['n'].mean():,.0f} pupils a half-term, the "
                f"half-termly figures vary {sz:.1f} times as much as chance among pupils alone "
                "would make them (cohorts differ), so ordinary limits would call that ordinary "
                "variation a signal. The limits are widened by that factor."
            )
        )
    for g in ("focus", "comparison", "all"):
        if charts[g] is not None and (g != "all" or len(groups) < 2 or goal.group == "all"):
            items.append(
                note(
                    signal_sentence(charts[g], goal_label(store, goal, g), digits=dg, calendar=cal)
                )
            )
    if charts["gap"] is not None:
        better = "up" if goal.direction == "up" else "down"
        short = goal_label(store, goal, "all").split(",")[0]
        ax = spc.plot(
            charts["gap"],
            title=f"{short} gap: narrowing beyond noise? ({better} = narrower)",
            ylabel="gap",
        )
        ax.figure.set_size_inches(10, 4.2)
        if goal.group == "gap":
            traj = None
            try:
                base = cp.baseline(goal, _tables(store), school_id)
                traj = cp.trajectory(goal, base, store.meta["periods"])
            except (PlanError, DataError):
                pass
            if traj is not None:
                pos = {p: i for i, p in enumerate(charts["gap"]["period"])}
                t = traj.loc[traj["period"].isin(pos)]
                ax.plot(
                    [pos[p] for p in t["period"]],
                    t["expected"],
                    color="#009E73",
                    linestyle=":",
                    marker="^",
                    label="trajectory",
                )
                ax.legend(loc="best", fontsize=8)
        items.append(ax.figure)
        items.append(
            note(
                signal_sentence(
                    charts["gap"], goal_label(store, goal, "gap"), digits=dg, calendar=cal
                )
            )
        )
    items.append(_progress_table(store, goal, school_id))
    return items


def goals_section(store: Store, school_id: str | None = None) -> list:
    """For each goal: focus and comparison charts, the gap chart, signals and progress."""
    from cilib.report.html import note

    plan = store.plan()
    if plan is None:
        return [note("The trust has no improvement plan (plan.yml).", warn=True)]
    items: list = []
    for goal in plan.goals:
        if goal.metric is None:
            items.append(note(f"{goal.id} has no metric, so it cannot be charted.", warn=True))
            continue
        if not goal.applies_to(school_id):
            items.append(note(f"{goal.id} ({goal.title}) is measured in other schools only."))
            continue
        if (
            goal_charts(store, goal, school_id)["own"] is None
            and goal_series(store, goal, school_id)["value"].notna().sum() == 0
        ):
            items.append(note(f"{goal.id}: no data for this school.", warn=True))
            continue
        items.extend(_goal_items(store, goal, school_id))
    items.append(
        note(
            "Charts: limits from every half-term shown; a diamond marks a point that breaks a "
            "rule (outside the limits, a run of points on one side of the average, a trend of six, "
            f"or two of three beyond two sigma). Groups with fewer than {store.threshold} pupils "
            "are not drawn."
        )
    )
    return items


def pdsa_section(store: Store, school_id: str | None = None) -> list:
    """Return the PDSA log: each cycle's prediction against its result, and the decision taken."""
    from cilib.report.html import note, table

    plan = store.plan()
    if plan is None or not plan.pdsa:
        return [note("No PDSA cycles are recorded in the plan.")]
    log = cp.pdsa_log(plan)
    shown = log[
        [
            "id",
            "strategy",
            "change_idea",
            "prediction",
            "result",
            "predicted_value",
            "observed_value",
            "difference",
            "learning",
            "decision",
        ]
    ]
    met = []
    for _, r in log.iterrows():
        if pd.isna(r["difference"]):
            continue
        met.append(
            f"{r['id']}: result {r['observed_value']:g} against a prediction of "
            f"{r['predicted_value']:g} ({r['difference']:+g}); decision: {r['decision']}."
        )
    return [
        table(
            shown,
            caption="PDSA cycles: prediction against result",
            value_columns=["predicted_value", "observed_value", "difference"],
            rename={
                "id": "Cycle",
                "strategy": "Strategy",
                "change_idea": "Change idea",
                "prediction": "Prediction",
                "result": "Result",
                "predicted_value": "Predicted",
                "observed_value": "Observed",
                "difference": "Observed minus predicted",
                "learning": "Learning",
                "decision": "Decision",
            },
        ),
        *(note(m) for m in met),
    ]


def decisions_section(store: Store, school_id: str | None = None) -> list:
    """Return the rule in force and each strategy's suggested decision, reason and evidence."""
    from cilib.report.html import note, table

    rule = decision_rule(store)
    over = sorted(store.meta.get("decision_rule") or {})
    rt = pd.DataFrame(
        {
            "setting": list(rule),
            "value": [str(v) for v in rule.values()],
            "source": ["trust config" if k in over else "default" for k in rule],
            "meaning": [RULE_MEANING.get(k, "") for k in rule],
        }
    )
    dec = strategy_decisions(store, school_id)
    items: list = [
        table(
            rt,
            caption="Decision rule in force (set decision_rule in the trust config to change it)",
        ),
        note(rule_text(rule)),
    ]
    if not len(dec):
        return [*items, note("No strategy in the plan applies here.")]
    shown = dec.assign(
        on_trajectory=dec["on_trajectory"].map({True: "yes", False: "no"}).fillna("unknown"),
        signal=dec["signal"].fillna("none"),
        effect=[
            "" if pd.isna(lo) else f"{g:+.2f} ({lo:+.2f} to {hi:+.2f})"
            for g, lo, hi in zip(
                dec["effect_g"], dec["effect_ci_low"], dec["effect_ci_high"], strict=True
            )
        ],
    )
    small = ((dec["n_treated"] > 0) & (dec["n_treated"] < store.threshold)) | (
        (dec["n_comparison"] > 0) & (dec["n_comparison"] < store.threshold)
    )
    shown = shown.assign(effect=shown["effect"].where(~small, "x"), suppressed=small.astype(bool))
    shown = shown.assign(
        n_treated=shown["n_treated"].where(shown["n_treated"] > 0),
        n_comparison=shown["n_comparison"].where(shown["n_comparison"] > 0),
    )
    shown = shown[
        [
            "strategy",
            "decision",
            "on_trajectory",
            "signal",
            "periods_since_start",
            "effect",
            "n_treated",
            "n_comparison",
            "suppressed",
        ]
    ]
    items.append(
        table(
            shown,
            threshold=store.threshold,
            value_columns=["periods_since_start", "n_treated", "n_comparison"],
            digits=0,
            caption="Suggested decision per strategy (a suggestion for leaders to discuss, not a "
            "verdict)",
            rename={
                "strategy": "Strategy",
                "decision": "Suggested decision",
                "on_trajectory": "Goal on trajectory",
                "signal": "Signal since start",
                "periods_since_start": "Half-terms since start",
                "effect": "Effect, Hedges' g (95% CI)",
                "n_treated": "Pupils in intervention",
                "n_comparison": "Pupils in comparison",
            },
        )
    )
    for _, r in dec.iterrows():
        items.append(
            note(
                f"{r['strategy']} ({r['title']}), goal {r['goal']}: {r['reason']} "
                f"Effect compared with: {r['comparison']}."
            )
        )
    items.append(
        note(
            "Effect: difference in mean gain on the goal's measure from the last half-term before "
            "the strategy started to the latest, intervention pupils against comparison pupils, as "
            "Hedges' g with its 95% interval. A comparison between schools that were not assigned "
            "at random can be biased; read it beside the charts."
        )
    )
    return items
