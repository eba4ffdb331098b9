"""Review the plan itself: quality checks, the status of its actions and its PDSA log."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import pandas as pd

from cilib.core.calendar import half_term_end
from cilib.cycle.model import COMPONENT_DOMAIN, COMPONENTS, Plan
from cilib.measures.metrics import describe_metric


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
