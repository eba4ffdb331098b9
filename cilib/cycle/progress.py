"""A goal's baseline (always from data), its trajectory to target, and progress against it.

A trajectory never asks a school to get worse: a school whose baseline is already past the
trust's target (or a milestone) holds or improves on its own baseline instead (each anchor is
the better of the plan's value and the baseline). "On trajectory" allows a tolerance stated in
the trust config (``progress: {on_trajectory_tolerance: ...}``, in the measure's own units,
default :data:`DEFAULT_TOLERANCE`), so a value a hair's breadth behind the line is not "off".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

from cilib.core.calendar import periods_between
from cilib.core.errors import PlanError
from cilib.cycle.model import Goal
from cilib.measures.metrics import compute_metric, describe_metric

#: Default on-trajectory tolerance, in the measure's own units (points, percentage points);
#: scale scores (1-5) use the smaller :data:`DEFAULT_SCALE_TOLERANCE`.
DEFAULT_TOLERANCE = 0.5
DEFAULT_SCALE_TOLERANCE = 0.05


def tolerance_for(goal: Goal, setting: float | Mapping[str, float] | None = None) -> float:
    """Return the on-trajectory tolerance for a goal from the config's setting.

    ``setting`` is the config's ``progress.on_trajectory_tolerance``: a number (every goal, in
    its measure's units), or a mapping from measure name to number with an optional
    ``default``. Unset: :data:`DEFAULT_TOLERANCE` (:data:`DEFAULT_SCALE_TOLERANCE` for
    ``scale_mean``).

    Examples
    --------
    >>> g = Goal(id="G", title="t", target=-7.0, target_period="2025/26 HT6",
    ...          metric={"table": "assessments", "measure": "mean_score"})
    >>> tolerance_for(g), tolerance_for(g, 0.25), tolerance_for(g, {"mean_score": 1.0})
    (0.5, 0.25, 1.0)
    """
    measure = (goal.metric or {}).get("measure")
    fallback = DEFAULT_SCALE_TOLERANCE if measure == "scale_mean" else DEFAULT_TOLERANCE
    if setting is None:
        return fallback
    if isinstance(setting, Mapping):
        return float(setting.get(measure, setting.get("default", fallback)))
    return float(setting)


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
    ``v0 + (v1 − v0) × (i − i0) / (i1 − i0)``. An anchor that would ask for a worse value than
    the baseline (a school already past the trust's target) is raised to the baseline (lowered,
    for a goal whose direction is down): the school holds or improves on its own baseline, and
    ``attrs["held"]`` lists the anchors so changed.

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

    Already past the target: hold the baseline, never fall back to the target.

    >>> trajectory(g, 97.0)["expected"].tolist()
    [97.0, 97.0, 97.0]
    """
    if goal.baseline_period is None:
        raise PlanError(f"goal {goal.id!r} has no baseline_period, so it has no trajectory")
    span = periods_between(goal.baseline_period, goal.target_period, periods)
    base = float(baseline_value)
    anchors = {goal.baseline_period: (base, "baseline")}
    held = []

    def no_worse(p: str, v: float) -> float:
        better = max(v, base) if goal.direction == "up" else min(v, base)
        if better != v:
            held.append(p)
        return better

    for p, v in goal.milestones.items():
        if p not in span:
            raise PlanError(f"goal {goal.id!r}: milestone {p} is not between baseline and target")
        anchors[p] = (no_worse(p, float(v)), "milestone")
    anchors[goal.target_period] = (no_worse(goal.target_period, float(goal.target)), "target")
    idx = sorted((span.index(p), v) for p, (v, _) in anchors.items())
    rows = []
    for i, p in enumerate(span):
        for (i0, v0), (i1, v1) in zip(idx, idx[1:], strict=False):
            if i0 <= i <= i1:
                val = v0 + (v1 - v0) * (i - i0) / (i1 - i0)
                break
        rows.append((p, val, anchors[p][1] if p in anchors else "interpolated"))
    out = pd.DataFrame(rows, columns=["period", "expected", "kind"])
    out.attrs["held"] = held
    return out


def progress(
    goal: Goal,
    tables: Mapping[str, pd.DataFrame],
    *,
    school_id: str | None = None,
    periods: Sequence[str] | None = None,
    tolerance: float = 0.0,
) -> pd.DataFrame:
    """Compare a goal's observed values with its trajectory, period by period.

    Returns columns ``period, observed, expected, kind, on_trajectory``; ``on_trajectory`` is
    observed ≥ expected − ``tolerance`` for goals whose direction is ``up`` and
    observed ≤ expected + ``tolerance`` for ``down`` (see :func:`tolerance_for`).
    ``attrs["held"]`` is the trajectory's (anchors held at the baseline).

    Examples
    --------
    With a tolerance of 0.5, a gap of -7.19 against -7.00 expected is on trajectory; -7.6 is not.

    >>> import pandas as pd
    >>> g = Goal(id="G", title="t", target=-7.0, target_period="2024/25 HT2",
    ...          baseline_period="2024/25 HT1", group="gap", direction="up",
    ...          metric={"table": "assessments", "measure": "mean_score"})
    >>> on_trajectory(pd.Series([-7.19, -7.6]), pd.Series([-7.0, -7.0]), g, 0.5).tolist()
    [True, False]
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
    out["on_trajectory"] = on_trajectory(out["observed"], out["expected"], goal, tolerance)
    out.attrs["held"] = traj.attrs.get("held", [])
    return out


def on_trajectory(
    observed: pd.Series, expected: pd.Series, goal: Goal, tolerance: float = 0.0
) -> pd.Series:
    """Say whether each observed value is on its trajectory, within ``tolerance`` (missing: NA)."""
    diff = observed - expected
    tol = abs(float(tolerance)) + 1e-9
    ok = diff >= -tol if goal.direction == "up" else diff <= tol
    return ok.astype("boolean").mask(observed.isna())
