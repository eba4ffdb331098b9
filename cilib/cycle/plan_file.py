"""Read and check ``plan.yml``: a line-tracking YAML loader, so every error names the line at fault.

See ``docs/plan.md`` for the YAML format and ``cilib/resources/sample_plan.yml`` for a worked
template. :func:`load_plan` reads the file; an error reads like::

    plan.yml line 23: goal 'G2' has no target
"""

from __future__ import annotations

import datetime as dt
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from cilib.core.calendar import is_half_term, period_key
from cilib.core.errors import ConfigError, PlanError
from cilib.core.safe_yaml import StrictLoader, decode_utf8
from cilib.cycle.model import (
    ACTION_STATUSES,
    COMPONENTS,
    DIRECTIONS,
    GOAL_GROUPS,
    PDSA,
    PDSA_DECISIONS,
    Action,
    Goal,
    Plan,
    Priority,
    Strategy,
)
from cilib.measures.metrics import validate_metric

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
    if not is_half_term(v):
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
