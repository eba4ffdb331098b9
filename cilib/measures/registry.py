"""The measures a plan can name: one entry per measure, the only place a measure is defined.

Each :class:`Measure` says which table it is computed from, how leaders read it (``label``, the
explorer's ``title`` and the short ``name_in_tables`` of effect tables), its ``unit``, its
``kind``, which direction is better, which control chart shows it and how it is computed.
Adding a measure means adding an entry here and its computation in
:func:`cilib.measures.metrics.compute_metric`; the report sections read everything else from
here.

Kinds:

- ``"rate"``: a rate weighted by possible sessions (attendance);
- ``"share"``: the percentage of pupils with a 0/1 outcome (a p chart; gaps by Newcombe);
- ``"mean"``: a mean of per-pupil or per-respondent values (gaps by Welch);
- ``"count"``: events per 100 pupils.

The ``systems`` table accepts any measure name present in the data (:data:`ANY_MEASURE_TABLES`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Measure:
    """One measure a plan can name.

    Attributes
    ----------
    name : str
        The measure's key in a metric definition (``measure:``).
    table : str
        The table it is computed from.
    label : str
        What leaders read (``"attendance (%)"``).
    title : str or None
        The explorer's menu title, or None when the explorer lists it per subject or scale.
    name_in_tables : str
        The short name in impact and overview tables.
    unit : str
        The unit of a change (``"percentage points"`` or ``"points"``).
    kind : str
        ``"rate"``, ``"share"``, ``"mean"`` or ``"count"`` (see the module docstring).
    lower_is_better : bool
        True when a fall is an improvement.
    chart : str
        The control chart: ``"p"`` for shares of pupils, ``"xmr"`` otherwise.
    per_pupil : bool
        True when it has a value per pupil (or respondent), so an impact analysis can use it.
    computed_by : str
        How :func:`cilib.measures.metrics.compute_metric` computes it.
    """

    name: str
    table: str
    label: str
    title: str | None
    name_in_tables: str
    unit: str
    kind: str
    lower_is_better: bool
    chart: str
    per_pupil: bool
    computed_by: str


#: Every measure, in the order tables and measures are listed to users.
REGISTRY: dict[str, Measure] = {
    m.name: m
    for m in (
        Measure(
            "attendance_rate", "attendance", "attendance (%)", "Attendance rate (%)",
            "attendance (%)", "percentage points", "rate", False, "xmr", True,
            "sessions attended / possible sessions x 100 (metrics.attendance_rate)",
        ),
        Measure(
            "persistent_absence", "attendance", "persistent absence (% of pupils)",
            "Persistent absence (% of pupils)", "persistent absence (% of pupils)",
            "percentage points", "share", True, "p", True,
            "% of pupils missing 10% or more of sessions (metrics.persistently_absent)",
        ),
        Measure(
            "mean_score", "assessments", "mean score", None, "score", "points", "mean", False,
            "xmr", True, "mean of pupils' scores (metrics.compute_metric)",
        ),
        Measure(
            "pct_at_or_above", "assessments", "% at or above the threshold", None,
            "% at or above", "points", "share", False, "p", True,
            "% of pupils scoring at or above the metric's threshold (metrics.compute_metric)",
        ),
        Measure(
            "incidents_per_100", "behaviour", "incidents per 100 pupils",
            "Behaviour incidents per 100 pupils", "incidents per 100", "points", "count", True,
            "xmr", False, "incidents / pupils on roll x 100 (metrics.compute_metric)",
        ),
        Measure(
            "scale_mean", "survey_responses", "scale score", None, "scale score", "points",
            "mean", False, "xmr", True,
            "mean of respondents' mean item score on the scale (metrics.compute_metric)",
        ),
    )
}
#: Tables whose measures are any column name in the data.
ANY_MEASURE_TABLES = ("systems",)
#: Words that mark a systems measure where lower is better (see :func:`lower_is_better`).
LOWER_IS_BETTER_WORDS = ("absence", "vacanc", "exclusion", "incident", "turnover")


def tables() -> list[str]:
    """Return every table a metric can name, in order.

    Examples
    --------
    >>> tables()
    ['attendance', 'assessments', 'behaviour', 'survey_responses', 'systems']
    """
    return list(dict.fromkeys(m.table for m in REGISTRY.values())) + list(ANY_MEASURE_TABLES)


def measures_of(table: str) -> tuple[str, ...] | None:
    """Return the measures a table supports, or None when any measure name is allowed.

    Examples
    --------
    >>> measures_of("attendance")
    ('attendance_rate', 'persistent_absence')
    >>> measures_of("systems") is None
    True
    """
    if table in ANY_MEASURE_TABLES:
        return None
    return tuple(m.name for m in REGISTRY.values() if m.table == table)


def names_of_kind(kind: str) -> tuple[str, ...]:
    """Return the names of the measures of one kind (``"share"``, ``"mean"`` ...).

    Examples
    --------
    >>> names_of_kind("share")
    ('persistent_absence', 'pct_at_or_above')
    """
    return tuple(m.name for m in REGISTRY.values() if m.kind == kind)


def per_pupil_measures() -> dict[str, tuple[str, ...]]:
    """Return, per table, the measures with a value per pupil (usable in an impact analysis).

    Examples
    --------
    >>> per_pupil_measures()["attendance"]
    ('attendance_rate', 'persistent_absence')
    """
    out: dict[str, tuple[str, ...]] = {}
    for m in REGISTRY.values():
        if m.per_pupil:
            out[m.table] = (*out.get(m.table, ()), m.name)
    return out


def chart_kind(metric: Mapping[str, Any]) -> str:
    """Return the control chart for a metric: ``"p"`` for shares of pupils, else ``"xmr"``.

    Examples
    --------
    >>> chart_kind({"table": "attendance", "measure": "persistent_absence"})
    'p'
    >>> chart_kind({"table": "attendance", "measure": "attendance_rate"})
    'xmr'
    """
    m = REGISTRY.get(metric.get("measure"))
    return m.chart if m is not None else "xmr"


def lower_is_better(metric: Mapping[str, Any]) -> bool:
    """Say whether a lower value of this measure is better.

    True for registry measures marked so (persistent absence, incidents) and for any systems
    measure whose name contains one of :data:`LOWER_IS_BETTER_WORDS`.

    Examples
    --------
    >>> lower_is_better({"table": "systems", "measure": "staff_absence_rate"})
    True
    >>> lower_is_better({"table": "systems", "measure": "fidelity_reading_intervention"})
    False
    """
    name = str(metric.get("measure", "")).lower()
    m = REGISTRY.get(name)
    return (m is not None and m.lower_is_better) or any(w in name for w in LOWER_IS_BETTER_WORDS)


def metric_label(metric: Mapping[str, Any]) -> tuple[str, str]:
    """Return a reader's short name for a metric (its subject, threshold or scale) and its unit.

    Expects a metric checked by :func:`cilib.measures.metrics.validate_metric`.

    Examples
    --------
    >>> metric_label({"measure": "mean_score", "filter": {"subject": "maths"}})
    ('maths score', 'points')
    """
    measure = metric["measure"]
    filt = metric.get("filter") or {}
    subject = filt.get("subject")
    subj = f"{subject} " if isinstance(subject, str) else ""
    if measure == "mean_score":
        return f"{subj}{REGISTRY[measure].name_in_tables}", REGISTRY[measure].unit
    if measure == "pct_at_or_above":
        name = f"% at or above {metric.get('threshold', 0):g} in {subj}".strip()
        return name, REGISTRY[measure].unit
    if measure == "scale_mean":
        return f"{metric.get('scale', '')} {REGISTRY[measure].name_in_tables}", "points"
    if measure in REGISTRY:
        return REGISTRY[measure].name_in_tables, REGISTRY[measure].unit
    return measure.replace("_", " "), "points"
