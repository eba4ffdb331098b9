"""The decision rule: continue, adjust or stop (de-implement) a strategy, and its evidence.

:func:`strategy_evidence` gathers what the plan and the goal data say about a strategy;
:func:`decide` applies the rule (:data:`DEFAULT_RULE`, configurable per trust) and gives the
reason, stating what stopping frees.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd
from scipy.stats import norm

from cilib.core.calendar import period_key, periods_between
from cilib.core.errors import PlanError
from cilib.cycle.model import DIRECTIONS, Plan, Strategy
from cilib.cycle.progress import progress

#: The default decision rule for :func:`decide` (copy and change to configure).
DEFAULT_RULE: dict[str, Any] = {
    # |effect| at or below this counts as "no worthwhile effect" (units of effect_ci,
    # e.g. Hedges' g: 0.1 is roughly one to two months' progress)
    "small_effect": 0.1,
    # stop for no effect only after this many review periods (× review_after_periods)
    "stop_after_reviews": 2,
    # stop when the whole confidence interval lies on the harmful side of zero
    "stop_if_harmful": True,
    # "no worthwhile effect" is an equivalence test (two one-sided tests at 5%): the effect's
    # 90% interval, derived from the 95% interval given, lies within ±small_effect
    "equivalence_level": 0.90,
    # when an effect estimate against a comparison group exists, an improving signal in the
    # goal's chart alone does not count as the strategy working (the comparison group may share it)
    "effect_overrides_signal": True,
    # half-terms in a year, to state yearly costs
    "periods_per_year": 6,
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
    return float(norm.ppf(0.5 + level / 2))


def decide(
    strategy: Strategy, evidence: Mapping[str, Any], rule: Mapping[str, Any] = DEFAULT_RULE
) -> tuple[str, str]:
    """Suggest whether to continue, adjust or stop (de-implement) a strategy.

    Parameters
    ----------
    strategy : Strategy
        Uses ``review_after_periods`` and ``cost``.
    evidence : dict
        ``on_trajectory`` (bool or None), ``signal`` (``"improving"``, ``"concerning"`` or None),
        ``periods_since_start`` (int), optional ``effect_ci`` ``(low, high)`` oriented like the
        goal's measure, and optional ``direction`` (``"up"`` default, or ``"down"`` when lower
        is better).
    rule : dict
        Thresholds; see :data:`DEFAULT_RULE` (``small_effect``, ``stop_after_reviews``,
        ``stop_if_harmful``, ``periods_per_year``). Missing keys take the default.

    Returns
    -------
    (str, str)
        ``("continue" | "adjust" | "stop", reason)``.

    Notes
    -----
    Rules in order (the first that applies wins), with R = review_after_periods and
    t = periods_since_start:

    1. stop: the effect's CI lies wholly on the harmful side of 0.
    2. stop: t ≥ stop_after_reviews × R, the CI includes 0, and the effect is shown to be
       smaller than ± small_effect by an equivalence test (two one-sided tests at 5%): the
       ``equivalence_level`` (90%) interval, derived from the 95% one assuming normality, lies
       within ± small_effect. No worthwhile effect.
    3. continue: on trajectory, or the signal is ``improving``, or the effect's CI lies wholly
       on the beneficial side of 0 (improving beyond noise). With ``effect_overrides_signal``
       (default) an improving signal does not count when an effect estimate exists, because
       a trend shared with the comparison group is not the strategy's doing.
    4. adjust: off trajectory (``on_trajectory`` is False) or the signal is ``concerning``.
    5. adjust: t ≥ R and no signal.
    6. continue: too early to judge (t < R).

    A stop reason states the staff time and money stopping frees.

    Examples
    --------
    >>> s = Strategy(id="S", title="app", review_after_periods=3,
    ...              cost={"staff_hours_per_half_term": 20, "money_per_year": 5000})
    >>> decide(s, {"on_trajectory": False, "signal": None, "periods_since_start": 6,
    ...            "effect_ci": (-0.04, 0.05)})[0]
    'stop'
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
    ci = evidence.get("effect_ci")
    freed = _freed(strategy, int(r["periods_per_year"]))
    beneficial = False
    if ci is not None:
        lo, hi = sorted(float(x) for x in ci)
        harmful = hi < 0 if direction == "up" else lo > 0
        beneficial = lo > 0 if direction == "up" else hi < 0
        if r["stop_if_harmful"] and harmful:
            return "stop", (
                f"Stop and de-implement {strategy.id}: after {t} half-terms the effect's "
                f"confidence interval ({lo:.2f} to {hi:.2f}) lies wholly on the harmful side. "
                f"{freed}"
            )
        small = float(r["small_effect"])
        level = float(r["equivalence_level"])
        if not 0 < level < 1:
            raise PlanError("decision rule equivalence_level must be between 0 and 1, e.g. 0.9")
        # the 95% interval is estimate ± 1.96·se; the equivalence interval is estimate ± z·se
        mid, half = (lo + hi) / 2, (hi - lo) / 2 * _z(level) / _z(0.95)
        elo, ehi = mid - half, mid + half
        if (
            t >= r["stop_after_reviews"] * review
            and lo <= 0 <= hi
            and max(abs(elo), abs(ehi)) <= small
        ):
            return "stop", (
                f"Stop and de-implement {strategy.id}: after {t} half-terms "
                f"(≥ {r['stop_after_reviews']} × {review}) the effect's confidence interval "
                f"({lo:.2f} to {hi:.2f}) includes 0 and its {level:.0%} interval ({elo:.2f} to "
                f"{ehi:.2f}) rules out any effect larger than ±{small:g}: no worthwhile effect. "
                f"{freed}"
            )
    if ci is not None and r["effect_overrides_signal"] and signal == "improving":
        signal = None  # the comparison-group estimate, not the raw chart, judges the strategy
    if on is True or signal == "improving" or beneficial:
        if on is True:
            why = "the goal measure is on its trajectory"
        elif signal == "improving":
            why = "the goal measure is improving beyond normal variation"
        else:
            why = (
                f"the effect's confidence interval ({lo:.2f} to {hi:.2f}) lies wholly on the "
                f"beneficial side"
            )
        return "continue", f"Continue {strategy.id}: {why}."
    if on is False or signal == "concerning":
        why = "off its trajectory" if on is False else "showing a concerning signal"
        return "adjust", (
            f"Adjust {strategy.id}: the goal measure is {why} after {t} "
            f"half-terms; revisit the theory of action and its fidelity."
        )
    if t >= review:
        return "adjust", (
            f"Adjust {strategy.id}: no signal of improvement after {t} half-terms "
            f"(review point {review}); check fidelity and dosage."
        )
    return "continue", (
        f"Continue {strategy.id}: too early to judge ({t} of {review} "
        f"half-terms before the first review)."
    )


def strategy_evidence(
    plan: Plan,
    strategy_id: str,
    tables: Mapping[str, pd.DataFrame],
    *,
    as_of: str,
    school_id: str | None = None,
    periods: Sequence[str] | None = None,
) -> dict[str, Any]:
    """Gather the evidence :func:`decide` needs that the plan and the goal data can give.

    ``on_trajectory`` comes from :func:`progress` on the strategy's outcome goal (its
    ``outcome_measure`` when that is a goal id, else its first goal) at the latest period up to
    ``as_of`` with data; ``periods_since_start`` counts half-terms from ``start_period`` to
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
    pr = progress(goal, tables, school_id=school_id, periods=periods)
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
