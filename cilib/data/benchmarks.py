"""Published benchmarks: check the config's ``benchmarks`` section, read and prepare the table.

When a trust config names its schools' URNs and England's school performance tables::

    benchmarks:
      performance_tables: ../dfe-performance-tables     # a file or a folder, relative to the config
      urns: {NLT05: "125249"}                            # optional: else the schools table's urn

the prepare step calls :func:`prepare_benchmarks` once and writes ``benchmarks.parquet`` into
the store; the report section (:mod:`cilib.report.sections.benchmarks`) reads it back with
:func:`read_benchmarks`.

The gap is the department's own figures: ``gap = disadvantaged - other`` for KS4 Attainment 8
(``ATT8SCR``, points) and KS2 reading, writing and maths at the expected standard
(``PTRWM_EXP``, percentage points), beside the same gap for the school's local authority and
England's state-funded schools (:func:`cilib.data.published.benchmark_gaps`). A figure the
department did not publish keeps its code (``SUPP``, ``NP``...) as the reason and is never
shown as zero.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from cilib.core.errors import ConfigError, DataError
from cilib.data.config import check_benchmarks
from cilib.data.load import load_schools
from cilib.data.published import benchmark_gaps, performance_tables

#: Headline measure per key stage: column stem, what it is, unit of the gap.
HEADLINES: dict[str, tuple[str, str, str]] = {
    "KS4": ("ATT8SCR", "Attainment 8 average score", "points"),
    "KS2": (
        "PTRWM_EXP",
        "% of pupils at the expected standard in reading, writing and maths",
        "percentage points",
    ),
}
#: Columns of ``benchmarks.parquet`` (one row per school, key stage and year).
BENCHMARK_COLUMNS = [
    "school_id",
    "urn",
    "school_name",
    "la",
    "year",
    "key_stage",
    "measure",
    "disadvantaged",
    "other",
    "gap",
    "disadvantaged_status",
    "other_status",
    "status",
    "la_gap",
    "england_gap",
]
#: Status given to a school whose URN is in none of the published files.
NOT_FOUND = "not in the published files"
FILE = "benchmarks.parquet"


def school_urns(urns: dict[str, str], schools: pd.DataFrame | None) -> dict[str, str]:
    """Return school id -> URN: the config's ``urns`` first, then the schools table's ``urn``.

    Examples
    --------
    >>> t = pd.DataFrame({"school_id": ["A", "B", "C"], "urn": ["111", None, "333"]})
    >>> school_urns({"C": "999"}, t)
    {'A': '111', 'C': '999'}
    """
    out: dict[str, str] = {}
    if schools is not None and "urn" in schools.columns:
        for sid, urn in zip(schools["school_id"], schools["urn"], strict=True):
            if pd.notna(urn) and str(urn).strip():
                out[str(sid)] = str(urn).strip().removesuffix(".0")
    out.update({str(k): str(v) for k, v in (urns or {}).items()})
    return dict(sorted(out.items()))


def _statuses(perf: pd.DataFrame, urns: list[str]) -> pd.DataFrame:
    """Return the code of each side (disadvantaged, other) of each school's headline figure."""
    stems = {k: v[0] for k, v in HEADLINES.items()}
    p = perf.loc[
        (perf["level"] == "school")
        & perf["urn"].isin(urns)
        & (perf["measure"] == perf["key_stage"].map(stems))
        & perf["group"].isin(["disadvantaged", "other"])
    ]
    keys = ["urn", "year", "key_stage"]
    w = p.groupby(keys + ["group"])["status"].first().unstack("group")
    w = w.reindex(columns=["disadvantaged", "other"]).fillna("")
    w.columns = ["disadvantaged_status", "other_status"]
    return w.reset_index()


def benchmark_table(perf: pd.DataFrame, urns: dict[str, str]) -> pd.DataFrame:
    """Each named school's published disadvantaged gap by year, beside its LA and England.

    ``gap = disadvantaged - other`` (KS4 ``ATT8SCR`` points; KS2 ``PTRWM_EXP`` percentage
    points) from :func:`cilib.data.published.benchmark_gaps`, with the code of each side kept
    (``disadvantaged_status``, ``other_status``; ``status`` joins them). A school whose URN
    is in none of the files gets one row with ``status`` :data:`NOT_FOUND`.

    Parameters
    ----------
    perf
        Output of :func:`cilib.data.published.performance_tables`.
    urns
        School id -> URN.

    Returns
    -------
    pandas.DataFrame
        The columns :data:`BENCHMARK_COLUMNS`, sorted by school, key stage and year.
    """
    by_urn = pd.DataFrame({"school_id": list(urns), "urn": [str(u) for u in urns.values()]})
    g = benchmark_gaps(perf, urns=list(by_urn["urn"].unique()))
    g = g.merge(_statuses(perf, list(by_urn["urn"])), on=["urn", "year", "key_stage"], how="left")
    for c in ("disadvantaged_status", "other_status"):
        g[c] = g[c].fillna("").astype("str")
    out = by_urn.merge(g, on="urn", how="left")
    missing = out["year"].isna()
    out.loc[missing, "status"] = NOT_FOUND
    for c in ("disadvantaged_status", "other_status", "status"):
        out[c] = out[c].fillna("").astype("str")
    for c in ("school_name", "la", "year", "key_stage", "measure"):
        out[c] = out[c].astype("str")
    out = out[BENCHMARK_COLUMNS].sort_values(["school_id", "key_stage", "year"], na_position="last")
    return out.reset_index(drop=True)


def prepare_benchmarks(config, *, schools: pd.DataFrame | None = None) -> pd.DataFrame | None:
    """Read the published files a trust config names and return the store's benchmark table.

    Called once by the prepare step, which writes the result to ``benchmarks.parquet`` in the
    store. URNs come from ``benchmarks.urns`` and, for the other schools, the schools table's
    ``urn`` column (``schools``; read from the config when not given).

    Parameters
    ----------
    config
        The checked trust config (:class:`cilib.data.config.TrustConfig`).
    schools
        The schools table, if already loaded (``school_id``, optional ``urn``).

    Returns
    -------
    pandas.DataFrame or None
        :func:`benchmark_table` for the trust's schools with a URN, or None when the config has
        no ``benchmarks`` section or no school has a URN.

    Raises
    ------
    ConfigError
        If ``benchmarks.urns`` names a school that is not in the schools table, or
        ``benchmarks.performance_tables`` does not exist.
    DataError
        If the published files cannot be read.
    """
    section = check_benchmarks(getattr(config, "benchmarks", None), Path(config.path).name)
    if not section:
        return None
    path = Path(section["performance_tables"]).expanduser()
    if not path.is_absolute():
        path = (Path(config.path).parent / path).resolve()
    if not path.exists():
        raise ConfigError(
            f"{Path(config.path).name}: benchmarks.performance_tables {path} does not exist. "
            "Point it at the published KS2/KS4 performance-table file or folder."
        )
    if schools is None:
        schools = load_schools(config)
    known = set(schools["school_id"].astype("str"))
    unknown = sorted(set(section["urns"]) - known)
    if unknown:
        raise ConfigError(
            f"{Path(config.path).name}: benchmarks.urns names school {unknown[0]!r}, which is not "
            f"in the schools table. Schools: {', '.join(sorted(known))}."
        )
    urns = school_urns(section["urns"], schools)
    if config.schools:
        urns = {k: v for k, v in urns.items() if k in set(config.schools)}
    if not urns:
        return None
    try:
        perf = performance_tables(path)
    except DataError as exc:
        raise DataError(f"benchmarks.performance_tables: {exc}") from None
    return benchmark_table(perf, urns)


def read_benchmarks(store) -> pd.DataFrame | None:
    """Return the store's benchmark table, or None when the store has none."""
    path = Path(store.folder) / FILE
    return pd.read_parquet(path) if path.exists() else None


__all__ = [
    "BENCHMARK_COLUMNS",
    "FILE",
    "HEADLINES",
    "NOT_FOUND",
    "benchmark_table",
    "prepare_benchmarks",
    "read_benchmarks",
    "school_urns",
]
