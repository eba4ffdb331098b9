"""Create Strategic Plan and Implement Plan: is the plan measurable, and are we doing it.

The functions here turn the prepared store and its improvement plan (:class:`cilib.cycle.plan.Plan`)
into the tables, charts and headlines of the ``02_strategic_plan`` and ``03_implement_plan``
notebooks, for one school or the whole trust (``school_id=None``). Baselines, trajectories,
plan checks and action status come from :mod:`cilib.cycle.plan`; every measure is computed by
:mod:`cilib.measures.metrics` from the store's data, never typed in.

Pure building blocks work on a dict of canonical tables (``goal_progress``, ``goal_summary``,
``process_measures``, ``completeness``); the ``*_section`` functions take the store and return
the list of displayable objects a notebook shows with :func:`cilib.report.html.show_all`.
"""

from __future__ import annotations

import datetime as dt
import textwrap
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from cilib.core.errors import DataError, PlanError
from cilib.cycle import plan as cp
from cilib.data.store import Store
from cilib.measures.metrics import compute_metric, describe_metric, metric_by_school, period_key
from cilib.measures.registry import lower_is_better
from cilib.report.html import esc, raw_html
from cilib.report.style import COLOURS, new_axes

#: Phases of the improvement cycle, in order (the roadmap is shown in this order).
PHASES = (
    "Set the Vision",
    "Assess Needs",
    "Create Strategic Plan",
    "Implement Plan",
    "Monitor and Adjust",
)
#: Colours of action statuses on the timeline.
STATUS_COLOURS = {
    "done": COLOURS["target"],
    "in_progress": COLOURS["comparison"],
    "not_started": "#BBBBBB",
    "blocked": COLOURS["concerning"],
}
#: Plain-English name of each plan check (from :func:`cilib.cycle.plan.plan_checks`).
CHECK_LABELS = {
    "at most five priorities": "At most five priorities",
    "goal has a metric": "Every goal has a metric",
    "goal has a baseline period": "Every goal has a baseline period (its baseline is computed)",
    "goal belongs to a priority": "Every goal belongs to a priority",
    "goal served by a strategy": "Every goal is served by a strategy",
    "strategy has a theory of action": "Every strategy has a theory of action (If / Then / And)",
    "strategy has a process measure": "Every strategy has a process (fidelity) measure",
    "strategy has a component": "Every strategy names its improvement-model component",
    "action has an owner": "Every action has an owner",
    "action has a due date": "Every action has a due date",
    "improvement-model component covered": "Every improvement-model component is touched by a "
    "strategy",
}
_COLLECTIONS = ("attendance", "assessments", "pupil survey")


# --------------------------------------------------------------------------------------------
# small helpers


# hand-built fragments escape every value through the reports' one escaping function
_html = raw_html
_esc = esc


def _plan(store: Store) -> cp.Plan | None:
    return store.plan()


def _tables(store: Store, names: Sequence[str]) -> dict[str, pd.DataFrame]:
    return {n: store.table(n) for n in names if n in store.tables}


_GOAL_TABLES = (
    "pupils",
    "schools",
    "attendance",
    "assessments",
    "behaviour",
    "survey_responses",
    "survey_items",
    "systems",
)


def previous_period(store: Store) -> str | None:
    """Return the half-term before the report period, or None at the start of the calendar."""
    p = store.periods
    return p[-2] if len(p) >= 2 else None


def group_label(
    goal: cp.Goal, focus_label: str = "Disadvantaged pupils", comparison_label: str = "Other pupils"
) -> str:
    """Return who a goal's number is about, in words (e.g. ``"Gap: disadvantaged − other"``)."""
    if goal.focus_group is not None:
        focus_label = f"{goal.focus_group['column']} = {goal.focus_group['value']}"
        comparison_label = "others"
    return {
        "focus": focus_label,
        "comparison": comparison_label,
        "all": "Everyone measured",
        "gap": f"Gap: {focus_label.lower()} − {comparison_label.lower()}",
    }[goal.group]


def _group_n(goal: cp.Goal, res: pd.DataFrame) -> pd.DataFrame:
    """Return the n behind the goal's number per period (a gap: the smaller group's)."""
    groups = ["focus", "comparison"] if goal.group == "gap" else [goal.group]
    sub = res.loc[res["group"].isin(groups)]
    n = sub.groupby("period", sort=False)["n"].min()
    if goal.group == "gap":
        have = sub.groupby("period", sort=False)["group"].nunique()
        n = n.where(have == 2, 0)
    return n.rename("n").reset_index()


# --------------------------------------------------------------------------------------------
# goals: baseline, trajectory, progress


def goal_progress(
    goal: cp.Goal,
    tables: Mapping[str, pd.DataFrame],
    *,
    school_id: str | None = None,
    calendar: Sequence[str] | None = None,
    upto: str | None = None,
    threshold: int = 5,
) -> pd.DataFrame:
    """Return a goal's trajectory with observed values so far, n, and suppression.

    :func:`cilib.cycle.plan.progress` gives the baseline (:func:`cilib.cycle.plan.baseline`: the
    goal's
    metric in its baseline period, computed from ``tables``; the first row's ``expected``), the
    expected values (:func:`cilib.cycle.plan.trajectory`), the observed values and ``on_trajectory``
    (observed ≥ expected for a goal whose direction is up, ≤ for down). Observed values after
    ``upto`` are dropped. An observed value resting on fewer than ``threshold`` pupils (for a
    gap, in either group) is suppressed: set to NaN with ``suppressed`` true. Systems measures
    count schools, not pupils, and are never suppressed.

    Returns
    -------
    DataFrame
        Columns ``period, expected, kind, observed, n, on_trajectory, suppressed`` from the
        baseline period to the target period.

    Raises
    ------
    PlanError
        The goal has no metric or baseline period, or no data in its baseline period.
    """
    prog = cp.progress(goal, tables, school_id=school_id, periods=calendar)
    res = compute_metric(
        tables,
        goal.metric,
        school_id=school_id,
        focus=goal.focus_group,
        periods=prog["period"].tolist(),
    )
    out = prog.merge(_group_n(goal, res), how="left", on="period")
    if upto is not None:
        late = out["period"].map(lambda p: period_key(p) > period_key(upto))
        out.loc[late, "observed"] = np.nan
        out["on_trajectory"] = out["on_trajectory"].mask(late)
    pupil_based = goal.metric["table"] != "systems"
    small = out["n"].notna() & (out["n"] < threshold) & pupil_based
    out["suppressed"] = small.astype(bool)
    out["observed"] = out["observed"].mask(small)
    out["on_trajectory"] = out["on_trajectory"].astype("boolean").mask(small)
    out["n"] = out["n"].astype("Int64")
    return out[["period", "expected", "kind", "observed", "n", "on_trajectory", "suppressed"]]


def _latest(prog: pd.DataFrame, upto: str | None) -> pd.Series | None:
    p = prog.loc[prog["observed"].notna()]
    if upto is not None:
        p = p.loc[p["period"].map(lambda x: period_key(x) <= period_key(upto))]
    return None if p.empty else p.iloc[-1]


def goal_summary(
    plan: cp.Plan,
    tables: Mapping[str, pd.DataFrame],
    *,
    school_id: str | None = None,
    calendar: Sequence[str] | None = None,
    upto: str | None = None,
    threshold: int = 5,
) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    """Return one row per goal (baseline, target, latest value, status) and each trajectory.

    ``status`` is one of ``on trajectory``, ``off trajectory``, ``not yet measured``,
    ``does not apply`` (the goal's metric is restricted to other schools), ``no metric``,
    ``no baseline data`` (the data hold no value in the baseline period for this scope) or
    ``too few pupils`` (the baseline rests on fewer than ``threshold`` pupils). ``latest`` is the
    most recent observed value up to ``upto`` and ``expected_then`` the trajectory there.

    Returns
    -------
    (DataFrame, dict)
        The summary (columns ``goal, title, priority, measure, group, direction,
        baseline_period, baseline, target, target_period, milestones, latest_period, latest,
        expected_then, status, detail``) and ``{goal id: goal_progress frame}`` for goals
        with a trajectory.
    """
    rows, trajs = [], {}
    for g in plan.goals:
        row: dict[str, Any] = {
            "goal": g.id,
            "title": g.title,
            "priority": g.priority or "",
            "measure": describe_metric(g.metric) if g.metric else "(no metric)",
            "group": group_label(g),
            "direction": "higher is better" if g.direction == "up" else "lower is better",
            "baseline_period": g.baseline_period or "",
            "baseline": np.nan,
            "target": float(g.target),
            "target_period": g.target_period,
            "milestones": "; ".join(f"{p}: {v:g}" for p, v in g.milestones.items()),
            "latest_period": "",
            "latest": np.nan,
            "expected_then": np.nan,
            "status": "",
            "detail": "",
        }
        if g.metric is None or g.baseline_period is None:
            row["status"] = "no metric" if g.metric is None else "no baseline period"
            row["detail"] = "add it to plan.yml so the goal can be measured"
        elif upto is not None and period_key(g.baseline_period) > period_key(upto):
            row["status"] = "not yet measured"
            row["detail"] = f"its baseline period {g.baseline_period} is after {upto}"
        elif not g.applies_to(school_id):
            row["status"] = "does not apply"
            row["detail"] = (
                f"the goal is measured in {', '.join(g.metric['schools'])} only, not in this school"
            )
        else:
            try:
                prog = goal_progress(
                    g,
                    tables,
                    school_id=school_id,
                    calendar=calendar,
                    upto=upto,
                    threshold=threshold,
                )
            except (PlanError, DataError) as exc:
                row["status"] = "no baseline data"
                row["detail"] = str(exc)
            else:
                if bool(prog["suppressed"].iloc[0]):
                    row["status"] = "too few pupils"
                    row["detail"] = f"the baseline rests on fewer than {threshold} pupils"
                else:
                    trajs[g.id] = prog
                    row["baseline"] = float(prog["expected"].iloc[0])
                    last = _latest(prog.iloc[1:], upto)
                    if last is None:
                        row["status"] = "not yet measured"
                        row["detail"] = "no value after the baseline period yet"
                    else:
                        row["latest_period"] = last["period"]
                        row["latest"] = float(last["observed"])
                        row["expected_then"] = float(last["expected"])
                        on = bool(last["on_trajectory"])
                        row["status"] = "on trajectory" if on else "off trajectory"
                        row["detail"] = (
                            f"{last['observed']:.2f} against {last['expected']:.2f} expected "
                            f"in {last['period']}"
                        )
        rows.append(row)
    return pd.DataFrame(rows), trajs


def on_trajectory_count(trajs: Mapping[str, pd.DataFrame], upto: str) -> tuple[int, int]:
    """Return (goals on trajectory, goals with a judgement) at their latest value up to ``upto``.

    Examples
    --------
    >>> t = pd.DataFrame({"period": ["2024/25 HT1", "2024/25 HT2", "2024/25 HT3"],
    ...     "observed": [1.0, 2.0, 1.0], "on_trajectory": [True, True, False]})
    >>> on_trajectory_count({"G1": t}, "2024/25 HT2"), on_trajectory_count({"G1": t}, "2024/25 HT3")
    ((1, 1), (0, 1))
    """
    on = judged = 0
    for prog in trajs.values():
        last = _latest(prog.iloc[1:], upto)
        if last is not None and not pd.isna(last["on_trajectory"]):
            judged += 1
            on += bool(last["on_trajectory"])
    return on, judged


def plot_goal(
    goal: cp.Goal,
    prog: pd.DataFrame,
    *,
    report_period: str | None = None,
    ylabel: str | None = None,
):
    """Chart a goal's trajectory from baseline to target, its milestones, and observed values."""
    title = f"{goal.id}: {goal.title}"
    if len(title) > 80:
        title = title[:77] + "…"
    fig, ax = new_axes(title=title, figsize=(8, 3.8))
    x = np.arange(len(prog))
    ax.plot(x, prog["expected"], linestyle="--", color=COLOURS["target"], label="Trajectory")
    for kind, marker, size, lab in (
        ("baseline", "o", 70, "Baseline (from data)"),
        ("milestone", "D", 60, "Milestone"),
        ("target", "*", 160, "Target"),
    ):
        m = (prog["kind"] == kind).to_numpy()
        if m.any():
            ax.scatter(
                x[m],
                prog["expected"][m],
                marker=marker,
                s=size,
                color=COLOURS["target"],
                zorder=4,
                label=lab,
            )
    obs = prog["observed"].to_numpy(dtype="float64")
    ok = ~np.isnan(obs)
    if ok.any():
        ax.plot(x[ok], obs[ok], marker="o", color=COLOURS["neutral"], label="Observed", zorder=5)
        off = ok & (prog["on_trajectory"].astype("boolean").fillna(True) == False).to_numpy()  # noqa: E712
        if off.any():
            ax.scatter(
                x[off],
                obs[off],
                marker="o",
                s=70,
                facecolors="white",
                edgecolors=COLOURS["focus"],
                linewidths=2,
                zorder=6,
                label="Observed, off trajectory",
            )
    if report_period in set(prog["period"]):
        i = prog["period"].tolist().index(report_period)
        ax.axvline(i, color=COLOURS["limit"], linestyle=":", linewidth=1.2)
        ax.annotate(
            " report period", (i, ax.get_ylim()[1]), va="top", fontsize=9, color=COLOURS["limit"]
        )
    ax.set_xticks(x, prog["period"].tolist(), rotation=45, ha="right")
    ax.set_ylabel(ylabel or "")
    ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=9)
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------------------------
# plan checks and theories of action


def checklist(plan: cp.Plan) -> pd.DataFrame:
    """Summarise :func:`cilib.cycle.plan.plan_checks` as one row per check, failures named.

    Returns
    -------
    DataFrame
        Columns ``check, label, items, passed, failed, ok, failing_items, failing``; ``ok`` is
        true when every item passes, ``failing_items`` names the failing items and ``failing``
        adds what to do about each.
    """
    pc = cp.plan_checks(plan)
    rows = []
    for check, grp in pc.groupby("check", sort=False):
        bad = grp.loc[~grp["passed"]]
        rows.append(
            {
                "check": check,
                "label": CHECK_LABELS.get(check, check[:1].upper() + check[1:]),
                "items": len(grp),
                "passed": int(grp["passed"].sum()),
                "failed": len(bad),
                "ok": bad.empty,
                "failing_items": ", ".join(bad["item"].astype("str")),
                "failing": "; ".join(
                    f"{i}: {d}" for i, d in zip(bad["item"], bad["detail"], strict=True)
                ),
            }
        )
    return pd.DataFrame(rows)


def checklist_html(checks: pd.DataFrame):
    """Render a :func:`checklist` as a pass/fail list (a word and a symbol, not colour alone)."""
    lis = []
    for r in checks.itertuples():
        mark, word, colour = (
            ("✓", "Pass", COLOURS["target"]) if r.ok else ("✗", "Fail", COLOURS["focus"])
        )
        count = f"{r.passed} of {r.items}" if r.items > 1 else ""
        extra = f"<br><span class='cilib-note'>{_esc(r.failing)}</span>" if not r.ok else ""
        lis.append(
            f"<li style='list-style:none;margin:.3rem 0'>"
            f"<b style='color:{colour}'>{mark} {word}</b> {_esc(r.label)}"
            f"{' (' + count + ')' if count else ''}{extra}</li>"
        )
    return _html(f"<ul style='padding-left:.5rem'>{''.join(lis)}</ul>")


def theories_of_action(plan: cp.Plan, school_id: str | None = None) -> pd.DataFrame:
    """One row per strategy: theory of action, goals served, component, and who takes part."""
    goals = {g.id: g.title for g in plan.goals}
    rows = []
    for s in plan.strategies:
        if s.intervention:
            where = ", ".join(s.intervention["schools"])
            if school_id is not None:
                where = (
                    "this school takes part"
                    if plan.strategy_applies_to(s, school_id)
                    else f"not in this school ({where})"
                )
        else:
            where = "trust-wide"
        rows.append(
            {
                "strategy": s.id,
                "title": s.title,
                "if_we": s.if_we or "",
                "then": s.then or "",
                "and": s.and_ or "",
                "goals": "; ".join(f"{g} {goals.get(g, '')}" for g in s.goals),
                "component": cp.COMPONENTS.get(s.component, "") if s.component else "",
                "domain": cp.COMPONENT_DOMAIN.get(s.component, "") if s.component else "",
                "also": ", ".join(cp.COMPONENTS[c] for c in s.components[1:]),
                "process_measure": (
                    describe_metric(s.process_measure)
                    + (f", expected {s.expected:g}" if s.expected is not None else "")
                    if s.process_measure
                    else ""
                ),
                "where": where,
            }
        )
    return pd.DataFrame(rows)


def _toa_html(toa: pd.DataFrame):
    cards = []
    for r in toa.to_dict("records"):

        def part(word: str, text: str) -> str:
            if text:
                return f"<p style='margin:.15rem 0'><b>{word}</b> {_esc(text.strip())}</p>"
            return (
                f"<p style='margin:.15rem 0' class='cilib-warn'><b>{word}</b> … "
                f"(missing: complete the theory of action)</p>"
            )

        comp = (
            f"{_esc(r['component'])} <span class='cilib-note'>({_esc(r['domain'])})</span>"
            if r["component"]
            else "<i>no component named</i>"
        )
        also = f"; also {_esc(r['also'])}" if r["also"] else ""
        pm = (
            _esc(r["process_measure"])
            if r["process_measure"]
            else "<b>none: add a process (fidelity) measure</b>"
        )
        cards.append(
            "<div style='border-left:4px solid #009E73;padding:.3rem .8rem;margin:.8rem 0'>"
            f"<p style='margin:.1rem 0'><b>{_esc(r['strategy'])}: {_esc(r['title'])}</b></p>"
            + part("If we", r["if_we"])
            + part("Then", r["then"])
            + part("And", r["and"])
            + f"<p class='cilib-note' style='margin:.2rem 0'>Serves: {_esc(r['goals']) or '—'}"
            f"<br>Component: {comp}{also}<br>Process measure: {pm} · Where: "
            f"{_esc(r['where'])}</p>"
            "</div>"
        )
    return _html("".join(cards))


# --------------------------------------------------------------------------------------------
# actions


def actions_for(plan: cp.Plan, school_id: str | None = None) -> list[cp.Action]:
    """Return the actions relevant to a school: those of strategies that involve it.

    For the trust every action; for a school, actions whose strategy is trust-wide or names the
    school in its intervention, and actions with no strategy.
    """
    if school_id is None:
        return list(plan.actions)
    involved = {s.id for s in plan.strategies if plan.strategy_applies_to(s, school_id)}
    return [a for a in plan.actions if a.strategy is None or a.strategy in involved]


def _status(plan: cp.Plan, as_of: dt.date, school_id: str | None) -> pd.DataFrame:
    keep = {a.id for a in actions_for(plan, school_id)}
    st = cp.action_status(plan, as_of)
    return st.loc[st["id"].isin(keep)].reset_index(drop=True)


def overdue_by_owner(status: pd.DataFrame) -> pd.DataFrame:
    """Count overdue and due-soon actions per owner from :func:`cilib.cycle.plan.action_status`.

    Examples
    --------
    >>> st = pd.DataFrame({"owner": ["A", "A", "B"], "id": ["1", "2", "3"],
    ...                    "overdue": [True, False, True], "due_soon": [False, True, False]})
    >>> overdue_by_owner(st)
      owner  overdue  due_soon actions
    0     A        1         1    1, 2
    1     B        1         0       3
    """
    flagged = status.loc[status["overdue"] | status["due_soon"]]
    out = flagged.groupby("owner", as_index=False, sort=True).agg(
        overdue=("overdue", "sum"), due_soon=("due_soon", "sum"), actions=("id", ", ".join)
    )
    out["overdue"] = out["overdue"].astype("int64")
    out["due_soon"] = out["due_soon"].astype("int64")
    return out.sort_values(["overdue", "owner"], ascending=[False, True]).reset_index(drop=True)


def plot_timeline(status: pd.DataFrame, *, report_date: dt.date, title: str | None = None):
    """Gantt-style chart: a bar from start to due per action, coloured by status.

    Overdue actions are outlined and hatched and labelled "overdue"; a vertical line marks the
    report date. Actions without a start show a marker at their due date; actions without a due
    date are listed as such.
    """
    import matplotlib.dates as mdates
    from matplotlib.patches import Patch

    st = status.sort_values(["start", "due"], key=lambda c: c.map(lambda d: d or dt.date.max))
    st = st.reset_index(drop=True)
    fig, ax = new_axes(
        title=title or "Action steps: start to due date", figsize=(11, 0.45 * len(st) + 1.8)
    )
    ax.grid(axis="y", visible=False)
    y = np.arange(len(st))[::-1]
    for yi, r in zip(y, st.itertuples(), strict=True):
        colour = STATUS_COLOURS.get(r.status, "#BBBBBB")
        if r.due is None:
            ax.annotate(
                "no due date",
                (mdates.date2num(report_date), yi),
                va="center",
                fontsize=9,
                color=COLOURS["focus"],
            )
            continue
        start = r.start or r.due
        left = mdates.date2num(start)
        width = max(mdates.date2num(r.due) - left, 4)
        ax.barh(
            yi,
            width,
            left=left,
            height=0.6,
            color=colour,
            edgecolor=COLOURS["focus"] if r.overdue else colour,
            linewidth=2.5 if r.overdue else 0.5,
            hatch="//" if r.overdue else None,
        )
        if r.overdue:
            ax.annotate(
                " overdue",
                (left + width, yi),
                va="center",
                fontsize=9,
                color=COLOURS["focus"],
                fontweight="bold",
            )
        elif r.due_soon:
            ax.annotate(
                " due soon",
                (left + width, yi),
                va="center",
                fontsize=9,
                color=COLOURS["concerning"],
            )
    ax.axvline(mdates.date2num(report_date), color=COLOURS["centre"], linestyle="--", linewidth=1.2)
    ax.annotate(
        f" report date {report_date:%d %b %Y}",
        (mdates.date2num(report_date), y.max() + 0.6 if len(y) else 0),
        fontsize=9,
        color=COLOURS["centre"],
    )
    labels = [
        f"{r.id} {r.title[:45]}{'…' if len(r.title) > 45 else ''} ({r.owner})"
        for r in st.itertuples()
    ]
    ax.set_yticks(y, labels, fontsize=9)
    ax.xaxis_date()
    loc = mdates.AutoDateLocator(minticks=3, maxticks=7)
    ax.xaxis.set_major_locator(loc)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(loc))
    handles = [Patch(color=c, label=s.replace("_", " ")) for s, c in STATUS_COLOURS.items()]
    handles.append(
        Patch(
            facecolor="white", edgecolor=COLOURS["focus"], hatch="//", linewidth=2, label="overdue"
        )
    )
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.08), ncol=5, fontsize=9)
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------------------------
# process (fidelity) measures


def process_measures(
    plan: cp.Plan,
    tables: Mapping[str, pd.DataFrame],
    *,
    periods: Sequence[str],
    school_id: str | None = None,
    threshold: int = 5,
) -> pd.DataFrame:
    """Compute each strategy's process measure per school and period against its expected level.

    Each strategy's ``process_measure`` is computed by
    :func:`cilib.measures.metrics.metric_by_school`
    (group ``all``) for the schools in its intervention (every school when it has none; only
    ``school_id`` when given and involved). ``meets`` = value ≥ expected, or ≤ expected for
    measures where lower is better (:func:`lower_is_better`); NA when the strategy has no
    expected level. Pupil-based values on fewer than ``threshold`` pupils are suppressed.

    Returns
    -------
    DataFrame
        Columns ``strategy, measure, expected, lower_is_better, school_id, period, n, value,
        meets, suppressed``.
    """
    cols = [
        "strategy",
        "measure",
        "expected",
        "lower_is_better",
        "school_id",
        "period",
        "n",
        "value",
        "meets",
        "suppressed",
    ]
    parts = []
    for s in plan.strategies:
        if s.process_measure is None or not plan.strategy_applies_to(s, school_id):
            continue
        res = metric_by_school(tables, s.process_measure, periods=list(periods))
        res = res.loc[res["group"] == "all"]
        if s.intervention:
            res = res.loc[res["school_id"].isin(s.intervention["schools"])]
        if school_id is not None:
            res = res.loc[res["school_id"] == school_id]
        low = lower_is_better(s.process_measure)
        res = res.assign(
            strategy=s.id,
            measure=describe_metric(s.process_measure),
            expected=np.nan if s.expected is None else float(s.expected),
            lower_is_better=low,
        )
        small = (res["n"] < threshold).fillna(False).astype(bool) & (
            s.process_measure["table"] != "systems"
        )
        res = res.assign(suppressed=small, value=res["value"].mask(small))
        diff = res["value"] - res["expected"]
        meets = (diff <= 1e-9) if low else (diff >= -1e-9)
        res = res.assign(
            meets=meets.astype("boolean").mask(res["value"].isna() | res["expected"].isna())
        )
        parts.append(res[cols])
    if not parts:
        return pd.DataFrame(columns=cols)
    return pd.concat(parts, ignore_index=True)


def _meets_count(pm: pd.DataFrame, period: str | None) -> tuple[int, int]:
    if period is None:
        return 0, 0
    p = pm.loc[(pm["period"] == period) & pm["meets"].notna()]
    return int(p["meets"].sum()), len(p)


def _process_grid(
    d: pd.DataFrame, strategy: cp.Strategy, names: Mapping[str, str], periods: list[str]
):
    from matplotlib.colors import ListedColormap
    from matplotlib.patches import Patch

    schools = sorted(d["school_id"].unique())
    val = d.pivot(index="school_id", columns="period", values="value").reindex(
        index=schools, columns=periods
    )
    ok = (
        d.assign(m=d["meets"].astype("float64"))
        .pivot(index="school_id", columns="period", values="m")
        .reindex(index=schools, columns=periods)
    )
    fig, ax = new_axes(
        title=f"{strategy.id}: {d['measure'].iloc[0]}", figsize=(11, 0.4 * len(schools) + 1.8)
    )
    cmap = ListedColormap(["#F5C6A5", "#A8DCC8"]).with_extremes(bad="#EEEEEE")
    ax.imshow(
        np.ma.masked_invalid(ok.to_numpy(dtype="float64")), aspect="auto", cmap=cmap, vmin=0, vmax=1
    )
    for (i, j), v in np.ndenumerate(val.to_numpy(dtype="float64")):
        if not np.isnan(v):
            ax.text(j, i, f"{v:.1f}", ha="center", va="center", fontsize=8)
    ax.set_yticks(range(len(schools)), [names.get(x, x) for x in schools], fontsize=9)
    ax.set_xticks(range(len(periods)), periods, rotation=45, ha="right", fontsize=8)
    ax.grid(False)
    exp = d["expected"].iloc[0]
    sign = "≤" if d["lower_is_better"].iloc[0] else "≥"
    ax.legend(
        handles=[
            Patch(color="#A8DCC8", label=f"meets expected ({sign} {exp:g})"),
            Patch(color="#F5C6A5", label="below expected" if sign == "≥" else "above expected"),
        ],
        loc="upper center",
        bbox_to_anchor=(0.5, -0.25),
        ncol=2,
        fontsize=9,
    )
    fig.tight_layout()
    return fig


def plot_process(
    pm: pd.DataFrame, strategy: cp.Strategy, names: Mapping[str, str], *, max_lines: int = 4
):
    """Chart one strategy's process measure per school over the periods, with the expected level.

    With up to ``max_lines`` schools, a line per school and a dashed line at the expected level;
    with more, a grid of school × period whose cells show the value, shaded by whether it meets
    the expected level (with the value written in, so colour is not the only cue).
    """
    d = pm.loc[pm["strategy"] == strategy.id]
    periods = sorted(d["period"].unique(), key=period_key)
    if d["school_id"].nunique() > max_lines:
        return _process_grid(d, strategy, names, periods)
    x = {p: i for i, p in enumerate(periods)}
    fig, ax = new_axes(title=f"{strategy.id}: {d['measure'].iloc[0]}", figsize=(8, 3.8))
    for sid, g in d.groupby("school_id", sort=True):
        g = g.loc[g["value"].notna()]
        ax.plot(g["period"].map(x), g["value"], marker="o", label=names.get(sid, sid))
    exp = d["expected"].iloc[0]
    if not pd.isna(exp):
        ax.axhline(
            exp,
            color=COLOURS["target"],
            linestyle="--",
            linewidth=2,
            label=f"expected {'≤' if d['lower_is_better'].iloc[0] else '≥'} {exp:g}",
        )
    ax.set_xticks(range(len(periods)), periods, rotation=45, ha="right")
    ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=9)
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------------------------
# data-collection completeness


def _covered_roll(pupils: pd.DataFrame, recorded: pd.DataFrame, period: str) -> pd.DataFrame:
    """Pupils on roll in the period's academic year, in the year groups the collection covers."""
    ay = str(period)[:7]
    roll = pupils.loc[pupils["academic_year"] == ay, ["pupil_id", "school_id", "year_group"]]
    roll = roll.drop_duplicates("pupil_id")
    if "year_group" in roll.columns and recorded is not None:
        years = set(roll.loc[roll["pupil_id"].isin(recorded["pupil_id"]), "year_group"].dropna())
        roll = roll.loc[roll["year_group"].isin(years)]
    return roll


def completeness(
    tables: Mapping[str, pd.DataFrame],
    *,
    periods: Sequence[str],
    school_id: str | None = None,
) -> pd.DataFrame:
    """Share of pupils on roll with data, per school, period and collection.

    For each period and school, the roll is the pupils in the ``pupils`` table for the period's
    academic year (the first seven characters of the label) at that school, restricted to the
    year groups the collection covers in that period anywhere in the trust (a year group with
    no record in any school, such as Reception for assessments, is not expected to have any).
    ``recorded`` is the number of those pupils with at least one row at that school and period:

    - ``attendance``: a row in ``attendance`` (every period);
    - ``assessments``: a non-missing ``score`` (periods with any assessment results);
    - ``pupil survey``: a response with ``respondent_type == "pupil"`` linked by ``pupil_id``
      (periods with any pupil survey responses): the survey response rate.

    ``share`` = 100 × recorded / on_roll. A ``(trust)`` row per period and collection adds up
    every school (also when ``school_id`` picks one school, for comparison).

    Returns
    -------
    DataFrame
        Columns ``collection, school_id, period, on_roll, recorded, share``.

    Examples
    --------
    >>> pup = pd.DataFrame({"pupil_id": ["a", "b", "c", "d"], "school_id": ["S1"] * 4,
    ...     "academic_year": ["2024/25"] * 4, "year_group": [5, 5, 6, 6]})
    >>> att = pd.DataFrame({"pupil_id": ["a", "b", "c"], "school_id": ["S1"] * 3,
    ...     "period": ["2024/25 HT1"] * 3})
    >>> completeness({"pupils": pup, "attendance": att}, periods=["2024/25 HT1"])[
    ...     ["collection", "school_id", "on_roll", "recorded", "share"]]
       collection school_id  on_roll  recorded  share
    0  attendance        S1        4         3   75.0
    1  attendance   (trust)        4         3   75.0
    """
    pupils = tables.get("pupils")
    if pupils is None:
        raise DataError("completeness needs the pupils table (the roll)")
    sources: dict[str, pd.DataFrame] = {}
    if tables.get("attendance") is not None:
        sources["attendance"] = tables["attendance"]
    if tables.get("assessments") is not None:
        a = tables["assessments"]
        sources["assessments"] = a.loc[pd.to_numeric(a["score"]).notna()]
    if tables.get("survey_responses") is not None:
        r = tables["survey_responses"]
        if "pupil_id" in r.columns:
            sources["pupil survey"] = r.loc[
                (r["respondent_type"] == "pupil") & r["pupil_id"].notna()
            ]
    rows = []
    for coll in _COLLECTIONS:
        if coll not in sources:
            continue
        src = sources[coll]
        have = set(src["period"])
        for p in periods:
            if p not in have:
                continue
            rec = src.loc[src["period"] == p, ["pupil_id", "school_id"]].drop_duplicates()
            roll = _covered_roll(pupils, rec, p)
            hit = roll.merge(rec, on=["pupil_id", "school_id"], how="left", indicator=True)
            hit["got"] = (hit["_merge"] == "both").astype("int64")
            g = hit.groupby("school_id", as_index=False).agg(
                on_roll=("pupil_id", "size"), recorded=("got", "sum")
            )
            tot = pd.DataFrame(
                {
                    "school_id": ["(trust)"],
                    "on_roll": [g["on_roll"].sum()],
                    "recorded": [g["recorded"].sum()],
                }
            )
            if school_id is not None:
                g = g.loc[g["school_id"] == school_id]
            g = pd.concat([g, tot], ignore_index=True).assign(collection=coll, period=p)
            rows.append(g)
    cols = ["collection", "school_id", "period", "on_roll", "recorded", "share"]
    if not rows:
        return pd.DataFrame(columns=cols)
    out = pd.concat(rows, ignore_index=True)
    out["on_roll"] = out["on_roll"].astype("int64")
    out["recorded"] = out["recorded"].astype("int64")
    out["share"] = 100 * out["recorded"] / out["on_roll"].where(out["on_roll"] > 0)
    return out[cols]


def completeness_table(comp: pd.DataFrame) -> pd.DataFrame:
    """One row per school: each collection's latest share, its change, and the lowest so far.

    ``<Collection> % (<period>)`` is the share in the collection's latest period, ``Change
    since <period> (points)`` the difference from the collection's period before, and ``Lowest
    so far`` the lowest share in any collection and period, with which.
    """
    schools = list(comp["school_id"].drop_duplicates())
    out = pd.DataFrame({"school_id": schools})
    for coll in [c for c in _COLLECTIONS if c in set(comp["collection"])]:
        d = comp.loc[comp["collection"] == coll]
        ps = sorted(d["period"].unique(), key=period_key)
        last = d.loc[d["period"] == ps[-1]].set_index("school_id")["share"]
        name = f"{coll.capitalize()} % ({ps[-1]})"
        out[name] = out["school_id"].map(last)
        if len(ps) > 1:
            before = d.loc[d["period"] == ps[-2]].set_index("school_id")["share"]
            out[f"Change since {ps[-2]} (points)"] = out[name] - out["school_id"].map(before)
    low = comp.dropna(subset=["share"]).sort_values("share", kind="stable")
    low = low.groupby("school_id", sort=False).head(1).set_index("school_id")
    out["Lowest so far"] = out["school_id"].map(
        low["share"].round(1).astype("str") + "% " + low["collection"] + ", " + low["period"]
    )
    return out


def plot_completeness(comp: pd.DataFrame, *, periods: Sequence[str], names: Mapping[str, str]):
    """Draw completeness as a heat map: school × period, one panel per collection."""
    import matplotlib.pyplot as plt

    from cilib.report.style import apply_style

    apply_style()
    colls = [c for c in _COLLECTIONS if c in set(comp["collection"])]
    schools = [s for s in comp["school_id"].drop_duplicates() if s != "(trust)"] + ["(trust)"]
    fig, axes = plt.subplots(
        len(colls), 1, figsize=(11, (0.38 * len(schools) + 1.3) * len(colls)), squeeze=False
    )
    cmap = plt.get_cmap("cividis").with_extremes(bad="#EEEEEE")
    for ax, coll in zip(axes[:, 0], colls, strict=True):
        d = comp.loc[comp["collection"] == coll].pivot(
            index="school_id", columns="period", values="share"
        )
        d = d.reindex(index=schools, columns=list(periods))
        im = ax.imshow(d.to_numpy(dtype="float64"), aspect="auto", cmap=cmap, vmin=50, vmax=100)
        for (i, j), v in np.ndenumerate(d.to_numpy(dtype="float64")):
            if not np.isnan(v):
                ax.text(
                    j,
                    i,
                    f"{v:.0f}",
                    ha="center",
                    va="center",
                    fontsize=7,
                    color="white" if v < 80 else "black",
                )
        ax.set_yticks(range(len(schools)), [names.get(s, s) for s in schools], fontsize=8)
        ax.set_xticks(range(len(periods)), list(periods), rotation=45, ha="right", fontsize=8)
        ax.grid(False)
        ax.set_title(
            f"{coll.capitalize()}: % of pupils on roll with data"
            + (" (response rate)" if coll == "pupil survey" else ""),
            fontsize=11,
        )
        fig.colorbar(im, ax=ax, fraction=0.025, pad=0.01, label="%")
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------------------------
# headlines


def _names(store: Store) -> dict[str, str]:
    return {s["school_id"]: s["school_name"] for s in store.meta["schools"]} | {
        "(trust)": "Whole trust"
    }


def store_goal_summary(
    store: Store, school_id: str | None = None
) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    """:func:`goal_summary` for the store's plan, data and report period (cached per store run).

    The three parts of the strategic-plan report need the same goal computations; the result is
    kept for the store folder, its preparation time, period and school, and copies are returned.
    """
    summ, trajs = store.memo(
        "goal_summary",
        school_id,
        make=lambda: goal_summary(
            store.plan(),
            _tables(store, _GOAL_TABLES),
            school_id=school_id,
            calendar=store.meta["periods"],
            upto=store.period,
            threshold=store.threshold,
        ),
    )
    return summ.copy(), {k: v.copy() for k, v in trajs.items()}


def store_completeness(store: Store, school_id: str | None = None) -> pd.DataFrame:
    """:func:`completeness` for the store's periods up to the report period (cached per run)."""
    names = ("pupils", "attendance", "assessments", "survey_responses")
    comp = store.memo(
        "completeness",
        school_id,
        make=lambda: completeness(
            _tables(store, names), periods=store.periods, school_id=school_id
        ),
    )
    return comp.copy()


def headlines_plan(store: Store, school_id: str | None = None) -> list[str]:
    """Headline sentences for the strategic plan: goals on trajectory, checks that fail."""
    plan = _plan(store)
    if plan is None:
        return ["The trust has no improvement plan (plan.yml) in this run."]
    out = []
    summ, trajs = store_goal_summary(store, school_id)
    on, judged = on_trajectory_count(trajs, store.period)
    prev = previous_period(store)
    text = (
        f"{on} of {judged} goals {'is' if on == 1 else 'are'} on trajectory at their "
        f"latest measure up to {store.period}"
    )
    if prev is not None:
        on0, judged0 = on_trajectory_count(trajs, prev)
        text += f" ({on0} of {judged0} at {prev}, the last half-term)"
    out.append(text + ".")
    na = summ.loc[summ["status"] == "does not apply", "goal"].tolist()
    if na:
        verb = "does" if len(na) == 1 else "do"
        out.append(
            f"{len(na)} of {len(summ)} goals {verb} not apply to this school "
            f"({', '.join(na)}): measured in other schools only."
        )
    off = summ.loc[summ["status"] == "off trajectory"]
    if len(off):
        # behind as a share of the planned change (baseline to target), so scales compare
        planned = (off["target"] - off["baseline"]).abs()
        off = off.assign(
            behind=(off["latest"] - off["expected_then"]).abs() / planned.where(planned > 0)
        )
        w = off.sort_values("behind", ascending=False, na_position="last").iloc[0]
        share = (
            f" (behind by {100 * w['behind']:.0f}% of the change planned from baseline to target)"
            if pd.notna(w["behind"])
            else ""
        )
        out.append(
            f"Furthest behind its trajectory: {w['goal']} ({w['title']}), "
            f"{w['latest']:.2f} against {w['expected_then']:.2f} expected in "
            f"{w['latest_period']}{share}."
        )
    ch = checklist(plan)
    bad = ch.loc[~ch["ok"]]
    if len(bad):
        items = "; ".join(f"{r['label'].lower()}: {r['failing_items']}" for _, r in bad.iterrows())
        n_items = int(bad["failed"].sum())
        out.append(
            f"{len(bad)} of {len(ch)} plan-quality checks fail, on {n_items} "
            f"item{'s' if n_items != 1 else ''} ({items})."
        )
    else:
        out.append(f"All {len(ch)} plan-quality checks pass.")
    return out


def headlines_implement(store: Store, school_id: str | None = None) -> list[str]:
    """Headline sentences for implementation: overdue actions, fidelity, data completeness."""
    plan = _plan(store)
    out = []
    report_date = cp.half_term_end(store.period)
    prev = previous_period(store)
    if plan is not None:
        st = _status(plan, report_date, school_id)
        over = st.loc[st["overdue"]]
        n = len(over)
        text = (
            f"{n} action{'s are' if n != 1 else ' is'} overdue at {report_date:%d %b %Y}, "
            "the end of the report period"
        )
        if n:
            own = over["owner"].value_counts()
            text += " (" + ", ".join(f"{c} owned by {o}" for o, c in own.items()) + ")"
        if prev is not None:
            n0 = int(_status(plan, cp.half_term_end(prev), school_id)["overdue"].sum())
            text += f"; {n0} at the end of {prev}, the last half-term"
        out.append(text + ".")
        soon = int(st["due_soon"].sum())
        blocked = int((st["status"] == "blocked").sum())
        if soon or blocked:
            out.append(
                f"{soon} action{'s are' if soon != 1 else ' is'} due within 14 days and "
                f"{blocked} {'are' if blocked != 1 else 'is'} blocked."
            )
        pm = process_measures(
            plan,
            _tables(store, _GOAL_TABLES),
            periods=store.periods,
            school_id=school_id,
            threshold=store.threshold,
        )
        k, m = _meets_count(pm, store.period)
        if m:
            text = f"{k} of {m} process-measure readings met their expected level in {store.period}"
            k0, m0 = _meets_count(pm, prev)
            if m0:
                text += f" ({k0} of {m0} in {prev}, the last half-term)"
            out.append(text + ".")
    comp = store_completeness(store, school_id)
    who = school_id or "(trust)"
    mine = comp.loc[comp["school_id"] == who]
    tot = mine.loc[mine["collection"] == "attendance"].set_index("period")["share"]
    if store.period in tot.index:
        text = (
            f"Attendance was recorded for {tot[store.period]:.1f}% of pupils on roll in "
            f"{store.period}"
        )
        if prev in tot.index:
            from cilib.report.html import fmt_change

            text += f", {fmt_change(tot[store.period], tot[prev])} since {prev}"
        out.append(text + ".")
    tot = mine.loc[mine["collection"] == "pupil survey"].set_index("period")["share"]
    if len(tot):
        from cilib.report.html import fmt_change

        last = tot.index[-1]
        text = f"The pupil survey in {last} had a response rate of {tot.iloc[-1]:.1f}%"
        if len(tot) > 1:
            text += (
                f", {fmt_change(tot.iloc[-1], tot.iloc[-2])} since the survey before "
                f"({tot.index[-2]})"
            )
        out.append(text + ".")
    return out


# --------------------------------------------------------------------------------------------
# report sections: 02_strategic_plan


def _no_plan():
    from cilib.report.html import note

    return [
        note(
            "The trust has no improvement plan (plan.yml) in this run; add one to the "
            "config to see this section.",
            warn=True,
        )
    ]


def vision_section(store: Store, school_id: str | None = None) -> list:
    """Show the vision and the priorities, each with the goals that serve it."""
    plan = _plan(store)
    if plan is None:
        return _no_plan()
    lis = []
    for p in plan.priorities:
        gs = [g for g in plan.goals if g.priority == p.id]
        sub = "".join(
            f"<li>{_esc(g.id)}: {_esc(g.title)}"
            + (
                ""
                if g.applies_to(school_id)
                else " <span class='cilib-note'>(not measured in this school)</span>"
            )
            + "</li>"
            for g in gs
        )
        sub = f"<ul>{sub}</ul>" if sub else "<ul><li><i>no goal yet</i></li></ul>"
        lis.append(f"<li><b>{_esc(p.id)}: {_esc(p.title)}</b>{sub}</li>")
    orphan = [g for g in plan.goals if g.priority is None]
    if orphan:
        lis.append(
            "<li><b>Goals not linked to a priority</b><ul>"
            + "".join(f"<li>{_esc(g.id)}: {_esc(g.title)}</li>" for g in orphan)
            + "</ul></li>"
        )
    n = len(plan.priorities)
    warn = (
        f"<p class='cilib-warn'>{n} priorities: more than five dilutes focus.</p>" if n > 5 else ""
    )
    return [
        _html(
            f"<blockquote style='font-size:1.1rem;border-left:4px solid #009E73;margin:.5rem 0;"
            f"padding:.3rem 1rem'>{_esc(plan.vision.strip())}</blockquote>"
            f"<p><b>{n} priorit{'y' if n == 1 else 'ies'}</b> (at most five)</p>"
            f"<ul>{''.join(lis)}</ul>" + warn
        )
    ]


_GOAL_SHOW = {
    "goal": "Goal",
    "what": "Measure (whose number)",
    "baseline_period": "Baseline period",
    "baseline": "Baseline (computed)",
    "target": "Target",
    "target_period": "By",
    "latest_period": "Latest",
    "latest": "Latest value",
    "expected_then": "Expected then",
    "status": "Status",
}


def goals_section(store: Store, school_id: str | None = None) -> list:
    """Each goal: its measure, computed baseline, target, latest value and status."""
    from cilib.report.html import note, table

    plan = _plan(store)
    if plan is None:
        return _no_plan()
    summ, _ = store_goal_summary(store, school_id)
    summ = summ.assign(what=summ["measure"] + " (" + summ["group"].str.lower() + ")")
    out = [
        table(
            summ[list(_GOAL_SHOW)],
            caption="Goals with baselines computed from the data",
            rename=_GOAL_SHOW,
            digits=2,
            value_columns=["baseline", "target", "latest", "expected_then"],
        )
    ]
    for r in summ.loc[~summ["status"].isin(["on trajectory", "off trajectory"])].itertuples():
        out.append(
            note(
                f"{r.goal} ({r.title}): {r.status}; {r.detail}.", warn=r.status != "does not apply"
            )
        )
    ms = summ.loc[(summ["milestones"] != "") & summ["baseline"].notna()]
    for r in ms.itertuples():
        out.append(note(f"{r.goal} milestones: {r.milestones}."))
    if school_id is not None:
        out.append(
            note(
                "Targets are the trust's: for this school each trajectory runs from the "
                "school's own baseline to the trust's target."
            )
        )
    out.append(
        note(
            "Baselines are computed from the store's data for each goal's baseline "
            "period (and for this school when a school is chosen), never typed in. "
            "A goal is on trajectory when its latest value is at or beyond the value "
            "expected then, in the goal's direction."
        )
    )
    return out


def trajectory_section(store: Store, school_id: str | None = None) -> list:
    """Chart each goal: trajectory from baseline to target, milestones, observed values."""
    from cilib.report.html import note

    plan = _plan(store)
    if plan is None:
        return _no_plan()
    summ, trajs = store_goal_summary(store, school_id)
    out = []
    for g in plan.goals:
        if g.id in trajs:
            who = group_label(g, store.focus.label, store.focus.comparison_label)
            ylabel = textwrap.fill(f"{describe_metric(g.metric)}, {who.lower()}", 38)
            out.append(plot_goal(g, trajs[g.id], report_period=store.period, ylabel=ylabel))
            if trajs[g.id]["suppressed"].any():
                out.append(
                    note(
                        f"{g.id}: some values are not shown (fewer than {store.threshold} pupils).",
                        warn=True,
                    )
                )
        else:
            r = summ.loc[summ["goal"] == g.id].iloc[0]
            out.append(
                note(
                    f"{g.id} ({g.title}): no trajectory here; {r['status']}: {r['detail']}.",
                    warn=r["status"] != "does not apply",
                )
            )
    return out


def checks_section(store: Store, school_id: str | None = None) -> list:
    """Show the plan-quality checklist: each check passes or fails, failures named."""
    from cilib.report.html import note

    plan = _plan(store)
    if plan is None:
        return _no_plan()
    ch = checklist(plan)
    n_bad = int((~ch["ok"]).sum())
    out = [checklist_html(ch)]
    out.append(
        note(
            f"{len(ch) - n_bad} of {len(ch)} checks pass; {n_bad} fail. Gaps load "
            "without error so the plan can be used while they are fixed.",
            warn=n_bad > 0,
        )
    )
    for w in plan.warnings:
        out.append(note(w, warn=True))
    return out


def strategies_section(store: Store, school_id: str | None = None) -> list:
    """Each strategy as a theory of action: If we … Then … And …, goals and component."""
    from cilib.report.html import note

    plan = _plan(store)
    if plan is None:
        return _no_plan()
    toa = theories_of_action(plan, school_id)
    out = [_toa_html(toa)]
    if school_id is not None:
        out.append(
            note(
                "'Where' says whether this school takes part in each strategy; "
                "trust-wide strategies involve every school."
            )
        )
    return out


# --------------------------------------------------------------------------------------------
# report sections: 03_implement_plan


_ACTION_SHOW = {
    "owner": "Owner",
    "id": "Action",
    "strategy": "Strategy",
    "title": "Title",
    "start": "Start",
    "due": "Due",
    "status": "Status",
    "days_to_due": "Days to due",
    "flag": "Flag",
}


def timeline_section(store: Store, school_id: str | None = None) -> list:
    """Show action steps on a timeline, coloured by status, overdue highlighted."""
    from cilib.report.html import note

    plan = _plan(store)
    if plan is None:
        return _no_plan()
    report_date = cp.half_term_end(store.period)
    st = _status(plan, report_date, school_id)
    if st.empty:
        return [note("The plan has no action steps for this school.", warn=True)]
    out = [plot_timeline(st, report_date=report_date)]
    if school_id is not None:
        out.append(
            note(
                f"Showing the {len(st)} of {len(plan.actions)} actions whose strategy "
                "involves this school (trust-wide, or this school in its intervention)."
            )
        )
    out.append(note(f"Status is judged at {report_date:%d %B %Y}, the last day of {store.period}."))
    return out


def overdue_section(store: Store, school_id: str | None = None) -> list:
    """Overdue and due-soon actions, by owner, as of the end of the report period."""
    from cilib.report.html import note, table

    plan = _plan(store)
    if plan is None:
        return _no_plan()
    report_date = cp.half_term_end(store.period)
    st = _status(plan, report_date, school_id)
    flagged = st.loc[st["overdue"] | st["due_soon"] | (st["status"] == "blocked")]
    out = []
    if flagged.empty:
        out.append(
            note(f"No action is overdue, due within 14 days or blocked at {report_date:%d %b %Y}.")
        )
    else:
        by = overdue_by_owner(st)
        if len(by):
            out.append(
                table(
                    by,
                    caption=f"Overdue and due-soon actions by owner at {report_date:%d %b %Y}",
                    rename={
                        "owner": "Owner",
                        "overdue": "Overdue",
                        "due_soon": "Due within 14 days",
                        "actions": "Actions",
                    },
                )
            )
        out.append(
            table(
                flagged[list(_ACTION_SHOW)].astype({"start": "str", "due": "str"}),
                caption="Actions needing attention",
                rename=_ACTION_SHOW,
            )
        )
    nown = st.loc[st["owner"] == "(no owner)", "id"].tolist()
    if nown:
        out.append(
            note(f"No owner named for {', '.join(nown)}: name who is responsible.", warn=True)
        )
    out.append(
        table(
            st[list(_ACTION_SHOW)].astype({"start": "str", "due": "str"}),
            caption="All action steps by owner",
            rename=_ACTION_SHOW,
        )
    )
    return out


def fidelity_section(store: Store, school_id: str | None = None) -> list:
    """Process (fidelity) measures per school against their expected levels."""
    from cilib.report.html import note, table

    plan = _plan(store)
    if plan is None:
        return _no_plan()
    pm = process_measures(
        plan,
        _tables(store, _GOAL_TABLES),
        periods=store.periods,
        school_id=school_id,
        threshold=store.threshold,
    )
    out = []
    names = _names(store)
    for s in plan.strategies:
        if s.process_measure is None:
            out.append(
                note(
                    f"{s.id} ({s.title}) has no process measure, so whether it is "
                    "done as intended cannot be seen: add one to plan.yml.",
                    warn=True,
                )
            )
        elif not plan.strategy_applies_to(s, school_id):
            out.append(note(f"{s.id} ({s.title}) does not run in this school."))
        elif (pm["strategy"] == s.id).any() and pm.loc[
            pm["strategy"] == s.id, "value"
        ].notna().any():
            out.append(plot_process(pm, s, names))
        else:
            out.append(
                note(f"{s.id}: no data yet for {describe_metric(s.process_measure)}.", warn=True)
            )
    if len(pm):
        have = pm.loc[pm["value"].notna()]
        last = (
            have.sort_values("period", key=lambda c: c.map(period_key))
            .groupby(["strategy", "school_id"], as_index=False)
            .tail(1)
        )
        runs = have.groupby(["strategy", "school_id"], as_index=False).agg(
            periods=("value", "size"), periods_meeting=("meets", "sum")
        )
        t = last.merge(runs, on=["strategy", "school_id"]).assign(
            school=lambda d: d["school_id"].map(names).fillna(d["school_id"]),
            meets=lambda d: d["meets"].map({True: "yes", False: "no"}).fillna("no level set"),
        )
        t = t.sort_values(["strategy", "school"])
        out.append(
            table(
                t[
                    [
                        "strategy",
                        "measure",
                        "school",
                        "period",
                        "value",
                        "expected",
                        "meets",
                        "periods_meeting",
                        "periods",
                    ]
                ],
                caption="Latest process-measure reading per school against the expected level",
                rename={
                    "strategy": "Strategy",
                    "measure": "Measure",
                    "school": "School",
                    "period": "Latest",
                    "value": "Value",
                    "expected": "Expected",
                    "meets": "Meets expected",
                    "periods_meeting": "Half-terms meeting",
                    "periods": "Half-terms measured",
                },
                value_columns=["value", "expected", "periods_meeting", "periods"],
                digits={"value": 1, "expected": 1, "periods_meeting": 0, "periods": 0},
            )
        )
        low = [
            s.id
            for s in plan.strategies
            if s.process_measure and lower_is_better(s.process_measure)
        ]
        if low:
            out.append(
                note(
                    f"For {', '.join(low)} lower is better: the reading meets its "
                    "expected level when at or below it."
                )
            )
    return out


def completeness_section(store: Store, school_id: str | None = None) -> list:
    """Data-collection completeness per school and period: heat map and table."""
    from cilib.report.html import note, table

    comp = store_completeness(store, school_id)
    if comp.empty:
        return [note("No attendance, assessment or survey data up to this period.", warn=True)]
    names = _names(store)
    out = [plot_completeness(comp, periods=store.periods, names=names)]
    t = completeness_table(comp)
    t = t.assign(school_id=t["school_id"].map(names).fillna(t["school_id"]))
    out.append(
        table(
            t,
            caption="% of pupils on roll with data: latest collection, change since "
            "the one before, and the lowest so far",
            rename={"school_id": "School"},
        )
    )
    out.append(
        note(
            "On roll: pupils in the pupils table for that academic year, in the year "
            "groups the collection covers anywhere in the trust that period. Survey "
            "shows the pupil survey response rate; the staff survey is not shown "
            "because the data hold no staff roll."
        )
    )
    return out


def roadmap_section(store: Store, school_id: str | None = None) -> list:
    """Show the roadmap per phase: done, engagement, still to do, by when, who."""
    from cilib.report.html import note, table

    rm = store.roadmap()
    if rm is None or rm.empty:
        return [note("The trust has no roadmap (roadmap.csv) in this run.", warn=True)]
    report_date = cp.half_term_end(store.period)
    show = {
        "what_have_we_done": "What have we done?",
        "how_have_we_engaged_stakeholders": "How have we engaged stakeholders?",
        "what_do_we_still_need_to_do": "What do we still need to do?",
        "by_when": "By when?",
        "who_is_responsible": "Who is responsible?",
    }
    cols = [c for c in show if c in rm.columns]
    phases = [p for p in PHASES if p in set(rm["phase"])]
    phases += [p for p in rm["phase"].drop_duplicates() if p not in phases]
    out = []
    for ph in phases:
        d = rm.loc[rm["phase"] == ph, cols]
        out.append(table(d, caption=ph, rename=show))
    if "by_when" in rm.columns:
        dates = pd.to_datetime(rm["by_when"], errors="coerce")
        past = int((dates.dt.date < report_date).sum())
        if past:
            out.append(
                note(
                    f"{past} of {len(rm)} 'still to do' dates fall before "
                    f"{report_date:%d %b %Y}, the end of the report period: check "
                    "they were done and update the roadmap.",
                    warn=True,
                )
            )
    return out
