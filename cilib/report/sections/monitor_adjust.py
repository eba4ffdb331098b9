"""The ``04_monitor_adjust`` report: is the plan working.

Headlines, each goal's control charts with their signals and progress against the trajectory
(:mod:`cilib.report.sections.monitor_charts`), the PDSA log (prediction against result,
:func:`cilib.cycle.pdsa_log`) and a suggested decision per strategy
(:mod:`cilib.report.sections.monitor_decisions`), for one school or the whole trust
(``school_id=None``).
"""

from __future__ import annotations

import pandas as pd

from cilib import cycle as cp
from cilib.core.errors import DataError, PlanError
from cilib.data.store import Store
from cilib.measures.metrics import period_key
from cilib.report.charts import spc as spc_charts
from cilib.report.html import fmt_change, fmt_number, fold, note, subheading, table
from cilib.report.sections.monitor_charts import (
    chart_name,
    checks_note,
    digits_of,
    gap_sentence,
    goal_charts,
    goal_label,
    goal_series,
    group_names,
    monitor_tables,
    signal_info,
    signal_sentence,
)
from cilib.report.sections.monitor_decisions import decision_rule, rule_table, strategy_decisions
from cilib.report.sections.plan_goals import goal_tolerance

__all__ = [
    "decisions_section",
    "goals_section",
    "headlines",
    "pdsa_section",
]

#: What each decision-rule key means, for the printed rule.
RULE_MEANING = {
    "small_effect": "an effect whose whole 95% interval lies within ± this (Hedges' g) counts "
    "as no worthwhile effect",
    "stop_after_reviews": "stop for no worthwhile effect only after this many review periods",
    "stop_if_harmful": "stop when the effect's whole interval lies on the harmful side of zero",
    "periods_per_year": "half-terms in a year, used to state yearly costs",
}


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

    last, prev = d.iloc[-1], d.iloc[-2]
    dg = digits_of(goal)
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
            own, goal_label(store, goal), digits=digits_of(goal), calendar=store.meta["periods"]
        )
        verdict = gap_sentence(store, goal, school_id) if goal.group == "gap" else None
        if verdict:
            out.append(verdict)
        elif info["since"]:
            out.append(f"{goal_label(store, goal)}: {info['variation']} since {info['since']}.")
        change = _latest_change(store, goal, school_id)
        if change:
            out.append(change)
    dec = strategy_decisions(store, school_id)
    if len(dec):
        counts = dec["decision"].value_counts()
        out.append(
            f"Suggested decisions: {counts.get('continue', 0)} continue, "
            f"{counts.get('adjust', 0)} adjust, {counts.get('stop', 0)} stop, "
            f"{counts.get(cp.REVIEW, 0)} {cp.REVIEW}."
        )
    return out


# --------------------------------------------------------------------------------------------
# Report sections
# --------------------------------------------------------------------------------------------


def _progress_table(store: Store, goal: cp.Goal, school_id: str | None):

    try:
        pr = cp.progress(
            goal,
            monitor_tables(store),
            school_id=school_id,
            periods=store.meta["periods"],
            tolerance=goal_tolerance(store, goal),
        )
    except (PlanError, DataError) as err:
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
        digits=digits_of(goal),
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

    charts = goal_charts(store, goal, school_id)
    names = group_names(store, goal)
    cal = store.meta["periods"]
    dg = digits_of(goal)
    head = subheading(
        f"{goal.id}: {goal.title}",
        f"Measure: {goal_label(store, goal)}; target {fmt_number(goal.target, dg)} by "
        f"{goal.target_period}.",
    )
    items: list = []
    figs: dict[str, object] = {}
    said: dict[str, object] = {}
    groups = {names[g]: charts[g] for g in ("focus", "comparison") if charts[g] is not None}
    used = next((charts[g] for g in ("own", "all", "focus") if charts[g] is not None), None)
    kind = chart_name(used)
    if len(groups) == 2:
        axes = spc_charts.plot_groups(
            groups,
            title=f"{goal_label(store, goal, 'all').split(',')[0]}: is either group "
            f"moving beyond normal variation? ({kind})",
        )
        figs["groups"] = axes[0].figure
        items.append(axes[0].figure)
    elif charts["all"] is not None:
        ax = spc_charts.plot(
            charts["all"],
            title=f"{goal_label(store, goal, 'all')}: any change beyond normal variation? ({kind})",
        )
        ax.figure.set_size_inches(12, 4.2)
        figs["groups"] = ax.figure
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
            said[g] = note(
                signal_sentence(charts[g], goal_label(store, goal, g), digits=dg, calendar=cal)
            )
            items.append(said[g])
    if charts["gap"] is not None:
        better = "up" if goal.direction == "up" else "down"
        short = goal_label(store, goal, "all").split(",")[0]
        ax = spc_charts.plot(
            charts["gap"],
            title=f"{short} gap: narrowing beyond noise? ({better} = narrower)",
            ylabel="gap",
        )
        ax.figure.set_size_inches(12, 4.2)
        if goal.group == "gap":
            traj = None
            try:
                base = cp.baseline(goal, monitor_tables(store), school_id)
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
        figs["gap"] = ax.figure
        items.append(ax.figure)
        said["gap"] = note(
            gap_sentence(store, goal, school_id)
            or signal_sentence(
                charts["gap"], goal_label(store, goal, "gap"), digits=dg, calendar=cal
            )
        )
        items.append(said["gap"])
    items.append(_progress_table(store, goal, school_id))
    # the goal's own chart and signal stay in view; the rest is one click away
    main_fig = figs.get("gap") if goal.group == "gap" else figs.get("groups")
    main_fig = main_fig or next(iter(figs.values()), None)
    main_note = said.get(goal.group) or said.get("all")
    shown = [i for i in (main_fig, main_note) if i is not None]
    rest = [i for i in items if all(i is not s for s in shown)]
    return [
        head,
        *shown,
        fold(
            rest, f"More on {goal.id}: every chart and signal, and progress half-term by half-term"
        ),
    ]


def goals_section(store: Store, school_id: str | None = None) -> list:
    """For each goal: focus and comparison charts, the gap chart, signals and progress."""
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
    items.append(note(checks_note(store, school_id)))
    return items


def pdsa_section(store: Store, school_id: str | None = None) -> list:
    """Return the PDSA log: each cycle's prediction against its result, and the decision taken."""
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
        *(note(m) for m in met),
        fold(
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
            f"Each cycle's change idea, prediction, result and learning ({len(shown)} cycles)",
        ),
    ]


def decisions_section(store: Store, school_id: str | None = None) -> list:
    """Return the rule in force and each strategy's suggested decision, reason and evidence."""
    rule = decision_rule(store)
    dec = strategy_decisions(store, school_id)
    items: list = [
        fold(
            [
                *(note(t) for t in cp.rule_sentences(rule)),
                table(
                    rule_table(store),
                    caption="Decision rule in force: its settings (the trust can change them)",
                ),
            ],
            "The decision rule in force, and what each setting means",
        )
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
    why = [
        note(
            f"{r['strategy']} ({r['title']}), goal {r['goal']}: {r['reason']} "
            f"Effect compared with: {r['comparison']}."
        )
        for _, r in dec.iterrows()
    ]
    why.append(
        note(
            "Effect: difference in mean gain on the goal's measure from the last half-term before "
            "the strategy started to the latest, intervention pupils against comparison pupils, as "
            "Hedges' g with its 95% interval. A comparison between schools that were not assigned "
            "at random can be biased; read it beside the charts."
        )
    )
    items.append(fold(why, "Why each strategy gets its suggestion, and how the effect is measured"))
    return items
