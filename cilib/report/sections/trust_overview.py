"""Trust overview: all schools side by side, for every goal in the plan.

The functions here make the tables, charts and headlines of the ``10_trust_overview`` notebook
(whole trust only). The view is horizontal: each goal's measure as a funnel plot of schools
(:func:`cilib.stats.funnel.funnel`, limits that depend on each school's n), a heat map of gaps by
school and pupil group (suppressed cells shown as ``x`` and never coloured), the spread between
schools over time ("upward convergence": is the floor rising and the spread narrowing, judged
with a trend test), and the bright spots and schools needing support, goal by goal. Funnels,
bright spots and support come from :mod:`cilib.report.sections.verdicts` (one answer that each
school's Monitor report shares; flags allow for the false discovery rate across every school and
goal shown).
"""

from __future__ import annotations

from typing import Any

import matplotlib as mpl
import numpy as np
import pandas as pd
from scipy import stats as st

from cilib.core.errors import DataError
from cilib.core.groups import SHORT_LENS
from cilib.data.store import Store
from cilib.measures import metrics, registry
from cilib.report.charts.funnel import plot_funnel
from cilib.report.html import fmt_change, note, table
from cilib.report.sections import needs_tables as needs
from cilib.report.sections.verdicts import checks_sentence, goal_funnel, school_verdicts, spots
from cilib.report.style import COLOURS, MARKERS, new_axes
from cilib.stats.suppression import SUPPRESSED_SYMBOL

# --------------------------------------------------------------------------------------------
# Funnels per goal
# --------------------------------------------------------------------------------------------


def funnel_section(store: Store, school_id: str | None = None) -> list:
    """One funnel plot and table per goal in the plan."""
    plan = store.plan()
    if plan is None:
        return [note("The store has no plan, so there are no goals to compare schools on.")]
    out: list = []
    for goal in plan.goals:
        if goal.metric is None:
            out.append(note(f"{goal.id} has no metric yet, so schools cannot be compared."))
            continue
        try:
            f, latest, who = goal_funnel(store, goal)
        except DataError:
            out.append(
                note(
                    f"{goal.id} ({goal.title}): its measure is a school-level or count measure, "
                    "so there is no per-pupil funnel plot."
                )
            )
            continue
        name, _ = registry.metric_label(metrics.validate_metric(goal.metric))
        names = {u: store.school_name(u) for u in f["unit"]}
        fig, ax = plot_funnel(f, title=f"{goal.id}: {name}, {who}, {latest}", names=names)
        ax.set_ylabel(name)
        ax.set_xlabel("pupils (n)" if who != "all respondents" else "respondents (n)")
        ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=8)
        fig.tight_layout()
        out.append(fig)
        better = "above" if goal.direction == "up" else "below"
        v = school_verdicts(store)
        flag = v.loc[v["goal"] == goal.id].set_index("school_id")["funnel_flag"]
        shown = f.assign(
            school=f["unit"].map(store.school_name), flag=f["unit"].map(flag).fillna("")
        )
        shown = shown[["school", "n", "value", "target", "lower998", "upper998", "status", "flag"]]
        out.append(
            table(
                shown,
                caption=(
                    f"{goal.id}: {goal.title}. Each school against the trust's value, with 99.8% "
                    f"limits at its n ({better} is better)."
                ),
                rename={
                    "value": name,
                    "target": "trust",
                    "lower998": "lower 99.8%",
                    "upper998": "upper 99.8%",
                },
                digits=1,
            )
        )
        if goal.group == "gap":
            out.append(
                note(
                    f"{goal.id} is a gap goal: the funnel shows {who}; the gap itself is in the "
                    "heat map and its trend per school in the bright spots below."
                )
            )
    out.append(
        note(
            "Limits allow for chance only (no overdispersion adjustment): a school beyond the "
            "99.8% limits differs from the trust by more than chance would explain, though "
            "schools also differ for real reasons such as phase and intake. A school is flagged "
            "only when it is beyond the limits and still stands out once every school and goal "
            "checked at the same time is allowed for. " + checks_sentence(store)
        )
    )
    return out


# --------------------------------------------------------------------------------------------
# Heat map of gaps
# --------------------------------------------------------------------------------------------


def _latest_score_pupils(store: Store) -> tuple[pd.DataFrame, str | None]:
    latest = needs.latest_assessment_period(store)
    if latest is None:
        return pd.DataFrame(), None
    a = needs.attainment_pupils(store, None, periods=[latest])
    keys = ["pupil_id", "school_id", "academic_year"]
    per = a.groupby(keys, as_index=False).agg(score=("score", "mean"))
    return needs.with_pupils(store, per), latest


def gap_heatmap_data(store: Store, measure: str = "attendance") -> pd.DataFrame:
    """Gap of each pupil group to all other pupils, by school and lens, with suppression.

    ``measure`` is ``"attendance"`` (year-to-date attendance %, mean of pupils' rates) or
    ``"score"`` (each pupil's mean score over subjects at the latest assessment). Gaps come from
    :func:`cilib.report.sections.needs_tables.lens_table` (Welch intervals; primary and secondary
    suppression within
    each school and lens). For yes/no lenses only the "Yes" group is shown (the "No" gap is its
    mirror). Prior attainment is left out for scores (it predicts scores by construction).

    Returns
    -------
    DataFrame
        ``school_id, lens, group, column, n, gap, gap_ci_low, gap_ci_high, suppressed,
        display`` (``display`` is the gap to one decimal, or ``"x"`` when suppressed).
    """
    thr = store.threshold
    if measure == "attendance":
        df = needs.attendance_year_to_date(store, None)
        value, scale, lenses = "rate", 100.0, store.lenses
    elif measure == "score":
        df, _ = _latest_score_pupils(store)
        value, scale = "score", 1.0
        lenses = [x for x in store.lenses if x != "prior_attainment"]
    else:
        raise DataError(f"measure must be 'attendance' or 'score', got {measure!r}")
    if not len(df):
        return pd.DataFrame(
            columns=["school_id", "lens", "group", "column", "n", "gap", "suppressed", "display"]
        )
    t = needs.lens_table(
        df, value, lenses, threshold=thr, by=["school_id"], scale=scale, store=store
    )
    t = t.loc[(t["group"] != "All pupils") & (t["group"] != "No")].copy()
    short = t["lens"].map(SHORT_LENS).fillna(t["lens"])
    t["column"] = np.where(t["group"] == "Yes", short, short + ": " + t["group"])
    t["display"] = np.where(
        t["suppressed"], SUPPRESSED_SYMBOL, t["gap"].map(lambda g: f"{g:+.1f}")
    )
    cols = ["school_id", "lens", "group", "column", "n", "gap", "gap_ci_low", "gap_ci_high"]
    return t[cols + ["suppressed", "display"]].reset_index(drop=True)


def plot_gap_heatmap(data: pd.DataFrame, *, title: str, unit: str):
    """Draw a school × pupil-group heat map of gaps; suppressed cells show 'x' and no colour."""
    cols = list(dict.fromkeys(data["column"]))
    rows = sorted(data["school_id"].unique())
    grid = data.pivot_table(index="school_id", columns="column", values="gap", aggfunc="first")
    grid = grid.reindex(index=rows, columns=cols)
    sup = data.pivot_table(
        index="school_id", columns="column", values="suppressed", aggfunc="first"
    ).reindex(index=rows, columns=cols)
    vals = grid.to_numpy(float)
    hide = sup.fillna(True).to_numpy(bool) | np.isnan(vals)
    masked = np.ma.array(vals, mask=hide)
    lim = float(np.nanmax(np.abs(np.where(hide, np.nan, vals)))) if (~hide).any() else 1.0
    fig, ax = new_axes(title=title, figsize=(max(7.0, 0.9 * len(cols) + 2.5), 0.55 * len(rows) + 2))
    cmap = mpl.colormaps["RdBu"].with_extremes(bad="white")
    im = ax.imshow(masked, cmap=cmap, vmin=-lim, vmax=lim, aspect="auto")
    ax.grid(False)
    for i in range(len(rows)):
        for j in range(len(cols)):
            if sup.iloc[i, j] is True or (not pd.isna(sup.iloc[i, j]) and bool(sup.iloc[i, j])):
                txt = SUPPRESSED_SYMBOL
            elif np.isnan(vals[i, j]):
                txt = ""
            else:
                txt = f"{vals[i, j]:+.1f}"
            dark = not hide[i, j] and abs(vals[i, j]) > 0.6 * lim
            ax.text(
                j, i, txt, ha="center", va="center", fontsize=8, color="white" if dark else "black"
            )
    ax.set_xticks(range(len(cols)), cols, rotation=40, ha="right")
    ax.set_yticks(range(len(rows)), rows)
    cb = fig.colorbar(im, ax=ax, shrink=0.8)
    cb.set_label(f"gap to all other pupils ({unit})")
    fig.tight_layout()
    return fig


def heatmap_section(store: Store, school_id: str | None = None) -> list:
    """Heat maps of gaps by school and pupil group, in attendance and in the latest score."""
    out: list = []
    att = gap_heatmap_data(store, "attendance")
    if len(att):
        out.append(
            plot_gap_heatmap(
                att,
                title=f"Attendance gap by school and pupil group, year to {store.period}",
                unit="percentage points",
            )
        )
    sc = gap_heatmap_data(store, "score")
    if len(sc):
        latest = needs.latest_assessment_period(store)
        out.append(
            plot_gap_heatmap(
                sc, title=f"Score gap by school and pupil group, {latest}", unit="score points"
            )
        )
    out.append(
        note(
            "Each cell is the group's value minus all other pupils' in that school: red is "
            "behind, blue ahead; a blank cell has no pupils in the group. "
            + f"x = not shown: fewer than {store.threshold} pupils, or a figure from which such "
            "a small group could be worked out (such cells are never coloured)."
        )
    )
    return out


# --------------------------------------------------------------------------------------------
# Spread between schools over time
# --------------------------------------------------------------------------------------------


def school_attendance(store: Store) -> pd.DataFrame:
    """Return each school's attendance (%) per period: 100 × Σ attended / Σ possible sessions."""
    r = metrics.metric_by_school(
        store.tables_dict(),
        {"table": "attendance", "measure": "attendance_rate"},
        periods=store.periods,
    )
    r = r.loc[r["group"] == "all", ["school_id", "period", "n", "value"]]
    return r.reset_index(drop=True)


def spread(store: Store) -> pd.DataFrame:
    """Spread of school attendance per period: the floor, quartiles and between-school spread.

    Per period over schools: ``n_schools``, ``min`` (and ``lowest`` school), ``q1`` (lower
    quartile), ``median``, ``max``, ``sd`` (between-school SD, ddof = 1) and ``iqr`` (q3 − q1;
    quartiles by linear interpolation, as :meth:`pandas.Series.quantile`).
    """
    r = school_attendance(store)
    rows = []
    for p in [p for p in store.periods if p in set(r["period"])]:
        v = r.loc[r["period"] == p].set_index("school_id")["value"].dropna()
        rows.append(
            {
                "period": p,
                "n_schools": len(v),
                "min": v.min(),
                "lowest": v.idxmin(),
                "q1": v.quantile(0.25),
                "median": v.median(),
                "max": v.max(),
                "sd": v.std(ddof=1),
                "iqr": v.quantile(0.75) - v.quantile(0.25),
            }
        )
    return pd.DataFrame(rows)


def trend_test(values: pd.Series | np.ndarray, *, level: float = 0.95) -> dict[str, Any]:
    """Ordinary least-squares slope of values on the period index, with a t interval.

    Formula: slope ``b = Σ(x - x̄)(y - ȳ) / Σ(x - x̄)²`` with ``x = 0, 1, …``;
    ``se = sqrt(Σ r² / (k - 2) / Σ(x - x̄)²)``; interval ``b ± t(k-2)·se``. Verdict ``"rising"``
    or ``"falling"`` when the interval excludes 0, else ``"no clear change"``. Consecutive
    half-terms are not independent (seasons, the same pupils), so read it as a guide.

    Examples
    --------
    >>> r = trend_test([1.0, 2.1, 2.9, 4.2, 5.0])
    >>> round(r["slope"], 2), r["verdict"]
    (1.01, 'rising')
    """
    y = np.asarray(values, dtype=float)
    x = np.arange(len(y), dtype=float)
    ok = np.isfinite(y)
    x, y = x[ok], y[ok]
    k = len(y)
    if k < 3:
        return {"slope": np.nan, "ci_low": np.nan, "ci_high": np.nan, "verdict": "no data"}
    sxx = np.sum((x - x.mean()) ** 2)
    b = np.sum((x - x.mean()) * (y - y.mean())) / sxx
    resid = y - y.mean() - b * (x - x.mean())
    se = np.sqrt(np.sum(resid**2) / (k - 2) / sxx)
    t = st.t.ppf(0.5 + level / 2, k - 2)
    lo, hi = b - t * se, b + t * se
    verdict = "rising" if lo > 0 else "falling" if hi < 0 else "no clear change"
    return {"slope": float(b), "ci_low": float(lo), "ci_high": float(hi), "verdict": verdict}


def convergence(store: Store) -> dict[str, Any]:
    """Judge upward convergence of school attendance: floor (min) rising, spread (SD) narrowing.

    Returns the :func:`trend_test` of the lowest school's attendance and of the between-school SD
    over the periods, and a sentence.
    """
    sp = spread(store)
    floor = trend_test(sp["min"])
    sd = trend_test(sp["sd"])
    up = floor["verdict"] == "rising" and sd["verdict"] == "falling"
    f_txt = {"rising": "rising", "falling": "falling", "no clear change": "showing no clear change"}
    s_txt = {
        "falling": "narrowing",
        "rising": "widening",
        "no clear change": "showing no clear change",
    }
    sentence = (
        f"Over {len(sp)} half-terms the floor (the lowest school's attendance) is "
        f"{f_txt.get(floor['verdict'], 'unknown')} ({floor['slope']:+.2f} points per half-term, "
        f"95% CI {floor['ci_low']:+.2f} to {floor['ci_high']:+.2f}) and the spread between "
        f"schools (SD) is {s_txt.get(sd['verdict'], 'unknown')} ({sd['slope']:+.2f}, 95% CI "
        f"{sd['ci_low']:+.2f} to {sd['ci_high']:+.2f}): "
        + ("upward convergence." if up else "not upward convergence.")
    )
    return {"spread": sp, "floor": floor, "sd": sd, "upward": up, "sentence": sentence}


def plot_spread(sp: pd.DataFrame):
    """Chart the floor, lower quartile, median and SD of school attendance over the periods."""
    fig, ax = new_axes(title="Attendance between schools over time", figsize=(8.5, 4.4))
    x = np.arange(len(sp))
    ax.fill_between(x, sp["min"], sp["max"], color=COLOURS["limit"], alpha=0.2, label="range")
    ax.plot(x, sp["min"], marker=MARKERS["focus"], color=COLOURS["focus"], label="lowest school")
    ax.plot(x, sp["q1"], linestyle="--", color=COLOURS["comparison"], label="lower quartile")
    ax.plot(x, sp["median"], color=COLOURS["centre"], label="median school")
    ax.set_ylabel("attendance (%)")
    ax.set_xticks(x, sp["period"], rotation=45, ha="right")
    ax2 = ax.twinx()
    ax2.plot(x, sp["sd"], marker="s", color=COLOURS["target"], linewidth=1.2, label="SD (right)")
    ax2.set_ylabel("between-school SD (points)")
    ax2.grid(False)
    h1, l1 = ax.get_legend_handles_labels()
    h2, l2 = ax2.get_legend_handles_labels()
    ax.legend(h1 + h2, l1 + l2, loc="upper center", bbox_to_anchor=(0.5, -0.32), fontsize=8, ncol=5)
    fig.tight_layout()
    return fig


def spread_section(store: Store, school_id: str | None = None) -> list:
    """Spread between schools over time, with the upward-convergence verdict."""
    c = convergence(store)
    sp = c["spread"]
    if not len(sp):
        return [note("No attendance data to compare schools over time.", warn=True)]
    return [
        plot_spread(sp),
        note(c["sentence"]),
        table(
            sp[["period", "n_schools", "min", "lowest", "q1", "median", "max", "sd", "iqr"]],
            caption="School attendance (%) per half-term: floor, quartiles and spread",
            rename={"n_schools": "schools", "min": "lowest", "lowest": "lowest school"},
            digits=1,
        ),
        note(
            "Trend tests are least-squares slopes on the half-term index with 95% intervals; "
            "half-terms are not independent (seasons, the same pupils), so treat them as a guide."
        ),
    ]


# --------------------------------------------------------------------------------------------
# Bright spots and schools needing support
# --------------------------------------------------------------------------------------------


def spots_section(store: Store, school_id: str | None = None) -> list:
    """Bright spots to learn from and schools needing support."""
    sp = spots(store)
    if not len(sp):
        return [note("No school stands out beyond the limits or in its gap trend this period.")]
    out = []
    for kind, caption in (
        ("needs support", "Schools needing support"),
        ("bright spot", "Bright spots: what can other schools learn from them?"),
    ):
        t = sp.loc[sp["kind"] == kind, ["school", "goal", "reason"]]
        if len(t):
            out.append(table(t, caption=caption))
    out.append(
        note(
            "Beyond the 99.8% funnel limits means further from the trust than chance would "
            "explain; a gap is called narrowing or widening only when its trend, with each "
            "pupil followed across half-terms, is clear of chance. A school can be a bright spot "
            "for one goal and need support for another. " + checks_sentence(store)
        )
    )
    return out


def headlines(store: Store, school_id: str | None = None) -> list[str]:
    """Return headlines: the floor against last half-term, convergence, support, bright spots."""
    out = []
    c = convergence(store)
    sp = c["spread"]
    if len(sp) >= 2:
        last, prev = sp.iloc[-1], sp.iloc[-2]
        out.append(
            f"The lowest school attendance in {last['period']} was {last['min']:.1f}% "
            f"({store.school_name(last['lowest'])}), {fmt_change(last['min'], prev['min'])} "
            f"since {prev['period']}; the between-school SD was {last['sd']:.1f} points, "
            f"{fmt_change(last['sd'], prev['sd'])} since {prev['period']}."
        )
    if len(sp):
        out.append(c["sentence"])
    s = spots(store)
    for kind, lead in (
        ("needs support", "Schools needing support"),
        ("bright spot", "Bright spots"),
    ):
        k = s.loc[s["kind"] == kind]
        if len(k):
            goals = k.assign(gid=k["goal"].str.split(":").str[0]).groupby("school_id")["gid"]
            named = [
                f"{store.school_name(i)} ({i}: {', '.join(sorted(set(g)))})" for i, g in goals
            ]
            out.append(f"{lead} (school: goals): " + "; ".join(named) + ".")
    return out
