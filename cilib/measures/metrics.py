"""Compute a plan goal's metric from the prepared (clean, canonical) tables.

A metric is defined by a small dictionary, written the same way in ``plan.yml``::

    {table: attendance, measure: attendance_rate}
    {table: attendance, measure: persistent_absence}            # threshold: 90 (default)
    {table: assessments, measure: mean_score, filter: {subject: reading}}
    {table: assessments, measure: pct_at_or_above, threshold: 60, filter: {subject: reading}}
    {table: behaviour, measure: incidents_per_100, filter: {incident_type: suspension}}
    {table: survey_responses, measure: scale_mean, scale: belonging}
    {table: systems, measure: staff_absence_rate}               # any systems measure name

Optional keys: ``filter`` (``{column: value}`` or ``{column: [values]}``; the column may belong
to the metric's table, to ``pupils`` joined on ``(pupil_id, academic_year)``, or to ``schools``
joined on ``school_id``) and ``schools`` (a list of school ids the metric is restricted to).

Every result is a tidy frame with one row per period and group, where the groups are
``focus`` (pupils in the focus group, by default ``disadvantaged == True``), ``comparison``
(pupils linked to the pupils table who are not in the focus group) and ``all`` (every row,
linked or not). Columns: ``period, group, n, numerator, denominator, value, sd``;
``numerator`` and ``denominator`` are filled for rates, ``sd`` for means.

Formulas (per period and group)
-------------------------------
- ``attendance_rate`` = 100 × Σ attended_sessions / Σ possible_sessions; n = pupils.
- ``persistent_absence`` = 100 × (pupils who missed at least (100 − threshold)% of their
  possible sessions) / (pupils with possible sessions > 0). With the default threshold of 90 this
  is England's definition: missing 10% or more of possible sessions, i.e. attendance ≤ 90%.
- ``mean_score`` = mean over pupils of each pupil's mean score in the period; sd is the sample
  standard deviation (ddof = 1) of those pupil means; n = pupils.
- ``pct_at_or_above`` = 100 × (pupils whose mean score ≥ threshold) / pupils.
- ``incidents_per_100`` = 100 × Σ incident counts / pupils on roll in that academic year (from the
  ``pupils`` table, so pupils without incidents count in the denominator).
- ``scale_mean`` = mean over respondents of each respondent's mean item response on the scale,
  reverse-coded items scored as ``min + max − response``; sd over respondents; n = respondents.
- systems measures: mean over schools of each school's value; sd over schools; n = schools.
  Systems measures are school-level, so only the ``all`` group is returned.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from cilib.core.calendar import academic_year_of, period_key
from cilib.core.errors import DataError, PlanError
from cilib.core.groups import DEFAULT_FOCUS
from cilib.measures import registry

#: Keys a metric definition may hold.
METRIC_KEYS = ("table", "measure", "filter", "threshold", "scale", "schools")
#: Group labels in output order.
GROUPS = ("focus", "comparison", "all")
#: Result columns (``metric_by_school`` adds ``school_id`` first).
RESULT_COLUMNS = ["period", "group", "n", "numerator", "denominator", "value", "sd"]


def validate_metric(metric: Any) -> dict[str, Any]:
    """Check a metric definition without data and return a normalised copy.

    Raises
    ------
    PlanError
        When the definition is not a mapping, names an unknown table or measure, lacks a
        ``threshold`` (``pct_at_or_above``) or ``scale`` (``scale_mean``), or has unknown keys.

    Examples
    --------
    >>> validate_metric({"table": "attendance", "measure": "attendance_rate"})["filter"]
    {}
    """
    if not isinstance(metric, Mapping):
        raise PlanError(
            f"a metric must be a mapping such as {{table: attendance, measure: attendance_rate}}, "
            f"not {metric!r}"
        )
    unknown = [k for k in metric if k not in METRIC_KEYS]
    if unknown:
        raise PlanError(
            f"metric has unknown key(s) {', '.join(map(str, unknown))}; "
            f"allowed keys are {', '.join(METRIC_KEYS)}"
        )
    table = metric.get("table")
    measure = metric.get("measure")
    if table not in registry.tables():
        raise PlanError(
            f"metric table {table!r} is unknown; use one of {', '.join(registry.tables())}"
        )
    if not measure or not isinstance(measure, str):
        raise PlanError(f"metric on table {table!r} needs a measure")
    allowed = registry.measures_of(table)
    if allowed is not None and measure not in allowed:
        raise PlanError(
            f"measure {measure!r} is unknown for table {table!r}; use one of {', '.join(allowed)}"
        )
    out: dict[str, Any] = {"table": table, "measure": measure}
    filt = metric.get("filter") or {}
    if not isinstance(filt, Mapping):
        raise PlanError(f"metric filter must be a mapping {{column: value}}, not {filt!r}")
    out["filter"] = dict(filt)
    if measure == "pct_at_or_above":
        if not isinstance(metric.get("threshold"), (int, float)) or isinstance(
            metric.get("threshold"), bool
        ):
            raise PlanError(
                "measure 'pct_at_or_above' needs a numeric threshold, e.g. threshold: 60"
            )
        out["threshold"] = float(metric["threshold"])
    elif measure == "persistent_absence":
        thr = metric.get("threshold", 90)
        if not isinstance(thr, (int, float)) or isinstance(thr, bool) or not 0 < thr <= 100:
            raise PlanError("persistent_absence threshold must be a number in (0, 100], e.g. 90")
        out["threshold"] = float(thr)
    if measure == "scale_mean":
        if not metric.get("scale"):
            raise PlanError("measure 'scale_mean' needs a scale, e.g. scale: belonging")
        out["scale"] = str(metric["scale"])
    if metric.get("schools") is not None:
        schools = metric["schools"]
        if isinstance(schools, str) or not isinstance(schools, Sequence):
            raise PlanError(f"metric schools must be a list of school ids, not {schools!r}")
        out["schools"] = [str(s) for s in schools]
    return out


def describe_metric(metric: Mapping[str, Any]) -> str:
    """Return a short plain-English name for a metric definition.

    Examples
    --------
    >>> describe_metric({"table": "assessments", "measure": "mean_score",
    ...                  "filter": {"subject": "reading"}})
    'mean score (subject=reading)'
    """
    m = validate_metric(metric)
    name = m["measure"].replace("_", " ")
    extras = [f"{k}={v}" for k, v in m["filter"].items()]
    if "scale" in m:
        extras.insert(0, f"scale={m['scale']}")
    if m["measure"] == "pct_at_or_above":
        extras.insert(0, f"threshold={m['threshold']:g}")
    return f"{name} ({', '.join(extras)})" if extras else name


def persistently_absent(possible: Any, attended: Any, *, threshold: float = 90) -> np.ndarray:
    """Return whether each pupil is persistently absent: missed ≥ (100 − threshold)% of sessions.

    The one definition used everywhere (England's: missing 10% or more of possible sessions,
    so a pupil who attended exactly 90%, e.g. 54 of 60 sessions, *is* persistently absent).
    Computed as ``(possible − attended) × 100 ≥ (100 − threshold) × possible``, which is exact
    for whole numbers of sessions (no rounding at the boundary). Pupils with no possible
    sessions are never persistently absent (leave them out of the denominator).

    Examples
    --------
    >>> persistently_absent([60, 60, 60, 0], [54, 55, 30, 0]).tolist()
    [True, False, True, False]
    """
    poss = np.asarray(possible, dtype="float64")
    att = np.asarray(attended, dtype="float64")
    return (poss > 0) & ((poss - att) * 100 >= (100 - float(threshold)) * poss)


# --------------------------------------------------------------------------------------------
# helpers


def _table(tables: Mapping[str, pd.DataFrame], name: str) -> pd.DataFrame:
    if name not in tables or tables[name] is None:
        raise DataError(f"table {name!r} is needed for this metric but was not passed in tables")
    return tables[name]


def _need(df: pd.DataFrame, name: str, cols: Sequence[str]) -> None:
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise DataError(f"table {name!r} lacks column(s) {', '.join(missing)}")


def with_year(df: pd.DataFrame) -> pd.DataFrame:
    """Return ``df`` with an ``academic_year`` column (:func:`academic_year_of` its ``period``)."""
    if "academic_year" in df.columns:
        return df
    periods = df["period"].astype("str")
    years = {p: academic_year_of(p) for p in periods.unique()}
    return df.assign(academic_year=periods.map(years))


def _mask(series: pd.Series, value: Any) -> pd.Series:
    if isinstance(value, (list, tuple, set)):
        out = series.isin(list(value))
    else:
        out = series == value
    return pd.Series(out, index=series.index).astype("boolean").fillna(False).astype(bool)


def _attach(
    df: pd.DataFrame, tables: Mapping[str, pd.DataFrame], cols: Sequence[str], table: str
) -> pd.DataFrame:
    """Attach pupil or school columns named in ``cols`` that ``df`` does not have."""
    need = [c for c in cols if c not in df.columns]
    if not need:
        return df
    pupils = tables.get("pupils")
    schools = tables.get("schools")
    from_pupils = [c for c in need if pupils is not None and c in pupils.columns]
    rest = [c for c in need if c not in from_pupils]
    from_schools = [c for c in rest if schools is not None and c in schools.columns]
    unknown = [c for c in rest if c not in from_schools]
    if unknown:
        raise PlanError(
            f"filter column(s) {', '.join(unknown)} not found in table {table!r}, "
            f"'pupils' or 'schools'; check the spelling against the data contract"
        )
    out = df
    if from_pupils:
        if "pupil_id" not in out.columns:
            raise PlanError(
                f"table {table!r} has no pupil_id, so it cannot be filtered on pupil column(s) "
                f"{', '.join(from_pupils)}"
            )
        out = with_year(out)
        p = pupils[["pupil_id", "academic_year", *from_pupils]].drop_duplicates(
            ["pupil_id", "academic_year"]
        )
        out = out.merge(p, how="left", on=["pupil_id", "academic_year"])
    if from_schools:
        s = schools[["school_id", *from_schools]].drop_duplicates("school_id")
        out = out.merge(s, how="left", on="school_id")
    return out


def apply_filter(
    df: pd.DataFrame,
    tables: Mapping[str, pd.DataFrame],
    filt: Mapping[str, Any],
    table: str,
    *,
    skip: Sequence[str] = (),
) -> pd.DataFrame:
    """Return the rows of ``df`` (from ``table``) that match a metric's filter.

    Filter columns missing from ``df`` are looked up on the pupils or schools tables; columns in
    ``skip`` are ignored.
    """
    cols = [c for c in filt if c not in skip]
    out = _attach(df, tables, cols, table)
    keep = pd.Series(True, index=out.index)
    for c in cols:
        keep &= _mask(out[c], filt[c])
    return out.loc[keep].drop(columns=[c for c in cols if c not in df.columns])


def _scope(
    df: pd.DataFrame,
    m: Mapping[str, Any],
    school_id: str | None,
    periods: Sequence[str] | None,
    *,
    use_periods: bool = True,
) -> pd.DataFrame:
    out = df
    if "schools" in m:
        out = out.loc[out["school_id"].isin(m["schools"])]
    if school_id is not None:
        out = out.loc[out["school_id"] == school_id]
    if use_periods and periods is not None and "period" in out.columns:
        out = out.loc[out["period"].isin(list(periods))]
    return out


def _focus_labels(
    df: pd.DataFrame, tables: Mapping[str, pd.DataFrame], focus: Mapping[str, Any]
) -> pd.Series:
    """Return "focus" / "comparison" / NA per row of ``df`` (needs pupil_id, academic_year)."""
    na = pd.Series(pd.NA, index=df.index, dtype="str")
    pupils = tables.get("pupils")
    if pupils is None or "pupil_id" not in df.columns:
        return na
    col = focus.get("column")
    if col not in pupils.columns:
        raise PlanError(
            f"focus group column {col!r} is not a column of the pupils table; "
            f"set focus_group to {{column: <pupils column>, value: <value>}}"
        )
    if col in df.columns:
        vals = df[col]
    else:
        p = pupils[["pupil_id", "academic_year", col]].drop_duplicates(
            ["pupil_id", "academic_year"]
        )
        merged = df[["pupil_id", "academic_year"]].merge(
            p, how="left", on=["pupil_id", "academic_year"]
        )
        vals = pd.Series(merged[col].to_numpy(), index=df.index)
    is_focus = _mask(vals, focus.get("value"))
    known = vals.notna().to_numpy()
    lab = np.where(is_focus.to_numpy(), "focus", np.where(known, "comparison", None))
    return pd.Series(lab, index=df.index, dtype="str")


def _expand(units: pd.DataFrame) -> pd.DataFrame:
    """Stack ``units`` as group "all" plus the rows in focus / comparison (column ``_fg``)."""
    both = units.loc[units["_fg"].notna()].assign(group=units["_fg"])
    return pd.concat([units.assign(group="all"), both], ignore_index=True)


def _finish(res: pd.DataFrame, by_school: bool, periods: Sequence[str] | None) -> pd.DataFrame:
    cols = (["school_id"] if by_school else []) + RESULT_COLUMNS
    for c in cols:
        if c not in res.columns:
            res[c] = np.nan
    res = res[cols].copy()
    res["n"] = res["n"].astype("Int64")
    for c in ("numerator", "denominator", "value", "sd"):
        res[c] = res[c].astype("float64")
    if periods is not None:
        order = {p: i for i, p in enumerate(periods)}
    else:
        order = {p: i for i, p in enumerate(sorted(res["period"].unique(), key=period_key))}
    res["_p"] = res["period"].map(order)
    res["_g"] = res["group"].map({g: i for i, g in enumerate(GROUPS)})
    by = (["school_id"] if by_school else []) + ["_p", "_g"]
    return res.sort_values(by, kind="stable").drop(columns=["_p", "_g"]).reset_index(drop=True)


# --------------------------------------------------------------------------------------------
# measures


def _pupil_units(
    df: pd.DataFrame, keys: list[str], agg: dict[str, tuple[str, str]]
) -> pd.DataFrame:
    """Aggregate rows to one row per pupil (per school when by school) and period."""
    agg = {**agg, "academic_year": ("academic_year", "first")}
    return df.groupby(keys + ["pupil_id", "period"], as_index=False, sort=False).agg(**agg)


def _attendance(df, tables, m, focus, skeys, measure) -> pd.DataFrame:
    _need(df, "attendance", ["pupil_id", "period", "possible_sessions", "attended_sessions"])
    df = df.assign(
        possible_sessions=pd.to_numeric(df["possible_sessions"]).astype("float64"),
        attended_sessions=pd.to_numeric(df["attended_sessions"]).astype("float64"),
    )
    u = _pupil_units(
        df,
        skeys,
        {"poss": ("possible_sessions", "sum"), "att": ("attended_sessions", "sum")},
    )
    u["_fg"] = _focus_labels(u, tables, focus)
    keys = skeys + ["period", "group"]
    if measure == "attendance_rate":
        g = (
            _expand(u)
            .groupby(keys, as_index=False)
            .agg(n=("pupil_id", "nunique"), numerator=("att", "sum"), denominator=("poss", "sum"))
        )
        g["value"] = 100 * g["numerator"] / g["denominator"].where(g["denominator"] > 0)
        return g
    # persistent absence: absent ≥ (100 - threshold)% of possible sessions
    u = u.loc[u["poss"] > 0].copy()
    u["pa"] = persistently_absent(u["poss"], u["att"], threshold=m["threshold"]).astype(float)
    g = (
        _expand(u)
        .groupby(keys, as_index=False)
        .agg(n=("pupil_id", "nunique"), numerator=("pa", "sum"), denominator=("pa", "size"))
    )
    g["value"] = 100 * g["numerator"] / g["denominator"]
    return g


def _assessments(df, tables, m, focus, skeys, measure) -> pd.DataFrame:
    _need(df, "assessments", ["pupil_id", "period", "score"])
    df = df.assign(score=pd.to_numeric(df["score"]).astype("float64"))
    df = df.loc[df["score"].notna()]
    u = _pupil_units(df, skeys, {"score": ("score", "mean")})
    u["_fg"] = _focus_labels(u, tables, focus)
    keys = skeys + ["period", "group"]
    ex = _expand(u)
    if measure == "mean_score":
        g = ex.groupby(keys, as_index=False).agg(
            n=("pupil_id", "nunique"), value=("score", "mean"), sd=("score", "std")
        )
        return g
    ex["hit"] = (ex["score"] >= m["threshold"]).astype(float)
    g = ex.groupby(keys, as_index=False).agg(
        n=("pupil_id", "nunique"), numerator=("hit", "sum"), denominator=("hit", "size")
    )
    g["value"] = 100 * g["numerator"] / g["denominator"]
    return g


def _behaviour(tables, m, focus, school_id, periods, by_school) -> pd.DataFrame:
    beh = with_year(_table(tables, "behaviour"))
    _need(beh, "behaviour", ["pupil_id", "school_id", "period", "count"])
    pupils = _table(tables, "pupils")
    _need(pupils, "pupils", ["pupil_id", "school_id", "academic_year"])
    filt = m["filter"]
    # the period set: every period the behaviour table records, or the periods asked for
    all_periods = (
        list(periods)
        if periods is not None
        else sorted(beh["period"].dropna().unique().tolist(), key=period_key)
    )
    beh = _scope(beh, m, school_id, periods)
    beh = apply_filter(beh, tables, filt, "behaviour")
    # the roll: pupils in scope, filtered on pupil/school columns only
    roll = _scope(pupils, m, school_id, None)
    beh_cols = set(_table(tables, "behaviour").columns)
    roll_filter = {k: v for k, v in filt.items() if k not in beh_cols or k in pupils.columns}
    roll = apply_filter(roll, tables, roll_filter, "pupils")
    roll = roll.assign(_fg=_focus_labels(roll, tables, focus))
    beh = beh.assign(
        count=pd.to_numeric(beh["count"]).astype("float64"),
        _fg=_focus_labels(beh, tables, focus),
    )
    rows = []
    skeys = ["school_id"] if by_school else []
    for p in all_periods:
        ay = academic_year_of(p)
        r = _expand(roll.loc[roll["academic_year"] == ay])
        den = r.groupby(skeys + ["group"], as_index=False).agg(n=("pupil_id", "nunique"))
        b = _expand(beh.loc[beh["period"] == p])
        num = b.groupby(skeys + ["group"], as_index=False).agg(numerator=("count", "sum"))
        g = den.merge(num, how="left", on=skeys + ["group"])
        g["numerator"] = g["numerator"].fillna(0.0)
        g["denominator"] = g["n"].astype("float64")
        g["period"] = p
        rows.append(g)
    if not rows:
        return pd.DataFrame(columns=[*skeys, *RESULT_COLUMNS])
    g = pd.concat(rows, ignore_index=True)
    g = g.loc[g["denominator"] > 0]
    g["value"] = 100 * g["numerator"] / g["denominator"]
    return g


def _survey(tables, m, focus, school_id, periods, by_school) -> pd.DataFrame:
    resp = _table(tables, "survey_responses")
    items = _table(tables, "survey_items")
    _need(resp, "survey_responses", ["respondent_id", "school_id", "period", "item_id", "response"])
    _need(items, "survey_items", ["item_id", "scale", "reverse_coded", "min", "max"])
    sitems = items.loc[items["scale"] == m["scale"], ["item_id", "reverse_coded", "min", "max"]]
    if sitems.empty:
        known = ", ".join(sorted(items["scale"].dropna().unique().tolist()))
        raise PlanError(f"survey scale {m['scale']!r} is unknown; scales in survey_items: {known}")
    df = with_year(_scope(resp, m, school_id, periods))
    df = apply_filter(df, tables, m["filter"], "survey_responses")
    df = df.merge(sitems, how="inner", on="item_id")
    r = pd.to_numeric(df["response"]).astype("float64")
    rev = df["reverse_coded"].astype("boolean").fillna(False).astype(bool)
    df = df.assign(adj=np.where(rev, df["min"].astype(float) + df["max"].astype(float) - r, r))
    df = df.loc[df["adj"].notna()]
    skeys = ["school_id"] if by_school else []
    agg: dict[str, tuple[str, str]] = {
        "adj": ("adj", "mean"),
        "academic_year": ("academic_year", "first"),
    }
    if "pupil_id" in df.columns:
        agg["pupil_id"] = ("pupil_id", "first")
    u = df.groupby(skeys + ["respondent_id", "period"], as_index=False, sort=False).agg(**agg)
    u["_fg"] = _focus_labels(u, tables, focus)
    g = (
        _expand(u)
        .groupby(skeys + ["period", "group"], as_index=False)
        .agg(n=("respondent_id", "nunique"), value=("adj", "mean"), sd=("adj", "std"))
    )
    return g


def _systems(tables, m, school_id, periods, by_school) -> pd.DataFrame:
    sysdf = _table(tables, "systems")
    _need(sysdf, "systems", ["school_id", "period", "measure", "value"])
    name = m["measure"]
    if not (sysdf["measure"] == name).any():
        known = ", ".join(sorted(sysdf["measure"].dropna().unique().tolist()))
        raise PlanError(f"systems measure {name!r} is not in the systems table; known: {known}")
    df = _scope(sysdf.loc[sysdf["measure"] == name], m, school_id, periods)
    df = apply_filter(df, tables, m["filter"], "systems")
    df = df.assign(value=pd.to_numeric(df["value"]).astype("float64"))
    df = df.loc[df["value"].notna()]
    per_school = df.groupby(["school_id", "period"], as_index=False).agg(v=("value", "mean"))
    keys = (["school_id"] if by_school else []) + ["period"]
    g = per_school.groupby(keys, as_index=False).agg(
        n=("school_id", "nunique"), value=("v", "mean"), sd=("v", "std")
    )
    g["group"] = "all"
    return g


def _compute(
    tables: Mapping[str, pd.DataFrame],
    metric: Mapping[str, Any],
    *,
    school_id: str | None,
    focus: Mapping[str, Any] | None,
    periods: Sequence[str] | None,
    by_school: bool,
) -> pd.DataFrame:
    m = validate_metric(metric)
    focus = dict(DEFAULT_FOCUS if focus is None else focus)
    if "column" not in focus or "value" not in focus:
        raise PlanError(
            "a focus group needs a column and a value, e.g. {column: disadvantaged, value: true}"
        )
    table = m["table"]
    df = _table(tables, table)
    if (
        school_id is not None
        and "school_id" in df.columns
        and not (df["school_id"] == school_id).any()
    ):
        raise DataError(f"school {school_id!r} has no rows in table {table!r}; check the school id")
    skeys = ["school_id"] if by_school else []
    if table == "attendance":
        rows = apply_filter(
            with_year(_scope(df, m, school_id, periods)), tables, m["filter"], table
        )
        res = _attendance(rows, tables, m, focus, skeys, m["measure"])
    elif table == "assessments":
        rows = apply_filter(
            with_year(_scope(df, m, school_id, periods)), tables, m["filter"], table
        )
        res = _assessments(rows, tables, m, focus, skeys, m["measure"])
    elif table == "behaviour":
        res = _behaviour(tables, m, focus, school_id, periods, by_school)
    elif table == "survey_responses":
        res = _survey(tables, m, focus, school_id, periods, by_school)
    else:
        res = _systems(tables, m, school_id, periods, by_school)
    return _finish(res, by_school, periods)


def compute_metric(
    tables: Mapping[str, pd.DataFrame],
    metric: Mapping[str, Any],
    *,
    school_id: str | None = None,
    focus: Mapping[str, Any] | None = None,
    periods: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Compute a metric for one school (or the whole trust) by period and group.

    Parameters
    ----------
    tables : dict of str to DataFrame
        Prepared canonical tables (``attendance``, ``assessments``, ``behaviour``,
        ``survey_responses``, ``survey_items``, ``systems``, ``pupils``, optionally ``schools``).
    metric : dict
        Metric definition, e.g. ``{"table": "attendance", "measure": "attendance_rate"}``.
        See the module docstring for every measure and its formula.
    school_id : str, optional
        Restrict to one school; ``None`` (default) means the whole trust.
    focus : dict, optional
        Focus group as ``{"column": <pupils column>, "value": <value or list>}``; default
        ``{"column": "disadvantaged", "value": True}``. Pupils are linked on
        ``(pupil_id, academic_year)``; academic_year is the period's (text before the first space)
        when the table has no academic_year column.
    periods : list of str, optional
        Only these periods, in this order; default every period in the data, in time order.

    Returns
    -------
    DataFrame
        Columns ``period, group, n, numerator, denominator, value, sd``; one row per period and
        group (``focus``, ``comparison``, ``all``).

    Raises
    ------
    PlanError
        Unknown table, measure, scale, systems measure, filter column or focus column.
    DataError
        A table the metric needs is missing or lacks a column; an unknown school.

    Examples
    --------
    Attendance rate = 100 × Σ attended / Σ possible:

    >>> att = pd.DataFrame({"pupil_id": ["a", "b"], "school_id": ["S1", "S1"],
    ...     "academic_year": ["2024/25"] * 2, "period": ["2024/25 HT1"] * 2,
    ...     "possible_sessions": [60, 40], "attended_sessions": [57, 30]})
    >>> pup = pd.DataFrame({"pupil_id": ["a", "b"], "academic_year": ["2024/25"] * 2,
    ...     "disadvantaged": pd.array([False, True], dtype="boolean")})
    >>> r = compute_metric({"attendance": att, "pupils": pup},
    ...                    {"table": "attendance", "measure": "attendance_rate"})
    >>> r[["group", "n", "numerator", "denominator", "value"]]
            group  n  numerator  denominator  value
    0       focus  1       30.0         40.0   75.0
    1  comparison  1       57.0         60.0   95.0
    2         all  2       87.0        100.0   87.0
    """
    return _compute(
        tables, metric, school_id=school_id, focus=focus, periods=periods, by_school=False
    )


def metric_by_school(
    tables: Mapping[str, pd.DataFrame],
    metric: Mapping[str, Any],
    *,
    focus: Mapping[str, Any] | None = None,
    periods: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Compute a metric for every school: one row per school × period × group.

    Same formulas as :func:`compute_metric`, with ``school_id`` as the first column.

    Examples
    --------
    Persistent absence = 100 × pupils missing ≥ 10% of sessions / pupils:

    >>> att = pd.DataFrame({"pupil_id": ["a", "b", "c"], "school_id": ["S1", "S1", "S2"],
    ...     "period": ["2024/25 HT1"] * 3, "possible_sessions": [50, 50, 50],
    ...     "attended_sessions": [45, 46, 40]})
    >>> r = metric_by_school({"attendance": att},
    ...                      {"table": "attendance", "measure": "persistent_absence"})
    >>> r[["school_id", "group", "numerator", "denominator", "value"]]
      school_id group  numerator  denominator  value
    0        S1   all        1.0          2.0   50.0
    1        S2   all        1.0          1.0  100.0
    """
    return _compute(tables, metric, school_id=None, focus=focus, periods=periods, by_school=True)
