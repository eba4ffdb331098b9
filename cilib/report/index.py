"""The pages a batch writes beside the reports: the leaders' index, the glossary, data quality.

:func:`write_index` writes three pages into a period's reports folder:

- ``index.html``: the whole trust at a glance. One row per school (by name and phase), the trust
  first, with each goal's latest figure and its Making Data Count icon (the same figures and
  verdicts as the reports' own summary, :func:`cilib.report.summary.goal_rows`), links to the
  school's reports and a small search box. The search box is the page's only script, inline and
  allowed by its hash in the Content-Security-Policy; nothing is loaded from anywhere. Operator
  detail (status, error, the run's manifest) appears only when a report failed.
- ``glossary.html``: the words the reports use (control limits, special cause, Hedges' g ...)
  in plain English.
- ``data-quality.html``: rows read, used and set aside per table, with the reasons in plain
  English (:mod:`cilib.report.labels`), never a row's own value.

Every value goes through :func:`cilib.report.html.esc` or :func:`cilib.report.html.html_table`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from cilib.core.errors import CilibError
from cilib.data.store import Store
from cilib.report import labels
from cilib.report.html import add_csp, esc, fmt_number, html_table
from cilib.report.summary import COLOURS as ICON_COLOURS
from cilib.report.summary import ICONS, goal_rows

__all__ = [
    "GLOSSARY",
    "REPORT_NAMES",
    "data_quality_page",
    "glossary_page",
    "index_page",
    "write_index",
]

#: The report each notebook makes, as a leader would name it.
REPORT_NAMES: dict[str, str] = {
    "01_assess_needs": "Assess needs",
    "02_strategic_plan": "Strategic plan",
    "03_implement_plan": "Implement the plan",
    "04_monitor_adjust": "Monitor and adjust",
    "05_analyse_impact": "Analyse impact",
    "10_trust_overview": "Trust overview",
}

#: The glossary: term and its meaning in plain English, in reading order.
GLOSSARY: tuple[tuple[str, str], ...] = (
    (
        "Common cause variation",
        "The ordinary ups and downs every measure has from one half-term to the next. Nothing "
        "needs explaining: reacting to it as if something had changed usually does harm. Shown "
        "in grey.",
    ),
    (
        "Special cause variation",
        "A change too large or too consistent to be ordinary ups and downs: a point outside the "
        "control limits, a run of points on one side of the average, or a steady climb or fall. "
        "Something has changed and is worth understanding. Shown in blue when it is an "
        "improvement and in orange when it is a concern.",
    ),
    (
        "Control limits",
        "The lines above and below the average on a control chart. They show how far the "
        "measure usually moves by chance alone, worked out from its own past values. A point "
        "outside them is special cause.",
    ),
    (
        "Control chart",
        "A chart of a measure over time with its average and control limits, used to tell "
        "ordinary ups and downs from real change (NHS England's 'Making Data Count' approach).",
    ),
    (
        "Assurance",
        "Whether a target will be met if things carry on as they are: consistently, only by "
        "chance, or not unless something changes.",
    ),
    (
        "Funnel plot",
        "A chart comparing schools of different sizes with the trust average. Small schools "
        "vary more by chance, so the limits form a funnel: wide for small schools, narrow for "
        "large ones. A school outside the funnel differs from the trust by more than chance.",
    ),
    (
        "Confidence interval",
        "The range the true figure probably lies in, given how many pupils it is based on, "
        "written '−3.2 (−4.3 to −2.0)'. A wide range means the figure is uncertain; when it "
        "includes zero, the data cannot tell a difference from no difference.",
    ),
    (
        "Hedges' g",
        "The size of a difference between two groups, in units of how spread out pupils' "
        "scores are. Around 0.2 is small, 0.5 medium and 0.8 large. It lets differences on "
        "different tests be compared.",
    ),
    (
        "Months of progress",
        "Hedges' g turned into the extra months of learning it is roughly worth, using the "
        "Education Endowment Foundation's conversion table. A guide to size, not a precise "
        "figure.",
    ),
    (
        "Disadvantaged pupils",
        "Pupils eligible for the pupil premium: those eligible for free school meals at any "
        "time in the last six years, and looked-after or previously looked-after children. "
        "The reports compare them with all other pupils.",
    ),
    (
        "Gap",
        "The figure for disadvantaged pupils minus the figure for other pupils. A gap that "
        "moves towards zero is narrowing.",
    ),
    (
        "Suppression",
        "Figures about fewer pupils than the trust's threshold are hidden and shown as the "
        "suppression symbol, so that no pupil can be identified and no one reads much into a "
        "figure that rests on a handful of pupils.",
    ),
    (
        "Trajectory",
        "The path from a goal's baseline to its target, half-term by half-term. A school is on "
        "trajectory when its latest figure is at or better than the path, within the tolerance "
        "the trust has set.",
    ),
    (
        "Rows set aside",
        "Rows of the input data that broke a data rule (for example a date outside the "
        "calendar). They are left out of every figure and kept, with the reason, for the data "
        "team to correct at source.",
    ),
)

#: The search box's script: filters the schools table by the text typed (no network, no storage).
SEARCH_SCRIPT = (
    "document.getElementById('cilib-search').addEventListener('input',function(){"
    "var q=this.value.trim().toLowerCase();"
    "document.querySelectorAll('#cilib-schools tbody tr').forEach(function(r){"
    "r.hidden=q!==''&&r.textContent.toLowerCase().indexOf(q)<0;});});"
)

_STYLE = (
    "<style>"
    "*{box-sizing:border-box}"
    "body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,Arial,sans-serif;max-width:72rem;"
    "margin:0 auto;padding:1rem 1.5rem 3rem;color:#1b1b1b;line-height:1.45}"
    "h1{font-size:1.6rem;border-bottom:3px solid #005EB8;padding-bottom:.3rem}"
    "h2{font-size:1.25rem;margin-top:2rem;border-bottom:1px solid #d0d0d0}"
    ".cilib-scroll{max-width:100%;overflow-x:auto}"
    "table{border-collapse:collapse;margin:.5rem 0 1.2rem;font-size:.9rem}"
    "th,td{padding:.3rem .6rem;border-bottom:1px solid #ddd;text-align:left;vertical-align:top}"
    "th{background:#f4f4f4}td.num{text-align:right;white-space:nowrap}"
    "tr.trust td{background:#f3f8fc;font-weight:600}"
    ".reports{min-width:13rem}.reports a{white-space:nowrap;margin-right:.6rem;line-height:1.7}"
    "th.goal{min-width:7rem;font-size:.85rem;font-weight:600}"
    ".icon{display:inline-block;width:1.2em;height:1.2em;border-radius:50%;color:#fff;"
    "text-align:center;line-height:1.2em;font-size:.85em;font-weight:700;margin-left:.3em}"
    ".key span{margin-right:1rem;white-space:nowrap}"
    ".failed{color:#a00;font-weight:bold}.muted{color:#555;font-size:.9rem}"
    "input[type=search]{font-size:1rem;padding:.35rem .5rem;width:100%;max-width:22rem}"
    "dt{font-weight:700;margin-top:1rem}dd{margin:.2rem 0 0 0}"
    "@media (max-width:600px){body{padding:.6rem .8rem 2rem}h1{font-size:1.3rem}"
    "th,td{padding:.2rem .4rem}}"
    "@page{size:A4;margin:15mm 12mm}"
    "@media print{input[type=search],.search{display:none}tr{break-inside:avoid}"
    "h1,h2,dt{break-after:avoid}.cilib-scroll{overflow:visible}}"
    "</style>"
)


def _page(title: str, body: str, *, script: str = "") -> str:
    """Return a whole page: head with title and style, the body, an optional inline script."""
    tail = f"<script>{script}</script>" if script else ""
    page = (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{esc(title)}</title>{_STYLE}</head><body>{body}{tail}</body></html>"
    )
    return add_csp(page)


def _icon(kind: str) -> str:
    """Return a small Making Data Count icon: coloured circle, mark, and its words as a label."""
    key, mark, words = ICONS.get(kind, ICONS["unknown"])
    colour = ICON_COLOURS[key]
    return (
        f"<span class='icon' style='background:{colour}' role='img' aria-label='{esc(words)}' "
        f"title='{esc(words)}'>{esc(mark)}</span>"
    )


def _key() -> str:
    kinds = ("improving", "concerning", "common", "neither")
    items = "".join(f"<span>{_icon(k)} {esc(ICONS[k][2])}</span>" for k in kinds)
    return f"<p class='key muted'>Key: {items}</p>"


def _report_label(notebook: str) -> str:
    return REPORT_NAMES.get(notebook, labels.label(notebook.split("_", 1)[-1]))


def _goal_rows(store: Store, school_id: str | None) -> pd.DataFrame | None:
    try:
        return goal_rows(store, school_id)
    except CilibError:
        return None


def _job_key(j: Any) -> tuple:
    return (j.school_id is not None, j.school_id or "", j.notebook)


def index_page(out_dir: Path, store: Store, jobs: Sequence[Any], manifest: Mapping) -> str:
    """Return the leaders' index page (HTML) for a period's reports folder.

    Parameters
    ----------
    out_dir : Path
        The period's reports folder (links are relative to it).
    store : Store
        The prepared store the reports were made from.
    jobs : sequence
        The batch's jobs (:class:`cilib.run.batch.Job`: ``notebook``, ``school_id``,
        ``out_html``, ``status``, ``error``).
    manifest : mapping
        The run's manifest (``counts``: ``total``, ``ok``, ``failed``).
    """
    trust = store.meta["trust_name"]
    phases = {s["school_id"]: s.get("phase", "") for s in store.meta.get("schools", [])}
    by_school: dict[str | None, list[Any]] = {}
    for j in sorted(jobs, key=_job_key):
        by_school.setdefault(j.school_id, []).append(j)
    plan = store.plan()
    goals = [g for g in (plan.goals if plan is not None else []) if g.metric is not None]
    figures = {sid: _goal_rows(store, sid) for sid in by_school}
    head = "".join(f"<th class='num goal'>{esc(g.title)}</th>" for g in goals)
    rows = []
    for sid, sjobs in by_school.items():
        name = "Whole trust" if sid is None else store.school_name(sid)
        phase = "All schools" if sid is None else labels.label(phases.get(sid, "")).capitalize()
        fig = figures[sid]
        cells = []
        for g in goals:
            mine = fig.loc[fig["goal"] == g.id] if fig is not None and len(fig) else None
            if mine is None or mine.empty:
                cells.append("<td class='num muted'>–</td>")
                continue
            r = mine.iloc[0]
            value = fmt_number(r["latest"], int(r["digits"]))
            cells.append(f"<td class='num'>{esc(value)}{_icon(str(r['variation']))}</td>")
        links = []
        for j in sjobs:
            label = _report_label(j.notebook)
            if j.status == "ok" and Path(j.out_html).exists():
                rel = Path(j.out_html).relative_to(out_dir).as_posix()
                links.append(f"<a href='{esc(rel)}'>{esc(label)}</a>")
            else:
                links.append(f"<span class='failed'>{esc(label)}: not made</span>")
        cls = " class='trust'" if sid is None else ""
        rows.append(
            f"<tr{cls}><td>{esc(name)}</td><td>{esc(phase)}</td>{''.join(cells)}"
            f"<td class='reports'>{''.join(links)}</td></tr>"
        )
    counts = manifest.get("counts", {})
    failed = [j for j in sorted(jobs, key=_job_key) if j.status != "ok"]
    dq = store.data_quality
    total_in, total_q = int(dq["rows_in"].sum()), int(dq["rows_quarantined"].sum())
    body = [
        f"<h1>{esc(trust)}: reports for {esc(store.period)}</h1>",
        "<p>Each school's goals at a glance: the latest figure and whether it is changing "
        "beyond normal variation. The figures are the same as in each school's reports; open "
        "a report for the detail. Words used are explained in the "
        "<a href='glossary.html'>glossary</a>.</p>",
        f"<p class='muted'>Data quality: {total_q:,} of {total_in:,} rows set aside trust-wide "
        "because they broke a data rule; see the <a href='data-quality.html'>data-quality "
        "page</a>.</p>",
        "<p class='search'><label for='cilib-search'>Find a school: </label>"
        "<input type='search' id='cilib-search' placeholder='school name or phase' "
        "autocomplete='off'></p>",
        _key(),
        "<div class='cilib-scroll'><table id='cilib-schools'><thead><tr><th>School</th>"
        f"<th>Phase</th>{head}<th>Reports</th></tr></thead><tbody>{''.join(rows)}</tbody>"
        "</table></div>",
    ]
    if failed:
        shown = pd.DataFrame(
            {
                "School": [
                    "Whole trust" if j.school_id is None else store.school_name(j.school_id)
                    for j in failed
                ],
                "Report": [_report_label(j.notebook) for j in failed],
                "Status": [j.status for j in failed],
                "Error": [j.error for j in failed],
            }
        )
        body += [
            "<h2>For the data team: reports that could not be made</h2>",
            f"<p class='failed'>{counts.get('failed', len(failed))} of "
            f"{counts.get('total', len(jobs))} reports failed.</p>",
            f"<div class='cilib-scroll'>{html_table(shown)}</div>",
            "<p class='muted'>Run details: <a href='manifest.json'>manifest.json</a> (what went "
            "in and came out) and <a href='run-log.json'>run-log.json</a> (times of this "
            "run).</p>",
        ]
    return _page(f"{trust}: reports for {store.period}", "".join(body), script=SEARCH_SCRIPT)


def glossary_page(store: Store) -> str:
    """Return the glossary page (HTML): the words the reports use, in plain English."""
    trust = store.meta["trust_name"]
    items = "".join(f"<dt>{esc(t)}</dt><dd>{esc(m)}</dd>" for t, m in GLOSSARY)
    body = (
        f"<h1>Glossary: words used in the reports</h1><p><a href='index.html'>All reports for "
        f"{esc(trust)}</a></p><dl>{items}</dl>"
    )
    return _page(f"{trust}: glossary", body)


def data_quality_page(store: Store) -> str:
    """Return the trust's data-quality page (HTML): rows used and set aside, and why.

    Per table the rows read, used and set aside; per table and rule the rows set aside with the
    rule's reason in plain English. Counts only: no row's own value appears.
    """
    trust = store.meta["trust_name"]
    dq = store.data_quality
    total_in, total_q = int(dq["rows_in"].sum()), int(dq["rows_quarantined"].sum())
    share = 100 * total_q / total_in if total_in else 0.0
    tables = pd.DataFrame(
        {
            "Data": dq["table"].map(labels.label),
            "Rows read": dq["rows_in"].map(lambda v: f"{int(v):,}"),
            "Rows used": dq["rows_clean"].map(lambda v: f"{int(v):,}"),
            "Rows set aside": dq["rows_quarantined"].map(lambda v: f"{int(v):,}"),
        }
    )
    if "rows_after_period" in dq.columns and int(dq["rows_after_period"].sum()):
        tables["From after this period"] = dq["rows_after_period"].map(lambda v: f"{int(v):,}")
    body = [
        f"<h1>Data quality: {esc(trust)}, {esc(store.period)}</h1>",
        "<p><a href='index.html'>All reports</a> · <a href='glossary.html'>Glossary</a></p>",
        f"<p>{total_in:,} rows were read; {total_q:,} ({share:.2f}%) were set aside because "
        "they broke a data rule, and every other row is used in the reports. Rows set aside are "
        "kept, with the reason, for the data team to correct at source. The figures are the "
        "same for every school's reports.</p>",
        f"<h2>Rows read and used, by data</h2><div class='cilib-scroll'>{html_table(tables)}"
        "</div>",
    ]
    qs = store.quarantine_summary
    if len(qs):
        why = pd.DataFrame(
            {
                "Data": qs["table"].map(labels.label),
                "Rows set aside": qs["rows"].map(lambda v: f"{int(v):,}"),
                "Why": qs["rule"].map(lambda r: labels.rule_reason(r).capitalize()),
            }
        )
        body.append(
            f"<h2>Why rows were set aside</h2><div class='cilib-scroll'>{html_table(why)}</div>"
        )
    else:
        body.append("<p>No row was set aside.</p>")
    return _page(f"{trust}: data quality, {store.period}", "".join(body))


def write_index(out_dir: Path, store: Store, jobs: Sequence[Any], manifest: Mapping) -> Path:
    """Write ``index.html``, ``glossary.html`` and ``data-quality.html`` into ``out_dir``.

    Returns the path of ``index.html``. The pages carry the reports' Content-Security-Policy and
    no wall-clock time (that is in ``run-log.json``), so the same inputs give the same bytes.
    """
    out_dir = Path(out_dir)
    (out_dir / "glossary.html").write_text(glossary_page(store), encoding="utf-8")
    (out_dir / "data-quality.html").write_text(data_quality_page(store), encoding="utf-8")
    path = out_dir / "index.html"
    path.write_text(index_page(out_dir, store, jobs, manifest), encoding="utf-8")
    return path
