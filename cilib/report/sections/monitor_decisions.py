"""Monitor and Adjust: the decision rule and a suggested decision per strategy.

Each strategy's evidence (its goals' signals and its effect so far, from
:mod:`cilib.report.sections.impact_analysis`) is judged by :func:`cilib.cycle.decide` under
the rule in force (:func:`decision_rule`: ``DEFAULT_RULE`` with the trust config's
``decision_rule`` merged over it).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from cilib import cycle as cp
from cilib.core.errors import ConfigError, DataError, PlanError
from cilib.data.store import Store
from cilib.measures.metrics import period_key
from cilib.report.derived import shared_frame
from cilib.report.sections import impact_analysis as evaluate
from cilib.report.sections.monitor_charts import (
    digits_of,
    goal_charts,
    goal_label,
    monitor_tables,
    signal_info,
)
from cilib.report.sections.plan_goals import tolerance_setting

# --------------------------------------------------------------------------------------------
# Evidence for decisions
# --------------------------------------------------------------------------------------------


def decision_rule(store: Store) -> dict[str, Any]:
    """Return the decision rule in force: the default with the config's ``decision_rule`` over it.

    :data:`cilib.cycle.DEFAULT_RULE`, with the trust config's ``decision_rule`` (available as
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
    """Return the decision rule in force as plain sentences: what each decision needs.

    The sentences of :func:`cilib.cycle.rule_sentences`, joined.
    """
    return " ".join(cp.rule_sentences(rule))


#: Each setting of the decision rule in plain words (the trust config's names stay out of
#: the report).
RULE_SETTINGS = {
    "small_effect": "Smallest effect worth having (Hedges' g)",
    "stop_after_reviews": "Reviews before stopping for no worthwhile effect",
    "stop_if_harmful": "Stop at the first review when pupils do clearly worse",
    "equivalence_level": "Interval that must lie below the smallest worthwhile effect to stop",
    "effect_overrides_signal": "With an effect estimate, ignore the goal's chart and trajectory",
    "periods_per_year": "Half-terms in a year (for yearly costs)",
}


def rule_table(store: Store) -> pd.DataFrame:
    """Return the decision rule's settings in plain words: what each sets, its value, who set it.

    Returns
    -------
    DataFrame
        ``What it sets``, ``Value`` (yes/no, a percentage for the interval, else the number)
        and ``Set by`` (``"the trust"`` when the trust config changes it, else ``"default"``).
    """
    rule = decision_rule(store)
    over = set(store.meta.get("decision_rule") or {})

    def shown(k: str, v: Any) -> str:
        if isinstance(v, bool):
            return "yes" if v else "no"
        if k == "equivalence_level":
            return f"{float(v):.0%}"
        return f"{v:g}"

    return pd.DataFrame(
        {
            "What it sets": [RULE_SETTINGS.get(k, k) for k in rule],
            "Value": [shown(k, v) for k, v in rule.items()],
            "Set by": ["the trust" if k in over else "default" for k in rule],
        }
    )


def strategy_effect(store: Store, strategy: cp.Strategy, school_id: str | None = None) -> dict:
    """Effect of a strategy's intervention on its outcome measure (Hedges' g, 95% CI).

    The design is the Analyse Impact report's,
    :func:`cilib.report.sections.impact_analysis.analyse`, so the decision
    and the impact report rest on the same estimate: treated pupils in the intervention's
    schools, comparison pupils in the other schools of the same phase among the goal's schools
    (none when every such school takes part: then there is no estimate), gains from the last
    period before the start to the latest period, with school-clustered intervals.
    ``effect_ci`` is the interval of the intervention's group: the focus group when the
    intervention is for it, else all pupils.

    Returns
    -------
    dict
        ``effect_ci`` (tuple or None), ``g``, ``diff``, ``n_treated``, ``n_comparison``,
        ``baseline_period``, ``outcome_period``, ``comparison`` (who the comparison is, or why
        there is none), the validity evidence :func:`cilib.cycle.comparison_problems` reads
        (``comparison_same_phase``, ``comparison_in_scope``, ``checks``, ``too_few_clusters``)
        and ``effects`` (the :class:`cilib.stats.impact.ImpactResult`, or None).
    """
    none: dict[str, Any] = {
        "effect_ci": None,
        "g": np.nan,
        "diff": np.nan,
        "n_treated": 0,
        "n_comparison": 0,
        "baseline_period": None,
        "outcome_period": None,
        "comparison_same_phase": None,
        "comparison_in_scope": None,
        "checks": {},
        "too_few_clusters": None,
        "effects": None,
    }
    if not strategy.intervention:
        return {**none, "comparison": "no intervention schools named in the plan"}
    a = evaluate.analyse(store, strategy.id, school_id)
    info = {**none, "baseline_period": a.baseline_period, "outcome_period": a.outcome_period}
    if a.status == "no comparison" or (a.status == "ok" and not a.comparison_schools):
        every = (
            "every school in the trust takes part"
            if set(store.school_ids) <= set(a.treated_schools)
            else "every school of its phase that the goal measures takes part"
        )
        return {**info, "comparison": f"{every}, so there is no comparison group"}
    if a.status != "ok" or a.result is None:
        return {**info, "comparison": a.message or a.status}
    eff = a.result.effects.set_index("population")
    pop = "focus" if a.group == "focus" and "focus" in eff.index else "all"
    row = eff.loc[pop]
    ci = (float(row["g_ci_low"]), float(row["g_ci_high"]))
    few = row.get("too_few_clusters")
    checks = a.result.checks
    return {
        **info,
        "comparison": "the same group in the other schools of the same phase",
        "comparison_same_phase": a.comparison_same_phase,
        "comparison_in_scope": a.comparison_in_scope,
        "checks": {str(c): bool(f) for c, f in zip(checks["check"], checks["flag"], strict=True)},
        "too_few_clusters": None if few is None or pd.isna(few) else bool(few),
        "effect_ci": ci if np.isfinite(ci).all() else None,
        "g": float(row["g"]),
        "diff": float(row["diff"]),
        "n_treated": int(row["n_treated"]),
        "n_comparison": int(row["n_comparison"]),
        "effects": a.result,
    }


def strategy_evidence(store: Store, strategy_id: str, school_id: str | None = None) -> dict:
    """All the evidence :func:`cilib.cycle.decide` needs for one strategy, wired from the data.

    ``on_trajectory`` and ``periods_since_start`` from :func:`cilib.cycle.strategy_evidence`
    (:func:`cilib.cycle.progress` on the outcome goal); ``signal`` from the control chart of
    the
    outcome goal's own group (:func:`goal_charts`): ``"improving"`` / ``"concerning"`` when the
    chart's variation says so and the deciding signal point falls at or after the strategy's
    start, else None; ``effect_ci`` from :func:`strategy_effect` when the strategy names an
    intervention, with the validity evidence of :func:`strategy_effect`. Extra keys:
    ``signal_sentence``, ``signal_since``, ``comparison``, ``g``, ``n_treated``,
    ``n_comparison``, ``baseline_period``, ``outcome_period``.
    """

    def make() -> dict:
        plan = store.plan()
        s = plan.strategy(strategy_id)
        goal = plan.outcome_goal(s)
        try:
            ev = cp.strategy_evidence(
                plan,
                s.id,
                monitor_tables(store),
                as_of=store.period,
                school_id=school_id,
                periods=store.meta["periods"],
                tolerance=tolerance_setting(store),
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
                own, goal_label(store, goal), digits=digits_of(goal), calendar=store.meta["periods"]
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
            "comparison_same_phase",
            "comparison_in_scope",
            "checks",
            "too_few_clusters",
        ):
            ev[k] = eff[k]
        return ev

    return dict(store.memo("monitor", "evidence", strategy_id, school_id, make=make))


def strategy_decisions(
    store: Store, school_id: str | None = None, *, rule: Mapping[str, Any] | None = None
) -> pd.DataFrame:
    """Suggest continue, adjust, stop or review (evidence insufficient) for each strategy.

    The decision is :func:`cilib.cycle.decide` on the evidence of :func:`strategy_evidence`
    under the rule in force (:func:`decision_rule`, or ``rule`` merged over
    :data:`cilib.cycle.DEFAULT_RULE` when given). For a school, strategies whose intervention
    or
    outcome goal does not include it are left out.

    Returns
    -------
    DataFrame
        One row per strategy: ``strategy, title, goal, decision, reason, on_trajectory, signal,
        periods_since_start, review_after_periods, effect_g, effect_ci_low, effect_ci_high,
        n_treated, n_comparison, comparison``. Under the rule in force the rows are worked out
        once per run and school (:func:`cilib.report.derived.shared_frame`): every report's
        summary shows them.
    """
    if rule is None:
        return shared_frame(
            store, "decisions", school_id, make=lambda: _decisions(store, school_id, None)
        )
    return _decisions(store, school_id, rule)


def _decisions(
    store: Store, school_id: str | None, rule: Mapping[str, Any] | None
) -> pd.DataFrame:
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
