"""Widgets for analysts: slice any measure by school, half-terms, lens and focus group.

:func:`explore_view` is the pure function behind the ``explore`` notebook: given the prepared
store and the choices, it returns a table (one row per period: the focus group, the rest of the
lens and all pupils, with n, the value and the gap with its 95% interval) and a figure (a control
chart per group, :func:`cilib.stats.spc.chart` and :func:`cilib.stats.spc.plot_groups`). Every
figure comes
from :func:`cilib.measures.metrics.compute_metric`; gaps and their intervals from
:mod:`cilib.stats.equity`.
:func:`explorer` wraps it in ipywidgets controls that re-render an Output area on every change.

Suppression: a group with fewer than ``store.threshold`` pupils shows no n, value or gap, and
neither does the other side of the lens in that period (it could otherwise be worked back from
the all-pupils figure).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from cilib.core.errors import CilibError, DataError
from cilib.core.groups import LENS_LABELS
from cilib.data.store import Store
from cilib.measures.metrics import compute_metric, validate_metric
from cilib.measures.registry import REGISTRY, metric_label, names_of_kind
from cilib.report.charts import spc as spc_charts
from cilib.report.html import PNG_METADATA, note
from cilib.report.html import table as html_table
from cilib.report.sections.needs_tables import attendance_pupils
from cilib.report.style import new_axes
from cilib.stats import equity, spc

#: Measures every store with the table offers: label -> metric definition.
BASE_MEASURES: dict[str, dict[str, Any]] = {
    m.title: {"table": m.table, "measure": m.name} for m in REGISTRY.values() if m.title
}
GROUP_COLUMNS = ["focus", "comparison", "all"]


def measure_options(store: Store) -> dict[str, dict[str, Any]]:
    """Return the measures the store can show: label -> metric definition.

    Attendance rate and persistent absence, behaviour, the mean score in each subject, the mean
    of each survey scale and each systems measure, for the tables the store has.
    """
    have = set(store.tables)
    out = {k: v for k, v in BASE_MEASURES.items() if v["table"] in have}
    if "assessments" in have:
        for subj in sorted(store.table("assessments")["subject"].dropna().unique()):
            out[f"Score: {subj}"] = {
                "table": "assessments",
                "measure": "mean_score",
                "filter": {"subject": str(subj)},
            }
    if {"survey_responses", "survey_items"} <= have:
        for scale in sorted(store.table("survey_items")["scale"].dropna().unique()):
            out[f"Survey scale mean: {_words(scale)}"] = {
                "table": "survey_responses",
                "measure": "scale_mean",
                "scale": str(scale),
            }
    if "systems" in have:
        for m in sorted(store.table("systems")["measure"].dropna().unique()):
            metric = {"table": "systems", "measure": str(m)}
            out[f"Systems: {metric_label(metric)[0]}"] = metric
    return out


def _words(code: Any) -> str:
    """Return a code as words: ``"learning_climate"`` -> ``"learning climate"``."""
    return str(code).replace("_", " ")


def lens_options(store: Store) -> list[tuple[str, str]]:
    """Return the lenses the store's pupils table has as ``(label, column)`` pairs.

    Labels come from :data:`cilib.core.groups.LENS_LABELS` (``"sen"`` -> "Special educational
    needs"); a lens with no label shows its column name as words.
    """
    have = store.table("pupils").columns
    return [(LENS_LABELS.get(x, _words(x).capitalize()), x) for x in store.lenses if x in have]


def focus_options(store: Store, lens: str) -> list[tuple[str, Any]]:
    """Return the values of a lens as ``(label, value)`` pairs, e.g. ``[("Yes", True), ...]``."""
    pupils = store.table("pupils")
    if lens not in pupils.columns:
        raise DataError(
            f"lens {lens!r} is not a pupils column; use one of {', '.join(store.lenses)}"
        )
    vals = pupils[lens].dropna().unique().tolist()
    if pd.api.types.is_bool_dtype(pupils[lens]):
        return [("Yes", True), ("No", False)]
    return [(_words(v), v) for v in sorted(vals, key=str)]


def _periods(store: Store, periods: Sequence[str] | None) -> list[str]:
    cal = store.periods
    if periods is None:
        return list(cal)
    periods = list(periods)
    bad = [p for p in periods if p not in cal]
    if bad:
        raise DataError(f"period {bad[0]!r} is not in the calendar up to {store.period}")
    if len(periods) == 2:
        i, j = sorted((cal.index(periods[0]), cal.index(periods[1])))
        return cal[i : j + 1]
    return periods


def _gap_stats(res: pd.DataFrame, kind: str) -> pd.DataFrame:
    """Focus and comparison sufficient statistics per period from compute_metric's result."""
    f = res.loc[res["group"] == "focus"].set_index("period")
    c = res.loc[res["group"] == "comparison"].set_index("period")
    idx = f.index.union(c.index, sort=False)
    f, c = f.reindex(idx), c.reindex(idx)
    stats = pd.DataFrame(
        {"n_focus": f["n"].fillna(0).astype(float), "n_comparison": c["n"].fillna(0).astype(float)},
        index=idx,
    )
    if kind == "mean":
        stats["mean_focus"], stats["sd_focus"] = f["value"], f["sd"]
        stats["mean_comparison"], stats["sd_comparison"] = c["value"], c["sd"]
    else:
        stats["successes_focus"], stats["trials_focus"] = f["numerator"], f["denominator"]
        stats["successes_comparison"] = c["numerator"]
        stats["trials_comparison"] = c["denominator"]
    return stats.rename_axis("period").reset_index()


def _gaps(
    store: Store,
    metric: dict[str, Any],
    res: pd.DataFrame,
    *,
    school_id: str | None,
    periods: list[str],
    lens: str,
    focus: Any,
) -> pd.DataFrame:
    """Gap (focus minus comparison) per period with its 95% interval, on the measure's scale."""
    thr = store.threshold
    cols = ["period", "gap", "gap_ci_low", "gap_ci_high"]
    m = metric["measure"]
    if metric["table"] == "systems" or not (res["group"] == "focus").any():
        return pd.DataFrame(columns=cols)
    if m == "attendance_rate":
        # the pooled rate Σ attended / Σ possible, with the effective number of trials per
        # pupil (sessions of one pupil are not independent): equity.gap with weight
        att = attendance_pupils(store, school_id, periods=periods)
        att = att.loc[att[lens].notna()]
        if not att[lens].isin([focus]).any():
            return pd.DataFrame(columns=cols)
        g = equity.gap(
            att,
            "rate",
            lens,
            focus=focus,
            by="period",
            kind="rate",
            weight="possible",
            threshold=thr,
        )
        scale = 100.0
    elif m in names_of_kind("mean"):
        g = equity.gap_from_stats(_gap_stats(res, "mean"), kind="mean", threshold=thr)
        scale = 1.0
    elif m in names_of_kind("share"):
        g = equity.gap_from_stats(_gap_stats(res, "rate"), kind="rate", threshold=thr)
        scale = 100.0
    else:  # incidents per 100 pupils: a difference of two rates per 100, no interval here
        s = _gap_stats(res, "mean")
        small = (s["n_focus"] < thr) | (s["n_comparison"] < thr)
        gap = (s["mean_focus"] - s["mean_comparison"]).where(~small)
        return pd.DataFrame(
            {"period": s["period"], "gap": gap, "gap_ci_low": np.nan, "gap_ci_high": np.nan}
        )
    out = g[cols].copy()
    for c in cols[1:]:
        out[c] = out[c].astype("float64") * scale
    return out


def explore_view(
    store: Store,
    *,
    school_id: str | None = None,
    periods: Sequence[str] | None = None,
    measure: str | dict[str, Any] = "Attendance rate (%)",
    lens: str | None = None,
    focus: Any = None,
) -> tuple[pd.DataFrame, Any]:
    """Return the table and chart the explorer shows for one set of choices.

    Parameters
    ----------
    store
        The prepared store.
    school_id
        One school, or None for the whole trust.
    periods
        ``(first, last)`` period labels (a range, inclusive), a longer list of labels, or None
        for every period up to the store's report period.
    measure
        A label from :func:`measure_options` (e.g. ``"Score: reading"``) or a metric
        definition (``{"table": "attendance", "measure": "attendance_rate"}``).
    lens
        Pupil characteristic to split by (default: the configured focus group's column).
    focus
        The lens value that is the focus group (default: the configured focus value when the
        lens is the focus column, else the lens's first value).

    Returns
    -------
    tuple
        ``(table, figure)``. The table has one row per period: ``period``, ``n_focus``,
        ``focus``, ``n_comparison``, ``comparison``, ``n_all``, ``all``, ``gap``,
        ``gap_ci_low``, ``gap_ci_high``, ``suppressed`` (values on the measure's scale, e.g.
        per cent; formulas in :mod:`cilib.measures.metrics`). Where the focus or comparison group
        has
        fewer than ``store.threshold`` pupils, both groups' n and values and the gap are NaN
        and ``suppressed`` is True. The figure is a matplotlib Figure (XmR chart per group, or
        a run chart when there are too few points).

    Raises
    ------
    DataError
        An unknown measure, lens or period, or a school with no rows for the measure.
    """
    options = measure_options(store)
    if isinstance(measure, str):
        if measure not in options:
            raise DataError(f"unknown measure {measure!r}; choose one of: {', '.join(options)}")
        label, metric = measure, options[measure]
    else:
        metric = validate_metric(measure)
        label = next((k for k, v in options.items() if v == measure), str(measure["measure"]))
    metric = validate_metric(metric)
    fg = store.focus
    lens = lens or fg.column
    choices = focus_options(store, lens)
    if focus is None:
        focus = fg.value if lens == fg.column else choices[0][1]
    elif focus not in [v for _, v in choices]:
        raise DataError(
            f"focus {focus!r} is not a value of {lens!r}; values: {[v for _, v in choices]}"
        )
    periods = _periods(store, periods)
    names = [metric["table"], "pupils"] + (
        ["survey_items"] if metric["table"] == "survey_responses" else []
    )
    tables = {t: store.table(t) for t in names}
    res = compute_metric(
        tables,
        metric,
        school_id=school_id,
        focus={"column": lens, "value": focus},
        periods=periods,
    )
    if res.empty or not res["period"].isin(periods).any():
        where = store.school_name(school_id)
        raise DataError(
            f"{where} has no data for {label.lower()} in these half-terms (each subject is "
            "assessed only in the phases that teach it, and some measures apply only to the "
            "schools running a strategy). Choose another measure or school."
        )
    table = _view_table(res, periods, store.threshold, metric)
    gaps = _gaps(store, metric, res, school_id=school_id, periods=periods, lens=lens, focus=focus)
    table = table.drop(columns=["gap", "gap_ci_low", "gap_ci_high"]).merge(
        gaps.astype({"period": "str"}), on="period", how="left"
    )
    for c in ("gap", "gap_ci_low", "gap_ci_high"):
        table[c] = table[c].astype("float64").where(~table["suppressed"])
    focus_label = next(lbl for lbl, v in choices if v == focus)
    fig = _figure(
        table,
        periods,
        title=f"{label}: {store.school_name(school_id)}",
        focus_label=f"{LENS_LABELS.get(lens, _words(lens))}: {focus_label}",
        systems=metric["table"] == "systems",
    )
    cols = ["period", "n_focus", "focus", "n_comparison", "comparison", "n_all", "all"]
    cols += ["gap", "gap_ci_low", "gap_ci_high", "suppressed"]
    return table[cols], fig


def _view_table(
    res: pd.DataFrame, periods: list[str], threshold: int, metric: dict[str, Any]
) -> pd.DataFrame:
    """One row per period with each group's n and value, suppressed below the threshold."""
    t = pd.DataFrame({"period": [p for p in periods if p in set(res["period"])]})
    for g in GROUP_COLUMNS:
        r = res.loc[res["group"] == g, ["period", "n", "value"]]
        r = r.rename(columns={"n": f"n_{g}", "value": g})
        t = t.merge(r, on="period", how="left")
        t[f"n_{g}"] = t[f"n_{g}"].astype("Int64")
        t[g] = t[g].astype("float64")
    small = pd.Series(False, index=t.index)
    if metric["table"] != "systems":
        for g in ("focus", "comparison"):
            small |= t[f"n_{g}"].fillna(0).astype(int) < threshold
    for g in ("focus", "comparison"):
        t[g] = t[g].where(~small)
        t[f"n_{g}"] = t[f"n_{g}"].where(~small)
    t["all"] = t["all"].where(t["n_all"].fillna(0).astype(int) >= threshold)
    if metric["table"] == "systems":  # school-level measure: n counts schools, not pupils
        t["all"] = (
            res.loc[res["group"] == "all"]
            .set_index("period")["value"]
            .reindex(t["period"])
            .to_numpy()
        )
    t["gap"], t["gap_ci_low"], t["gap_ci_high"] = np.nan, np.nan, np.nan
    t["suppressed"] = small.astype(bool)
    return t


def _figure(table: pd.DataFrame, periods: list[str], *, title: str, focus_label: str, systems):
    """XmR chart per group (run chart if too few points); a message if none can be drawn."""
    order = list(table["period"])
    groups = {"All": "all"} if systems else {focus_label: "focus", "Others": "comparison"}
    charts = {}
    for name, col in groups.items():
        d = table[["period", col]].rename(columns={col: "value"})
        if d["value"].notna().sum() < 2:
            continue
        for kind in ("xmr", "run"):
            try:
                charts[name] = spc.chart(
                    d, "value", "period", kind=kind, options=spc.ChartOptions(order=order)
                )
                break
            except DataError:
                continue
    if not charts:
        fig, ax = new_axes(title=title)
        ax.text(
            0.5,
            0.5,
            "Too few periods with data (or groups too small) to chart.",
            ha="center",
            va="center",
            transform=ax.transAxes,
        )
        ax.set_axis_off()
        return fig
    axes = spc_charts.plot_groups(charts, title=title, overlay=False)
    fig = axes[0].figure
    for ax in axes:  # half-term labels are long: slant them so they never overlap
        for label in ax.get_xticklabels():
            label.set_rotation(45)
            label.set_horizontalalignment("right")
    fig.tight_layout()
    return fig


def display_frame(table: pd.DataFrame, threshold: int):
    """Return the explorer's table as HTML, suppressed cells shown as ``x`` with the footnote."""
    rename = {
        "period": "Period",
        "n_focus": "n (focus)",
        "focus": "Focus group",
        "n_comparison": "n (others)",
        "comparison": "Others",
        "n_all": "n (all)",
        "all": "All",
        "gap": "Gap",
        "gap_ci_low": "Gap CI low",
        "gap_ci_high": "Gap CI high",
    }
    shown = table.copy()
    shown["all"] = shown["all"].map(lambda v: "" if pd.isna(v) else f"{v:,.1f}").astype("str")
    shown["n_all"] = shown["n_all"].map(lambda v: "" if pd.isna(v) else f"{int(v):,}")
    masked = ["n_focus", "focus", "n_comparison", "comparison", "gap", "gap_ci_low", "gap_ci_high"]
    return html_table(shown, threshold=threshold, value_columns=masked, rename=rename)


def _png(fig):

    from IPython.display import Image


    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight", metadata=PNG_METADATA)
    plt.close(fig)
    return Image(data=buf.getvalue(), format="png")


def explorer(store: Store):
    """Return an ipywidgets VBox of controls that re-render an Output area on every change.

    Controls: school (or the whole trust), period range, measure (:func:`measure_options`), lens
    and focus group (the lens's values). Each change calls :func:`explore_view` and replaces the
    Output's contents with the table and chart (or a note saying why nothing can be shown).
    The box's ``controls`` (dict of widgets) and ``output`` attributes give access to them.
    """
    import ipywidgets as w


    options = measure_options(store)
    fg = store.focus
    per = store.periods
    start = per[max(0, len(per) - 18)]
    schools = [("Whole trust", None)] + [(store.school_name(s), s) for s in store.school_ids]
    lenses = lens_options(store)
    columns = [c for _, c in lenses]
    controls = {
        # index=0 selects "Whole trust": value=None would leave the dropdown blank
        "school": w.Dropdown(options=schools, index=0, description="School"),
        "periods": w.SelectionRangeSlider(
            options=per,
            index=(per.index(start), len(per) - 1),
            description="Periods",
            layout=w.Layout(width="600px"),
        ),
        "measure": w.Dropdown(options=list(options), description="Measure"),
        "lens": w.Dropdown(
            options=lenses,
            value=fg.column if fg.column in columns else columns[0],
            description="Lens",
        ),
        "focus": w.Dropdown(description="Focus group"),
    }
    out = w.Output()
    state = {"busy": False}

    def render(_change=None) -> None:
        if state["busy"]:
            return
        out.outputs = ()
        try:
            table, fig = explore_view(
                store,
                school_id=controls["school"].value,
                periods=controls["periods"].value,
                measure=controls["measure"].value,
                lens=controls["lens"].value,
                focus=controls["focus"].value,
            )
        except CilibError as exc:
            out.append_display_data(note(f"Nothing to show for this choice: {exc}", warn=True))
            return
        out.append_display_data(display_frame(table, store.threshold))
        out.append_display_data(_png(fig))

    def set_focus_options(_change=None) -> None:
        lens = controls["lens"].value
        opts = focus_options(store, lens)
        state["busy"] = True
        controls["focus"].options = opts
        values = [v for _, v in opts]
        controls["focus"].value = (
            fg.value if lens == fg.column and fg.value in values else values[0]
        )
        state["busy"] = False

    set_focus_options()
    controls["lens"].observe(set_focus_options, names="value")
    for c in controls.values():
        c.observe(render, names="value")
    render()
    box = w.VBox(
        [
            w.HBox([controls["school"], controls["measure"]]),
            controls["periods"],
            w.HBox([controls["lens"], controls["focus"]]),
            out,
        ]
    )
    box.controls = controls
    box.output = out
    return box
