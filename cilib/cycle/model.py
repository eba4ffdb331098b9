"""The plan model: the improvement model and the plan's goals, strategies, actions and PDSA.

A :class:`Plan` is what :func:`cilib.cycle.plan_file.load_plan` returns: frozen dataclasses that
hold a vision, a handful of priorities, measurable goals, strategies written as theories of
action, action steps and PDSA cycles. Strategies belong to the trust improvement model
(:data:`IMPROVEMENT_MODEL`: three domains, twelve components). Whether a goal or strategy covers a
school is decided here, in one place: :meth:`Goal.applies_to` and :meth:`Plan.strategy_applies_to`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from cilib.core.errors import PlanError

#: The trust improvement model: domain -> {component id: title}.
IMPROVEMENT_MODEL: dict[str, dict[str, str]] = {
    "curate clear goals": {
        "shared_vision": "A shared vision of what every pupil should gain",
        "measurable_goals": "Measurable goals with baselines, targets and milestones",
        "aligned_priorities": "A few priorities aligned across schools and the trust",
        "data_systems": "Data systems that give timely, trusted information",
    },
    "build capability and capacity": {
        "leadership_capability": "Leaders able to lead improvement",
        "professional_learning": "Professional learning that changes practice",
        "collaborative_culture": "A collaborative culture within and across schools",
        "talent_and_deployment": "Recruiting, keeping and deploying staff well",
    },
    "implement improvement initiatives": {
        "evidence_informed_strategies": "Strategies chosen on the best available evidence",
        "implementation_planning": "Implementation planned, staged and resourced",
        "monitoring_and_feedback": "Monitoring and feedback loops (PDSA, fidelity, outcomes)",
        "scaling_and_sustaining": "Scaling what works and sustaining it; stopping what does not",
    },
}
#: Component id -> title, in model order.
COMPONENTS: dict[str, str] = {k: v for d in IMPROVEMENT_MODEL.values() for k, v in d.items()}
#: Component id -> domain.
COMPONENT_DOMAIN: dict[str, str] = {k: d for d, c in IMPROVEMENT_MODEL.items() for k in c}

ACTION_STATUSES = ("not_started", "in_progress", "done", "blocked")
PDSA_DECISIONS = ("adopt", "adapt", "abandon")
DIRECTIONS = ("up", "down")
GOAL_GROUPS = ("focus", "comparison", "all", "gap")


@dataclass(frozen=True)
class Priority:
    """One priority: an id and a title."""

    id: str
    title: str
    line: int = 0


@dataclass(frozen=True)
class Goal:
    """A measurable goal: metric, group measured, baseline period, target and trajectory."""

    id: str
    title: str
    target: float
    target_period: str
    priority: str | None = None
    metric: dict[str, Any] | None = None
    group: str = "all"
    focus_group: dict[str, Any] | None = None
    baseline_period: str | None = None
    direction: str = "up"
    milestones: dict[str, float] = field(default_factory=dict)
    line: int = 0

    def applies_to(self, school_id: str | None) -> bool:
        """Say whether the goal covers a school (always true for the whole trust, ``None``).

        A metric restricted with ``schools: [...]`` applies only to those schools (e.g. a primary
        reading goal does not apply to a secondary school).

        Examples
        --------
        >>> g = Goal(id="G", title="t", target=1.0, target_period="2024/25 HT6",
        ...          metric={"table": "attendance", "measure": "attendance_rate",
        ...                  "schools": ["S1"]})
        >>> g.applies_to("S2"), g.applies_to("S1"), g.applies_to(None)
        (False, True, True)
        """
        schools = (self.metric or {}).get("schools")
        return school_id is None or not schools or school_id in schools


@dataclass(frozen=True)
class Strategy:
    """A strategy written as a theory of action (If we ... Then ... And ...)."""

    id: str
    title: str
    goals: tuple[str, ...] = ()
    components: tuple[str, ...] = ()
    if_we: str | None = None
    then: str | None = None
    and_: str | None = None
    process_measure: dict[str, Any] | None = None
    expected: float | None = None
    outcome_measure: str | dict[str, Any] | None = None
    start_period: str | None = None
    review_after_periods: int = 3
    cost: dict[str, float] = field(default_factory=dict)
    intervention: dict[str, Any] | None = None
    line: int = 0

    @property
    def component(self) -> str | None:
        """The strategy's main component (the first listed)."""
        return self.components[0] if self.components else None


@dataclass(frozen=True)
class Action:
    """One action step: owner, start and due dates, status."""

    id: str
    title: str
    strategy: str | None = None
    owner: str | None = None
    start: dt.date | None = None
    due: dt.date | None = None
    status: str = "not_started"
    line: int = 0


@dataclass(frozen=True)
class PDSA:
    """One Plan-Do-Study-Act cycle: prediction against result, and the decision taken."""

    id: str
    strategy: str | None
    change_idea: str
    prediction: str | None = None
    predicted_value: float | None = None
    start: dt.date | None = None
    end: dt.date | None = None
    measure: str | dict[str, Any] | None = None
    result: str | None = None
    observed_value: float | None = None
    learning: str | None = None
    decision: str | None = None
    line: int = 0


@dataclass(frozen=True)
class Plan:
    """A loaded, validated improvement plan."""

    vision: str
    priorities: tuple[Priority, ...]
    goals: tuple[Goal, ...]
    strategies: tuple[Strategy, ...]
    actions: tuple[Action, ...] = ()
    pdsa: tuple[PDSA, ...] = ()
    source: str = "plan.yml"
    warnings: tuple[str, ...] = ()

    def goal(self, goal_id: str) -> Goal:
        """Return the goal with id ``goal_id``."""
        for g in self.goals:
            if g.id == goal_id:
                return g
        raise PlanError(f"{self.source}: no goal with id {goal_id!r}")

    def strategy(self, strategy_id: str) -> Strategy:
        """Return the strategy with id ``strategy_id``."""
        for s in self.strategies:
            if s.id == strategy_id:
                return s
        raise PlanError(f"{self.source}: no strategy with id {strategy_id!r}")

    def outcome_goal(self, strategy: Strategy) -> Goal:
        """Return the goal a strategy is judged on: its ``outcome_measure`` goal, else its first."""
        gid = strategy.outcome_measure if isinstance(strategy.outcome_measure, str) else None
        gid = gid or (strategy.goals[0] if strategy.goals else None)
        if gid is None:
            raise PlanError(
                f"strategy {strategy.id!r} serves no goal, so there is no outcome to judge"
            )
        return self.goal(gid)

    def strategy_applies_to(self, strategy: Strategy, school_id: str | None) -> bool:
        """Say whether a strategy involves a school: the one rule every report uses.

        Always true for the whole trust (``None``). For a school: the school must be in the
        strategy's intervention (when it names one), and the goal the strategy is judged on
        must apply to the school (a strategy serving a primary-only goal is not a secondary's).
        A strategy that serves no goal applies wherever its intervention does.
        """
        if school_id is None:
            return True
        inter = strategy.intervention
        if inter and school_id not in inter.get("schools", []):
            return False
        if not strategy.goals and not isinstance(strategy.outcome_measure, str):
            return True
        try:
            return self.outcome_goal(strategy).applies_to(school_id)
        except PlanError:
            return False
