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
from cilib.report import labels, style
from cilib.stats.suppression import SUPPRESSED_SYMBOL, SUPPRESSION_FOOTNOTE

#: Column headings of the data-quality table (reports and the index).
DATA_QUALITY_COLUMNS = {
    c: labels.COLUMNS[c]
    for c in ("table", "rows_in", "rows_clean", "rows_quarantined", "top_rule", "rows_after_period")
}

#: The minus sign shown in reports (U+2212, the typographic minus).
MINUS = "\u2212"


def suppression_footnote(threshold: int) -> str:
    """Return the footnote explaining suppressed cells (``suppression.SUPPRESSION_FOOTNOTE``)."""
    return SUPPRESSION_FOOTNOTE.format(threshold=threshold)


#: Plain-English meaning of each quarantine rule (:data:`cilib.report.labels.RULE_REASONS`).
RULE_MEANINGS: dict[str, str] = labels.RULE_REASONS

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
    return labels.rule_reason(rule)


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


def subheading(title: str, text: str = ""):
    """Return a small heading (``<h3>``) for one item of a section, with an optional line."""
    line = f"<p class='cilib-note'>{esc(text)}</p>" if text else ""
    return _html(f"<h3>{esc(title)}</h3>{line}")


def note(text: str, *, warn: bool = False):
    """Return a short note (or a highlighted warning)."""
    cls = "cilib-warn" if warn else "cilib-note"
    return _html(f"<p class='{cls}'>{esc(text)}</p>")


def fmt_number(value: Any, digits: int = 1, *, sign: bool = False) -> str:
    """Return a number as report text: rounded, a true minus sign, never "−0.0".

    Examples
    --------
    >>> fmt_number(-3.21), fmt_number(-0.04), fmt_number(1234.5, 0), fmt_number(2.0, sign=True)
    ('−3.2', '0.0', '1,234', '+2.0')
    >>> fmt_number(float("nan"))
    ''
    """
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    v = round(float(value), digits)
    if v == 0:
        v = 0.0
    text = f"{abs(v):,.{digits}f}"
    if v < 0:
        return MINUS + text
    return ("+" + text) if sign and v > 0 else text


def fmt_interval(value: Any, low: Any, high: Any, digits: int = 1) -> str:
    """Return an estimate and its interval in one cell: ``"−3.2 (−4.3 to −2.0)"``.

    Examples
    --------
    >>> fmt_interval(-3.21, -4.3, -2.04)
    '−3.2 (−4.3 to −2.0)'
    >>> fmt_interval(1.0, float("nan"), 2.0)
    '1.0'
    """
    est = value if isinstance(value, str) else fmt_number(value, digits)
    lo = low if isinstance(low, str) else fmt_number(low, digits)
    hi = high if isinstance(high, str) else fmt_number(high, digits)
    if not est or est == SUPPRESSED_SYMBOL or not lo or not hi or SUPPRESSED_SYMBOL in (lo, hi):
        return est
    return f"{est} ({lo} to {hi})"


def plural(n: float, word: str, words: str | None = None) -> str:
    """Return ``"1 month"`` or ``"3 months"`` (``words`` for an irregular plural).

    Examples
    --------
    >>> plural(1, "month"), plural(3, "month"), plural(2, "half-term")
    ('1 month', '3 months', '2 half-terms')
    """
    many = words or word + "s"
    return f"{n:g} {word if abs(n) == 1 else many}"


#: Estimate columns and the ``(low, high)`` columns of their 95% interval.
INTERVALS: dict[str, tuple[str, str]] = {
    "value": ("ci_low", "ci_high"),
    "gap": ("gap_ci_low", "gap_ci_high"),
    "slope": ("slope_ci_low", "slope_ci_high"),
    "effect_g": ("effect_ci_low", "effect_ci_high"),
    "g": ("g_ci_low", "g_ci_high"),
    "effect_size": ("effect_ci_low", "effect_ci_high"),
}


def _interval_triples(columns) -> list[tuple[str, str, str]]:
    cols = set(columns)
    out = [(b, lo, hi) for b, (lo, hi) in INTERVALS.items() if {b, lo, hi} <= cols]
    for c in columns:  # any other x, x_ci_low, x_ci_high
        if isinstance(c, str) and c.endswith("_ci_low") and c[: -len("_ci_low")] in cols:
            b = c[: -len("_ci_low")]
            if f"{b}_ci_high" in cols and b not in INTERVALS:
                out.append((b, c, f"{b}_ci_high"))
    return out


def merge_intervals(df: pd.DataFrame, digits: int | dict[str, int] = 1) -> pd.DataFrame:
    """Return ``df`` with each estimate and its 95% interval columns in one text column.

    The estimate column keeps its name (so a ``rename`` still applies) and its cells read
    ``"−3.2 (−4.3 to −2.0)"``; the ``*_ci_low``/``*_ci_high`` columns are dropped. Cells already
    text (formatted, or the suppression symbol) are joined as they are.

    Examples
    --------
    >>> df = pd.DataFrame({"gap": [-3.21], "gap_ci_low": [-4.3], "gap_ci_high": [-2.04]})
    >>> merge_intervals(df)["gap"].tolist()
    ['−3.2 (−4.3 to −2.0)']
    """
    out = df.copy()
    for b, lo, hi in _interval_triples(list(out.columns)):
        d = digits.get(b, 1) if isinstance(digits, dict) else digits
        out[b] = [
            fmt_interval(v, low, high, d)
            for v, low, high in zip(out[b], out[lo], out[hi], strict=True)
        ]
        out[b] = out[b].astype("str")
        out = out.drop(columns=[lo, hi])
    return out


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
    (the counts too, when ``n`` columns are among ``value_columns``); numbers are rounded, with a
    true minus sign and never "−0.0"; an estimate and its 95% interval columns become one cell
    (:func:`merge_intervals`), headed "… (95% CI)".
    """
    out = df.copy()
    cols = value_columns or [
        c for c in out.columns if c != suppressed and pd.api.types.is_numeric_dtype(out[c])
    ]
    triples = _interval_triples(list(out.columns))
    cols = list(dict.fromkeys(list(cols) + [c for t in triples for c in t if c in cols or
                                            pd.api.types.is_numeric_dtype(out[c])]))
    mask = out[suppressed].fillna(False).astype(bool) if suppressed in out.columns else None
    for c in cols:
        b = next((t[0] for t in triples if c in t), c)
        d = digits.get(b, digits.get(c, 1)) if isinstance(digits, dict) else digits
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
        elif pd.api.types.is_numeric_dtype(vals):
            text = vals.map(lambda v, d=d: fmt_number(v, d))
        else:
            text = vals.map(_cell_text)
        if mask is not None:
            text = text.where(~mask, SUPPRESSED_SYMBOL)
        out[c] = text.astype("str")
    if suppressed in out.columns:
        out = out.drop(columns=[suppressed])
    out = merge_intervals(out)
    merged = [t[0] for t in triples]
    if rename:
        out = out.rename(columns=rename)
    names = {
        (rename or {}).get(b, b): f"{(rename or {}).get(b, labels.label(b))} (95% CI)"
        for b in merged
    }
    return out.rename(columns=names)


def _looks_numeric(col: pd.Series) -> bool:
    text = col.astype("str").str.replace(",", "", regex=False).str.strip()
    text = text.str.replace(MINUS, "-", regex=False).str.replace(r" \(.* to .*\)$", "", regex=True)
    text = text[(text != "") & (text != SUPPRESSED_SYMBOL)]
    return bool(len(text)) and bool(pd.to_numeric(text, errors="coerce").notna().all())


def _cell_text(v: Any) -> str:
    if v is None or (not isinstance(v, str) and pd.api.types.is_scalar(v) and pd.isna(v)):
        return ""
    if isinstance(v, float):
        if v == 0:
            v = 0.0
        return str(v).replace("-", MINUS) if v < 0 else str(v)
    return str(v)


def html_table(df: pd.DataFrame, *, names: dict[str, str] | None = None) -> str:
    """Return ``df`` as an HTML table built from escaped cells (no index, no ids).

    The only way a table reaches a report: column names and every cell go through :func:`esc`,
    and text columns are left-aligned by a class (``cilib-text``), so the markup depends on the
    data alone and carries no random ids. Estimates and their interval columns are merged into
    one cell (:func:`merge_intervals`); column names and code values are put into words by
    :func:`cilib.report.labels.label_columns` (``names``: school id to name).

    Examples
    --------
    >>> html_table(pd.DataFrame({"School": ["<b>A</b>"], "n": [3]}))[:60]
    '<table class="cilib-table"><thead><tr><th class="cilib-text"'
    >>> "Disadvantaged pupils" in html_table(pd.DataFrame({"n_focus": [3]}))
    True
    """
    shown = labels.label_columns(merge_intervals(df), names=names)
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


def table(
    df: pd.DataFrame,
    *,
    threshold: int | None = None,
    caption: str | None = None,
    names: dict[str, str] | None = None,
    **kw,
):
    """Return an HTML table of a summary frame, with the suppression footnote when needed.

    ``names`` maps school ids to names (see :func:`html_table`); other keywords go to
    :func:`format_table`.
    """
    shown = format_table(df, **kw)
    parts = []
    if caption:
        parts.append(f"<p><b>{esc(caption)}</b></p>")
    parts.append(html_table(shown, names=names))
    has_suppressed = "suppressed" in df.columns and bool(df["suppressed"].fillna(False).any())
    if has_suppressed and threshold is not None:
        parts.append(f"<p class='cilib-note'>{esc(suppression_footnote(threshold))}</p>")
    for text in df.attrs.get("footnotes", []):  # e.g. small groups folded or left out
        parts.append(f"<p class='cilib-note'>{esc(text)}</p>")
    return _html("".join(parts))


def data_quality(store: Store, school_id: str | None = None, *, brief: bool = False):
    """Return the data-quality note: rows in, clean and set aside per table, and why.

    ``brief=True`` gives the one-sentence summary only; otherwise the sentence is followed by the
    per-table and per-rule tables folded into a ``<details>`` box (the figures are trust-wide:
    the same for ``school_id`` of any school or None).
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
    where = " trust-wide" if school_id is not None else ""
    parts = [
        f"<p>{total_in:,} rows read{where}; {total_q:,} ({share:.2f}%) set aside because they "
        "broke a data rule. Every other row is used. Rows set aside are kept, with the reason, "
        f"for the data team to correct at source.{after}</p>",
    ]
    if brief:
        return _html(parts[0])
    inner = [
        table(
            dq,
            rename=DATA_QUALITY_COLUMNS,
            digits=0,
        ).data,
    ]
    qs = quarantine_counts(store.quarantine_summary)
    if len(qs):
        qs = qs.assign(rule=qs["rule"].map(rule_labels))
        inner.append(
            table(
                qs,
                caption="Why rows were set aside",
                digits=0,
                rename={"table": "Table", "rule": "Rule", "rows": "Rows", "meaning": "Meaning"},
            ).data
        )
    parts.append(details("Rows read and set aside, by table and rule", "".join(inner)))
    return _html("".join(parts))


def rule_labels(rule: str) -> str:
    """Return the short labels of one or more rules (``"a; b"``), e.g. ``"Duplicate row"``."""
    return "; ".join(labels.label(r.strip()) for r in str(rule).split(";") if r.strip())


def details(summary: str, inner_html: str, *, open_: bool = False) -> str:
    """Return a folded ``<details>`` box: ``summary`` (text, escaped) over ``inner_html``.

    ``inner_html`` must already be safe markup (from :func:`html_table`, :func:`table` or
    :func:`esc`).

    Examples
    --------
    >>> details("More", "<p>x</p>")
    "<details class='cilib-details'><summary>More</summary><p>x</p></details>"
    """
    o = " open" if open_ else ""
    return (
        f"<details class='cilib-details'{o}><summary>{esc(summary)}</summary>"
        f"{inner_html}</details>"
    )


def figure_html(fig: Figure, alt: str | None = None) -> str:
    """Return a matplotlib figure as an ``<img>`` with an embedded PNG and alt text, and close it.

    ``alt`` defaults to the chart's alt text (:func:`cilib.report.style.alt_text`: the finding
    the chart states, else its titles, axes and legend). The PNG has twice the pixels of its
    display width (:func:`cilib.report.style.figure_png`), so it stays sharp when zoomed.
    """
    if alt is None:
        alt = style.alt_text(fig)
    png, width = style.figure_png(fig)
    plt.close(fig)
    data = base64.b64encode(png).decode("ascii")
    return (
        f"<img class='cilib-figure' alt='{esc(alt)}' width='{int(width)}' "
        f"src='data:image/png;base64,{data}'>"
    )


def item_html(item) -> str:
    """Return one report item (figure, text, frame or HTML fragment) as safe markup."""
    if isinstance(item, Figure):
        return figure_html(item)
    if isinstance(item, str):
        return f"<p class='cilib-note'>{esc(item)}</p>"
    if isinstance(item, pd.DataFrame):
        return html_table(item)
    inner = getattr(item, "data", None)
    if not isinstance(inner, str):
        raise TypeError(f"Cannot show {type(item).__name__} in a report.")
    return inner


def fold(items, summary: str, *, open_: bool = False):
    """Return report items (figures, notes, tables) folded into one ``<details>`` box.

    The detail stays one click away: the box's ``summary`` line says what is inside.
    """
    if isinstance(items, (Figure, str, pd.DataFrame)) or hasattr(items, "data"):
        items = [items]
    return _html(details(summary, "".join(item_html(i) for i in items), open_=open_))


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


_CAPTION = re.compile(r"^<p><b>(.*?)</b></p>", re.S)


def fold_each_table(items) -> list:
    """Return report items with each table folded into a ``<details>`` box named by its caption.

    Figures and notes stay in view; a table (HTML holding ``<table``) becomes one click away.
    Items already folded (a ``<details>`` box) are left as they are.
    """
    out = []
    for item in items:
        data = getattr(item, "data", None)
        if isinstance(item, pd.DataFrame):
            out.append(fold(item, "Table"))
        elif isinstance(data, str) and "<table" in data and not data.startswith("<details"):
            m = _CAPTION.match(data)
            title = html.unescape(m.group(1)) if m else "Table"
            out.append(_html(details(title, data)))
        else:
            out.append(item)
    return out


def show_all(items, *, fold_tables: bool = False, fold_all: str | None = None) -> None:
    """Display each item of a report section in order (figures once, then closed).

    Text is shown as a note and frames as :func:`table`, so nothing reaches the page unescaped.
    ``fold_tables=True`` folds each table into a ``<details>`` box named by its caption
    (:func:`fold_each_table`); ``fold_all`` folds the whole section into one box with that summary
    line.
    """
    from IPython.display import display

    items = list(items)
    if fold_tables:
        items = fold_each_table(items)
    if fold_all is not None and items:
        items = [fold(items, fold_all)]
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

