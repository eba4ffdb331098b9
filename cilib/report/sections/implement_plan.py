"""The ``03_implement_plan`` report.

Headlines, action timeline, overdue actions, fidelity, data completeness and the
improvement-cycle roadmap.

The numbers come from :mod:`cilib.report.sections.plan_tracking` and
:mod:`cilib.report.sections.plan_goals`.
"""

from __future__ import annotations

import pandas as pd

from cilib.core.calendar import half_term_end
from cilib.data.store import Store
from cilib.measures.metrics import describe_metric, period_key
from cilib.measures.registry import lower_is_better
from cilib.report.html import fmt_change, fold, note, table
from cilib.report.labels import label
from cilib.report.sections.plan_goals import (
    GOAL_TABLES,
    no_plan_note,
    plan_of,
    previous_period,
    tables_of,
)
from cilib.report.sections.plan_tracking import (
    completeness_table,
    meets_count,
    overdue_by_owner,
    plot_completeness,
    plot_process,
    plot_timeline,
    process_measures,
    status_of_actions,
    store_completeness,
)

#: Phases of the improvement cycle, in order (the roadmap is shown in this order).
PHASES = (
    "Set the Vision",
    "Assess Needs",
    "Create Strategic Plan",
    "Implement Plan",
    "Monitor and Adjust",
)


# --------------------------------------------------------------------------------------------
# headlines


def _names(store: Store) -> dict[str, str]:
    return {s["school_id"]: s["school_name"] for s in store.meta["schools"]} | {
        "(trust)": "Whole trust"
    }


def headlines_implement(store: Store, school_id: str | None = None) -> list[str]:
    """Headline sentences for implementation: overdue actions, fidelity, data completeness."""
    plan = plan_of(store)
    out = []
    report_date = half_term_end(store.period)
    prev = previous_period(store)
    if plan is not None:
        st = status_of_actions(plan, report_date, school_id)
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
            n0 = int(status_of_actions(plan, half_term_end(prev), school_id)["overdue"].sum())
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
            tables_of(store, GOAL_TABLES),
            periods=store.periods,
            school_id=school_id,
            threshold=store.threshold,
        )
        k, m = meets_count(pm, store.period)
        if m:
            text = f"{k} of {m} process-measure readings met their expected level in {store.period}"
            k0, m0 = meets_count(pm, prev)
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
            text += f", {fmt_change(tot[store.period], tot[prev])} since {prev}"
        out.append(text + ".")
    tot = mine.loc[mine["collection"] == "pupil survey"].set_index("period")["share"]
    if len(tot):
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
    plan = plan_of(store)
    if plan is None:
        return no_plan_note()
    report_date = half_term_end(store.period)
    st = status_of_actions(plan, report_date, school_id)
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
    plan = plan_of(store)
    if plan is None:
        return no_plan_note()
    report_date = half_term_end(store.period)
    st = status_of_actions(plan, report_date, school_id)
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
        fold(
            table(
                st[list(_ACTION_SHOW)].astype({"start": "str", "due": "str"}),
                caption="All action steps by owner",
                rename=_ACTION_SHOW,
            ),
            f"All {len(st)} action steps by owner",
        )
    )
    return out


def fidelity_section(store: Store, school_id: str | None = None) -> list:
    """Process (fidelity) measures per school against their expected levels."""
    plan = plan_of(store)
    if plan is None:
        return no_plan_note()
    pm = process_measures(
        plan,
        tables_of(store, GOAL_TABLES),
        periods=store.periods,
        school_id=school_id,
        threshold=store.threshold,
    )
    out = []
    charts: list = []
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
            charts.append(plot_process(pm, s, names))
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
        meets = t["meets"] == "yes"
        out.append(
            note(
                f"{int(meets.sum())} of {len(t)} latest process-measure readings meet the "
                "expected level."
            )
        )
        out.append(
            fold(
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
                ),
                "Latest reading per school and strategy",
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
    if charts:
        out.append(
            fold(charts, f"Each strategy's process measure over time ({len(charts)} charts)")
        )
    return out


def completeness_section(store: Store, school_id: str | None = None) -> list:
    """Data-collection completeness per school and period: heat map and table."""
    comp = store_completeness(store, school_id)
    if comp.empty:
        return [note("No attendance, assessment or survey data up to this period.", warn=True)]
    names = _names(store)
    out = [plot_completeness(comp, periods=store.periods, names=names)]
    t = completeness_table(comp)
    t = t.assign(school_id=t["school_id"].map(names).fillna(t["school_id"]))
    out.append(
        fold(
            table(
                t,
                caption="% of pupils on roll with data: latest collection, change since "
                "the one before, and the lowest so far",
                rename={"school_id": "School"},
            ),
            "Completeness per school, as a table",
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
    rm = store.roadmap()
    if rm is None or rm.empty:
        return [note("The trust has no roadmap (roadmap.csv) in this run.", warn=True)]
    report_date = half_term_end(store.period)
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
    tables = []
    for ph in phases:
        d = rm.loc[rm["phase"] == ph, cols]
        tables.append(table(d, caption=label(ph), rename=show))
    out = [fold(tables, f"The roadmap, phase by phase ({len(phases)} phases)")]
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
