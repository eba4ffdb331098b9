"""The improvement plan: load and check ``plan.yml``, baselines, trajectories and decisions.

A plan holds a vision, a handful of priorities, measurable goals, strategies written as
theories of action, action steps and PDSA cycles (see ``docs/plan.md`` for the YAML format and
``cilib/resources/sample_plan.yml`` for a worked template). :func:`load_plan` reads the file with
a line-tracking loader, so every error names the line at fault::

    plan.yml line 23: goal 'G2' has no target

Baselines are always computed from data (:func:`baseline`), never typed in. Strategies belong to
the trust improvement model (:data:`IMPROVEMENT_MODEL`: three domains, twelve components);
:func:`plan_checks` flags what a good plan should have and this one lacks, and :func:`decide`
suggests whether to continue, adjust or stop (de-implement) a strategy.
"""

from __future__ import annotations

import datetime as dt
import re
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from cilib.core.errors import ConfigError, PlanError
from cilib.core.safe_yaml import StrictLoader, decode_utf8
from cilib.measures.metrics import compute_metric, describe_metric, period_key, validate_metric

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

#: First day of each half-term as (month, day); HT1-HT2 fall in the first calendar year of the
#: academic year, HT3-HT6 in the second. Dates in July and August belong to HT6.
HALF_TERM_STARTS: dict[int, tuple[int, int]] = {
    1: (9, 1),
    2: (11, 1),
    3: (1, 1),
    4: (2, 20),
    5: (4, 15),
    6: (6, 1),
}

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

TOP_KEYS = ("vision", "priorities", "goals", "strategies", "actions", "pdsa")
PRIORITY_KEYS = ("id", "title")
GOAL_KEYS = (
    "id",
    "title",
    "priority",
    "metric",
    "group",
    "focus_group",
    "baseline_period",
    "target",
    "target_period",
    "direction",
    "milestones",
)
STRATEGY_KEYS = (
    "id",
    "title",
    "goals",
    "component",
    "if_we",
    "then",
    "and",
    "process_measure",
    "outcome_measure",
    "start_period",
    "review_after_periods",
    "cost",
    "intervention",
)
ACTION_KEYS = ("id", "strategy", "title", "owner", "start", "due", "status")
PDSA_KEYS = (
    "id",
    "strategy",
    "change_idea",
    "prediction",
    "start",
    "end",
    "measure",
    "result",
    "learning",
    "decision",
)
COST_KEYS = ("staff_hours_per_half_term", "money_per_year")
_PERIOD_RE = re.compile(r"^(\d{4})/(\d{2}) HT([1-6])$")


# --------------------------------------------------------------------------------------------
# plan objects


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


# --------------------------------------------------------------------------------------------
# periods and dates


def _check_period(label: Any) -> bool:
    m = _PERIOD_RE.match(str(label)) if isinstance(label, str) else None
    return bool(m) and (int(m.group(1)) + 1) % 100 == int(m.group(2))


def half_term_periods(academic_years: Sequence[str]) -> list[str]:
    """Return the calendar: each academic year's six half-terms, in order.

    Examples
    --------
    >>> half_term_periods(["2024/25"])[:2]
    ['2024/25 HT1', '2024/25 HT2']
    """
    return [f"{y} HT{i}" for y in sorted(academic_years) for i in range(1, 7)]


def periods_between(start: str, end: str, calendar: Sequence[str] | None = None) -> list[str]:
    """Return the periods from ``start`` to ``end`` inclusive, in calendar order.

    Without a ``calendar`` the default half-term calendar is used.

    Examples
    --------
    >>> periods_between("2024/25 HT5", "2025/26 HT1")
    ['2024/25 HT5', '2024/25 HT6', '2025/26 HT1']
    """
    if calendar is None:
        for p in (start, end):
            if not _check_period(p):
                raise PlanError(f"period {p!r} is not a half-term label like '2024/25 HT3'")
        y0, y1 = int(start[:4]), int(end[:4])
        calendar = half_term_periods([f"{y}/{(y + 1) % 100:02d}" for y in range(y0, y1 + 1)])
    cal = list(calendar)
    for p in (start, end):
        if p not in cal:
            raise PlanError(f"period {p!r} is not in the calendar ({cal[0]} … {cal[-1]})")
    i, j = cal.index(start), cal.index(end)
    return cal[i : j + 1]


def _academic_start_year(label: str) -> int:
    if not _check_period(label):
        raise PlanError(f"period {label!r} is not a half-term label like '2024/25 HT3'")
    return int(label[:4])


def half_term_start(
    label: str, *, starts: Mapping[int, tuple[int, int]] = HALF_TERM_STARTS
) -> dt.date:
    """Return the first day of a half-term (default start dates in :data:`HALF_TERM_STARTS`).

    Examples
    --------
    >>> half_term_start("2024/25 HT4")
    datetime.date(2025, 2, 20)
    """
    y = _academic_start_year(label)
    ht = int(label[-1])
    month, day = starts[ht]
    return dt.date(y if month >= 9 else y + 1, month, day)


def half_term_end(
    label: str, *, starts: Mapping[int, tuple[int, int]] = HALF_TERM_STARTS
) -> dt.date:
    """Return the last day of a half-term (the day before the next one starts; HT6 ends 31 Aug).

    Examples
    --------
    >>> half_term_end("2025/26 HT6")
    datetime.date(2026, 8, 31)
    """
    y = _academic_start_year(label)
    ht = int(label[-1])
    if ht == 6:
        return dt.date(y + 1, 8, 31)
    return half_term_start(f"{label[:7]} HT{ht + 1}", starts=starts) - dt.timedelta(days=1)


def half_term_of(
    date: dt.date,
    calendar: Sequence[str] | None = None,
    *,
    starts: Mapping[int, tuple[int, int]] = HALF_TERM_STARTS,
) -> str:
    """Return the half-term label a date falls in.

    The academic year runs 1 September to 31 August; half-terms start on the dates in
    ``starts`` (default HT1 1 Sep, HT2 1 Nov, HT3 1 Jan, HT4 20 Feb, HT5 15 Apr, HT6 1 Jun), and
    the summer holiday belongs to HT6. With a ``calendar`` the label must be in it.

    Examples
    --------
    >>> half_term_of(dt.date(2026, 11, 26))
    '2026/27 HT2'
    """
    if isinstance(date, dt.datetime):
        date = date.date()
    y = date.year if date.month >= 9 else date.year - 1
    ay = f"{y}/{(y + 1) % 100:02d}"
    label = f"{ay} HT1"
    for ht in range(1, 7):
        if half_term_start(f"{ay} HT{ht}", starts=starts) <= date:
            label = f"{ay} HT{ht}"
    if calendar is not None and label not in list(calendar):
        raise PlanError(f"date {date} falls in {label}, which is outside the calendar")
    return label


# --------------------------------------------------------------------------------------------
# line-tracking YAML


class _Doc:
    """Parsed YAML with the line number (1-based) of every mapping, sequence item and key."""

    def __init__(self, source: str):
        self.source = source
        self.lines: dict[tuple, int] = {}
        self._ctor = yaml.constructor.SafeConstructor()

    def err(self, path: tuple, msg: str) -> PlanError:
        line = self.line(path)
        return PlanError(f"{self.source} line {line}: {msg}")

    def line(self, path: tuple) -> int:
        while path and path not in self.lines:
            path = path[:-1]
        return self.lines.get(path, 1)

    def build(self, node: yaml.Node, path: tuple = ()) -> Any:
        self.lines.setdefault(path, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            out: dict[Any, Any] = {}
            for knode, vnode in node.value:
                key = self._ctor.construct_object(knode, deep=True)
                if isinstance(key, (list, dict)):
                    raise PlanError(
                        f"{self.source} line {knode.start_mark.line + 1}: keys must be text"
                    )
                if key in out:
                    raise PlanError(
                        f"{self.source} line {knode.start_mark.line + 1}: key {key!r} appears "
                        f"twice in the same block; keep one"
                    )
                self.lines[(*path, key)] = knode.start_mark.line + 1
                out[key] = self.build(vnode, (*path, key))
            return out
        if isinstance(node, yaml.SequenceNode):
            return [self.build(v, (*path, i)) for i, v in enumerate(node.value)]
        return self._ctor.construct_object(node, deep=True)


def _parse(text: str, source: str) -> tuple[Any, _Doc]:
    doc = _Doc(source)
    try:
        # StrictLoader refuses aliases (*name), so an alias bomb cannot expand in build()
        node = yaml.compose(text, Loader=StrictLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        hint = (
            ""
            if "alias" in str(exc.problem)
            else "; check the indentation and that text with a colon is quoted"
        )
        raise PlanError(
            f"{source} line {line}: the YAML cannot be read ({exc.problem}){hint}"
        ) from exc
    except yaml.YAMLError as exc:
        raise PlanError(f"{source}: the YAML cannot be read ({exc})") from exc
    if node is None:
        raise PlanError(f"{source} line 1: the plan is empty; start from the sample plan")
    try:
        data = doc.build(node)
    except yaml.constructor.ConstructorError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else 1
        raise PlanError(f"{source} line {line}: {exc.problem}") from exc
    return data, doc


# --------------------------------------------------------------------------------------------
# validation helpers


def _text(doc: _Doc, d: Mapping, path: tuple, key: str, what: str, *, required: bool) -> Any:
    v = d.get(key)
    if v is None or (isinstance(v, str) and not v.strip()):
        if required:
            raise doc.err(path, f"{what} has no {key}")
        return None
    if not isinstance(v, (str, int, float)) or isinstance(v, bool):
        raise doc.err((*path, key), f"{what}: {key} must be text, not {type(v).__name__}")
    return str(v).strip()


def _number(doc: _Doc, v: Any, path: tuple, what: str) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise doc.err(path, f"{what} must be a number, not {v!r}")
    return float(v)


def _period(doc: _Doc, v: Any, path: tuple, what: str, calendar: Sequence[str] | None) -> str:
    if not _check_period(v):
        raise doc.err(path, f"{what} {v!r} is not a half-term label like '2024/25 HT3'")
    if calendar is not None and v not in calendar:
        raise doc.err(
            path, f"{what} {v!r} is outside the calendar ({calendar[0]} … {calendar[-1]})"
        )
    return v


def _date(doc: _Doc, v: Any, path: tuple, what: str) -> dt.date | None:
    if v is None:
        return None
    if isinstance(v, dt.datetime):
        return v.date()
    if isinstance(v, dt.date):
        return v
    try:
        return dt.date.fromisoformat(str(v))
    except ValueError:
        raise doc.err(path, f"{what} {v!r} is not a date; write it as YYYY-MM-DD") from None


def _keys(doc: _Doc, d: Any, path: tuple, allowed: Sequence[str], what: str) -> None:
    if not isinstance(d, Mapping):
        raise doc.err(path, f"{what} must be a block of 'key: value' lines")
    for k in d:
        if k == "baseline" and "baseline_period" in allowed:
            raise doc.err(
                (*path, k),
                f"{what}: remove 'baseline:'. Baselines are computed from data for the "
                f"baseline_period, never typed in",
            )
        if k not in allowed:
            raise doc.err((*path, k), f"{what}: unknown key {k!r}; allowed: {', '.join(allowed)}")


def _list(doc: _Doc, data: Mapping, key: str) -> list:
    v = data.get(key)
    if v is None:
        return []
    if not isinstance(v, list):
        raise doc.err((key,), f"{key} must be a list of items, each starting with '- id:'")
    return v


def _ids(doc: _Doc, items: list, key: str, what: str) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for i, item in enumerate(items):
        if not isinstance(item, Mapping):
            raise doc.err((key, i), f"each {what} must be a block of 'key: value' lines")
        ident = item.get("id")
        if ident is None or (isinstance(ident, str) and not ident.strip()):
            raise doc.err((key, i), f"{what} number {i + 1} has no id")
        ident = str(ident)
        if ident in seen:
            raise doc.err(
                (key, i), f"{what} id {ident!r} is used twice (first on line {seen[ident]})"
            )
        seen[ident] = doc.line((key, i))
        out.append(ident)
    return out


def _metric(doc: _Doc, v: Any, path: tuple, what: str) -> dict[str, Any]:
    try:
        return validate_metric(v)
    except PlanError as exc:
        raise doc.err(path, f"{what}: {exc}") from None


def _focus(doc: _Doc, v: Any, path: tuple, what: str) -> dict[str, Any] | None:
    if v is None:
        return None
    if not isinstance(v, Mapping) or set(v) != {"column", "value"}:
        raise doc.err(
            path, f"{what}: focus_group must be {{column: <pupils column>, value: <value>}}"
        )
    return dict(v)


# --------------------------------------------------------------------------------------------
# loading


def _load_goal(doc, g, i, prio_ids, calendar) -> Goal:
    path = ("goals", i)
    gid = str(g["id"])
    what = f"goal {gid!r}"
    _keys(doc, g, path, GOAL_KEYS, what)
    title = _text(doc, g, path, "title", what, required=True)
    if g.get("target") is None:
        raise doc.err(path, f"{what} has no target")
    target = _number(doc, g["target"], (*path, "target"), f"{what}: target")
    if g.get("target_period") is None:
        raise doc.err(path, f"{what} has no target_period")
    tp = _period(
        doc, g["target_period"], (*path, "target_period"), f"{what}: target_period", calendar
    )
    priority = _text(doc, g, path, "priority", what, required=False)
    if priority is not None and priority not in prio_ids:
        raise doc.err(
            (*path, "priority"),
            f"{what}: priority {priority!r} is not a priority id "
            f"({', '.join(prio_ids) or 'none defined'})",
        )
    metric = None
    if g.get("metric") is not None:
        metric = _metric(doc, g["metric"], (*path, "metric"), what)
    group = g.get("group", "all")
    if group not in GOAL_GROUPS:
        raise doc.err((*path, "group"), f"{what}: group must be one of {', '.join(GOAL_GROUPS)}")
    direction = g.get("direction", "up")
    if direction not in DIRECTIONS:
        raise doc.err(
            (*path, "direction"), f"{what}: direction must be up or down, not {direction!r}"
        )
    bp = None
    if g.get("baseline_period") is not None:
        bp = _period(
            doc,
            g["baseline_period"],
            (*path, "baseline_period"),
            f"{what}: baseline_period",
            calendar,
        )
        if period_key(bp) >= period_key(tp):
            raise doc.err(
                (*path, "target_period"),
                f"{what}: target_period {tp} must come after baseline_period {bp}",
            )
    milestones: dict[str, float] = {}
    ms = g.get("milestones")
    if ms is not None:
        if not isinstance(ms, Mapping):
            raise doc.err(
                (*path, "milestones"),
                f"{what}: milestones must be lines of '\"2024/25 HT6\": value'",
            )
        for p, v in ms.items():
            mpath = (*path, "milestones", p)
            p = _period(doc, p, mpath, f"{what}: milestone period", calendar)
            milestones[p] = _number(doc, v, mpath, f"{what}: milestone {p}")
            if bp is not None and not period_key(bp) < period_key(p) < period_key(tp):
                raise doc.err(
                    mpath,
                    f"{what}: milestone {p} must fall between the baseline "
                    f"period {bp} and the target period {tp}",
                )
    return Goal(
        id=gid,
        title=title,
        target=target,
        target_period=tp,
        priority=priority,
        metric=metric,
        group=group,
        focus_group=_focus(doc, g.get("focus_group"), (*path, "focus_group"), what),
        baseline_period=bp,
        direction=direction,
        milestones=dict(sorted(milestones.items(), key=lambda kv: period_key(kv[0]))),
        line=doc.line(path),
    )


def _load_strategy(doc, s, i, goal_ids, calendar) -> Strategy:
    path = ("strategies", i)
    sid = str(s["id"])
    what = f"strategy {sid!r}"
    _keys(doc, s, path, STRATEGY_KEYS, what)
    title = _text(doc, s, path, "title", what, required=True)
    goals = s.get("goals") or []
    if isinstance(goals, str):
        goals = [goals]
    if not isinstance(goals, list):
        raise doc.err((*path, "goals"), f"{what}: goals must be a list of goal ids")
    for gid in goals:
        if str(gid) not in goal_ids:
            raise doc.err(
                (*path, "goals"), f"{what}: goal {gid!r} is not a goal id ({', '.join(goal_ids)})"
            )
    comps = s.get("component") or []
    if isinstance(comps, str):
        comps = [comps]
    if not isinstance(comps, list):
        raise doc.err((*path, "component"), f"{what}: component must be a component id or a list")
    for c in comps:
        if c not in COMPONENTS:
            raise doc.err(
                (*path, "component"),
                f"{what}: component {c!r} is not in the "
                f"improvement model; use one of "
                f"{', '.join(COMPONENTS)}",
            )
    pm, expected = None, None
    if s.get("process_measure") is not None:
        raw = s["process_measure"]
        if not isinstance(raw, Mapping):
            raise doc.err(
                (*path, "process_measure"),
                f"{what}: process_measure must be a metric definition with an expected level",
            )
        raw = dict(raw)
        if "expected" in raw:
            expected = _number(
                doc,
                raw.pop("expected"),
                (*path, "process_measure", "expected"),
                f"{what}: expected",
            )
        pm = _metric(doc, raw, (*path, "process_measure"), what)
    om = s.get("outcome_measure")
    if isinstance(om, Mapping):
        om = _metric(doc, om, (*path, "outcome_measure"), what)
    elif om is not None:
        om = str(om)
        if om not in goal_ids:
            raise doc.err(
                (*path, "outcome_measure"),
                f"{what}: outcome_measure {om!r} is neither a goal id nor a metric definition",
            )
    sp = None
    if s.get("start_period") is not None:
        sp = _period(
            doc, s["start_period"], (*path, "start_period"), f"{what}: start_period", calendar
        )
    rap = s.get("review_after_periods", 3)
    if isinstance(rap, bool) or not isinstance(rap, int) or rap < 1:
        raise doc.err(
            (*path, "review_after_periods"),
            f"{what}: review_after_periods must be a whole number of half-terms, at least 1",
        )
    cost: dict[str, float] = {}
    if s.get("cost") is not None:
        c = s["cost"]
        _keys(doc, c, (*path, "cost"), COST_KEYS, f"{what}: cost")
        for k, v in c.items():
            cost[k] = _number(doc, v, (*path, "cost", k), f"{what}: cost {k}")
    inter = s.get("intervention")
    if inter is not None:
        ipath = (*path, "intervention")
        _keys(doc, inter, ipath, ("schools", "group", "start_period"), f"{what}: intervention")
        schools = inter.get("schools")
        if not isinstance(schools, list) or not schools:
            raise doc.err(ipath, f"{what}: intervention needs schools: [list of school ids]")
        grp = inter.get("group", "all")
        if grp not in ("focus", "all"):
            raise doc.err((*ipath, "group"), f"{what}: intervention group must be focus or all")
        isp = inter.get("start_period", sp)
        if isp is None:
            raise doc.err(ipath, f"{what}: intervention needs a start_period")
        isp = _period(
            doc, isp, (*ipath, "start_period"), f"{what}: intervention start_period", calendar
        )
        inter = {"schools": [str(x) for x in schools], "group": grp, "start_period": isp}
    return Strategy(
        id=sid,
        title=title,
        goals=tuple(str(g) for g in goals),
        components=tuple(comps),
        if_we=_text(doc, s, path, "if_we", what, required=False),
        then=_text(doc, s, path, "then", what, required=False),
        and_=_text(doc, s, path, "and", what, required=False),
        process_measure=pm,
        expected=expected,
        outcome_measure=om,
        start_period=sp,
        review_after_periods=rap,
        cost=cost,
        intervention=inter,
        line=doc.line(path),
    )


def _text_value(doc, v, path, what) -> tuple[str | None, float | None]:
    """Read ``text`` or ``{text: ..., value: number}``."""
    if v is None:
        return None, None
    if isinstance(v, Mapping):
        _keys(doc, v, path, ("text", "value"), what)
        val = v.get("value")
        num = None if val is None else _number(doc, val, (*path, "value"), f"{what} value")
        return (None if v.get("text") is None else str(v["text"])), num
    return str(v), None


def load_plan(path: str | Path, *, calendar: Sequence[str] | None = None) -> Plan:
    """Read and validate ``plan.yml``.

    Parameters
    ----------
    path : str or Path
        The plan file.
    calendar : list of str, optional
        Ordered period labels; when given, every period in the plan must be one of them.

    Returns
    -------
    Plan

    Raises
    ------
    PlanError
        With the file name and line at fault, e.g. ``plan.yml line 23: goal 'G2' has no
        target``. More than five priorities is a warning (``UserWarning``), not an error.
    """
    path = Path(path)
    if not path.exists():
        raise PlanError(f"plan file {path} not found; copy cilib/resources/sample_plan.yml")
    if path.is_dir():
        raise PlanError(f"plan file {path} is a folder; name the plan's YAML file")
    try:
        text = decode_utf8(path.read_bytes(), path.name)
    except ConfigError as exc:
        raise PlanError(str(exc)) from None
    return loads_plan(text, source=path.name, calendar=calendar)


def loads_plan(
    text: str, *, source: str = "plan.yml", calendar: Sequence[str] | None = None
) -> Plan:
    """Read and validate a plan from YAML text (see :func:`load_plan`)."""
    data, doc = _parse(text, source)
    if not isinstance(data, Mapping):
        raise doc.err((), "the plan must be a block of sections (vision:, priorities:, goals: …)")
    for k in data:
        if k not in TOP_KEYS:
            raise doc.err((k,), f"unknown section {k!r}; sections are {', '.join(TOP_KEYS)}")
    vision = _text(doc, data, (), "vision", "the plan", required=True)
    cal = list(calendar) if calendar is not None else None
    notes: list[str] = []

    prios_raw = _list(doc, data, "priorities")
    prio_ids = _ids(doc, prios_raw, "priorities", "priority")
    priorities = []
    for i, p in enumerate(prios_raw):
        _keys(doc, p, ("priorities", i), PRIORITY_KEYS, f"priority {p['id']!r}")
        title = _text(doc, p, ("priorities", i), "title", f"priority {p['id']!r}", required=True)
        priorities.append(Priority(str(p["id"]), title, doc.line(("priorities", i))))
    if len(priorities) > 5:
        msg = (
            f"{source} line {doc.line(('priorities',))}: {len(priorities)} priorities; "
            f"keep to five or fewer, focus is the point"
        )
        warnings.warn(msg, UserWarning, stacklevel=2)
        notes.append(msg)

    goals_raw = _list(doc, data, "goals")
    if not goals_raw:
        raise doc.err(("goals",) if "goals" in data else (), "the plan has no goals")
    goal_ids = _ids(doc, goals_raw, "goals", "goal")
    goals = [_load_goal(doc, g, i, prio_ids, cal) for i, g in enumerate(goals_raw)]

    strat_raw = _list(doc, data, "strategies")
    strat_ids = _ids(doc, strat_raw, "strategies", "strategy")
    strategies = [_load_strategy(doc, s, i, goal_ids, cal) for i, s in enumerate(strat_raw)]

    actions = []
    act_raw = _list(doc, data, "actions")
    _ids(doc, act_raw, "actions", "action")
    for i, a in enumerate(act_raw):
        path = ("actions", i)
        what = f"action {a['id']!r}"
        _keys(doc, a, path, ACTION_KEYS, what)
        strat = _text(doc, a, path, "strategy", what, required=False)
        if strat is not None and strat not in strat_ids:
            raise doc.err((*path, "strategy"), f"{what}: strategy {strat!r} is not a strategy id")
        status = a.get("status", "not_started")
        if status not in ACTION_STATUSES:
            raise doc.err(
                (*path, "status"),
                f"{what}: status {status!r} must be one of {', '.join(ACTION_STATUSES)}",
            )
        start = _date(doc, a.get("start"), (*path, "start"), f"{what}: start")
        due = _date(doc, a.get("due"), (*path, "due"), f"{what}: due")
        if start and due and due < start:
            raise doc.err((*path, "due"), f"{what}: due date {due} is before start date {start}")
        actions.append(
            Action(
                id=str(a["id"]),
                title=_text(doc, a, path, "title", what, required=True),
                strategy=strat,
                owner=_text(doc, a, path, "owner", what, required=False),
                start=start,
                due=due,
                status=status,
                line=doc.line(path),
            )
        )

    cycles = []
    pdsa_raw = _list(doc, data, "pdsa")
    _ids(doc, pdsa_raw, "pdsa", "PDSA cycle")
    for i, c in enumerate(pdsa_raw):
        path = ("pdsa", i)
        what = f"PDSA cycle {c['id']!r}"
        _keys(doc, c, path, PDSA_KEYS, what)
        strat = _text(doc, c, path, "strategy", what, required=False)
        if strat is not None and strat not in strat_ids:
            raise doc.err((*path, "strategy"), f"{what}: strategy {strat!r} is not a strategy id")
        pred, pval = _text_value(
            doc, c.get("prediction"), (*path, "prediction"), f"{what}: prediction"
        )
        res, rval = _text_value(doc, c.get("result"), (*path, "result"), f"{what}: result")
        start = _date(doc, c.get("start"), (*path, "start"), f"{what}: start")
        end = _date(doc, c.get("end"), (*path, "end"), f"{what}: end")
        if start and end and end < start:
            raise doc.err((*path, "end"), f"{what}: end date {end} is before start date {start}")
        decision = c.get("decision")
        if decision is not None and decision not in PDSA_DECISIONS:
            raise doc.err(
                (*path, "decision"),
                f"{what}: decision {decision!r} must be adopt, adapt or abandon",
            )
        measure = c.get("measure")
        if isinstance(measure, Mapping):
            measure = _metric(doc, measure, (*path, "measure"), what)
        elif measure is not None:
            measure = str(measure)
            if measure not in goal_ids:
                raise doc.err(
                    (*path, "measure"),
                    f"{what}: measure {measure!r} is neither a goal id nor a metric definition",
                )
        cycles.append(
            PDSA(
                id=str(c["id"]),
                strategy=strat,
                change_idea=_text(doc, c, path, "change_idea", what, required=True),
                prediction=pred,
                predicted_value=pval,
                start=start,
                end=end,
                measure=measure,
                result=res,
                observed_value=rval,
                learning=_text(doc, c, path, "learning", what, required=False),
                decision=decision,
                line=doc.line(path),
            )
        )

    return Plan(
        vision=vision,
        priorities=tuple(priorities),
        goals=tuple(goals),
        strategies=tuple(strategies),
        actions=tuple(actions),
        pdsa=tuple(cycles),
        source=source,
        warnings=tuple(notes),
    )


# --------------------------------------------------------------------------------------------
# baselines, trajectories, progress


def goal_value(goal: Goal, result: pd.DataFrame) -> pd.DataFrame:
    """Return a goal's value per period from a :func:`~cilib.measures.metrics.compute_metric` frame.

    The value is the row of the goal's ``group`` (``focus``, ``comparison``, ``all``), or for
    ``gap`` the focus value minus the comparison value. Columns: ``period, value``.
    """
    if goal.group == "gap":
        wide = result.pivot_table(index="period", columns="group", values="value", sort=False)
        if not {"focus", "comparison"} <= set(wide.columns):
            return pd.DataFrame(
                {"period": pd.Series(dtype="str"), "value": pd.Series(dtype="float64")}
            )
        out = (wide["focus"] - wide["comparison"]).rename("value").reset_index()
        return out.dropna()
    out = result.loc[result["group"] == goal.group, ["period", "value"]]
    return out.dropna().reset_index(drop=True)


def baseline(goal: Goal, tables: Mapping[str, pd.DataFrame], school_id: str | None = None) -> float:
    """Compute a goal's baseline: its metric in its baseline period, from data.

    Raises
    ------
    PlanError
        The goal has no metric or baseline period, or the data hold no value for it then.
    """
    if goal.metric is None:
        raise PlanError(f"goal {goal.id!r} has no metric, so it has no baseline")
    if goal.baseline_period is None:
        raise PlanError(f"goal {goal.id!r} has no baseline_period")
    res = compute_metric(
        tables,
        goal.metric,
        school_id=school_id,
        focus=goal.focus_group,
        periods=[goal.baseline_period],
    )
    vals = goal_value(goal, res)
    if vals.empty:
        where = f"school {school_id}" if school_id else "the trust"
        raise PlanError(
            f"goal {goal.id!r}: no data for {describe_metric(goal.metric)} ({goal.group}) in "
            f"baseline period {goal.baseline_period} for {where}; choose a period with data"
        )
    return float(vals["value"].iloc[0])


def trajectory(
    goal: Goal, baseline_value: float, periods: Sequence[str] | None = None
) -> pd.DataFrame:
    """Return the expected value per half-term from baseline to target.

    Straight lines join the anchor points (baseline, any milestones, target): at period ``i``
    between anchors ``(i0, v0)`` and ``(i1, v1)`` the expected value is
    ``v0 + (v1 − v0) × (i − i0) / (i1 − i0)``.

    Parameters
    ----------
    goal : Goal
        Needs ``baseline_period``, ``target``, ``target_period``; uses ``milestones``.
    baseline_value : float
        From :func:`baseline`.
    periods : list of str, optional
        The ordered calendar; default the half-terms from baseline to target period.

    Returns
    -------
    DataFrame
        Columns ``period, expected, kind`` (``baseline``, ``milestone``, ``target``,
        ``interpolated``), from the baseline period to the target period.

    Examples
    --------
    >>> g = Goal(id="G", title="t", target=96.0, target_period="2024/25 HT3",
    ...          baseline_period="2024/25 HT1")
    >>> trajectory(g, 95.0)["expected"].tolist()
    [95.0, 95.5, 96.0]
    """
    if goal.baseline_period is None:
        raise PlanError(f"goal {goal.id!r} has no baseline_period, so it has no trajectory")
    span = periods_between(goal.baseline_period, goal.target_period, periods)
    anchors = {goal.baseline_period: (float(baseline_value), "baseline")}
    for p, v in goal.milestones.items():
        if p not in span:
            raise PlanError(f"goal {goal.id!r}: milestone {p} is not between baseline and target")
        anchors[p] = (float(v), "milestone")
    anchors[goal.target_period] = (float(goal.target), "target")
    idx = sorted((span.index(p), v) for p, (v, _) in anchors.items())
    rows = []
    for i, p in enumerate(span):
        for (i0, v0), (i1, v1) in zip(idx, idx[1:], strict=False):
            if i0 <= i <= i1:
                val = v0 + (v1 - v0) * (i - i0) / (i1 - i0)
                break
        rows.append((p, val, anchors[p][1] if p in anchors else "interpolated"))
    return pd.DataFrame(rows, columns=["period", "expected", "kind"])


def progress(
    goal: Goal,
    tables: Mapping[str, pd.DataFrame],
    *,
    school_id: str | None = None,
    periods: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Compare a goal's observed values with its trajectory, period by period.

    Returns columns ``period, observed, expected, kind, on_trajectory``; ``on_trajectory`` is
    observed ≥ expected for goals whose direction is ``up`` and ≤ for ``down``.
    """
    base = baseline(goal, tables, school_id)
    traj = trajectory(goal, base, periods)
    res = compute_metric(
        tables,
        goal.metric,
        school_id=school_id,
        focus=goal.focus_group,
        periods=traj["period"].tolist(),
    )
    obs = goal_value(goal, res).rename(columns={"value": "observed"})
    out = traj.merge(obs, how="left", on="period")[["period", "observed", "expected", "kind"]]
    diff = out["observed"] - out["expected"]
    ok = diff >= -1e-9 if goal.direction == "up" else diff <= 1e-9
    out["on_trajectory"] = ok.astype("boolean").mask(out["observed"].isna())
    return out


# --------------------------------------------------------------------------------------------
# plan quality


def plan_checks(plan: Plan) -> pd.DataFrame:
    """Check the plan against what a measurable improvement plan needs.

    Checks: each goal has a metric, a baseline period, a priority and at least one strategy
    serving it; each strategy has a full theory of action (if_we, then, and), a process measure
    and a component; each action has an owner and a due date; at most five priorities; each
    component of the improvement model is touched by some strategy.

    Returns
    -------
    DataFrame
        Columns ``check, item, passed, detail``; one row per check and item.
    """
    rows: list[tuple[str, str, bool, str]] = []
    served = {g for s in plan.strategies for g in s.goals}
    n_prio = len(plan.priorities)
    rows.append(
        (
            "at most five priorities",
            "plan",
            n_prio <= 5,
            f"{n_prio} priorities" + ("" if n_prio <= 5 else "; focus on five or fewer"),
        )
    )
    for g in plan.goals:
        rows.append(
            (
                "goal has a metric",
                g.id,
                g.metric is not None,
                describe_metric(g.metric) if g.metric else "add a metric definition",
            )
        )
        rows.append(
            (
                "goal has a baseline period",
                g.id,
                g.baseline_period is not None,
                g.baseline_period or "add baseline_period; the baseline is computed",
            )
        )
        rows.append(
            (
                "goal belongs to a priority",
                g.id,
                g.priority is not None,
                g.priority or "link the goal to a priority",
            )
        )
        by = [s.id for s in plan.strategies if g.id in s.goals]
        rows.append(
            (
                "goal served by a strategy",
                g.id,
                g.id in served,
                ", ".join(by) if by else "no strategy lists this goal",
            )
        )
    for s in plan.strategies:
        missing = [k for k, v in (("if_we", s.if_we), ("then", s.then), ("and", s.and_)) if not v]
        rows.append(
            (
                "strategy has a theory of action",
                s.id,
                not missing,
                "if we / then / and" if not missing else f"missing {', '.join(missing)}",
            )
        )
        rows.append(
            (
                "strategy has a process measure",
                s.id,
                s.process_measure is not None,
                describe_metric(s.process_measure)
                if s.process_measure
                else "add a process (implementation) measure with an expected level",
            )
        )
        rows.append(
            (
                "strategy has a component",
                s.id,
                bool(s.components),
                ", ".join(s.components) or "name its improvement-model component",
            )
        )
    for a in plan.actions:
        rows.append(
            ("action has an owner", a.id, a.owner is not None, a.owner or "name who is responsible")
        )
        rows.append(
            (
                "action has a due date",
                a.id,
                a.due is not None,
                str(a.due) if a.due else "add a due date",
            )
        )
    touched = {c for s in plan.strategies for c in s.components}
    for c, title in COMPONENTS.items():
        by = [s.id for s in plan.strategies if c in s.components]
        rows.append(
            (
                "improvement-model component covered",
                c,
                c in touched,
                ", ".join(by) if by else f"no strategy touches '{title}' ({COMPONENT_DOMAIN[c]})",
            )
        )
    out = pd.DataFrame(rows, columns=["check", "item", "passed", "detail"])
    out["passed"] = out["passed"].astype(bool)
    return out


def action_status(plan: Plan, as_of: dt.date | str, *, soon_days: int = 14) -> pd.DataFrame:
    """Return every action with whether it is overdue or due soon, sorted by owner then due date.

    Parameters
    ----------
    plan : Plan
    as_of : date or str
        The date to judge from, or a period label (judged from the period's last day).
    soon_days : int
        An action not done and due within this many days (inclusive) is ``due_soon``.

    Returns
    -------
    DataFrame
        Columns ``owner, id, strategy, title, start, due, status, days_to_due, overdue,
        due_soon, flag``; ``flag`` is one of ``done``, ``overdue``, ``due soon``, ``blocked``,
        ``no due date``, ``on track``. Actions without an owner show ``(no owner)``.
    """
    if isinstance(as_of, str):
        as_of = half_term_end(as_of)
    elif isinstance(as_of, dt.datetime):
        as_of = as_of.date()
    rows = []
    for a in plan.actions:
        days = (a.due - as_of).days if a.due else None
        open_ = a.status != "done"
        overdue = bool(open_ and days is not None and days < 0)
        soon = bool(open_ and days is not None and 0 <= days <= soon_days)
        if not open_:
            flag = "done"
        elif overdue:
            flag = "overdue"
        elif soon:
            flag = "due soon"
        elif a.status == "blocked":
            flag = "blocked"
        elif a.due is None:
            flag = "no due date"
        else:
            flag = "on track"
        rows.append(
            {
                "owner": a.owner or "(no owner)",
                "id": a.id,
                "strategy": a.strategy,
                "title": a.title,
                "start": a.start,
                "due": a.due,
                "status": a.status,
                "days_to_due": days,
                "overdue": overdue,
                "due_soon": soon,
                "flag": flag,
            }
        )
    cols = [
        "owner",
        "id",
        "strategy",
        "title",
        "start",
        "due",
        "status",
        "days_to_due",
        "overdue",
        "due_soon",
        "flag",
    ]
    out = pd.DataFrame(rows, columns=cols)
    out["days_to_due"] = out["days_to_due"].astype("Int64")
    out["_d"] = out["due"].map(lambda d: d or dt.date.max)
    return out.sort_values(["owner", "_d", "id"]).drop(columns="_d").reset_index(drop=True)


def pdsa_log(plan: Plan) -> pd.DataFrame:
    """Return the PDSA cycles with prediction against result.

    ``difference`` = observed value − predicted value where both are numbers.
    Columns: ``id, strategy, change_idea, start, end, measure, prediction, predicted_value,
    result, observed_value, difference, learning, decision``.
    """
    rows = []
    for c in plan.pdsa:
        measure = describe_metric(c.measure) if isinstance(c.measure, Mapping) else c.measure
        diff = (
            c.observed_value - c.predicted_value
            if c.observed_value is not None and c.predicted_value is not None
            else None
        )
        rows.append(
            {
                "id": c.id,
                "strategy": c.strategy,
                "change_idea": c.change_idea,
                "start": c.start,
                "end": c.end,
                "measure": measure,
                "prediction": c.prediction,
                "predicted_value": c.predicted_value,
                "result": c.result,
                "observed_value": c.observed_value,
                "difference": diff,
                "learning": c.learning,
                "decision": c.decision,
            }
        )
    out = pd.DataFrame(
        rows,
        columns=[
            "id",
            "strategy",
            "change_idea",
            "start",
            "end",
            "measure",
            "prediction",
            "predicted_value",
            "result",
            "observed_value",
            "difference",
            "learning",
            "decision",
        ],
    )
    for c in ("predicted_value", "observed_value", "difference"):
        out[c] = out[c].astype("float64")
    return out


# --------------------------------------------------------------------------------------------
# decisions


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
    from scipy.stats import norm

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
    gid = s.outcome_measure if isinstance(s.outcome_measure, str) else None
    gid = gid or (s.goals[0] if s.goals else None)
    if gid is None:
        raise PlanError(f"strategy {s.id!r} serves no goal, so there is no outcome to judge")
    goal = plan.goal(gid)
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
        "goal": gid,
        "on_trajectory": on,
        "periods_since_start": t,
        "signal": None,
        "effect_ci": None,
        "direction": goal.direction,
    }
