"""Assess Needs: the tables behind the ``01_assess_needs`` report.

Pupil-level attendance and attainment for one school or the trust, each lens's gaps
(:func:`lens_table`), gaps over time and the ranked needs. Every figure comes from
:mod:`cilib.stats.equity` (n, uncertainty, suppression).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cilib.core.calendar import academic_year_of
from cilib.core.groups import LENS_LABELS
from cilib.data.store import Store
from cilib.measures.metrics import persistently_absent
from cilib.report.derived import frame_fingerprint, shared_frame
from cilib.report.style import COLOURS, new_axes
from cilib.stats import equity, suppression
from cilib.stats.trend import gap_trend, gap_trend_from_gaps

#: Persistent absence: missing 10% or more of possible sessions (the DfE definition).
PUPIL_COLUMNS = [
    "pupil_id",
    "academic_year",
    "year_group",
    "gender",
    "disadvantaged",
    "fsm",
    "sen",
    "eal",
    "ethnicity",
    "prior_attainment",
]


def _scope(df: pd.DataFrame, school_id: str | None) -> pd.DataFrame:
    return df if school_id is None else df.loc[df["school_id"] == school_id]


def with_pupils(store: Store, df: pd.DataFrame) -> pd.DataFrame:
    """Attach each pupil's characteristics for the row's academic year (a left join)."""
    pupils = store.table("pupils")
    cols = [c for c in PUPIL_COLUMNS if c in pupils.columns] + [
        c for c in store.lenses if c in pupils.columns and c not in PUPIL_COLUMNS
    ]
    if "academic_year" not in df.columns:
        df = df.assign(academic_year=df["period"].map(academic_year_of))
    extra = [c for c in cols if c in df.columns and c not in ("pupil_id", "academic_year")]
    return df.drop(columns=extra).merge(pupils[cols], on=["pupil_id", "academic_year"], how="left")


def attendance_pupils(
    store: Store, school_id: str | None = None, *, periods: list[str] | None = None
) -> pd.DataFrame:
    """One row per pupil and period: sessions, attendance rate (0-1) and persistent absence.

    ``rate = attended_sessions / possible_sessions``; ``persistent_absence`` is
    :func:`cilib.measures.metrics.persistently_absent` (missed 10% or more of possible sessions).
    Rows with no possible sessions are left out (no rate can be formed).
    """
    att = _scope(store.table("attendance"), school_id)
    periods = periods or store.periods
    att = att.loc[att["period"].isin(periods) & (att["possible_sessions"] > 0)]
    att = att.assign(
        possible=att["possible_sessions"].astype("float64"),
        attended=att["attended_sessions"].astype("float64"),
    )
    att = att.assign(rate=att["attended"] / att["possible"])
    att = att.assign(
        persistent_absence=persistently_absent(att["possible"], att["attended"]).astype("float64")
    )
    return with_pupils(store, att)


def attendance_year_to_date(store: Store, school_id: str | None = None) -> pd.DataFrame:
    """One row per pupil: sessions summed over the academic year up to the report period."""
    year = academic_year_of(store.period)
    periods = [p for p in store.periods if academic_year_of(p) == year]
    att = attendance_pupils(store, school_id, periods=periods)
    keys = ["pupil_id", "school_id", "academic_year"]
    ytd = att.groupby(keys, as_index=False)[["possible", "attended"]].sum()
    ytd = ytd.assign(rate=ytd["attended"] / ytd["possible"])
    ytd = ytd.assign(
        persistent_absence=persistently_absent(ytd["possible"], ytd["attended"]).astype("float64")
    )
    return with_pupils(store, ytd)


def latest_assessment_period(store: Store, school_id: str | None = None) -> str | None:
    """Return the latest period, up to the report period, that has assessment results."""
    a = _scope(store.table("assessments"), school_id)
    have = set(a["period"].unique())
    for p in reversed(store.periods):
        if p in have:
            return p
    return None


def attainment_pupils(
    store: Store, school_id: str | None = None, *, periods: list[str] | None = None
) -> pd.DataFrame:
    """Assessment scores (one row per pupil, period, subject) with pupil characteristics."""
    a = _scope(store.table("assessments"), school_id)
    a = a.loc[a["period"].isin(periods or store.periods) & a["score"].notna()]
    return with_pupils(store, a)


def _label(lens: str, value) -> str:
    if isinstance(value, (bool, np.bool_)):
        return "Yes" if value else "No"
    return str(value).replace("_", " ")


#: Label of the trust row when school rows and the trust are suppressed together.
TRUST_ROW = "All schools"
#: Groups that are not pupil groups a plan can target (never listed as needs).
NOT_A_NEED = (suppression.FOLD_LABEL, suppression.NOT_RECORDED)


def _lens_rows(
    df: pd.DataFrame, value: str, lenses: list[str], *, kind, weight, threshold, by
) -> pd.DataFrame:
    """Each lens group's summary and gap, plus an "All pupils" row per lens (unsuppressed)."""
    rows = []
    total = equity.group_summary(
        df, value, by or None, kind=kind, weight=weight, threshold=threshold
    )
    for lens in lenses:
        d = df.loc[df[lens].notna()]
        summ = equity.group_summary(
            d, value, by + [lens], kind=kind, weight=weight, threshold=threshold
        )
        for level in summ[lens].drop_duplicates().tolist():
            g = equity.gap(
                d,
                value,
                lens,
                focus=level,
                by=by or None,
                kind=kind,
                weight=weight,
                threshold=threshold,
            )
            s = summ.loc[summ[lens] == level]
            merged = s.merge(g, on=by, how="left") if by else s.assign(**g.iloc[0].to_dict())
            merged = merged.assign(lens=LENS_LABELS.get(lens, lens), group=_label(lens, level))
            rows.append(merged.drop(columns=[lens]))
        rows.append(total.assign(lens=LENS_LABELS.get(lens, lens), group="All pupils"))
    out = pd.concat(rows, ignore_index=True)
    if "suppressed_x" in out.columns:
        out["suppressed"] = out["suppressed_x"].fillna(False) | out["suppressed_y"].fillna(False)
    out["suppressed"] = out["suppressed"].fillna(False).astype(bool)
    return out


_VALUES = ["value", "ci_low", "ci_high", "gap", "gap_ci_low", "gap_ci_high", "effect_size"]


def lens_table(
    df: pd.DataFrame,
    value: str,
    lenses: list[str],
    *,
    kind: str = "mean",
    weight: str | None = None,
    threshold: int = 5,
    by: list[str] | None = None,
    scale: float = 1.0,
    school: str | None = None,
    school_col: str = "school_id",
    bounds: tuple[float, float] | None = None,
    store: Store | None = None,
) -> pd.DataFrame:
    """Each lens group's n, value and interval, and its gap to everyone else in the lens.

    One row per (``by`` cell,) lens and group. ``gap`` is the group's value minus the value of
    all other pupils (Welch for means, Newcombe for rates; :func:`cilib.stats.equity.gap`) with its
    interval and Hedges' g. ``scale`` multiplies values and gaps for display (100 for
    percentages).

    Disclosure control (:mod:`cilib.stats.suppression`): categories with fewer than
    ``threshold`` pupils are folded with pupils not recorded into "Other or not recorded", or
    left out of the table when even that group is too small
    (:func:`~cilib.stats.suppression.fold_small_groups`); pupils with no recorded value form a
    group of their own, so the groups always add up to "All pupils". Small groups are
    suppressed, and complementary suppression makes sure no hidden group can be worked out from
    the total and the shown groups. When ``df`` has a ``school_col`` column, every school's table
    and the trust's (school rows add up to a trust row, :data:`TRUST_ROW`) are suppressed
    together, so the school reports and the trust report cannot be subtracted from one another.
    The result is the table for ``school`` (``None``: the trust), or every school's rows when
    ``school_col`` is in ``by``. ``bounds`` is the value's possible range (default ``(0, 1)`` for
    rates, else the lowest and highest pupil value): a hidden group at either end is not shown.
    Footnotes for folded or left-out groups are in ``result.attrs["footnotes"]``. With a
    ``store`` (that ``df`` comes from), the suppressed table of every school and the trust is
    worked out once per run and shared by the reports
    (:func:`cilib.report.derived.shared_frame`, keyed by ``df``'s content and the options).
    """
    by = list(by or [])
    lenses = [x for x in lenses if x in df.columns]
    if not lenses or not len(df):
        return pd.DataFrame()
    joint = school_col in df.columns
    inner = [c for c in by if c != school_col]

    def make() -> pd.DataFrame:
        return _suppressed_lens_rows(
            df, value, lenses, kind=kind, weight=weight, threshold=threshold, inner=inner,
            school_col=school_col, bounds=bounds,
        )

    if store is None:
        out = make()
    else:
        key = (frame_fingerprint(df), value, lenses, kind, weight, threshold, inner, school_col,
               bounds)
        out = shared_frame(store, "lens_table", *key, make=make)
    notes = list(out.attrs.get("footnotes", []))
    if joint and school_col in by:
        out = out.loc[out[school_col] != TRUST_ROW]
        out = out[by + [c for c in out.columns if c not in by]]
    elif joint:
        out = out.loc[out[school_col] == (TRUST_ROW if school is None else school)]
        out = out.drop(columns=[school_col])
    out = out.reset_index(drop=True)
    for c in ["value", "ci_low", "ci_high", "gap", "gap_ci_low", "gap_ci_high"]:
        out[c] = out[c] * scale
    out.attrs["footnotes"] = notes
    return out


def _suppressed_lens_rows(
    df: pd.DataFrame, value: str, lenses: list[str], *, kind, weight, threshold, inner,
    school_col, bounds,
) -> pd.DataFrame:
    """Return the suppressed lens rows of every school and the trust (or of ``df`` whole)."""
    joint = school_col in df.columns
    folded = suppression.fold_small_groups(
        df,
        lenses,
        threshold,
        by=inner or None,
        pupil="pupil_id" if "pupil_id" in df.columns else None,
        labels=LENS_LABELS,
    )
    d = folded.rows
    if bounds is None:
        vals = pd.to_numeric(d[value], errors="coerce")
        bounds = (0.0, 1.0) if kind == "rate" else (float(vals.min()), float(vals.max()))
    kw = dict(kind=kind, weight=weight, threshold=threshold)
    if joint:
        parts = [
            _lens_rows(d, value, lenses, by=inner + [school_col], **kw),
            _lens_rows(d, value, lenses, by=inner, **kw).assign(**{school_col: TRUST_ROW}),
        ]
        out = pd.concat(parts, ignore_index=True)
    else:
        out = _lens_rows(d, value, lenses, by=inner, **kw)
    centre = "rate" if kind == "rate" else "mean"
    out = out.rename(columns={centre: "value"})
    keys = ([school_col] if joint else []) + inner
    keep = keys + ["lens", "group", "n"] + _VALUES + ["suppressed"]
    out = out[[c for c in keep if c in out.columns]].copy()
    out = suppression.suppress(
        out,
        threshold,
        count_cols="n",
        group_col="group",
        total_row="All pupils",
        by=inner + ["lens"],
        across=school_col if joint else None,
        across_total=TRUST_ROW if joint else None,
        value_col="value",
        bounds=bounds,
        value_cols=[c for c in _VALUES if c in out.columns],
        hide_counts=True,
    )
    out.attrs["footnotes"] = list(folded.notes)
    return out


def gap_over_time(
    df: pd.DataFrame,
    value: str,
    *,
    focus_column: str,
    focus_value,
    periods: list[str],
    kind: str = "mean",
    weight: str | None = None,
    threshold: int = 5,
    by: list[str] | None = None,
    scale: float = 1.0,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return the focus group's gap per period and its trend.

    With pupil-level rows (a ``pupil_id`` column) the trend is
    :func:`cilib.stats.trend.gap_trend`'s, with pupil-clustered inference; otherwise the gap-level
    :func:`cilib.stats.trend.gap_trend_from_gaps`.
    """
    by = by or []
    g = equity.gap(
        df,
        value,
        focus_column,
        focus=focus_value,
        by=by + ["period"],
        kind=kind,
        weight=weight,
        threshold=threshold,
    )
    g = g.loc[g["period"].isin(periods)].copy()
    order = [p for p in periods if p in set(g["period"])]
    if not len(order):
        trend = pd.DataFrame()
    elif "pupil_id" in df.columns and weight is None:
        # pupil-level rows: the same pupils repeat across periods, so pupil-clustered inference
        trend = gap_trend(
            df.loc[df["period"].isin(order)],
            "period",
            value=value,
            group=focus_column,
            focus=focus_value,
            pupil="pupil_id",
            by=by or None,
            order=order,
            threshold=threshold,
        )
    else:
        trend = gap_trend_from_gaps(g, "period", order=order)
    for c in ["focus", "comparison", "gap", "gap_ci_low", "gap_ci_high", "gap_se"]:
        if c in g.columns:
            g[c] = g[c] * scale
    for c in ["slope", "slope_ci_low", "slope_ci_high"]:
        if c in trend.columns:
            trend[c] = trend[c] * scale
    g["period"] = pd.Categorical(g["period"], categories=order, ordered=True)
    return g.sort_values(by + ["period"]).reset_index(drop=True), trend


def attendance_gap_over_time(
    store: Store, school_id: str | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return the focus group's attendance gap per half-term (points) and its trend verdict."""
    per = attendance_pupils(store, school_id)
    if not len(per):
        return pd.DataFrame(), pd.DataFrame()
    focus = store.focus
    return gap_over_time(
        per,
        "rate",
        focus_column=focus.column,
        focus_value=focus.value,
        periods=store.periods,
        threshold=store.threshold,
        scale=100,
    )


def plot_gap_over_time(gaps: pd.DataFrame, *, title: str, ylabel: str, ax=None):
    """Chart the focus and comparison values per period with the gap's interval shaded."""
    fig, ax = new_axes(ax, title=title, figsize=(8, 4.2))
    x = np.arange(len(gaps))
    ax.plot(
        x, gaps["comparison"], marker="s", color=COLOURS["comparison"], label="Comparison group"
    )
    ax.plot(x, gaps["focus"], marker="o", color=COLOURS["focus"], label="Focus group")
    ax.set_xticks(x, [str(p) for p in gaps["period"]], rotation=45, ha="right")
    ax.set_ylabel(ylabel)
    ax.legend(loc="best")
    fig.tight_layout()
    return fig


def needs_ranking(store: Store, school_id: str | None = None, *, top: int = 8) -> pd.DataFrame:
    """Return a short ranked list of needs: the largest gaps for pupil groups, beyond noise.

    Candidates are every lens group's gap (against all other pupils) in year-to-date attendance,
    persistent absence and the latest assessment score in each subject. A gap counts as a need
    when it is to the group's disadvantage and its 95% interval excludes zero; needs are ranked by
    the size of the standardised effect (Hedges' g), so measures on different scales compare.
    Suppressed cells are never listed. Prior attainment is left out as a lens for scores: pupils
    with low prior attainment score lower by construction, which is not a need in itself.
    """
    thr = store.threshold
    lenses = store.lenses
    parts = []
    # trust-wide rows, so the school's table is suppressed together with every school's and the
    # trust's, exactly as the tables in the reports are
    ytd = attendance_year_to_date(store, None)
    if school_id is not None and not (ytd["school_id"] == school_id).any():
        ytd = ytd.iloc[0:0]
    if len(ytd):
        kw = dict(threshold=thr, scale=100, school=school_id, store=store)
        t = lens_table(ytd, "rate", lenses, kind="mean", **kw)
        parts.append(t.assign(measure="Attendance (%), year to date", harmful=t["gap"] < 0))
        t = lens_table(ytd, "persistent_absence", lenses, kind="rate", **kw)
        parts.append(t.assign(measure="Persistent absence (%), year to date", harmful=t["gap"] > 0))
    latest = latest_assessment_period(store, school_id)
    if latest:
        a = attainment_pupils(store, None, periods=[latest])
        # prior attainment predicts later scores by construction: not a need in itself
        t = lens_table(
            a,
            "score",
            [x for x in lenses if x != "prior_attainment"],
            kind="mean",
            threshold=thr,
            by=["subject"],
            school=school_id,
            store=store,
        )
        t = t.assign(
            measure="Score in " + t["subject"].astype("str") + f" ({latest})", harmful=t["gap"] < 0
        )
        parts.append(t.drop(columns=["subject"]))
    if not parts:
        return pd.DataFrame(
            columns=[
                "rank",
                "measure",
                "lens",
                "group",
                "n",
                "gap",
                "gap_ci_low",
                "gap_ci_high",
                "effect_size",
            ]
        )
    allrows = pd.concat(parts, ignore_index=True)
    sig = (allrows["gap_ci_low"] > 0) | (allrows["gap_ci_high"] < 0)
    needs = allrows.loc[
        (allrows["group"] != "All pupils")
        & ~allrows["group"].isin(NOT_A_NEED)
        & ~allrows["suppressed"]
        & sig
        & allrows["harmful"]
    ].copy()
    needs["size"] = needs["effect_size"].abs()
    needs = needs.sort_values("size", ascending=False).head(top).reset_index(drop=True)
    needs.insert(0, "rank", np.arange(1, len(needs) + 1))
    return needs[
        [
            "rank",
            "measure",
            "lens",
            "group",
            "n",
            "value",
            "gap",
            "gap_ci_low",
            "gap_ci_high",
            "effect_size",
        ]
    ]
