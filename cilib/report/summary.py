"""The first screen of every report: who and when, the goals at a glance, and what it means.

:func:`summary` opens every report: one heading naming the school (or the trust) and the
period, a table of the plan's goals (latest value, change, variation and assurance icons in the
NHS "Making Data Count" style, and the suggested decision where there is one), three to five
ranked findings written from the data, and one line on data quality with links to the
data-quality page and the glossary.

Values and verdicts come from the same computations as the Monitor and Adjust report
(:func:`cilib.report.sections.monitor_charts.goal_charts` and ``signal_info``,
:func:`cilib.cycle.progress`, :func:`cilib.report.sections.monitor_decisions.strategy_decisions`),
so one question gets one answer across the reports.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cilib import cycle as cp
from cilib.core.errors import CilibError
from cilib.data.store import Store
from cilib.measures import registry
from cilib.measures.metrics import period_key
from cilib.report.derived import shared_frame
from cilib.report.html import esc, fmt_number, html_table, raw_html
from cilib.report.sections.monitor_charts import (
    digits_of,
    goal_charts,
    goal_label,
    monitor_tables,
    signal_info,
)
from cilib.report.sections.monitor_decisions import strategy_decisions

__all__ = [
    "ICONS",
    "change_words",
    "data_quality_line",
    "findings",
    "goal_rows",
    "icon",
    "summary",
]

#: Making Data Count colours: blue improving, orange concerning, grey common cause.
COLOURS = {"improving": "#1F77B4", "concerning": "#E37222", "common": "#7F7F7F"}

#: Icon per verdict: (colour key, letter in the circle, words shown beside it).
ICONS: dict[str, tuple[str, str, str]] = {
    "improving": ("improving", "↑", "Improving"),
    "concerning": ("concerning", "↓", "Concerning"),
    "common": ("common", "~", "Normal variation"),
    "neither": ("common", "?", "Unusual, neither better nor worse"),
    "on": ("improving", "✓", "On course"),
    "off": ("concerning", "✗", "Off course"),
    "unknown": ("common", "–", "Not yet known"),
}

#: Where the pages shared by all reports sit, relative to a report.
DATA_QUALITY_PAGE = "../data-quality.html"
GLOSSARY_PAGE = "../glossary.html"


def icon(kind: str) -> str:
    """Return an inline SVG icon and its words for a verdict (see :data:`ICONS`).

    The icon is drawn in the page (no image is loaded from anywhere) and always has its words
    beside it, so it reads without colour.

    Examples
    --------
    >>> "Improving" in icon("improving") and "<svg" in icon("improving")
    True
    """
    key, mark, words = ICONS.get(kind, ICONS["unknown"])
    colour = COLOURS[key]
    return (
        f"<span class='cilib-icon cilib-{key}'>"
        f"<svg width='18' height='18' viewBox='0 0 18 18' role='img' aria-label='{esc(words)}'>"
        f"<circle cx='9' cy='9' r='8' fill='{colour}'/>"
        f"<text x='9' y='13' font-size='11' text-anchor='middle' fill='#fff'>{esc(mark)}</text>"
        f"</svg> {esc(words)}</span>"
    )


def _progress(store: Store, goal: cp.Goal, school_id: str | None) -> pd.DataFrame | None:
    def make():
        try:
            pr = cp.progress(
                goal, monitor_tables(store), school_id=school_id, periods=store.meta["periods"]
            )
        except CilibError:
            return None
        return pr.loc[pr["period"].map(lambda p: period_key(p) <= period_key(store.period))]

    return store.memo("summary", "progress", goal.id, school_id, make=make)


def _unit(goal: cp.Goal) -> str:
    m = registry.REGISTRY.get((goal.metric or {}).get("measure", ""))
    if m is not None and m.unit == "percentage points":
        return "percentage points"
    return "points"


def goal_rows(store: Store, school_id: str | None = None) -> pd.DataFrame:
    """Return one row per goal that applies: latest value, change, variation, assurance.

    Returns
    -------
    DataFrame
        ``goal, title, measure, period, latest, previous, previous_period, variation, since,
        assurance, target, target_period, direction, decision, digits, unit, is_gap``.
        ``variation`` is ``"improving"``, ``"concerning"``, ``"neither"`` or ``"common"`` (the
        chart's special-cause verdict); ``assurance`` is ``"on"`` or ``"off"`` (the latest
        observed point against the trajectory, :func:`cilib.cycle.progress`) or ``"unknown"``.
        Every report of a school opens with these rows, so they are worked out once per run
        (:func:`cilib.report.derived.shared_frame`).
    """
    return shared_frame(store, "summary", school_id, make=lambda: _goal_rows(store, school_id))


def _goal_rows(store: Store, school_id: str | None) -> pd.DataFrame:
    cols = [
        "goal",
        "title",
        "measure",
        "period",
        "latest",
        "previous",
        "previous_period",
        "variation",
        "since",
        "assurance",
        "target",
        "target_period",
        "direction",
        "decision",
        "digits",
        "unit",
        "is_gap",
    ]
    plan = store.plan()
    if plan is None:
        return pd.DataFrame(columns=cols)
    dec = strategy_decisions(store, school_id)
    rows = []
    for goal in plan.goals:
        if goal.metric is None or not goal.applies_to(school_id):
            continue
        own = goal_charts(store, goal, school_id)["own"]
        if own is None:
            continue
        d = own.loc[own["value"].notna()]
        if d.empty:
            continue
        info = signal_info(
            own, goal_label(store, goal), digits=digits_of(goal), calendar=store.meta["periods"]
        )
        variation = info["signal"] or (
            "neither" if "neither" in str(info["variation"]) else "common"
        )
        pr = _progress(store, goal, school_id)
        assurance = "unknown"
        if pr is not None:
            seen = pr.loc[pr["observed"].notna() & pr["on_trajectory"].notna()]
            if len(seen):
                assurance = "on" if bool(seen["on_trajectory"].iloc[-1]) else "off"
        mine = dec.loc[dec["goal"] == goal.id] if len(dec) else dec
        decision = "; ".join(
            f"{str(r['decision']).capitalize()} ({r['strategy']})" for _, r in mine.iterrows()
        )
        rows.append(
            {
                "goal": goal.id,
                "title": goal.title,
                "measure": goal_label(store, goal),
                "period": d["period"].iloc[-1],
                "latest": float(d["value"].iloc[-1]),
                "previous": float(d["value"].iloc[-2]) if len(d) > 1 else np.nan,
                "previous_period": d["period"].iloc[-2] if len(d) > 1 else None,
                "variation": variation,
                "since": info["since"],
                "assurance": assurance,
                "target": goal.target,
                "target_period": goal.target_period,
                "direction": goal.direction,
                "decision": decision,
                "digits": digits_of(goal),
                "unit": _unit(goal),
                "is_gap": goal.group == "gap",
            }
        )
    return pd.DataFrame(rows, columns=cols)


def change_words(r: pd.Series) -> str:
    """Return a goal row's change in words: "narrowed by 1.3 points", "rose by 0.7 points"."""
    if pd.isna(r["previous"]):
        return ""
    d = round(r["latest"] - r["previous"], int(r["digits"]))
    if d == 0:
        return "unchanged"
    size = f"{fmt_number(abs(d), int(r['digits']))} {r['unit']}"
    if abs(d) == 1:
        size = size.rstrip("s")
    better = (d > 0) == (r["direction"] == "up")
    if r["is_gap"]:
        return f"{'narrowed' if better else 'widened'} by {size}"
    return f"{'rose' if d > 0 else 'fell'} by {size}"


_VARIATION_WORDS = {
    "improving": "an improvement beyond normal variation",
    "concerning": "a concern beyond normal variation",
    "neither": "an unusual pattern, neither better nor worse",
    "common": "within normal variation",
}


def _finding(r: pd.Series) -> str:
    dg = int(r["digits"])
    change = change_words(r)
    var = _VARIATION_WORDS[r["variation"]]
    if r["variation"] in ("improving", "concerning") and r["since"]:
        var += f" since {r['since']}"
    if change and change != "unchanged":
        text = f"{r['measure']} {change} to {fmt_number(r['latest'], dg)} in {r['period']}: {var}"
    else:
        text = f"{r['measure']} was {fmt_number(r['latest'], dg)} in {r['period']}: {var}"
    if r["assurance"] == "on":
        text += "; on course for its target"
    elif r["assurance"] == "off":
        text += "; off course for its target"
    return text + "."


def _rank(r: pd.Series) -> tuple[int, int]:
    v = {"concerning": 0, "improving": 1, "neither": 2, "common": 3}[r["variation"]]
    a = {"off": 0, "on": 1, "unknown": 2}[r["assurance"]]
    return (v, a)


def findings(
    store: Store, school_id: str | None = None, rows: pd.DataFrame | None = None
) -> list[str]:
    """Return three to five ranked findings, each a sentence written from the data.

    Goals with a special-cause signal come first (concerns before improvements), then those off
    course for their target, then the rest; the suggested decisions close the list when the
    plan has strategies here.
    """
    rows = goal_rows(store, school_id) if rows is None else rows
    out: list[str] = []
    if len(rows):
        ranked = sorted((r for _, r in rows.iterrows()), key=_rank)
        out = [_finding(r) for r in ranked[:4]]
    dec = strategy_decisions(store, school_id)
    if len(dec):
        counts = dec["decision"].value_counts()
        parts = [
            f"{int(counts[k])} to {k}" for k in ("continue", "adjust", "stop") if counts.get(k, 0)
        ]
        n = len(dec)
        joined = ", ".join(parts[:-1]) + (" and " if len(parts) > 1 else "") + parts[-1]
        out.append(
            f"Of the {n} {'strategy' if n == 1 else 'strategies'} here, the suggested decisions "
            f"are {joined} (see the Monitor and Adjust report)."
        )
    if not out:
        out = ["The plan has no goal with data for this period yet."]
    return out[:5]


def _change_cell(r: pd.Series) -> str:
    if pd.isna(r["previous"]):
        return "–"
    d = round(r["latest"] - r["previous"], int(r["digits"]))
    text = fmt_number(d, int(r["digits"]), sign=True)
    if r["is_gap"] and d != 0:
        text += " (narrower)" if (d > 0) == (r["direction"] == "up") else " (wider)"
    return text


def _goal_table(rows: pd.DataFrame, period: str) -> str:
    shown = pd.DataFrame(
        {
            "Goal": [f"{g}: {t}" for g, t in zip(rows["goal"], rows["title"], strict=True)],
            "Latest": [
                fmt_number(v, int(d)) + ("" if p == period else f" ({p})")
                for v, d, p in zip(rows["latest"], rows["digits"], rows["period"], strict=True)
            ],
            "Change": [_change_cell(r) for _, r in rows.iterrows()],
            "Variation": rows["variation"].tolist(),
            "Target": [
                f"{fmt_number(t, int(d))} ({p})"
                for t, d, p in zip(
                    rows["target"], rows["digits"], rows["target_period"], strict=True
                )
            ],
            "Assurance": rows["assurance"].tolist(),
            "Decision": [d or "–" for d in rows["decision"]],
        }
    )
    if not shown["Decision"].ne("–").any():
        shown = shown.drop(columns=["Decision"])
    markup = html_table(shown.assign(Variation="@V", Assurance="@A"))
    for v in rows["variation"]:
        markup = markup.replace(">@V<", f">{icon(v)}<", 1)
    for a in rows["assurance"]:
        markup = markup.replace(">@A<", f">{icon(a)}<", 1)
    return markup.replace('class="cilib-table"', 'class="cilib-table cilib-summary-goals"', 1)


def data_quality_line(store: Store) -> str:
    """Return the one-line data-quality note (HTML) linking to the trust data-quality page."""
    dq = store.data_quality
    total_in = int(dq["rows_in"].sum())
    total_q = int(dq["rows_quarantined"].sum())
    rows = "row" if total_q == 1 else "rows"
    return (
        f"<p class='cilib-dq-line'>Data quality: {total_q:,} {rows} of {total_in:,} set aside "
        f"trust-wide because they broke a data rule; see the "
        f"<a href='{DATA_QUALITY_PAGE}'>data-quality page</a>. Words used here are explained "
        f"in the <a href='{GLOSSARY_PAGE}'>glossary</a>.</p>"
    )


def summary(store: Store, school_id: str | None, title: str):
    """Return the first screen of a report: heading, goals table, findings, data-quality line.

    The heading names the school (or the whole trust), the report and the period; the page's
    title is taken from it.
    """
    trust = store.meta["trust_name"]
    who = f"{trust}, all schools" if school_id is None else store.school_name(school_id)
    rows = goal_rows(store, school_id)
    parts = [
        f"<h1>{esc(who)}: {esc(title)}, {esc(store.period)}</h1>",
        f"<p class='cilib-header'>{esc(trust)} · {esc(title)} report for {esc(store.period)}</p>",
        "<div class='cilib-summary'>",
    ]
    if len(rows):
        parts.append("<p><b>Our goals: how are our disadvantaged pupils doing?</b></p>")
        parts.append(_goal_table(rows, store.period))
    items = "".join(f"<li>{esc(f)}</li>" for f in findings(store, school_id, rows))
    parts.append(f"<div class='cilib-headlines'><b>What this means</b><ol>{items}</ol></div>")
    parts.append(data_quality_line(store))
    parts.append("</div>")
    return raw_html("".join(parts))
