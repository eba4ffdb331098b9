"""Goal progress shared by the ``02_strategic_plan`` and ``03_implement_plan`` reports.

The plan and tables of a store, the previous half-term, each goal's progress against its
trajectory (``goal_progress``, ``goal_summary``, ``plot_goal``) and the note shown when the
trust has no plan.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from cilib import cycle as cp
from cilib.core.errors import DataError, PlanError
from cilib.cycle.progress import tolerance_for
from cilib.data.store import Store
from cilib.measures.metrics import compute_metric, describe_metric, period_key
from cilib.report.html import note
from cilib.report.style import COLOURS, new_axes

# --------------------------------------------------------------------------------------------
# small helpers


def plan_of(store: Store) -> cp.Plan | None:
    """Return the store's improvement plan, or None when the run has none."""
    return store.plan()


def tables_of(store: Store, names: Sequence[str]) -> dict[str, pd.DataFrame]:
    """Return the named tables the store has, by name."""
    return {n: store.table(n) for n in names if n in store.tables}


GOAL_TABLES = (
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


def tolerance_setting(store: Store) -> Any:
    """Return the config's ``progress.on_trajectory_tolerance`` (None when not set)."""
    return (store.meta.get("progress") or {}).get("on_trajectory_tolerance")


def goal_tolerance(store: Store, goal: cp.Goal) -> float:
    """Return the on-trajectory tolerance of a goal in this run (config, else the default)."""
    return tolerance_for(goal, tolerance_setting(store))


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
    tolerance: float | Mapping[str, float] | None = None,
) -> pd.DataFrame:
    """Return a goal's trajectory with observed values so far, n, and suppression.

    :func:`cilib.cycle.progress` gives the baseline (:func:`cilib.cycle.baseline`: the
    goal's
    metric in its baseline period, computed from ``tables``; the first row's ``expected``), the
    expected values (:func:`cilib.cycle.trajectory`: a school already past the target holds its
    baseline), the observed values and ``on_trajectory`` (observed ≥ expected − tolerance for a
    goal whose direction is up, ≤ expected + tolerance for down; ``tolerance`` is the config's
    setting, see :func:`cilib.cycle.progress.tolerance_for`). Observed values after
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
    prog = cp.progress(
        goal,
        tables,
        school_id=school_id,
        periods=calendar,
        tolerance=tolerance_for(goal, tolerance),
    )
    held = prog.attrs.get("held", [])
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
    out = out[["period", "expected", "kind", "observed", "n", "on_trajectory", "suppressed"]]
    out.attrs["held"] = held
    return out


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
    tolerance: float | Mapping[str, float] | None = None,
) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    """Return one row per goal (baseline, target, latest value, status) and each trajectory.

    ``status`` is one of ``on trajectory``, ``off trajectory``, ``not yet measured``,
    ``does not apply`` (the goal's metric is restricted to other schools), ``no metric``,
    ``no baseline data`` (the data hold no value in the baseline period for this scope) or
    ``too few pupils`` (the baseline rests on fewer than ``threshold`` pupils). ``latest`` is the
    most recent observed value up to ``upto`` and ``expected_then`` the trajectory there.
    "On trajectory" allows the goal's tolerance (:func:`cilib.cycle.progress.tolerance_for`
    of ``tolerance``, the config's setting); ``detail`` says so, and says when the school's line
    holds its own baseline because it is already past the trust's target.

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
                    tolerance=tolerance,
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
                        tol = tolerance_for(g, tolerance)
                        row["detail"] = (
                            f"{last['observed']:.2f} against {last['expected']:.2f} expected "
                            f"in {last['period']} (on trajectory within {tol:g})"
                        )
                    if prog.attrs.get("held"):
                        held = (
                            "already past the trust's target at baseline, so its line holds "
                            "the baseline rather than falling back to the target"
                        )
                        row["detail"] = f"{row['detail']}; {held}" if row["detail"] else held
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
            tables_of(store, GOAL_TABLES),
            school_id=school_id,
            calendar=store.meta["periods"],
            upto=store.period,
            threshold=store.threshold,
            tolerance=tolerance_setting(store),
        ),
    )
    return summ.copy(), {k: v.copy() for k, v in trajs.items()}


# --------------------------------------------------------------------------------------------
# report sections: 02_strategic_plan


def no_plan_note():
    """Return the section shown when the trust has no improvement plan."""
    return [
        note(
            "The trust has no improvement plan (plan.yml) in this run; add one to the "
            "config to see this section.",
            warn=True,
        )
    ]
