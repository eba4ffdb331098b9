"""Analyse Impact: whether an intervention in the plan made a difference, and for whom.

The functions here turn the prepared store and the plan's strategies into the tables, charts and
headlines of the ``05_analyse_impact`` notebook. The statistics come from :mod:`cilib.stats.impact`
(effects, Hedges' g, months of progress, validity checks) and :mod:`cilib.stats.equity`; this module
builds the pupil-level data for one strategy's intervention and explains the result.

Design (a comparison-group design with a baseline, not a randomised trial):

* **treated**: pupils in the intervention's schools at the baseline period (one school only in
  a school's report); when the intervention's ``group`` is ``focus`` the *focus* effect compares
  focus-group pupils, and the effect *for all pupils* compares all pupils in those schools;
* **comparison**: pupils in the trust's other schools of the same phase (and, when the outcome
  metric names ``schools``, among those). When every such school took part there is no
  comparison group and no effect is estimated: schools of another phase, or outside the goal's
  schools, are never used instead (their pupils differ in age, curriculum and measure);
* **outcome**: the strategy's outcome measure per pupil at the latest period with data;
* **baseline**: the same measure at the last period with data before the intervention started.

The cohort is every pupil with a baseline in the treated or comparison schools who could still
be measured at the outcome: natural leavers, pupils whose year group would by then be beyond the
last year group measured in their own school's phase (for example primary Year 6 leavers), have
left at the end of the phase and are not counted as lost. Cohort pupils without an
outcome count as attrition. Focus-group membership is taken at the baseline (before the
intervention), so the intervention cannot change who is counted in the group.

The effect is the difference in mean gains (``outcome - baseline``), treated minus comparison,
with school-clustered inference because schools, not pupils, were assigned; Hedges' g uses the
pooled SD of the outcome; the change in the gap is the difference in differences
(:func:`cilib.stats.impact.estimate_impact` with ``cluster="school_id"``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from cilib.core.calendar import period_key
from cilib.core.errors import DataError, PlanError
from cilib.data.store import Store
from cilib.measures import metrics, registry
from cilib.report.style import COLOURS, MARKERS, new_axes
from cilib.stats import equity
from cilib.stats.impact import estimate_impact
from cilib.stats.suppression import SUPPRESSED_SYMBOL

#: Plain-English names of the validity checks of :func:`cilib.stats.impact.estimate_impact`.
CHECK_LABELS = {
    "attrition_overall": "Pupils lost from the study (attrition)",
    "attrition_differential": "One group lost more pupils than the other (differential attrition)",
    "baseline_imbalance": "Groups not alike at the start (baseline imbalance)",
    "small_n": "Too few pupils (all pupils)",
    "small_n_focus": "Too few pupils (focus group)",
    "regression_to_the_mean": "Regression to the mean",
    "regression_to_mean": "Regression to the mean",
    "missing_by_group": "Missing data differs by group",
    "group_unknown": "Pupils with no group recorded",
    "too_few_clusters": "Too few schools to estimate the effect reliably",
}


# --------------------------------------------------------------------------------------------
# Per-pupil values of a metric
# --------------------------------------------------------------------------------------------


def _filtered(tables: Mapping[str, pd.DataFrame], m: dict, table: str) -> pd.DataFrame:
    df = tables[table]
    if "schools" in m:
        df = df.loc[df["school_id"].isin(m["schools"])]
    df = metrics.with_year(df)
    return metrics.apply_filter(df, tables, m["filter"], table)


def pupil_values(tables: Mapping[str, pd.DataFrame], metric: Mapping[str, Any]) -> pd.DataFrame:
    """Return a metric's value per pupil (or survey respondent), school and period.

    Formulas, per pupil and period (the per-pupil parts of
    :func:`cilib.measures.metrics.compute_metric`):
    ``attendance_rate`` = 100 × attended / possible sessions (pupils with possible sessions > 0);
    ``persistent_absence`` = 100 if the pupil missed at least (100 − threshold)% of sessions,
    else 0; ``mean_score`` = the mean of the pupil's scores (after the metric's filter);
    ``pct_at_or_above`` = 100 if that mean ≥ threshold, else 0; ``scale_mean`` = the
    respondent's mean item response, reverse-coded items scored ``min + max − response``.

    Parameters
    ----------
    tables : dict of str to DataFrame
        Prepared canonical tables (as ``Store.tables_dict()``).
    metric : dict
        A metric definition (see :mod:`cilib.measures.metrics`).

    Returns
    -------
    DataFrame
        ``unit_id, pupil_id, school_id, period, academic_year, value``.

    Raises
    ------
    DataError
        When the measure has no per-pupil value (behaviour rates, systems measures).

    Examples
    --------
    >>> att = pd.DataFrame({"pupil_id": ["a", "b"], "school_id": ["S1", "S1"],
    ...     "academic_year": ["2024/25"] * 2, "period": ["2024/25 HT1"] * 2,
    ...     "possible_sessions": [60, 40], "attended_sessions": [57, 30]})
    >>> pupil_values({"attendance": att}, {"table": "attendance", "measure": "attendance_rate"})[
    ...     ["pupil_id", "value"]]
      pupil_id  value
    0        a   95.0
    1        b   75.0
    """
    m = metrics.validate_metric(metric)
    table, measure = m["table"], m["measure"]
    if measure not in registry.per_pupil_measures().get(table, ()):
        raise DataError(
            f"measure {measure!r} of table {table!r} has no value per pupil, so its impact "
            "cannot be analysed pupil by pupil; use an attendance, assessment or survey measure"
        )
    if table not in tables:
        raise DataError(f"table {table!r} is needed for this metric but is not in the store")
    df = _filtered(tables, m, table)
    keys = ["pupil_id", "school_id", "period", "academic_year"]
    if table == "attendance":
        poss = pd.to_numeric(df["possible_sessions"]).astype("float64")
        att = pd.to_numeric(df["attended_sessions"]).astype("float64")
        d = df[keys].assign(poss=poss, att=att)
        u = d.groupby(keys, as_index=False)[["poss", "att"]].sum()
        u = u.loc[u["poss"] > 0]
        if measure == "attendance_rate":
            val = 100 * u["att"] / u["poss"]
        else:
            absent = metrics.persistently_absent(u["poss"], u["att"], threshold=m["threshold"])
            val = pd.Series(100 * absent.astype("float64"), index=u.index)
        out = u[keys].assign(value=val.to_numpy())
    elif table == "assessments":
        d = df[keys].assign(score=pd.to_numeric(df["score"]).astype("float64"))
        d = d.loc[d["score"].notna()]
        out = d.groupby(keys, as_index=False).agg(value=("score", "mean"))
        if measure == "pct_at_or_above":
            out = out.assign(value=100 * (out["value"] >= m["threshold"]).astype("float64"))
    else:
        items = tables["survey_items"]
        sitems = items.loc[items["scale"] == m["scale"], ["item_id", "reverse_coded", "min", "max"]]
        d = df.merge(sitems, on="item_id", how="inner")
        r = pd.to_numeric(d["response"]).astype("float64")
        rev = d["reverse_coded"].astype("boolean").fillna(False).astype(bool)
        d = d.assign(adj=np.where(rev, d["min"].astype(float) + d["max"].astype(float) - r, r))
        d = d.loc[d["adj"].notna()]
        if "pupil_id" not in d.columns:
            d = d.assign(pupil_id=pd.NA)
        out = d.groupby(
            ["respondent_id", "school_id", "period", "academic_year"], as_index=False
        ).agg(value=("adj", "mean"), pupil_id=("pupil_id", "first"))
        return out.rename(columns={"respondent_id": "unit_id"})[
            ["unit_id", "pupil_id", "school_id", "period", "academic_year", "value"]
        ]
    out = out.assign(unit_id=out["pupil_id"])
    return out[["unit_id", "pupil_id", "school_id", "period", "academic_year", "value"]]


# --------------------------------------------------------------------------------------------
# The analysis of one strategy's intervention
# --------------------------------------------------------------------------------------------


@dataclass
class Analysis:
    """Everything the report shows about one strategy's intervention."""

    strategy: Any
    status: str  # "ok", "no comparison", "not taking part", "not measurable", "no data"
    message: str = ""
    treated_schools: list[str] = field(default_factory=list)
    comparison_schools: list[str] = field(default_factory=list)
    comparison_same_phase: bool | None = None  # every comparison school of a treated phase
    comparison_in_scope: bool | None = None  # every comparison school among the goal's schools
    group: str = "all"
    metric: dict | None = None
    metric_name: str = ""
    unit: str = "points"
    baseline_period: str | None = None
    outcome_period: str | None = None
    start_period: str | None = None
    data: pd.DataFrame | None = None
    result: Any = None
    trend: pd.DataFrame | None = None
    periods: list[str] = field(default_factory=list)


def interventions(store: Store, intervention: str = "") -> list:
    """Return the plan's strategies to analyse: the one named, or every one with an intervention.

    Raises
    ------
    PlanError
        When the store has no plan, or ``intervention`` is not a strategy id in it, or that
        strategy names no intervention.
    """
    plan = store.plan()
    if plan is None:
        raise PlanError("the store has no plan.yml; add 'plan:' to the trust config's data")
    if intervention:
        s = plan.strategy(intervention)
        if not s.intervention:
            raise PlanError(
                f"strategy {intervention!r} names no intervention; add "
                "'intervention: {schools: [...], group: focus, start_period: ...}' to it"
            )
        return [s]
    return [s for s in plan.strategies if s.intervention]


def _outcome_metric(plan, strategy) -> dict | None:
    om = strategy.outcome_measure
    if isinstance(om, str):
        return plan.goal(om).metric
    if isinstance(om, Mapping):
        return {k: v for k, v in om.items() if k != "expected"}
    if strategy.goals:
        return plan.goal(strategy.goals[0]).metric
    return None


def _phase_of(schools: pd.DataFrame) -> dict[str, str]:
    return dict(zip(schools["school_id"], schools["phase"].astype("str"), strict=False))


def analyse(store: Store, strategy_id: str, school_id: str | None = None) -> Analysis:
    """Build the pupil data for a strategy's intervention and estimate its effect.

    See the module docstring for the design. With ``school_id`` the treated group is that
    school's pupils only (status ``"not taking part"`` if the school is not in the
    intervention). Status ``"no comparison"`` when every school of the phase (among the goal's
    ``schools:``) took part, and ``"not measurable"`` when the outcome has no per-pupil value.

    Returns
    -------
    Analysis
        ``.data`` one row per cohort pupil (``unit_id, school_id, treated, focus, baseline,
        outcome``), ``.result`` the :class:`cilib.stats.impact.ImpactResult`, ``.trend`` the mean
        outcome per period and arm for the chart.
    """
    return store.memo(
        "analyse", strategy_id, school_id, make=lambda: _analyse(store, strategy_id, school_id)
    )


def _analyse(store: Store, strategy_id: str, school_id: str | None) -> Analysis:
    plan = store.plan()
    if plan is None:
        raise PlanError("the store has no plan.yml; add 'plan:' to the trust config's data")
    st = plan.strategy(strategy_id)
    iv = dict(st.intervention or {})
    if not iv:
        raise PlanError(f"strategy {strategy_id!r} names no intervention")
    schools = [str(x) for x in iv.get("schools", [])]
    group = str(iv.get("group", "all"))
    start = iv.get("start_period") or st.start_period
    a = Analysis(strategy=st, status="ok", group=group, start_period=start)
    a.treated_schools = schools
    if school_id is not None and school_id not in schools:
        a.status = "not taking part"
        a.message = (
            f"{store.school_name(school_id)} did not take part in {st.id} ({st.title}); "
            "see the trust report for its evaluation."
        )
        return a
    if school_id is not None:
        a.treated_schools = [school_id]
    metric = _outcome_metric(plan, st)
    if metric is None:
        a.status = "not measurable"
        a.message = f"{st.id} has no outcome measure, so its effect cannot be estimated."
        return a
    a.metric = metrics.validate_metric(metric)
    a.metric_name, a.unit = registry.metric_label(metrics.validate_metric(a.metric))
    tables = store.tables_dict()
    phase = _phase_of(tables["schools"])
    phases = {phase.get(s) for s in schools}
    allowed = set(a.metric.get("schools", phase.keys()))
    a.comparison_schools = sorted(
        s for s in store.school_ids if s not in schools and phase.get(s) in phases and s in allowed
    )
    if a.comparison_schools:
        a.comparison_same_phase = all(phase.get(s) in phases for s in a.comparison_schools)
        a.comparison_in_scope = all(s in allowed for s in a.comparison_schools)
    try:
        vals = pupil_values(tables, {k: v for k, v in a.metric.items() if k != "schools"})
    except DataError as exc:
        a.status = "not measurable"
        a.message = f"{st.id}: {exc}."
        return a
    vals = vals.loc[vals["period"].isin(store.periods)]
    seen = set(vals["period"].unique())
    have = [p for p in store.periods if p in seen]
    a.periods = have
    before = [p for p in have if period_key(p) < period_key(start)]
    after = [p for p in have if period_key(p) >= period_key(start)]
    if not before or not after:
        a.status = "no data"
        a.message = (
            f"{st.id}: the outcome needs data both before {start} and after it; periods with "
            f"data: {', '.join(have) or 'none'}."
        )
        return a
    a.baseline_period, a.outcome_period = before[-1], after[-1]
    a.trend = _trend(store, tables, vals, a)
    if not a.comparison_schools:
        a.status = "no comparison"
        a.message = (
            f"Every {' and '.join(sorted(p for p in phases if p))} school "
            f"{'the goal measures ' if 'schools' in a.metric else 'in the trust '}took "
            f"part in {st.id}, so there is no comparison group of schools that did not. "
            "Schools of another phase are not a fair comparison: their pupils differ in age, "
            "curriculum and assessments. A "
            "change over time alone cannot separate the strategy's effect from everything else "
            "that changed, so no effect is estimated; the chart shows the participating schools "
            "over time."
        )
        return a
    a.data = _cohort(store, tables, vals, a)
    if a.data["treated"].all() or not a.data["treated"].any():
        a.status = "no data"
        a.message = f"{st.id}: no pupils with a baseline in both the treated and comparison groups."
        return a
    has_focus = a.data["focus"].notna().any() and a.data["focus"].astype("boolean").any()
    a.result = estimate_impact(
        a.data,
        "outcome",
        "treated",
        baseline="baseline",
        group="focus" if has_focus else None,
        focus=True,
        cluster="school_id",
    )
    return a


def _cohort(store: Store, tables, vals: pd.DataFrame, a: Analysis) -> pd.DataFrame:
    """One row per cohort pupil: school at baseline, treated, focus, baseline, outcome."""
    study = set(a.treated_schools) | set(a.comparison_schools)
    base = vals.loc[(vals["period"] == a.baseline_period) & vals["school_id"].isin(study)]
    base = base.drop_duplicates("unit_id")
    out = vals.loc[vals["period"] == a.outcome_period].drop_duplicates("unit_id")
    d = base[["unit_id", "pupil_id", "school_id", "academic_year"]].assign(
        baseline=base["value"].to_numpy()
    )
    d = d.merge(
        out[["unit_id", "value"]].rename(columns={"value": "outcome"}), on="unit_id", how="left"
    )
    focus = store.focus
    pupils = tables.get("pupils")
    if pupils is not None and d["pupil_id"].notna().any():
        cols = ["pupil_id", "academic_year", "year_group"]
        cols += [focus.column] if focus.column not in cols else []
        p = pupils[cols].drop_duplicates(["pupil_id", "academic_year"])
        d = d.merge(p, on=["pupil_id", "academic_year"], how="left")
        d["focus"] = (
            d[focus.column]
            .isin(focus.value if isinstance(focus.value, list) else [focus.value])
            .astype("boolean")
            .mask(d[focus.column].isna())
        )
        # natural leavers: pupils whose year group would by then be beyond the last year group
        # measured in their own school's phase (e.g. primary Year 6) left at the end of the
        # phase; they are not attrition
        d = d.loc[~_natural_leaver(d, out, p, _phase_of(tables["schools"]), a)]
    else:
        d["focus"] = pd.array([pd.NA] * len(d), dtype="boolean")
    d["treated"] = d["school_id"].isin(a.treated_schools)
    return d[["unit_id", "school_id", "treated", "focus", "baseline", "outcome"]].reset_index(
        drop=True
    )


def _natural_leaver(
    d: pd.DataFrame, out: pd.DataFrame, pupils: pd.DataFrame, phase: dict[str, str], a: Analysis
) -> pd.Series:
    """Mark cohort pupils who would have left their school's phase by the outcome period.

    The last year group of a phase is the highest year group with an outcome in any of the
    trust's schools of that phase at the outcome period (all schools, not only the study's, so
    a phase's top year is the same for every analysis).
    """
    years = int(str(a.outcome_period)[:4]) - int(str(a.baseline_period)[:4])
    measured = out[["pupil_id", "school_id", "academic_year"]].merge(
        pupils[["pupil_id", "academic_year", "year_group"]], on=["pupil_id", "academic_year"]
    )
    measured = measured.assign(
        phase=measured["school_id"].map(phase),
        year_group=pd.to_numeric(measured["year_group"], errors="coerce"),
    )
    top = measured.groupby("phase")["year_group"].max()
    last = d["school_id"].map(phase).map(top)
    yg = pd.to_numeric(d["year_group"], errors="coerce")
    return (yg + years > last).fillna(False).astype(bool)


def _trend(store: Store, tables, vals: pd.DataFrame, a: Analysis) -> pd.DataFrame:
    """Mean outcome per period for the treated and comparison schools (focus group if any)."""
    study = set(a.treated_schools) | set(a.comparison_schools)
    v = vals.loc[vals["school_id"].isin(study)].copy()
    v["arm"] = np.where(v["school_id"].isin(a.treated_schools), "intervention", "comparison")
    focus = store.focus
    pupils = tables.get("pupils")
    label = "all pupils"
    if a.group == "focus" and pupils is not None and v["pupil_id"].notna().any():
        p = pupils[["pupil_id", "academic_year", focus.column]].drop_duplicates(
            ["pupil_id", "academic_year"]
        )
        v = v.merge(p, on=["pupil_id", "academic_year"], how="left")
        vals_f = focus.value if isinstance(focus.value, list) else [focus.value]
        v = v.loc[v[focus.column].isin(vals_f) & v[focus.column].notna()]
        label = focus.label.lower()
    t = equity.group_summary(v, "value", ["period", "arm"], threshold=store.threshold)
    t["who"] = label
    order = {p: i for i, p in enumerate(a.periods)}
    t = t.assign(_o=t["period"].map(order)).sort_values(["arm", "_o"]).drop(columns="_o")
    return t.reset_index(drop=True)


# --------------------------------------------------------------------------------------------
# Words
# --------------------------------------------------------------------------------------------


def _row(a: Analysis, population: str) -> pd.Series | None:
    if a.result is None:
        return None
    e = a.result.effects.set_index("population")
    return e.loc[population] if population in e.index else None


def _suppressed(row: pd.Series, threshold: int) -> bool:
    return not (row["n_treated"] >= threshold and row["n_comparison"] >= threshold)


def verdict(a: Analysis, store: Store) -> str:
    """Return the honest one-sentence verdict on a strategy's intervention."""
    st = a.strategy
    if a.status != "ok":
        return a.message
    pop = "focus" if a.group == "focus" and _row(a, "focus") is not None else "all"
    r = _row(a, pop)
    who = store.focus.label.lower() if pop == "focus" else "pupils"
    if r is None or _suppressed(r, store.threshold) or np.isnan(r["diff"]):
        return f"{st.title}: too few pupils to estimate an effect for {who}."
    lo, hi = r["ci_low"], r["ci_high"]
    if bool(r.get("too_few_clusters", False)) or not (np.isfinite(lo) and np.isfinite(hi)):
        more = "more" if r["diff"] > 0 else "less"
        return (
            f"{st.title}: {who} in the intervention schools made {abs(r['diff']):.1f} {a.unit} "
            f"{more} progress in {a.metric_name} than in the comparison schools (g = "
            f"{r['g']:.2f}; about {abs(r['months']):.0f} months), but with "
            f"{r.get('clusters_treated', np.nan):.0f} intervention and "
            f"{r.get('clusters_comparison', np.nan):.0f} comparison schools there are too few "
            "schools to say how sure this is: pupils in one school are alike, so the "
            "uncertainty depends on the number of schools. No interval is given and no "
            "decision rests on this estimate."
        )
    clear = lo > 0 or hi < 0
    flagged = a.result.flagged
    caveat = (
        "but schools were not randomly assigned, so differences between the schools other than "
        "the intervention may explain part of it"
    )
    if len(flagged):
        names = ", ".join(CHECK_LABELS.get(c, c).split(" (")[0].lower() for c in flagged["check"])
        caveat += f"; checks to weigh: {names}"
    stats = (
        f"g = {r['g']:.2f}, 95% CI {r['g_ci_low']:.2f} to {r['g_ci_high']:.2f}; "
        f"about {abs(r['months']):.0f} months"
    )
    if clear:
        more = "more" if r["diff"] > 0 else "less"
        return (
            f"{st.title} is associated with {abs(r['diff']):.1f} {a.unit} {more} progress in "
            f"{a.metric_name} for {who} ({stats}), {caveat}."
        )
    return (
        f"{st.title} shows no clear effect on {a.metric_name} for {who}: "
        f"{r['diff']:+.1f} {a.unit} (95% CI {lo:+.1f} to {hi:+.1f}; {stats}), which the data "
        f"cannot tell apart from no effect."
    )


EFFECT_COLUMNS = {
    "population": "Pupils",
    "n_treated": "n intervention",
    "n_comparison": "n comparison",
    "mean_treated": "Gain, intervention",
    "mean_comparison": "Gain, comparison",
    "diff": "Difference",
    "diff_ci": "95% CI",
    "g_text": "Hedges' g (95% CI)",
    "months": "Months' progress",
    "schools": "Schools (intervention, comparison)",
    "design_effect": "Design effect",
}


def effects_table(a: Analysis, store: Store) -> pd.DataFrame:
    """Return the effects for display: all pupils, focus group, others and the change in the gap.

    Rows whose smaller arm (any cell, for the gap change) has fewer than ``store.threshold``
    pupils are suppressed.
    """
    e = a.result.effects.copy()
    labels = {
        "all": "All pupils",
        "focus": store.focus.label,
        "other": store.focus.comparison_label,
        "gap change": "Change in the gap (difference in differences)",
    }
    sup = ~((e["n_treated"] >= store.threshold) & (e["n_comparison"] >= store.threshold))
    if "gap change" in set(e["population"]) and a.data is not None:
        d = a.data.loc[a.data["outcome"].notna() & a.data["baseline"].notna()]
        cells = d.groupby(["treated", "focus"]).size()
        small = len(cells) < 4 or bool((cells < store.threshold).any())
        sup = sup | ((e["population"] == "gap change") & small)
    e["suppressed"] = sup
    e["population"] = e["population"].map(labels)
    ci = e["ci_low"].map("{:+.1f}".format) + " to " + e["ci_high"].map("{:+.1f}".format)
    gci = e["g"].map("{:.2f}".format) + " (" + e["g_ci_low"].map("{:.2f}".format) + " to "
    gci = gci + e["g_ci_high"].map("{:.2f}".format) + ")"
    e["diff_ci"] = ci.where(e["ci_low"].notna() & ~sup, "")
    e["g_text"] = gci.where(e["g"].notna() & e["g_ci_low"].notna() & ~sup, "")
    e["g_text"] = e["g_text"].mask(
        e["g"].notna() & e["g_ci_low"].isna() & ~sup,
        e["g"].map("{:.2f} (too few schools for an interval)".format),
    )
    e.loc[sup, ["diff_ci", "g_text"]] = SUPPRESSED_SYMBOL
    if {"clusters_treated", "clusters_comparison"} <= set(e.columns):
        ct, cc = e["clusters_treated"], e["clusters_comparison"]
        e["schools"] = [
            f"{t:.0f}, {c:.0f}" if pd.notna(t) and pd.notna(c) else ""
            for t, c in zip(ct, cc, strict=True)
        ]
    else:
        e["schools"] = ""
    if "design_effect" not in e.columns:
        e["design_effect"] = np.nan
    cols = list(EFFECT_COLUMNS)
    return e[cols + ["suppressed"]]


def checks_table(a: Analysis) -> pd.DataFrame:
    """Return the validity checks in plain English: what could make this result wrong."""
    c = a.result.checks
    return pd.DataFrame(
        {
            "What could make this result wrong": c["check"].map(CHECK_LABELS).fillna(c["check"]),
            "Needs attention": np.where(c["flag"], "yes", "no"),
            "What we found": c["message"],
        }
    )


def plot_trend(a: Analysis, store: Store):
    """Chart the mean outcome per period for intervention and comparison schools, start marked."""
    t = a.trend
    who = t["who"].iloc[0] if len(t) else "pupils"
    fig, ax = new_axes(title=f"{a.strategy.id}: {a.metric_name}, {who}", figsize=(8.5, 4.4))
    x_of = {p: i for i, p in enumerate(a.periods)}
    styles = {
        "intervention": (COLOURS["focus"], MARKERS["focus"], "Intervention schools"),
        "comparison": (COLOURS["comparison"], MARKERS["comparison"], "Comparison schools"),
    }
    for arm, (colour, marker, label) in styles.items():
        d = t.loc[(t["arm"] == arm) & ~t["suppressed"]]
        if not len(d):
            continue
        x = d["period"].map(x_of).to_numpy(float)
        ax.plot(x, d["mean"], marker=marker, color=colour, label=label)
        ax.fill_between(x, d["ci_low"], d["ci_high"], color=colour, alpha=0.15, linewidth=0)
    first_after = [
        p for p in a.periods if period_key(p) >= period_key(a.start_period)
    ]
    if first_after:
        xs = x_of[first_after[0]] - 0.5
        ax.axvline(xs, color=COLOURS["centre"], linestyle=":", linewidth=1.2)
        ax.annotate(
            f" start {a.start_period}",
            (xs, 1),
            xycoords=("data", "axes fraction"),
            va="top",
            fontsize=9,
        )
    ax.set_xticks(range(len(a.periods)), a.periods, rotation=45, ha="right")
    ax.set_ylabel(a.metric_name)
    ax.legend(loc="lower right")
    fig.tight_layout()
    return fig
