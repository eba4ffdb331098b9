"""The decision rule: continue, adjust, stop (de-implement), or review: evidence insufficient.

:func:`strategy_evidence` gathers what the plan and the goal data say about a strategy;
:func:`decide` applies the rule (:data:`DEFAULT_RULE`, configurable per trust) and gives the
reason in plain sentences, stating what stopping frees. :func:`rule_sentences` states the rule
itself in plain sentences for a report.

The rule never rests on an invalid comparison: when the comparison group is of another phase,
lies outside the goal's schools, lost too many pupils (or lost them unevenly), was not alike at
the start, has too few schools for a clustered interval, or when it is too early to judge, the
answer is ``"review: evidence insufficient"``. "Stop" needs the whole interval of the effect
below the smallest worthwhile effect (practical, not statistical, significance); "continue"
needs evidence the comparison group does not share.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from statistics import NormalDist
from typing import Any

import pandas as pd

from cilib.core.calendar import period_key, periods_between
from cilib.core.errors import PlanError
from cilib.cycle.model import DIRECTIONS, Plan, Strategy
from cilib.cycle.progress import progress, tolerance_for

CONTINUE = "continue"
ADJUST = "adjust"
STOP = "stop"
REVIEW = "review: evidence insufficient"
#: Every decision :func:`decide` can return.
DECISIONS = (CONTINUE, ADJUST, STOP, REVIEW)

#: The default decision rule for :func:`decide` (copy and change to configure; the trust
#: config's ``decision_rule:`` section is merged over it).
DEFAULT_RULE: dict[str, Any] = {
    # the smallest worthwhile effect (practical significance), in the units of effect_ci
    # (Hedges' g: 0.1 is one to two months' progress). An effect whose whole interval lies
    # below it is "no worthwhile effect".
    "small_effect": 0.1,
    # stop for no worthwhile effect only after this many review periods (x review_after_periods)
    "stop_after_reviews": 2,
    # stop already at the first review when the whole interval lies on the harmful side of zero
    "stop_if_harmful": True,
    # the interval whose whole must lie below small_effect to stop, derived from the 95%
    # interval given assuming normality: 0.95 is the interval the report shows; 0.90 is a
    # one-sided test at 5%
    "equivalence_level": 0.95,
    # when an effect against a comparison group exists, neither an improving chart nor an
    # on-trajectory goal counts as evidence (the comparison group may share them)
    "effect_overrides_signal": True,
    # half-terms in a year, to state yearly costs
    "periods_per_year": 6,
}

#: Validity checks of :func:`cilib.stats.impact.estimate_impact` that make a comparison invalid
#: for a decision, with what each means in plain words.
INVALIDATING_CHECKS = {
    "attrition_overall": "too many pupils have no outcome (attrition above a fifth)",
    "attrition_differential": (
        "the two groups lost different shares of their pupils (differential attrition)"
    ),
    "baseline_imbalance": "the two groups were not alike at the start (baseline imbalance)",
}


def _freed(strategy: Strategy, periods_per_year: int) -> str:
    hours = strategy.cost.get("staff_hours_per_half_term")
    money = strategy.cost.get("money_per_year")
    parts = []
    if hours:
        parts.append(
            f"{hours:,.0f} staff hours per half-term ({hours * periods_per_year:,.0f} a year)"
        )
    if money:
        parts.append(f"£{money:,.0f} a year")
    if not parts:
        return "Its cost is not recorded in the plan; add cost to see what stopping frees."
    return "Stopping frees " + " and ".join(parts) + "."


def _z(level: float) -> float:
    """Two-sided standard normal quantile for a central interval of ``level``."""
    return NormalDist().inv_cdf(0.5 + level / 2)


def comparison_problems(evidence: Mapping[str, Any]) -> list[str]:
    """Return why the comparison behind an effect is not valid for a decision (empty if valid).

    Reads ``comparison_same_phase`` and ``comparison_in_scope`` (False when the comparison
    schools are of another phase than the intervention's, or outside the goal's ``schools:``),
    ``checks`` (a mapping of check name to flagged, from the impact analysis; the names in
    :data:`INVALIDATING_CHECKS` count, and ``too_few_clusters``) and ``too_few_clusters`` (True
    when there are too few schools for a clustered interval). Missing keys count as no problem.

    Examples
    --------
    >>> comparison_problems({"checks": {"attrition_overall": True, "small_n": True}})
    ['too many pupils have no outcome (attrition above a fifth)']
    """
    out = []
    if evidence.get("comparison_same_phase") is False:
        out.append("the comparison schools are of another phase than the intervention's")
    if evidence.get("comparison_in_scope") is False:
        out.append("the comparison schools lie outside the schools the goal measures")
    checks = evidence.get("checks") or {}
    out += [text for name, text in INVALIDATING_CHECKS.items() if bool(checks.get(name, False))]
    if evidence.get("too_few_clusters") is True or bool(checks.get("too_few_clusters", False)):
        out.append("too few schools took part, or were compared, to estimate the effect reliably")
    return out


def _sentence_list(items: Sequence[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return "; ".join(items[:-1]) + " and " + items[-1]


def decide(
    strategy: Strategy, evidence: Mapping[str, Any], rule: Mapping[str, Any] = DEFAULT_RULE
) -> tuple[str, str]:
    """Suggest continue, adjust, stop (de-implement) or review (evidence insufficient).

    Parameters
    ----------
    strategy : Strategy
        Uses ``review_after_periods`` (R), ``cost`` and ``intervention`` (a strategy that names
        intervention schools is judged by its effect against a comparison group).
    evidence : dict
        ``periods_since_start`` (t, int); ``on_trajectory`` (bool or None); ``signal``
        (``"improving"``, ``"concerning"`` or None); optional ``effect_ci`` ``(low, high)``, the
        95% interval of the effect against the comparison group, oriented like the goal's
        measure; ``direction`` (``"up"`` default, or ``"down"`` when lower is better); the
        validity keys read by :func:`comparison_problems`; optional ``comparison`` (who the
        comparison is, or why there is none, in words).
    rule : dict
        See :data:`DEFAULT_RULE`; missing keys take the default.

    Returns
    -------
    (str, str)
        One of :data:`DECISIONS` (``"continue"``, ``"adjust"``, ``"stop"``,
        ``"review: evidence insufficient"``) and the reason in plain sentences.

    Notes
    -----
    In order, the first that applies wins (W = ``small_effect``, the smallest worthwhile
    effect; the effect's interval is read on the side where higher is better):

    1. review: too early, t < R.
    2. review: the comparison is invalid (:func:`comparison_problems`).
    3. review: the strategy names intervention schools but there is no effect estimate (no
       comparison group of schools that did not take part): the chart alone cannot tell the
       strategy's effect from everything else that changed.
    4. stop: the whole interval lies on the harmful side of zero (``stop_if_harmful``), t ≥ R.
    5. stop: t ≥ ``stop_after_reviews`` × R and the whole interval (at ``equivalence_level``)
       lies below W: no worthwhile effect.
    6. adjust: the whole interval lies below W, but it is not yet time to stop.
    7. continue: the whole interval lies above zero (better than the comparison group).
    8. adjust: the interval includes zero and W. With ``effect_overrides_signal`` (default) an
       on-trajectory goal or improving chart does not count, as the comparison group may share
       it; switched off, rules 9 and 10 decide.
    9. without an effect estimate (a strategy judged by its goal's chart alone): continue when
       on trajectory or improving beyond normal variation (the reason says the chart cannot
       show the strategy caused it);
    10. adjust otherwise (off trajectory, a concerning signal, or no signal after R).

    A strategy is never stopped without an effect estimate. A stop reason states the staff
    time and money stopping frees.

    Examples
    --------
    >>> s = Strategy(id="S", title="app", review_after_periods=3,
    ...              cost={"staff_hours_per_half_term": 20, "money_per_year": 5000})
    >>> decide(s, {"periods_since_start": 6, "effect_ci": (-0.04, 0.05)})[0]
    'stop'
    >>> decide(s, {"periods_since_start": 1, "effect_ci": (-0.30, -0.02)})[0]
    'review: evidence insufficient'
    """
    r = {**DEFAULT_RULE, **dict(rule)}
    t = int(evidence.get("periods_since_start") or 0)
    review = strategy.review_after_periods
    on = evidence.get("on_trajectory")
    signal = evidence.get("signal")
    if signal not in (None, "improving", "concerning"):
        raise PlanError(
            f"evidence signal must be 'improving', 'concerning' or None, not {signal!r}"
        )
    direction = evidence.get("direction", "up")
    if direction not in DIRECTIONS:
        raise PlanError(f"evidence direction must be up or down, not {direction!r}")
    level = float(r["equivalence_level"])
    if not 0 < level < 1:
        raise PlanError("decision rule equivalence_level must be between 0 and 1, e.g. 0.95")
    sid = strategy.id
    if t < review:
        return REVIEW, (
            f"Review {sid}: too early to judge. It has run {t} of the {review} half-terms "
            "before its first review; look again then."
        )
    problems = comparison_problems(evidence)
    if problems:
        return REVIEW, (
            f"Review {sid}: the evidence is not good enough to decide, because "
            f"{_sentence_list(problems)}. A decision resting on this comparison could be wrong "
            "either way; improve the comparison before deciding."
        )
    ci = evidence.get("effect_ci")
    if ci is None and strategy.intervention:
        why = evidence.get("comparison") or "there is no comparison group"
        return REVIEW, (
            f"Review {sid}: its effect cannot be estimated ({why}). Without schools that did "
            "not take part, a change in the goal's chart cannot be told apart from what changed "
            "for every school, so the data cannot say whether to continue or stop it. To find "
            "out, compare with schools of the same phase that start later."
        )
    if ci is not None:
        lo, hi = sorted(float(x) for x in ci)
        # read the interval on the side where higher is better
        blo, bhi = (lo, hi) if direction == "up" else (-hi, -lo)
        small = float(r["small_effect"])
        mid, half = (blo + bhi) / 2, (bhi - blo) / 2 * _z(level) / _z(0.95)
        ehi = mid + half
        shown = f"({lo:.2f} to {hi:.2f})"
        stop_at = int(r["stop_after_reviews"]) * review
        freed = _freed(strategy, int(r["periods_per_year"]))
        if r["stop_if_harmful"] and bhi < 0:
            return STOP, (
                f"Stop and de-implement {sid}: after {t} half-terms its effect's 95% interval "
                f"{shown} lies wholly on the harmful side of zero: pupils did worse than in the "
                f"comparison schools. {freed}"
            )
        if ehi < small:
            which = f"95% interval {shown}"
            if level != 0.95:
                which += f" (its {level:.0%} interval reaching {ehi:.2f})"
            if t >= stop_at:
                return STOP, (
                    f"Stop and de-implement {sid}: after {t} half-terms the effect's {which} "
                    f"lies wholly below {small:g}, the smallest effect worth having: whatever "
                    f"its true size, it is too small to be worth the cost. {freed}"
                )
            return ADJUST, (
                f"Adjust {sid}: so far the effect's interval {shown} lies wholly below "
                f"{small:g}, the smallest effect worth having. Check fidelity and dosage; if "
                f"this holds at half-term {stop_at} ({r['stop_after_reviews']} reviews), the "
                "rule suggests stopping."
            )
        if blo > 0:
            return CONTINUE, (
                f"Continue {sid}: its effect's 95% interval {shown} lies wholly on the "
                "beneficial side of zero: pupils did better than in the comparison schools."
            )
        if r["effect_overrides_signal"]:
            return ADJUST, (
                f"Adjust {sid}: after {t} half-terms the effect's 95% interval {shown} includes "
                f"both no effect and an effect of {small:g} or more, so it is not yet clear "
                "that it works. The goal's chart does not settle it, because the comparison "
                "schools may share any change it shows. Check fidelity and dosage."
            )
    caveat = (
        " The chart alone cannot show that the strategy, rather than something else, caused it."
    )
    if on is True or signal == "improving":
        why = (
            "the goal measure is on its trajectory"
            if on is True
            else "the goal measure is improving beyond normal variation"
        )
        return CONTINUE, f"Continue {sid}: {why}.{caveat}"
    if on is False or signal == "concerning":
        why = "off its trajectory" if on is False else "showing a concerning signal"
        return ADJUST, (
            f"Adjust {sid}: the goal measure is {why} after {t} half-terms; revisit the theory "
            "of action and check fidelity."
        )
    return ADJUST, (
        f"Adjust {sid}: no sign of improvement after {t} half-terms (first review at {review}); "
        "check fidelity and dosage."
    )


def rule_sentences(rule: Mapping[str, Any] = DEFAULT_RULE) -> list[str]:
    """Return the decision rule in force as plain sentences: what each decision needs.

    Examples
    --------
    >>> rule_sentences()[0].startswith("Stop")
    True
    """
    r = {**DEFAULT_RULE, **dict(rule)}
    small = f"{float(r['small_effect']):g}"
    n = int(r["stop_after_reviews"])
    level = float(r["equivalence_level"])
    interval = "95% interval" if level == 0.95 else f"{level:.0%} interval"
    harmful = (
        " A strategy whose whole interval shows pupils doing worse than the comparison is "
        "stopped at its first review."
        if r["stop_if_harmful"]
        else ""
    )
    shared = (
        "When an effect estimate exists, a goal on its trajectory or an improving chart does "
        "not count, because the comparison schools may share it."
        if r["effect_overrides_signal"]
        else "A goal on its trajectory or an improving chart also counts, even when the "
        "comparison schools may share it."
    )
    return [
        f"Stop (de-implement) needs the whole {interval} of the effect against comparison "
        f"schools to lie below {small} (Hedges' g), the smallest effect worth having, after "
        f"{'the first review' if n == 1 else f'{n} review periods'}.{harmful} "
        "A strategy is never stopped on its chart alone.",
        "Continue needs the effect's whole 95% interval above zero: pupils doing better than in "
        "comparison schools. A strategy with no comparison group and no intervention schools "
        "continues when its goal is on trajectory or improving. " + shared,
        "Adjust when the effect is not yet clear, or the goal is off its trajectory or has a "
        "concerning signal: check fidelity and dosage, and revisit the theory of action.",
        "Review: evidence insufficient, when it is too early (before the strategy's first "
        "review), or the comparison cannot be trusted: schools of another phase or outside the "
        "goal's schools, too many pupils lost or lost unevenly, groups not alike at the start, "
        "or too few schools to estimate the effect; and when a strategy with intervention "
        "schools has no comparison group at all.",
    ]


def strategy_evidence(
    plan: Plan,
    strategy_id: str,
    tables: Mapping[str, pd.DataFrame],
    *,
    as_of: str,
    school_id: str | None = None,
    periods: Sequence[str] | None = None,
    tolerance: float | Mapping[str, float] | None = None,
) -> dict[str, Any]:
    """Gather the evidence :func:`decide` needs that the plan and the goal data can give.

    ``on_trajectory`` comes from :func:`progress` on the strategy's outcome goal (its
    ``outcome_measure`` when that is a goal id, else its first goal) at the latest period up to
    ``as_of`` with data, within the config's on-trajectory ``tolerance`` setting
    (:func:`cilib.cycle.progress.tolerance_for`: the same answer the progress tables give);
    ``periods_since_start`` counts half-terms from ``start_period`` to
    ``as_of``. ``signal`` and ``effect_ci`` are left as None for the caller to fill from a control
    chart and an impact analysis.

    Returns
    -------
    dict
        ``goal, on_trajectory, periods_since_start, signal, effect_ci, direction``.
    """
    s = plan.strategy(strategy_id)
    goal = plan.outcome_goal(s)
    start = s.start_period or (s.intervention or {}).get("start_period")
    t = 0
    if start is not None and period_key(start) <= period_key(as_of):
        t = len(periods_between(start, as_of, periods)) - 1
    tol = tolerance_for(goal, tolerance)
    pr = progress(goal, tables, school_id=school_id, periods=periods, tolerance=tol)
    pr = pr.loc[
        pr["observed"].notna() & pr["period"].map(lambda p: period_key(p) <= period_key(as_of))
    ]
    on = None if pr.empty else bool(pr["on_trajectory"].iloc[-1])
    return {
        "goal": goal.id,
        "on_trajectory": on,
        "periods_since_start": t,
        "signal": None,
        "effect_ci": None,
        "direction": goal.direction,
    }
