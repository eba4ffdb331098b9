"""The ``02_strategic_plan`` report: vision, goals and trajectories, plan checks and strategies.

The plan checklist and theories of action are built here from the plan
(:mod:`cilib.cycle`); goal progress comes from :mod:`cilib.report.sections.plan_goals`.
"""

from __future__ import annotations

import textwrap

import pandas as pd

from cilib import cycle as cp
from cilib.data.store import Store
from cilib.measures.metrics import describe_metric
from cilib.report.html import esc, note, raw_html, table
from cilib.report.labels import is_code, label
from cilib.report.sections.monitor_charts import goal_label
from cilib.report.sections.plan_goals import (
    group_label,
    no_plan_note,
    on_trajectory_count,
    plan_of,
    plot_goal,
    previous_period,
    store_goal_summary,
)
from cilib.report.style import COLOURS

#: Plain-English name of each plan check (from :func:`cilib.cycle.plan_checks`).
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


# --------------------------------------------------------------------------------------------
# plan checks and theories of action


def checklist(plan: cp.Plan) -> pd.DataFrame:
    """Summarise :func:`cilib.cycle.plan_checks` as one row per check, failures named.

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
        named = bad["item"].astype("str").map(lambda i: label(i) if is_code(i) else i)
        rows.append(
            {
                "check": check,
                "label": CHECK_LABELS.get(check, check[:1].upper() + check[1:]),
                "items": len(grp),
                "passed": int(grp["passed"].sum()),
                "failed": len(bad),
                "ok": bad.empty,
                "failing_items": ", ".join(named),
                "failing": "; ".join(
                    f"{i}: {d}" for i, d in zip(named, bad["detail"], strict=True)
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
        extra = f"<br><span class='cilib-note'>{esc(r.failing)}</span>" if not r.ok else ""
        lis.append(
            f"<li style='list-style:none;margin:.3rem 0'>"
            f"<b style='color:{colour}'>{mark} {word}</b> {esc(r.label)}"
            f"{' (' + count + ')' if count else ''}{extra}</li>"
        )
    return raw_html(f"<ul style='padding-left:.5rem'>{''.join(lis)}</ul>")


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
                return f"<p style='margin:.15rem 0'><b>{word}</b> {esc(text.strip())}</p>"
            return (
                f"<p style='margin:.15rem 0' class='cilib-warn'><b>{word}</b> … "
                f"(missing: complete the theory of action)</p>"
            )

        comp = (
            f"{esc(r['component'])} <span class='cilib-note'>({esc(r['domain'])})</span>"
            if r["component"]
            else "<i>no component named</i>"
        )
        also = f"; also {esc(r['also'])}" if r["also"] else ""
        pm = (
            esc(r["process_measure"])
            if r["process_measure"]
            else "<b>none: add a process (fidelity) measure</b>"
        )
        cards.append(
            "<div style='border-left:4px solid #009E73;padding:.3rem .8rem;margin:.8rem 0'>"
            f"<p style='margin:.1rem 0'><b>{esc(r['strategy'])}: {esc(r['title'])}</b></p>"
            + part("If we", r["if_we"])
            + part("Then", r["then"])
            + part("And", r["and"])
            + f"<p class='cilib-note' style='margin:.2rem 0'>Serves: {esc(r['goals']) or '—'}"
            f"<br>Component: {comp}{also}<br>Process measure: {pm} · Where: "
            f"{esc(r['where'])}</p>"
            "</div>"
        )
    return raw_html("".join(cards))


def headlines_plan(store: Store, school_id: str | None = None) -> list[str]:
    """Headline sentences for the strategic plan: goals on trajectory, checks that fail."""
    plan = plan_of(store)
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


def vision_section(store: Store, school_id: str | None = None) -> list:
    """Show the vision and the priorities, each with the goals that serve it."""
    plan = plan_of(store)
    if plan is None:
        return no_plan_note()
    lis = []
    for p in plan.priorities:
        gs = [g for g in plan.goals if g.priority == p.id]
        sub = "".join(
            f"<li>{esc(g.id)}: {esc(g.title)}"
            + (
                ""
                if g.applies_to(school_id)
                else " <span class='cilib-note'>(not measured in this school)</span>"
            )
            + "</li>"
            for g in gs
        )
        sub = f"<ul>{sub}</ul>" if sub else "<ul><li><i>no goal yet</i></li></ul>"
        lis.append(f"<li><b>{esc(p.id)}: {esc(p.title)}</b>{sub}</li>")
    orphan = [g for g in plan.goals if g.priority is None]
    if orphan:
        lis.append(
            "<li><b>Goals not linked to a priority</b><ul>"
            + "".join(f"<li>{esc(g.id)}: {esc(g.title)}</li>" for g in orphan)
            + "</ul></li>"
        )
    n = len(plan.priorities)
    warn = (
        f"<p class='cilib-warn'>{n} priorities: more than five dilutes focus.</p>" if n > 5 else ""
    )
    return [
        raw_html(
            f"<blockquote style='font-size:1.1rem;border-left:4px solid #009E73;margin:.5rem 0;"
            f"padding:.3rem 1rem'>{esc(plan.vision.strip())}</blockquote>"
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
    plan = plan_of(store)
    if plan is None:
        return no_plan_note()
    summ, _ = store_goal_summary(store, school_id)
    words = {g.id: goal_label(store, g) for g in plan.goals if g.metric is not None}
    summ = summ.assign(
        what=summ["goal"].map(words).fillna(
            summ["measure"] + " (" + summ["group"].str.lower() + ")"
        )
    )
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
    plan = plan_of(store)
    if plan is None:
        return no_plan_note()
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
    plan = plan_of(store)
    if plan is None:
        return no_plan_note()
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
    plan = plan_of(store)
    if plan is None:
        return no_plan_note()
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
