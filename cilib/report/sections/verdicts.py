"""One answer per school and goal: bright spots, schools needing support, gap trends.

The trust overview (bright spots and schools needing support) and each school's Monitor report
ask the same questions of a school's goal: is the school further from the trust than chance
would explain, and is its gap for the focus group narrowing or widening? Both reports take the
answer from :func:`school_verdicts`, so one question gets one answer.

Method, per goal with a value per pupil (attendance, assessments, surveys) and per school the goal
covers:

- **Funnel position** at the goal's latest period (:func:`goal_funnel`): beyond the 99.8% limits,
  with a two-sided p-value against the trust's value
  (:func:`cilib.stats.multiple.funnel_p_values`).
- **Gap trend** over the periods (:func:`cilib.stats.trend.gap_trend` from one row per pupil per
  period, pupil-clustered inference): slope, 95% interval and p-value.
- **Many checks at once**: all these p-values (every school, goal, funnel and trend) form one
  family; Benjamini–Hochberg q-values (:func:`cilib.stats.multiple.bh_adjust`) keep the false
  discovery rate at 5%. A funnel flag needs the point beyond the 99.8% limits and q ≤ 0.05; a
  trend is named (narrowing, widening, reversed) only when q ≤ 0.05, else it is "no clear change".

A school can be a bright spot for one goal and need support for another; every row names its
goal. Measures with no value per pupil (behaviour rates, systems measures) are not judged here:
their rows are not made, and the reports say so.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from cilib.core.errors import DataError
from cilib.data.store import Store
from cilib.measures import metrics, registry
from cilib.report.derived import shared_frame
from cilib.report.sections.impact_analysis import pupil_values
from cilib.stats import funnel, multiple, trend

#: The false discovery rate the reports hold flags to.
FDR = 0.05

#: Columns of :func:`school_verdicts`.
VERDICT_COLUMNS = [
    "school_id",
    "school",
    "goal",
    "goal_title",
    "measure",
    "unit",
    "who",
    "latest_period",
    "n",
    "value",
    "target",
    "lower998",
    "upper998",
    "position",
    "funnel_p",
    "funnel_q",
    "funnel_flag",
    "n_periods",
    "first_period",
    "last_period",
    "first_gap",
    "last_gap",
    "slope",
    "slope_ci_low",
    "slope_ci_high",
    "p_value",
    "q_value",
    "trend",
]

# --------------------------------------------------------------------------------------------
# Per-pupil values and the funnel of a goal
# --------------------------------------------------------------------------------------------


def _focus_mask(store: Store, df: pd.DataFrame, goal) -> pd.Series:
    fg = goal.focus_group or {"column": store.focus.column, "value": store.focus.value}
    pupils = store.table("pupils")
    col = fg["column"]
    vals = fg["value"] if isinstance(fg["value"], list) else [fg["value"]]
    p = pupils[["pupil_id", "academic_year", col]].drop_duplicates(["pupil_id", "academic_year"])
    m = df[["pupil_id", "academic_year"]].merge(p, on=["pupil_id", "academic_year"], how="left")
    known = m[col].notna().to_numpy()
    isf = m[col].isin(vals).to_numpy() & known
    return pd.Series(np.where(known, isf, pd.NA), index=df.index, dtype="boolean")


def goal_values(store: Store, goal) -> tuple[pd.DataFrame, str | None]:
    """Return per-pupil values of a goal's measure (with ``focus``) and its latest period.

    Raises
    ------
    DataError
        When the goal's measure has no value per pupil (behaviour rates, systems measures).
    """
    if goal.metric is None:
        raise DataError(f"goal {goal.id} has no metric")
    vals, latest = store.memo("goal_values", goal.id, make=lambda: _goal_values(store, goal))
    return vals.copy(), latest


def _goal_values(store: Store, goal) -> tuple[pd.DataFrame, str | None]:
    vals = pupil_values(store.tables_dict(), goal.metric)
    vals = vals.loc[vals["period"].isin(store.periods)]
    seen = set(vals["period"].unique())
    have = [p for p in store.periods if p in seen]
    vals = vals.assign(focus=_focus_mask(store, vals, goal))
    return vals.reset_index(drop=True), (have[-1] if have else None)


def goal_funnel(store: Store, goal) -> tuple[pd.DataFrame, str, str]:
    """Funnel data of schools for a goal's measure at its latest period.

    The population is the goal's group: the focus group for ``focus`` and ``gap`` goals (a gap
    goal's funnel shows the focus group's value; its gap is in the heat map and the gap trends),
    other pupils for ``comparison``, everyone for ``all``. Means use
    :func:`cilib.stats.funnel.funnel` with ``kind="mean"`` (limits ``mu ± z·sigma/sqrt(n)``,
    sigma the SD of all pupils' values); 0/100 measures (persistent absence, % at or above) use
    ``kind="rate"`` on 0/1 values (exact binomial limits) and are shown on a 0-100 scale. Units
    are schools; ``n`` is pupils (or respondents).

    Returns
    -------
    (DataFrame, str, str)
        Funnel rows (``unit, n, value, target, lower95, upper95, lower998, upper998,
        outside95, outside998``) with ``status`` (``above``, ``below`` or ``within`` the 99.8%
        limits) and ``p_value`` (two-sided, against the trust's value), the period, and a
        description of who is counted.
    """
    vals, latest = goal_values(store, goal)
    v = vals.loc[vals["period"] == latest]
    who = "all respondents" if goal.metric["table"] == "survey_responses" else "all pupils"
    if goal.group in ("focus", "gap"):
        v = v.loc[v["focus"].fillna(False).astype(bool)]
        who = store.focus.label.lower()
    elif goal.group == "comparison":
        v = v.loc[~v["focus"].fillna(True).astype(bool)]
        who = store.focus.comparison_label.lower()
    rate = goal.metric["measure"] in registry.names_of_kind("share")
    if rate:
        v = v.assign(value=v["value"] / 100)
    kind = "rate" if rate else "mean"
    f = funnel.funnel(v, "value", "school_id", kind=kind)
    f["p_value"] = multiple.funnel_p_values(f, kind=kind)
    if rate:
        for c in ("value", "target", "lower95", "upper95", "lower998", "upper998"):
            f[c] = f[c] * 100
    f["status"] = np.where(
        f["value"] > f["upper998"], "above", np.where(f["value"] < f["lower998"], "below", "within")
    )
    return f, latest, who


def gap_trends(store: Store, goal) -> pd.DataFrame:
    """Per school, the trend of the focus group's gap in a goal's measure over the periods.

    :func:`cilib.stats.trend.gap_trend` from one row per pupil (or survey respondent) per period,
    with the pupils as clusters (pupil-clustered inference); periods where either group has fewer
    than ``store.threshold`` pupils are left out. Schools the goal does not cover are left out.
    """
    cols = ["school_id", *trend.TREND_COLUMNS]
    vals, _ = goal_values(store, goal)
    vals = vals.loc[vals["focus"].notna() & vals["school_id"].map(goal.applies_to)]
    if not len(vals) or not vals["focus"].any() or vals["focus"].all():
        return pd.DataFrame(columns=cols)
    vals = vals.assign(focus=vals["focus"].astype(bool))
    seen = set(vals["period"].unique())
    order = [p for p in store.periods if p in seen]
    return trend.gap_trend(
        vals,
        "period",
        value="value",
        group="focus",
        focus=True,
        pupil="unit_id",
        by="school_id",
        order=order,
        threshold=store.threshold,
    )[cols]


# --------------------------------------------------------------------------------------------
# One verdict per school and goal
# --------------------------------------------------------------------------------------------


def school_verdicts(store: Store) -> pd.DataFrame:
    """Funnel position and gap trend of every school for every goal, with BH q-values.

    Returns
    -------
    DataFrame
        One row per school and goal (goals with a value per pupil, schools the goal covers):
        :data:`VERDICT_COLUMNS`. ``position`` is ``above``/``below``/``within`` the 99.8%
        limits; ``funnel_flag`` is ``bright spot``, ``needs support`` or ``""``; ``trend`` is the
        final verdict (``narrowing``, ``widening`` or ``reversed`` only when ``q_value`` ≤
        :data:`FDR`; ``no clear change``; ``insufficient data``). ``attrs["checks"]`` is the
        number of p-values in the family.
    """
    return shared_frame(store, "verdicts", "schools", make=lambda: _school_verdicts(store))


def _school_verdicts(store: Store) -> pd.DataFrame:
    plan = store.plan()
    frames = []
    for goal in plan.goals if plan is not None else []:
        if goal.metric is None:
            continue
        try:
            f, latest, who = goal_funnel(store, goal)
        except DataError:
            continue
        f = f.loc[f["unit"].map(goal.applies_to)].rename(columns={"unit": "school_id"})
        f = f.rename(columns={"status": "position", "p_value": "funnel_p"})
        tr = gap_trends(store, goal).rename(columns={"trend": "raw_trend"})
        tr = tr.drop(columns=["slope_se", "n_pupils"])
        both = f[["school_id", "n", "value", "target", "lower998", "upper998", "position",
                  "funnel_p"]].merge(tr, on="school_id", how="outer")
        name, unit = registry.metric_label(metrics.validate_metric(goal.metric))
        both = both.assign(
            goal=goal.id,
            goal_title=goal.title,
            measure=name,
            unit=unit,
            who=who,
            latest_period=latest,
            good="above" if goal.direction == "up" else "below",
        )
        frames.append(both)
    if not frames:
        out = pd.DataFrame(columns=VERDICT_COLUMNS)
        out.attrs["checks"] = 0
        return out
    d = pd.concat(frames, ignore_index=True)
    p_all = np.concatenate([d["funnel_p"].to_numpy(float), d["p_value"].to_numpy(float)])
    q_all = multiple.bh_adjust(p_all)
    d["funnel_q"], d["q_value"] = q_all[: len(d)], q_all[len(d) :]
    flagged = (d["position"] != "within") & d["position"].notna() & (d["funnel_q"] <= FDR)
    d["funnel_flag"] = np.where(
        flagged, np.where(d["position"] == d["good"], "bright spot", "needs support"), ""
    )
    named = d["raw_trend"].isin(["narrowing", "widening", "reversed"])
    raw = d["raw_trend"].fillna("insufficient data")
    d["trend"] = np.where(named & ~(d["q_value"] <= FDR), "no clear change", raw)
    d["school"] = d["school_id"].map(store.school_name)
    out = d[VERDICT_COLUMNS].sort_values(["school_id", "goal"]).reset_index(drop=True)
    out.attrs["checks"] = int(np.isfinite(p_all).sum())
    return out


def verdict(store: Store, goal_id: str, school_id: str) -> dict[str, Any] | None:
    """Return the verdict row of one school and goal (None when the goal is not judged there)."""
    v = school_verdicts(store)
    row = v.loc[(v["school_id"] == school_id) & (v["goal"] == goal_id)]
    return None if row.empty else row.iloc[0].to_dict()


def trend_sentence(row: dict[str, Any], focus_label: str) -> str:
    """Say a gap trend verdict in one plain sentence (the same words in every report).

    Examples
    --------
    >>> r = {"measure": "mean score", "unit": "points", "trend": "narrowing", "n_periods": 6,
    ...      "first_gap": -8.5, "last_gap": -6.0, "slope": 0.5, "slope_ci_low": 0.2,
    ...      "slope_ci_high": 0.8, "q_value": 0.01, "p_value": 0.002}
    >>> trend_sentence(r, "Disadvantaged pupils")  # doctest: +NORMALIZE_WHITESPACE
    'The gap for disadvantaged pupils in mean score is narrowing over 6 half-terms (-8.5 to
    -6.0; +0.50 points per half-term, 95% CI +0.20 to +0.80).'
    """
    who = focus_label.lower()
    verdict_word = row["trend"]
    if verdict_word == "insufficient data":
        return (
            f"The gap for {who} in {row['measure']} has too few half-terms with enough pupils "
            "to judge a trend."
        )
    detail = (
        f"over {int(row['n_periods'])} half-terms ({row['first_gap']:+.1f} to "
        f"{row['last_gap']:+.1f}; {row['slope']:+.2f} {row['unit']} per half-term, 95% CI "
        f"{row['slope_ci_low']:+.2f} to {row['slope_ci_high']:+.2f})"
    )
    if verdict_word == "no clear change":
        extra = ""
        ci_clear = row["slope_ci_low"] > 0 or row["slope_ci_high"] < 0
        if ci_clear:
            extra = (
                " On its own the interval excludes zero, but not once every school and goal "
                "checked at the same time is allowed for."
            )
        return f"The gap for {who} in {row['measure']} shows no clear change {detail}.{extra}"
    verb = {"narrowing": "is narrowing", "widening": "is widening", "reversed": "has reversed"}
    return f"The gap for {who} in {row['measure']} {verb[verdict_word]} {detail}."


def spots(store: Store) -> pd.DataFrame:
    """Bright spots and schools needing support, goal by goal, with the reason.

    From :func:`school_verdicts`: a **bright spot** is beyond the 99.8% funnel limit on the good
    side of a goal's measure (q ≤ 0.05), or has a focus-group gap narrowing (q ≤ 0.05); a school
    **needing support** is beyond the limit on the other side, or has a gap widening or reversed.
    A school can be both, for different goals; the goal is named in each row.

    Returns
    -------
    DataFrame
        ``school_id, school, kind, goal, reason``.
    """
    v = school_verdicts(store)
    out = spots_from(v, store.focus.label)
    out.insert(1, "school", out["school_id"].map(store.school_name))
    out.attrs["checks"] = v.attrs.get("checks", 0)
    return out


def spots_from(v: pd.DataFrame, focus_label: str) -> pd.DataFrame:
    """Turn verdict rows (:data:`VERDICT_COLUMNS`) into spot rows, needs support first.

    One row per funnel flag and per named trend: ``school_id, kind, goal, reason``; ``goal`` is
    ``"<id>: <title>"``. Narrowing is a bright spot; widening or reversed needs support.
    """
    rows: list[dict[str, Any]] = []
    for _, r in v.iterrows():
        goal = f"{r['goal']}: {r['goal_title']}"
        if r["funnel_flag"]:
            lim = r["upper998"] if r["position"] == "above" else r["lower998"]
            rows.append(
                {
                    "school_id": r["school_id"],
                    "kind": r["funnel_flag"],
                    "goal": goal,
                    "reason": (
                        f"{r['measure']} for {r['who']} in {r['latest_period']}: "
                        f"{r['value']:.1f} against the trust's "
                        f"{r['target']:.1f}, {r['position']} the 99.8% limit ({lim:.1f}; n = "
                        f"{int(r['n'])})"
                    ),
                }
            )
        if r["trend"] in ("narrowing", "widening", "reversed"):
            rows.append(
                {
                    "school_id": r["school_id"],
                    "kind": "bright spot" if r["trend"] == "narrowing" else "needs support",
                    "goal": goal,
                    "reason": trend_sentence(r.to_dict(), focus_label)[:-1],
                }
            )
    out = pd.DataFrame(rows, columns=["school_id", "kind", "goal", "reason"])
    order = {"needs support": 0, "bright spot": 1}
    out = out.assign(_k=out["kind"].map(order)).sort_values(["_k", "school_id", "goal"])
    return out.drop(columns="_k").reset_index(drop=True)


def checks_sentence(store: Store) -> str:
    """Return the plain sentence saying how many checks the flags allow for."""
    m = school_verdicts(store).attrs.get("checks", 0)
    return (
        "Each school's position in the funnel and its gap trend are checked for every goal. "
        + multiple.fdr_sentence(m, "school results")
    )


# --------------------------------------------------------------------------------------------
# The trust as a whole (its own Monitor report)
# --------------------------------------------------------------------------------------------


def trust_verdicts(store: Store) -> pd.DataFrame:
    """Trust-wide gap trend of every goal with a value per pupil, with BH q-values across goals.

    Returns
    -------
    DataFrame
        One row per goal: ``goal, goal_title, measure, unit``, the trend columns of
        :func:`cilib.stats.trend.gap_trend`, ``q_value`` and the final ``trend``.
    """

    def make() -> pd.DataFrame:
        plan = store.plan()
        rows = []
        for goal in plan.goals if plan is not None else []:
            if goal.metric is None:
                continue
            try:
                vals, _ = goal_values(store, goal)
            except DataError:
                continue
            vals = vals.loc[vals["focus"].notna() & vals["school_id"].map(goal.applies_to)]
            if not len(vals) or not vals["focus"].any() or vals["focus"].all():
                continue
            seen = set(vals["period"].unique())
            order = [p for p in store.periods if p in seen]
            t = trend.gap_trend(
                vals.assign(focus=vals["focus"].astype(bool)),
                "period",
                value="value",
                group="focus",
                focus=True,
                pupil="unit_id",
                order=order,
                threshold=store.threshold,
            ).iloc[0]
            name, unit = registry.metric_label(metrics.validate_metric(goal.metric))
            rows.append(
                {"goal": goal.id, "goal_title": goal.title, "measure": name, "unit": unit,
                 **t.to_dict()}
            )
        d = pd.DataFrame(rows)
        if d.empty:
            d.attrs["checks"] = 0
            return d
        d["q_value"] = multiple.bh_adjust(d["p_value"].to_numpy(float))
        named = d["trend"].isin(["narrowing", "widening", "reversed"])
        d.loc[named & ~(d["q_value"] <= FDR), "trend"] = "no clear change"
        d.attrs["checks"] = int(d["p_value"].notna().sum())
        return d

    return shared_frame(store, "verdicts", "trust", make=make)
