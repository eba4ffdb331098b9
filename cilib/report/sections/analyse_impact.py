"""The ``05_analyse_impact`` report: did the strategy work.

Headlines, the design of each intervention's evaluation, its effects, the checks on what could
make a result wrong and the trend, for one school or the whole trust. The analysis itself is
:mod:`cilib.report.sections.impact_analysis`.
"""

from __future__ import annotations

import pandas as pd

from cilib.data.store import Store
from cilib.report.html import esc, fmt_change, note, raw_html, table
from cilib.report.sections.impact_analysis import (
    EFFECT_COLUMNS,
    Analysis,
    analyse,
    checks_table,
    effects_table,
    interventions,
    plot_trend,
    verdict,
)
from cilib.stats.impact import MONTHS_NOTE


def headlines(store: Store, school_id: str | None = None, intervention: str = "") -> list[str]:
    """Return headline sentences: one verdict per intervention, and the latest focus-group change.

    The change compares the intervention schools' focus-group mean at the latest assessment
    with the previous period that has data, and says which period that is.
    """
    out = []
    for st in interventions(store, intervention):
        a = analyse(store, st.id, school_id)
        out.append(verdict(a, store))
        t = a.trend
        if a.status in ("ok", "no comparison") and t is not None and len(t):
            arm = t.loc[(t["arm"] == "intervention") & ~t["suppressed"]]
            if len(arm) >= 2:
                last, prev = arm.iloc[-1], arm.iloc[-2]
                out.append(
                    f"{st.id}: {last['who'].capitalize()} in the intervention schools averaged "
                    f"{last['mean']:.1f} in {a.metric_name} in {last['period']}, "
                    f"{fmt_change(last['mean'], prev['mean'])} since {prev['period']} "
                    "(the previous period with data)."
                )
    return out


# --------------------------------------------------------------------------------------------
# Report sections
# --------------------------------------------------------------------------------------------


def _analyses(store: Store, school_id: str | None, intervention: str) -> list[Analysis]:
    return [analyse(store, s.id, school_id) for s in interventions(store, intervention)]


def design_section(store: Store, school_id: str | None = None, intervention: str = "") -> list:
    """Which interventions are evaluated, who took part and what they are compared with."""
    rows = []
    for a in _analyses(store, school_id, intervention):
        st = a.strategy
        rows.append(
            {
                "Strategy": f"{st.id}: {st.title}",
                "Schools taking part": ", ".join(a.treated_schools),
                "Who": store.focus.label if a.group == "focus" else "All pupils",
                "Started": a.start_period or "",
                "Outcome": a.metric_name or "",
                "Baseline": a.baseline_period or "",
                "Outcome at": a.outcome_period or "",
                "Compared with": ", ".join(a.comparison_schools) or "none",
                "Status": a.status,
            }
        )
    if not rows:
        return [note("No strategy in the plan names an intervention to evaluate.", warn=True)]
    return [
        table(pd.DataFrame(rows), caption="Interventions in the plan and how each is evaluated"),
        note(
            "Each intervention's pupils are compared with pupils in the trust's other schools of "
            "the same phase that the goal measures. When every such school took part there is "
            "no comparison and no effect is estimated: schools of another phase are never used "
            "instead. The effect is the difference in progress: each pupil's outcome at "
            "the latest period minus the same measure at the last period before the start. "
            "Pupils who left at the natural end of their school's phase (for example primary "
            "Year 6 leavers) are not counted; other pupils missing the outcome are counted as "
            "lost (attrition)."
        ),
    ]


def _heading(text: str):

    return raw_html(f"<h3>{esc(text)}</h3>")


def effects_section(store: Store, school_id: str | None = None, intervention: str = "") -> list:
    """Show the effect for all pupils, for the focus group and on the gap, with the verdict.

    The table shows the schools in each arm and the design effect of the school-clustered
    interval.
    """
    out: list = []
    for a in _analyses(store, school_id, intervention):
        st = a.strategy
        out.append(_heading(f"{st.id}: {st.title}"))
        if a.status != "ok":
            out.append(note(a.message, warn=a.status != "not taking part"))
            continue
        out.append(
            table(
                effects_table(a, store),
                threshold=store.threshold,
                caption=(
                    f"Progress in {a.metric_name} from {a.baseline_period} to "
                    f"{a.outcome_period} ({a.unit}), intervention minus comparison"
                ),
                rename=EFFECT_COLUMNS,
                digits={"months": 0, "design_effect": 1},
                value_columns=[
                    c
                    for c in EFFECT_COLUMNS
                    if c not in ("population", "diff_ci", "g_text", "schools")
                ],
            )
        )
        out.append(note(verdict(a, store)))
    out.append(note(MONTHS_NOTE))
    out.append(
        note(
            "The change in the gap is the focus group's difference minus the other pupils' "
            "difference: a positive value means the gap closed faster in the intervention "
            "schools. Hedges' g divides the difference by the pooled SD of the outcome. Schools, "
            "not pupils, took part, and pupils in one school resemble each other, so the "
            "intervals allow for it (school-clustered): the design effect says how many times "
            "wider the uncertainty is than if every pupil were independent. With too few "
            "schools in either group no interval is given."
        )
    )
    return out


def checks_section(store: Store, school_id: str | None = None, intervention: str = "") -> list:
    """Show the threats to validity beside each result."""
    out: list = []
    for a in _analyses(store, school_id, intervention):
        if a.status != "ok":
            continue
        st = a.strategy
        out.append(table(checks_table(a), caption=f"{st.id}: what could make this result wrong"))
    if not out:
        out.append(note("No intervention here has an estimated effect to check."))
    else:
        out.append(
            note(
                "Thresholds: attrition above 20%, a difference in attrition above 5 points, a "
                "standardised baseline difference above 0.1, fewer than 30 pupils in an arm, a "
                "difference in missing data above 5 points between the focus group and others, "
                "and too few schools (fewer than 2 in a group, or too few for the school-"
                "clustered interval to be trusted). Flagged attrition, baseline imbalance or too "
                "few schools mean the Monitor and Adjust report suggests no decision on it."
            )
        )
    return out


def trend_section(store: Store, school_id: str | None = None, intervention: str = "") -> list:
    """Charts of the outcome over time, intervention against comparison schools."""
    out: list = []
    for a in _analyses(store, school_id, intervention):
        if a.trend is None or not len(a.trend):
            out.append(note(a.message or f"{a.strategy.id}: no data to chart.", warn=True))
            continue
        out.append(plot_trend(a, store))
    out.append(
        note(
            "Shaded bands are 95% confidence intervals of each period's mean; periods with too "
            "few pupils are left out. The dotted line marks the start of the intervention."
        )
    )
    return out
