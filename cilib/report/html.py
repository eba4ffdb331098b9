"""Building blocks for the HTML reports: header, headlines, tables with suppression, figures.

Notebooks call these so that every report looks the same and no cell has to format HTML by hand.
Each function returns an object that Jupyter displays (``IPython.display.HTML``) or displays a
figure and closes it, so that a chart is shown exactly once.

Escaping happens here and only here: every piece of text that reaches a report (school names,
plan and roadmap text, pupil values in tables) goes through :func:`esc`, and every table through
:func:`html_table`, which builds the markup from escaped cells itself (no pandas ``Styler``, so no
random element ids and no unescaped cells). Phase modules that build a fragment by hand use
:func:`esc` for every value and :func:`raw_html` to hand the fragment over. :func:`csp_meta`
gives the Content-Security-Policy every page carries (no external loads, no unhashed script).
"""

from __future__ import annotations

import base64
import hashlib
import html
import re
from collections.abc import Iterable
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from cilib.data.store import Store
from cilib.report import style
from cilib.stats.suppression import SUPPRESSED_SYMBOL, SUPPRESSION_FOOTNOTE

#: Column headings of the data-quality table (reports and the index).
DATA_QUALITY_COLUMNS = {
    "table": "Table",
    "rows_in": "Rows in",
    "rows_clean": "Clean",
    "rows_quarantined": "Set aside",
    "top_rule": "Most common rule broken",
    "rows_after_period": "After this period",
}


def suppression_footnote(threshold: int) -> str:
    """Return the footnote explaining suppressed cells (``suppression.SUPPRESSION_FOOTNOTE``)."""
    return SUPPRESSION_FOOTNOTE.format(threshold=threshold)


#: Plain-English meaning of each quarantine rule, shown instead of any row's own value.
RULE_MEANINGS: dict[str, str] = {
    "type": "a value is not of the expected type (e.g. text where a number belongs)",
    "not_null": "a required value is missing",
    "allowed_values": "a value is not one of the codes allowed for that column",
    "range": "a number is outside the allowed range",
    "calendar_period": "a period is not in the trust's calendar",
    "duplicate": "the row repeats an earlier row",
    "conflicting_key": "two rows share a key but disagree",
    "attended_le_possible": "attended sessions are more than possible sessions",
    "response_in_item_range": "a survey response is outside its item's scale",
    "reference": "the row refers to a school, pupil or item that is not in the data",
    "missing_value": "a value the mapping needs is blank",
    "bad_date": "a date could not be read",
    "join_unmatched": "no matching row in the table the mapping joins to",
    "unknown_code": "a code the mapping does not know",
    "not_a_number": "a value the mapping reads as a number is not a number",
    "out_of_range": "a number is outside the range the mapping allows",
    "outside_calendar": "a date falls outside the trust's calendar",
    "unparseable_line": "a line of the file could not be split into the header's columns",
    "mixed_encoding": "a line's bytes are not valid in the file's encoding",
    "ambiguous_number": "a number whose meaning depends on the decimal separator",
    "invalid_id": "an id is blank or a null word such as NA",
    "bad_parent_value": "a row of a parent table has a bad value and was set aside",
}

#: Output mime types a report may carry; anything else (scripts, widgets, SVG) is dropped.
SAFE_MIMETYPES = ("text/html", "image/png", "text/plain")

_SCRIPT = re.compile(r"<script\b[^>]*>(.*?)</script\s*>", re.I | re.S)


def esc(value: Any) -> str:
    """Return ``value`` as text safe to put inside HTML (also inside quoted attributes).

    The one escaping function of the reports: every value a phase module puts into hand-built
    HTML goes through it.

    Examples
    --------
    >>> esc('<img src=x onerror="alert(1)">')
    '&lt;img src=x onerror=&quot;alert(1)&quot;&gt;'
    """
    return html.escape("" if value is None else str(value), quote=True)


def raw_html(fragment: str):
    """Wrap a fragment built from constant markup and :func:`esc`-aped values for display."""
    from IPython.display import HTML

    return HTML(fragment)


_html = raw_html


def rule_meaning(rule: str) -> str:
    """Return the plain-English meaning of a quarantine rule (``"a; b"`` for several rules)."""
    parts = [r.strip() for r in str(rule).split(";") if r.strip()]
    return "; ".join(RULE_MEANINGS.get(r, "the row broke a data rule") for r in parts)


def csp_meta(page: str) -> str:
    """Return the Content-Security-Policy ``<meta>`` for a page.

    Nothing may load from outside the page (``default-src 'none'``); images only as ``data:``
    URIs; styles only inline; scripts only the page's own inline scripts, each allowed by its
    SHA-256 hash (``script-src 'none'`` when the page has none, as the reports have today).
    """
    hashes = sorted(
        {
            "'sha256-" + base64.b64encode(hashlib.sha256(m.encode("utf-8")).digest()).decode()
            + "'"
            for m in _SCRIPT.findall(page)
        }
    )
    scripts = " ".join(hashes) if hashes else "'none'"
    policy = (
        f"default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src {scripts}; "
        "base-uri 'none'; form-action 'none'"
    )
    return f'<meta http-equiv="Content-Security-Policy" content="{policy}">'


def add_csp(page: str) -> str:
    """Return ``page`` with its :func:`csp_meta` as the first element of ``<head>``."""
    meta = csp_meta(page)
    m = re.search(r"<head\b[^>]*>", page, re.I)
    if m is None:
        raise ValueError("The page has no <head> to carry the Content-Security-Policy.")
    return page[: m.end()] + meta + page[m.end() :]


def header(store: Store, school_id: str | None, title: str):
    """Return the report header: title, trust, school (or whole trust), period, data as of.

    The header carries no wall-clock time, so that the same data give the same report byte for
    byte; when the batch ran is in the run folder's ``run-log.json``.
    """
    who = "Whole trust" if school_id is None else store.school_name(school_id)
    return _html(
        f"<h1>{esc(title)}: {esc(who)}</h1>"
        f"<p class='cilib-header'><b>{esc(store.meta['trust_name'])}</b> · "
        f"period <b>{esc(store.period)}</b> · data as of <b>{esc(store.period)}</b></p>"
    )


def headlines(items: Iterable[str], *, title: str = "Headlines"):
    """Return a short boxed list of headline sentences written from the data."""
    lis = "".join(f"<li>{esc(i)}</li>" for i in items if i)
    if not lis:
        lis = "<li>No headline could be computed from the data for this period.</li>"
    return _html(f"<div class='cilib-headlines'><b>{esc(title)}</b><ul>{lis}</ul></div>")


def note(text: str, *, warn: bool = False):
    """Return a short note (or a highlighted warning)."""
    cls = "cilib-warn" if warn else "cilib-note"
    return _html(f"<p class='{cls}'>{esc(text)}</p>")


def format_table(
    df: pd.DataFrame,
    *,
    digits: int | dict[str, int] = 1,
    suppressed: str = "suppressed",
    value_columns: list[str] | None = None,
    rename: dict[str, str] | None = None,
) -> pd.DataFrame:
    """Return a display copy of a summary table with suppressed cells shown as the symbol.

    Rows whose ``suppressed`` column is true show :data:`SUPPRESSED_SYMBOL` in every value column
    (the counts too, when ``n`` columns are among ``value_columns``); numbers are rounded.
    """
    out = df.copy()
    cols = value_columns or [
        c for c in out.columns if c != suppressed and pd.api.types.is_numeric_dtype(out[c])
    ]
    mask = out[suppressed].fillna(False).astype(bool) if suppressed in out.columns else None
    for c in cols:
        d = digits.get(c, 1) if isinstance(digits, dict) else digits
        vals = out[c]
        whole = (
            pd.api.types.is_numeric_dtype(vals)
            and not pd.api.types.is_bool_dtype(vals)
            and bool(((vals.dropna() % 1) == 0).all())
            and (c == "n" or c.startswith("n_"))
        )
        if pd.api.types.is_bool_dtype(vals):
            text = vals.map({True: "yes", False: "no"}).astype("str")
        elif pd.api.types.is_integer_dtype(vals) or whole:
            text = vals.map(lambda v: "" if pd.isna(v) else f"{int(v):,}")
        else:
            text = vals.map(lambda v, d=d: "" if pd.isna(v) else f"{v:,.{d}f}")
        if mask is not None:
            text = text.where(~mask, SUPPRESSED_SYMBOL)
        out[c] = text.astype("str")
    if suppressed in out.columns:
        out = out.drop(columns=[suppressed])
    if rename:
        out = out.rename(columns=rename)
    return out


def _looks_numeric(col: pd.Series) -> bool:
    text = col.astype("str").str.replace(",", "", regex=False).str.strip()
    text = text[(text != "") & (text != SUPPRESSED_SYMBOL)]
    return bool(len(text)) and bool(pd.to_numeric(text, errors="coerce").notna().all())


def _cell_text(v: Any) -> str:
    if v is None or (not isinstance(v, str) and pd.api.types.is_scalar(v) and pd.isna(v)):
        return ""
    return str(v)


def html_table(df: pd.DataFrame) -> str:
    """Return ``df`` as an HTML table built from escaped cells (no index, no ids).

    The only way a table reaches a report: column names and every cell go through :func:`esc`,
    and text columns are left-aligned by a class (``cilib-text``), so the markup depends on the
    data alone and carries no random ids.

    Examples
    --------
    >>> html_table(pd.DataFrame({"School": ["<b>A</b>"], "n": [3]}))[:60]
    '<table class="cilib-table"><thead><tr><th class="cilib-text"'
    """
    shown = df.copy()
    for c in shown.columns:
        shown[c] = shown[c].map(_cell_text)
    text_cols = {c for c in shown.columns if not _looks_numeric(shown[c])}

    def cls(c) -> str:
        return ' class="cilib-text"' if c in text_cols else ""

    head = "".join(f"<th{cls(c)}>{esc(c)}</th>" for c in shown.columns)
    classes = [cls(c) for c in shown.columns]
    rows = [
        "<tr>" + "".join(f"<td{k}>{esc(v)}</td>" for k, v in zip(classes, r, strict=True)) + "</tr>"
        for r in shown.itertuples(index=False, name=None)
    ]
    return (
        f'<table class="cilib-table"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def table(df: pd.DataFrame, *, threshold: int | None = None, caption: str | None = None, **kw):
    """Return an HTML table of a summary frame, with the suppression footnote when needed."""
    shown = format_table(df, **kw)
    parts = []
    if caption:
        parts.append(f"<p><b>{esc(caption)}</b></p>")
    parts.append(html_table(shown))
    has_suppressed = "suppressed" in df.columns and bool(df["suppressed"].fillna(False).any())
    if has_suppressed and threshold is not None:
        parts.append(f"<p class='cilib-note'>{esc(suppression_footnote(threshold))}</p>")
    return _html("".join(parts))


def data_quality(store: Store, *, brief: bool = False):
    """Return the data-quality note: rows in, clean and set aside per table, and why.

    ``brief=True`` gives the one-sentence summary only (the Assess Needs and Monitor and Adjust
    reports show the full tables).
    """
    dq = store.data_quality
    total_in = int(dq["rows_in"].sum())
    total_q = int(dq["rows_quarantined"].sum())
    share = 100 * total_q / total_in if total_in else 0.0
    later = int(dq["rows_after_period"].sum()) if "rows_after_period" in dq.columns else 0
    after = (
        f" {later:,} valid rows are from after {store.period} and are left out of this period's "
        "reports."
        if later
        else ""
    )
    parts = [
        f"<p>{total_in:,} rows read; {total_q:,} ({share:.2f}%) set aside because they broke a "
        "data rule. Every other row is used below. Rows set aside are kept, with the reason, for "
        f"the data team to correct at source.{after}</p>",
    ]
    if brief:
        return _html(parts[0])
    parts += [
        table(
            dq,
            rename=DATA_QUALITY_COLUMNS,
            digits=0,
        ).data,
    ]
    qs = quarantine_counts(store.quarantine_summary)
    if len(qs):
        parts.append(
            table(
                qs,
                caption="Why rows were set aside",
                digits=0,
                rename={"table": "Table", "rule": "Rule", "rows": "Rows", "meaning": "Meaning"},
            ).data
        )
    return _html("".join(parts))


def quarantine_counts(summary: pd.DataFrame) -> pd.DataFrame:
    """Return rows set aside per table and rule with each rule's meaning, never a row's value.

    The store's summary keeps an example reason per rule for the data team; reports show only
    counts and :data:`RULE_MEANINGS`, so no pupil's value (or hostile text in one) reaches them.
    """
    out = summary[["table", "rule", "rows"]].copy()
    out["meaning"] = out["rule"].map(rule_meaning)
    return out


#: PNG text chunks: none, so a chart's bytes depend on the chart alone (not the library version).
PNG_METADATA: dict[str, str | None] = {"Software": None}


def show(fig) -> None:
    """Display a matplotlib figure once, as an embedded PNG, and close it.

    The PNG is made here rather than by the notebook's plotting backend, so a chart appears the
    same in JupyterLab, in a papermill run and in the HTML report (where it is embedded, never
    linked).
    """
    from IPython.display import Image, display

    alt = style.alt_text(fig)  # the chart's finding (charts set it), else a description
    png, width = style.figure_png(fig)  # twice the display resolution: sharp when zoomed
    plt.close(fig)
    display(Image(data=png, format="png"), metadata={"image/png": {"alt": alt, "width": width}})


def fmt_change(now: float, before: float, *, unit: str = " points", digits: int = 1) -> str:
    """Describe a change in words, e.g. ``"up 1.2 points"``.

    Examples
    --------
    >>> fmt_change(93.4, 92.2)
    'up 1.2 points'
    >>> fmt_change(5.0, 5.0)
    'unchanged'
    """
    if now is None or before is None or np.isnan(now) or np.isnan(before):
        return "no earlier figure to compare"
    d = round(now - before, digits)
    if d == 0:
        return "unchanged"
    return f"{'up' if d > 0 else 'down'} {abs(d):.{digits}f}{unit}"


def show_all(items) -> None:
    """Display each item of a report section in order (figures once, then closed).

    Text is shown as a note and frames as :func:`table`, so nothing reaches the page unescaped.
    """
    from IPython.display import display

    for item in items:
        if isinstance(item, Figure):
            show(item)
        elif isinstance(item, str):
            display(note(item))
        elif isinstance(item, pd.DataFrame):
            display(_html(html_table(item)))
        elif type(item).__name__ == "Styler":
            raise TypeError("Reports show tables through cilib.report.html.table, not a Styler.")
        else:
            display(item)
