"""Published benchmarks: each school's disadvantaged gap beside its LA's and England's.

When a trust config names its schools' URNs and England's school performance tables::

    benchmarks:
      performance_tables: ../dfe-performance-tables     # a file or a folder, relative to the config
      urns: {NLT05: "125249"}                            # optional: else the schools table's urn

the prepare step calls :func:`prepare_benchmarks` once and writes ``benchmarks.parquet`` into
the store; the reports call :func:`benchmark_section`, which reads the store only.

The gap is the department's own figures: ``gap = disadvantaged - other`` for KS4 Attainment 8
(``ATT8SCR``, points) and KS2 reading, writing and maths at the expected standard
(``PTRWM_EXP``, percentage points), beside the same gap for the school's local authority and
England's state-funded schools (:func:`cilib.data.published.benchmark_gaps`). A figure the
department
did not publish keeps its code (``SUPP``, ``NP``...) as the reason and is never shown as zero.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from cilib.core.errors import ConfigError, DataError

#: Headline measure per key stage: column stem, what it is, unit of the gap.
HEADLINES: dict[str, tuple[str, str, str]] = {
    "KS4": ("ATT8SCR", "Attainment 8 average score", "points"),
    "KS2": (
        "PTRWM_EXP",
        "% of pupils at the expected standard in reading, writing and maths",
        "percentage points",
    ),
}
#: What the department's codes mean (school performance tables guidance).
STATUS_MEANINGS: dict[str, str] = {
    "SUPP": "suppressed: too few pupils to publish",
    "NP": "not published",
    "NE": "no pupils entered",
    "NA": "not applicable",
    "LOWCOV": "low coverage of results",
    "NEW": "new school",
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


def check_benchmarks(section: object, config_name: str = "trust.yml") -> dict:
    """Check a config's ``benchmarks`` section and return a normalised copy.

    ``performance_tables`` (a path, text) is required once the section is given; ``urns`` is an
    optional mapping of school id to URN (digits). Paths are not resolved here.

    Raises
    ------
    ConfigError
        With a message that names the key at fault.

    Examples
    --------
    >>> check_benchmarks({"performance_tables": "dfe", "urns": {"S1": 100528}})
    {'performance_tables': 'dfe', 'urns': {'S1': '100528'}}
    """
    if section is None or section == {}:
        return {}
    if not isinstance(section, dict):
        raise ConfigError(
            f"{config_name}: benchmarks must be a mapping such as "
            "{performance_tables: <file or folder>, urns: {<school_id>: <urn>}}."
        )
    unknown = sorted(set(section) - {"performance_tables", "urns"})
    if unknown:
        raise ConfigError(
            f"{config_name}: unknown key 'benchmarks.{unknown[0]}'. "
            "Allowed keys here: performance_tables, urns."
        )
    pt = section.get("performance_tables")
    if not isinstance(pt, str) or not pt.strip():
        raise ConfigError(
            f"{config_name}: benchmarks.performance_tables must name the published KS2/KS4 "
            "performance-table file or folder (relative to the config)."
        )
    urns = section.get("urns") or {}
    if not isinstance(urns, dict):
        raise ConfigError(
            f"{config_name}: benchmarks.urns must be a mapping of school id to URN, "
            "e.g. {NLT05: 125249}."
        )
    out_urns = {}
    for sid, urn in urns.items():
        text = str(urn).strip()
        if isinstance(urn, bool) or not text.isdigit():
            raise ConfigError(
                f"{config_name}: benchmarks.urns.{sid} must be a URN (digits, e.g. 125249), "
                f"not {urn!r}."
            )
        out_urns[str(sid)] = text
    return {"performance_tables": pt, "urns": out_urns}


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
    from cilib.data.published import benchmark_gaps

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
    from cilib.data.published import performance_tables

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
        from cilib.data.load import load_schools

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


def _fmt(value: float, status: str, digits: int = 1) -> str:
    """Return a figure as text, or the department's code where it published none."""
    if pd.notna(value):
        return f"{value:+.{digits}f}" if status == "gap" else f"{value:.{digits}f}"
    return status or "not published"


def _gap_status(row: pd.Series) -> str:
    codes = [c for c in (row["disadvantaged_status"], row["other_status"]) if c]
    return ", ".join(dict.fromkeys(codes)) if codes else "not published"


def display_table(bench: pd.DataFrame, names: dict[str, str] | None = None) -> pd.DataFrame:
    """Text table for the report: figures to one decimal, codes in place of missing figures.

    Examples
    --------
    >>> b = pd.DataFrame({"school_id": ["A"], "year": ["2017/18"], "key_stage": ["KS2"],
    ...     "disadvantaged": [float("nan")], "other": [70.0], "gap": [float("nan")],
    ...     "disadvantaged_status": ["SUPP"], "other_status": [""], "la_gap": [-24.0],
    ...     "england_gap": [-19.0]})
    >>> display_table(b).iloc[0].tolist()
    ['A', '2017/18', 'SUPP', '70.0', 'SUPP', '-24.0', '-19.0']
    """
    names = names or {}
    rows = []
    for _, r in bench.iterrows():
        gap = r["gap"]
        rows.append(
            {
                "School": names.get(r["school_id"], r["school_id"]),
                "Year": r["year"],
                "Disadvantaged": _fmt(r["disadvantaged"], r["disadvantaged_status"]),
                "Other pupils": _fmt(r["other"], r["other_status"]),
                "Gap": _fmt(gap, "gap") if pd.notna(gap) else _gap_status(r),
                "LA gap": _fmt(r["la_gap"], "gap") if pd.notna(r["la_gap"]) else "not published",
                "England gap": _fmt(r["england_gap"], "gap")
                if pd.notna(r["england_gap"])
                else "not published",
            }
        )
    return pd.DataFrame(
        rows,
        columns=["School", "Year", "Disadvantaged", "Other pupils", "Gap", "LA gap", "England gap"],
    ).astype("str")


def plot_benchmarks(bench: pd.DataFrame, *, key_stage: str, names: dict[str, str] | None = None):
    """Chart each school's published gap by year with its LA's and England's gap.

    A year the department did not publish is a break in the school's line, never a zero.
    """
    from cilib.report.style import COLOURS, new_axes

    names = names or {}
    stem, what, unit = HEADLINES[key_stage]
    years = sorted(bench["year"].unique())
    x = {y: i for i, y in enumerate(years)}
    fig, ax = new_axes(title=f"{key_stage} disadvantaged gap: {what}", figsize=(8, 4.2))
    palette = ["#D55E00", "#0072B2", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000"]
    for i, (sid, b) in enumerate(bench.groupby("school_id", sort=True)):
        b = b.sort_values("year")
        ax.plot(
            [x[y] for y in b["year"]],
            b["gap"],
            marker="o",
            color=palette[i % len(palette)],
            label=names.get(sid, sid),
        )
    for la, b in bench.groupby("la", sort=True):
        b = b.drop_duplicates("year").sort_values("year")
        ax.plot(
            [x[y] for y in b["year"]],
            b["la_gap"],
            linestyle="--",
            color=COLOURS["limit"],
            marker="s",
            markersize=4,
            label=f"LA {la}",
        )
    e = bench.drop_duplicates("year").sort_values("year")
    ax.plot(
        [x[y] for y in e["year"]],
        e["england_gap"],
        linestyle=":",
        color=COLOURS["centre"],
        marker="^",
        markersize=4,
        label="England (state-funded)",
    )
    ax.axhline(0, color=COLOURS["neutral"], linewidth=0.8)
    ax.set_xticks(range(len(years)), years)
    ax.set_ylabel(f"Gap ({unit})")
    ax.legend(loc="best", fontsize=8)
    fig.tight_layout()
    return fig


def benchmark_section(store, school_id: str | None = None) -> list:
    """Show published disadvantaged gaps beside the LA and England figures, by year.

    For one school, or every school of the trust that has a URN (``school_id=None``): per key
    stage a table (figures, codes shown as the reason) and a small chart, then a note on what
    the figures are. Returns ``[]`` when the store has no ``benchmarks.parquet``.
    """
    from cilib.report.html import note, table

    bench = read_benchmarks(store)
    if bench is None:
        return []
    names = {s["school_id"]: s["school_name"] for s in store.meta.get("schools", [])}
    if school_id is not None:
        bench = bench.loc[bench["school_id"] == school_id]
        if not len(bench):
            return [
                note(
                    f"{names.get(school_id, school_id)} has no URN in the trust config or "
                    "schools table, so no published benchmark is shown."
                )
            ]
    out = []
    absent = bench.loc[bench["status"] == NOT_FOUND]
    found = bench.loc[bench["status"] != NOT_FOUND]
    for ks in ("KS2", "KS4"):
        b = found.loc[found["key_stage"] == ks]
        if not len(b):
            continue
        stem, what, unit = HEADLINES[ks]
        out.append(
            table(
                display_table(b, names),
                caption=f"{ks} {what}: disadvantaged minus other pupils ({unit}), "
                "published by the Department for Education",
            )
        )
        out.append(plot_benchmarks(b, key_stage=ks, names=names))
    if len(absent):
        listed = ", ".join(
            f"{names.get(r.school_id, r.school_id)} (URN {r.urn})" for r in absent.itertuples()
        )
        out.append(
            note(
                f"No published figures found for {listed}: check the URN and the years "
                "of the files.",
                warn=True,
            )
        )
    codes = sorted(
        {c for c in pd.concat([found["disadvantaged_status"], found["other_status"]]) if c}
    )
    meaning = "; ".join(
        f"{c} = {STATUS_MEANINGS.get(c, 'code used by the department')}" for c in codes
    )
    out.append(
        note(
            "These are the department's published school performance tables, not the trust's own "
            "data: the gap is disadvantaged pupils' figure minus other pupils' (negative means "
            "disadvantaged pupils are behind). The LA and England (state-funded schools) rows are "
            "the department's own totals, not averages of the school rows. Where the department "
            "published no figure its code is shown as the reason, never a zero"
            + (f" ({meaning})." if meaning else ".")
        )
    )
    return out


__all__ = [
    "BENCHMARK_COLUMNS",
    "HEADLINES",
    "benchmark_section",
    "benchmark_table",
    "check_benchmarks",
    "display_table",
    "plot_benchmarks",
    "prepare_benchmarks",
    "read_benchmarks",
    "school_urns",
]
