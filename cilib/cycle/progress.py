"""A goal's baseline (always from data), its trajectory to target, and progress against it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

from cilib.core.calendar import periods_between
from cilib.core.errors import PlanError
from cilib.cycle.model import Goal
from cilib.measures.metrics import compute_metric, describe_metric


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
