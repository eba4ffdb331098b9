"""What the ``03_implement_plan`` report tracks.

Actions, process (fidelity) measures and data completeness.

Pure building blocks on the plan and canonical tables: the actions relevant to a school and
their status, overdue actions per owner and the timeline, each strategy's process measure
against its expected level, and how complete each data collection is.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.colors import ListedColormap
from matplotlib.patches import Patch

from cilib import cycle as cp
from cilib.core.calendar import academic_year_of
from cilib.core.errors import DataError
from cilib.data.store import Store
from cilib.measures.metrics import describe_metric, metric_by_school, period_key
from cilib.measures.registry import lower_is_better
from cilib.report.derived import shared_frame
from cilib.report.labels import label
from cilib.report.sections.plan_goals import tables_of
from cilib.report.style import COLOURS, apply_style, new_axes

#: Colours of action statuses on the timeline.
STATUS_COLOURS = {
    "done": COLOURS["target"],
    "in_progress": COLOURS["comparison"],
    "not_started": "#BBBBBB",
    "blocked": COLOURS["concerning"],
}
_COLLECTIONS = ("attendance", "assessments", "pupil survey")


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


def status_of_actions(plan: cp.Plan, as_of: dt.date, school_id: str | None) -> pd.DataFrame:
    """Return the status of the actions relevant to a school (:func:`actions_for`) on a day."""
    keep = {a.id for a in actions_for(plan, school_id)}
    st = cp.action_status(plan, as_of)
    return st.loc[st["id"].isin(keep)].reset_index(drop=True)


def overdue_by_owner(status: pd.DataFrame) -> pd.DataFrame:
    """Count overdue and due-soon actions per owner from :func:`cilib.cycle.action_status`.

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
    handles = [Patch(color=c, label=label(s)) for s, c in STATUS_COLOURS.items()]
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


def meets_count(pm: pd.DataFrame, period: str | None) -> tuple[int, int]:
    """Return how many process-measure values meet the expected level in a period, of how many."""
    if period is None:
        return 0, 0
    p = pm.loc[(pm["period"] == period) & pm["meets"].notna()]
    return int(p["meets"].sum()), len(p)


def _process_grid(
    d: pd.DataFrame, strategy: cp.Strategy, names: Mapping[str, str], periods: list[str]
):

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
    ay = academic_year_of(period)
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
        have = set(src["period"].unique())
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


def store_completeness(store: Store, school_id: str | None = None) -> pd.DataFrame:
    """:func:`completeness` for the store's periods up to the report period.

    The table of every school is worked out once per run and shared by the reports
    (:func:`cilib.report.derived.shared_frame`); a school's rows are its own and the trust's.
    """
    names = ("pupils", "attendance", "assessments", "survey_responses")
    comp = shared_frame(
        store,
        "completeness",
        make=lambda: completeness(tables_of(store, names), periods=store.periods),
    )
    if school_id is not None:
        comp = comp.loc[comp["school_id"].isin([school_id, "(trust)"])].reset_index(drop=True)
    return comp
