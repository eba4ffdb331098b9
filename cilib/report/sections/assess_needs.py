"""Assess Needs: where are we? Attendance and attainment through the lens of disadvantage.

The sections of the ``01_assess_needs`` notebook (tables from
:mod:`cilib.report.sections.needs_tables`), for one school or the whole trust
(``school_id=None``). Every figure comes from :mod:`cilib.stats.equity` (n, uncertainty,
suppression), so the notebook only calls and displays.
"""

from __future__ import annotations

import pandas as pd

from cilib.core.calendar import academic_year_of
from cilib.core.groups import LENS_LABELS
from cilib.data.store import Store
from cilib.report.charts.funnel import plot_funnel
from cilib.report.html import fmt_change, fmt_number, fold, note, table
from cilib.report.labels import label_value
from cilib.report.sections.needs_tables import (
    attainment_pupils,
    attendance_gap_over_time,
    attendance_year_to_date,
    gap_over_time,
    latest_assessment_period,
    lens_table,
    needs_ranking,
    plot_gap_over_time,
)
from cilib.report.style import COLOURS
from cilib.stats import equity, funnel


def headlines(store: Store, school_id: str | None = None) -> list[str]:
    """Return headline sentences from the data: attendance, its gap and change, the top need."""
    out = []
    focus = store.focus
    ytd = attendance_year_to_date(store, school_id)
    if len(ytd):
        s = equity.group_summary(ytd, "rate", None, kind="mean", threshold=store.threshold)
        if not bool(s["suppressed"].iloc[0]):
            out.append(
                f"Attendance this year to {store.period}: {100 * s['mean'].iloc[0]:.1f}% "
                f"(n = {int(s['n'].iloc[0]):,} pupils)."
            )
        g = equity.gap(ytd, "rate", focus.column, focus=focus.value, threshold=store.threshold)
        if not bool(g["suppressed"].iloc[0]):
            r = g.iloc[0]
            out.append(
                f"{focus.label} attended {100 * r['focus']:.1f}% against "
                f"{100 * r['comparison']:.1f}% for {focus.comparison_label.lower()}: a gap of "
                f"{100 * r['gap']:+.1f} points (95% CI {100 * r['gap_ci_low']:+.1f} to "
                f"{100 * r['gap_ci_high']:+.1f})."
            )
        else:
            out.append(f"The {focus.label.lower()} attendance gap is not shown: too few pupils.")
    gaps, trend = attendance_gap_over_time(store, school_id)
    if len(gaps):
        if len(gaps) >= 2 and not gaps["suppressed"].iloc[-2:].any():
            last, prev = gaps.iloc[-1], gaps.iloc[-2]
            out.append(
                f"The attendance gap in {last['period']} was {last['gap']:+.1f} points, "
                f"{fmt_change(last['gap'], prev['gap'])} since {prev['period']}."
            )
        if len(trend) and "trend" in trend.columns:
            tr = trend.iloc[0]
            out.append(
                f"Over {int(tr['n_periods'])} half-terms the attendance gap shows "
                f"{tr['trend']} ({tr['slope']:+.2f} points per half-term, 95% CI "
                f"{tr['slope_ci_low']:+.2f} to {tr['slope_ci_high']:+.2f})."
            )
    needs = needs_ranking(store, school_id, top=1)
    if len(needs):
        n = needs.iloc[0]
        out.append(
            f"Largest need: {label_value(n['group'])} ({n['lens']}) in "
            f"{n['measure'].split(' (')[0].lower()}, a gap of {fmt_number(n['gap'], sign=True)} "
            f"(effect size {fmt_number(n['effect_size'], 2, sign=True)})."
        )
    return out


# --------------------------------------------------------------------------------------------
# Report sections: each returns the objects the notebook displays, in order.
# --------------------------------------------------------------------------------------------

_SHOW = {
    "n": "Pupils",
    "value": "Value",
    "ci_low": "95% CI low",
    "ci_high": "95% CI high",
    "gap": "Gap to all others",
    "gap_ci_low": "Gap CI low",
    "gap_ci_high": "Gap CI high",
    "effect_size": "Effect size (g)",
    "lens": "Lens",
    "group": "Group",
    "subject": "Subject",
}


def _table(store: Store, df: pd.DataFrame, caption: str, value_label: str):

    rename = dict(_SHOW, value=value_label)
    return table(
        df,
        threshold=store.threshold,
        caption=caption,
        rename=rename,
        digits={"effect_size": 2},
        value_columns=[
            c for c in _SHOW if c in df.columns and c not in ("lens", "group", "subject")
        ],
    )


def _focus_then_all(store: Store, df: pd.DataFrame, caption: str, value_label: str) -> list:
    """Show the focus group's rows; fold every pupil group's rows below them."""
    focus_lens = LENS_LABELS.get(store.focus.column, store.focus.label)
    mine = df.loc[df["lens"] == focus_lens] if "lens" in df.columns else df.iloc[0:0]
    if not len(mine) or len(mine) == len(df):
        return [_table(store, df, caption, value_label)]
    return [
        _table(
            store,
            mine.drop(columns=["lens"]),
            f"{caption}: {focus_lens.lower()} pupils",
            value_label,
        ),
        fold(
            _table(store, df, caption, value_label),
            f"Every pupil group ({len(df)} rows, with 95% intervals and effect sizes)",
        ),
    ]


def attendance_section(store: Store, school_id: str | None = None) -> list:
    """Attendance and persistent absence by each lens, year to date."""
    ytd = attendance_year_to_date(store, school_id)
    if not len(ytd):
        return [note("No attendance data for this school and year.", warn=True)]
    ytd = attendance_year_to_date(store) if school_id else ytd  # every school: suppressed together
    thr, sch = store.threshold, school_id
    kw = dict(threshold=thr, scale=100, school=sch, store=store)
    att = lens_table(ytd, "rate", store.lenses, kind="mean", **kw)
    pa = lens_table(ytd, "persistent_absence", store.lenses, kind="rate", **kw)
    year = academic_year_of(store.period)
    return [
        *_focus_then_all(
            store,
            att,
            f"Attendance (%) in {year} up to {store.period} (mean of pupils' rates)",
            "Attendance %",
        ),
        *_focus_then_all(
            store,
            pa,
            f"Persistent absence (% of pupils missing 10% or more of sessions) in {year} "
            f"up to {store.period}",
            "Persistently absent %",
        ),
    ]


def attainment_section(store: Store, school_id: str | None = None) -> list:
    """Latest assessment scores by subject and lens."""
    latest = latest_assessment_period(store, school_id)
    if latest is None:
        return [note("No assessment results up to this period.", warn=True)]
    a = attainment_pupils(store, None, periods=[latest])  # every school: suppressed together
    t = lens_table(
        a,
        "score",
        store.lenses,
        threshold=store.threshold,
        by=["subject"],
        school=school_id,
        store=store,
    )
    return _focus_then_all(
        store, t, f"Scores (0-100) at {latest}, by subject and pupil group", "Mean score"
    )


def gap_trend_section(store: Store, school_id: str | None = None) -> list:
    """Show the focus group's attendance and attainment gaps over the half-terms, with verdicts."""
    focus = store.focus
    out = []
    gaps, trend = attendance_gap_over_time(store, school_id)
    if len(gaps):
        fig = plot_gap_over_time(
            gaps,
            title=f"Attendance: {focus.label.lower()} against {focus.comparison_label.lower()}",
            ylabel="Attendance (%)",
        )
        ax = fig.axes[0]
        ax.lines[0].set_label(focus.comparison_label)
        ax.lines[1].set_label(focus.label)
        ax.legend(loc="best")
        out.append(fig)
        out.append(
            fold(
                table(
                    gaps[
                        [
                            "period",
                            "n_focus",
                            "n_comparison",
                            "focus",
                            "comparison",
                            "gap",
                            "gap_ci_low",
                            "gap_ci_high",
                            "suppressed",
                        ]
                    ],
                    threshold=store.threshold,
                    caption="Attendance gap (percentage points) by half-term",
                    value_columns=[
                        "n_focus",
                        "n_comparison",
                        "focus",
                        "comparison",
                        "gap",
                        "gap_ci_low",
                        "gap_ci_high",
                    ],
                    rename={
                        "focus": f"{store.focus.label}: attendance %",
                        "comparison": f"{store.focus.comparison_label}: attendance %",
                    },
                ),
                "The attendance gap half-term by half-term",
            )
        )
        if len(trend):
            tr = trend.iloc[0]
            out.append(
                note(
                    f"Trend in the attendance gap: {tr['trend']} ({tr['slope']:+.2f} points per "
                    f"half-term, 95% CI {tr['slope_ci_low']:+.2f} to {tr['slope_ci_high']:+.2f}). "
                    "A gap is called "
                    "narrowing or widening only when this interval excludes zero."
                )
            )
    a = attainment_pupils(store, school_id)
    if len(a):
        seen = set(a["period"].unique())
        ap = [p for p in store.periods if p in seen]
        gaps, trend = gap_over_time(
            a,
            "score",
            focus_column=focus.column,
            focus_value=focus.value,
            periods=ap,
            threshold=store.threshold,
            by=["subject"],
        )
        if len(trend):
            t = trend.rename(columns={"subject": "Subject"})
            cols = [
                c
                for c in [
                    "Subject",
                    "n_periods",
                    "first_gap",
                    "last_gap",
                    "slope",
                    "slope_ci_low",
                    "slope_ci_high",
                    "trend",
                ]
                if c in t.columns
            ]
            out.append(
                table(
                    t[cols],
                    caption="Attainment gap (score points) by subject: trend "
                    "over assessment points",
                    digits=2,
                )
            )
    return out


def variation_section(store: Store, school_id: str | None = None) -> list:
    """Variation between schools: a funnel plot of attendance with this school highlighted."""
    ytd = attendance_year_to_date(store, None)
    if not len(ytd):
        return []
    f = funnel.funnel(ytd, "rate", "school_id", kind="mean")
    names = {s["school_id"]: s["school_name"] for s in store.meta["schools"]}
    title = "Attendance by school, year to date, against the trust"
    fig, ax = plot_funnel(f, title=title, names=names)
    ax.set_xlabel("Pupils")
    ax.set_ylabel("Attendance (mean of pupils' rates)")
    if school_id is not None and school_id in set(f["unit"]):
        row = f.loc[f["unit"] == school_id].iloc[0]
        ax.scatter(
            [row["n"]],
            [row["value"]],
            s=160,
            facecolors="none",
            edgecolors=COLOURS["centre"],
            linewidths=2,
            zorder=5,
        )
        ax.annotate(" this school", (row["n"], row["value"]))
    shown = f.assign(school=f["unit"].map(names).fillna(f["unit"]))
    shown = shown.assign(
        value=100 * shown["value"], lower95=100 * shown["lower95"], upper95=100 * shown["upper95"]
    )
    cols = ["school", "n", "value", "lower95", "upper95", "outside95", "outside998"]
    return [
        fig,
        fold(
            table(
                shown[cols],
                caption="Attendance % by school with the 95% limits at each school's size",
                rename={
                    "value": "Attendance %",
                    "lower95": "Lower 95% limit",
                    "upper95": "Upper 95% limit",
                },
            ),
            "Each school's attendance and limits",
        ),
    ]


def needs_section(store: Store, school_id: str | None = None) -> list:
    """Show the ranked list of needs."""
    needs = needs_ranking(store, school_id)
    if not len(needs):
        return [note("No gap to a pupil group's disadvantage is clear of noise this period.")]
    return [
        table(
            needs,
            caption="Largest gaps to a group's disadvantage, clear of noise, ranked by effect size",
            digits={"effect_size": 2, "value": 1},
            rename=_SHOW,
        ),
        note(
            "Effect size is Hedges' g; the gap compares the group with all other pupils. Only "
            "gaps whose 95% interval excludes zero are listed."
        ),
    ]
