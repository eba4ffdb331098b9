"""The improvement cycle: the plan model, its file, progress and trajectories, the decision rule.

- :mod:`~cilib.cycle.model`: the improvement model and the plan's dataclasses, with the one rule
  for whether a goal or strategy covers a school;
- :mod:`~cilib.cycle.plan_file`: reading and checking ``plan.yml`` (errors name the line);
- :mod:`~cilib.cycle.progress`: baselines from data, trajectories, progress against them;
- :mod:`~cilib.cycle.review`: plan quality checks, action status and the PDSA log;
- :mod:`~cilib.cycle.decision`: the decision rule (continue, adjust, stop, or review: evidence
  insufficient) and its evidence.

Half-term labels and dates are the calendar's (:mod:`cilib.core.calendar`).
"""

from cilib.cycle.decision import (
    DECISIONS,
    DEFAULT_RULE,
    REVIEW,
    comparison_problems,
    decide,
    rule_sentences,
    strategy_evidence,
)
from cilib.cycle.model import (
    ACTION_STATUSES,
    COMPONENT_DOMAIN,
    COMPONENTS,
    DIRECTIONS,
    GOAL_GROUPS,
    IMPROVEMENT_MODEL,
    PDSA,
    PDSA_DECISIONS,
    Action,
    Goal,
    Plan,
    Priority,
    Strategy,
)
from cilib.cycle.plan_file import load_plan, loads_plan
from cilib.cycle.progress import baseline, goal_value, progress, tolerance_for, trajectory
from cilib.cycle.review import action_status, pdsa_log, plan_checks

__all__ = [
    "ACTION_STATUSES",
    "COMPONENTS",
    "COMPONENT_DOMAIN",
    "DECISIONS",
    "DEFAULT_RULE",
    "DIRECTIONS",
    "GOAL_GROUPS",
    "IMPROVEMENT_MODEL",
    "PDSA",
    "PDSA_DECISIONS",
    "REVIEW",
    "Action",
    "Goal",
    "Plan",
    "Priority",
    "Strategy",
    "action_status",
    "baseline",
    "comparison_problems",
    "decide",
    "goal_value",
    "load_plan",
    "loads_plan",
    "pdsa_log",
    "plan_checks",
    "progress",
    "rule_sentences",
    "strategy_evidence",
    "tolerance_for",
    "trajectory",
]
