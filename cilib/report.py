"""Building blocks for the HTML reports: header, headlines, tables with suppression, figures.

Notebooks call these so that every report looks the same and no cell has to format HTML by hand.
Each function returns an object that Jupyter displays (``IPython.display.HTML``) or displays a
figure and closes it, so that a chart is shown exactly once.
"""

from __future__ import annotations

import html
from collections.abc import Iterable

import numpy as np
import pandas as pd

from cilib.equity import SUPPRESSED_SYMBOL, SUPPRESSION_FOOTNOTE
from cilib.store import Store


def suppression_footnote(threshold: int) -> str:
    """Return the footnote explaining suppressed cells (``equity.SUPPRESSION_FOOTNOTE``)."""
    return SUPPRESSION_FOOTNOTE.format(threshold=threshold)


def _html(text: str):
    from IPython.display import HTML

    return HTML(text)


def header(store: Store, school_id: str | None, title: str):
    """Return the report header: title, trust, school (or whole trust), period, data as of."""
    who = "Whole trust" if school_id is None else store.school_name(school_id)
    prepared = store.meta.get("prepared_at", "")[:10]
    return _html(
        f"<h1>{html.escape(title)}: {html.escape(who)}</h1>"
        f"<p class='cilib-header'><b>{html.escape(store.meta['trust_name'])}</b> · "
        f"period <b>{html.escape(store.period)}</b> · data as of <b>{html.escape(store.period)}</b>"
        f" (prepared {html.escape(prepared)})</p>"
    )


def headlines(items: Iterable[str], *, title: str = "Headlines"):
    """Return a short boxed list of headline sentences written from the data."""
    lis = "".join(f"<li>{html.escape(str(i))}</li>" for i in items if i)
    if not lis:
        lis = "<li>No headline could be computed from the data for this period.</li>"
    return _html(f"<div class='cilib-headlines'><b>{html.escape(title)}</b><ul>{lis}</ul></div>")


def note(text: str, *, warn: bool = False):
    """Return a short note (or a highlighted warning)."""
    cls = "cilib-warn" if warn else "cilib-note"
    return _html(f"<p class='{cls}'>{html.escape(text)}</p>")


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


def table(df: pd.DataFrame, *, threshold: int | None = None, caption: str | None = None, **kw):
    """Return an HTML table of a summary frame, with the suppression footnote when needed."""
    shown = format_table(df, **kw)
    parts = []
    if caption:
        parts.append(f"<p><b>{html.escape(caption)}</b></p>")
    text_cols = [c for c in shown.columns if not _looks_numeric(shown[c])]
    styler = shown.style.hide(axis="index").set_properties(
        subset=text_cols, **{"text-align": "left"}
    )
    parts.append(styler.to_html())
    has_suppressed = "suppressed" in df.columns and bool(df["suppressed"].fillna(False).any())
    if has_suppressed and threshold is not None:
        parts.append(f"<p class='cilib-note'>{html.escape(suppression_footnote(threshold))}</p>")
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
            rename={
                "table": "Table",
                "rows_in": "Rows in",
                "rows_clean": "Clean",
                "rows_quarantined": "Set aside",
                "top_rule": "Most common rule broken",
                "rows_after_period": "After this period",
            },
            digits=0,
        ).data,
    ]
    qs = store.quarantine_summary
    if len(qs):
        parts.append(
            table(
                qs,
                caption="Why rows were set aside",
                digits=0,
                rename={
                    "table": "Table",
                    "rule": "Rule",
                    "rows": "Rows",
                    "example_reason": "Example",
                },
            ).data
        )
    return _html("".join(parts))


def show(fig) -> None:
    """Display a matplotlib figure once, as an embedded PNG, and close it.

    The PNG is made here rather than by the notebook's plotting backend, so a chart appears the
    same in JupyterLab, in a papermill run and in the HTML report (where it is embedded, never
    linked).
    """
    import io

    import matplotlib.pyplot as plt
    from IPython.display import Image, display

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
    plt.close(fig)
    display(Image(data=buf.getvalue(), format="png"))


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
    """Display each item of a report section in order (figures once, then closed)."""
    from IPython.display import display
    from matplotlib.figure import Figure

    for item in items:
        if isinstance(item, Figure):
            show(item)
        else:
            display(item)
