"""Group summaries and gaps from any source: a DataFrame, parquet files, a store, or Dask.

:func:`gap` and :func:`group_summary` take the same arguments as
:func:`cilib.stats.equity.gap` and :func:`cilib.stats.equity.group_summary` (and are what
``cilib.gap`` and ``cilib.group_summary`` are), but the first argument may be:

* a pandas DataFrame: computed by pandas exactly as before;
* a parquet file, folder or glob (``str`` or ``Path``), or a :class:`~cilib.data.store.Store`
  with ``table=``: DuckDB reads the parquet and computes only the sums per cell
  (:mod:`cilib.stats.sufficient`), so the pupil-level rows never enter Python's memory;
* a Dask DataFrame: each partition's sums are computed by pandas where the partition lives and
  then added, for data no single machine holds.

Whatever the engine, the sums are finished by :func:`cilib.stats.sufficient.stats_from_sums`
and the interval, gap and effect-size formulas are those of :mod:`cilib.stats.equity`, so the
figures agree with the pandas path to rounding. ``where`` keeps only rows whose columns equal the
given values (one value or a list per column), e.g. ``where={"period": "2025/26 HT3"}``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cilib.core.errors import DataError
from cilib.data.store import Store
from cilib.stats import equity
from cilib.stats.checks import as_list
from cilib.stats.equity import GAP_COLUMNS, RATIO_COLUMNS, gap_from_stats, summary_from_stats
from cilib.stats.sufficient import (
    cell_sums,
    combine_sums,
    stats_from_sums,
    sum_columns,
)

__all__ = ["cell_sums_duckdb", "cell_sums_dask", "gap", "group_summary", "parquet_source"]

SIDE = "_side"
NAN_TEXT = "('nan', '-nan')"


def is_dask(obj: Any) -> bool:
    """Return whether ``obj`` is a Dask DataFrame (without importing Dask).

    Examples
    --------
    >>> is_dask(pd.DataFrame())
    False
    """
    return type(obj).__module__.split(".")[0] == "dask" and hasattr(obj, "npartitions")


def parquet_source(source: str | Path | Store, table: str | None = None) -> str:
    """Return the DuckDB ``read_parquet(...)`` expression for a parquet source.

    ``source`` is a parquet file, a folder of parquet files (read recursively, with folder
    names such as ``school_id=S01`` read as columns), a glob, or a store with ``table``.

    Examples
    --------
    >>> parquet_source("/data/x.parquet")
    "read_parquet('/data/x.parquet', hive_partitioning = true, union_by_name = true)"
    """
    if isinstance(source, Store):
        if not table:
            raise DataError("with a store as the source, name the table: table='assessments'")
        path = source.parquet_path(table)
    else:
        if table:
            raise DataError("table= is only used with a store as the source")
        path = Path(source)
    text = str(path)
    if "*" not in text and path.is_dir():
        text = str(path / "**" / "*.parquet")
    return f"read_parquet({sql_text(text)}, hive_partitioning = true, union_by_name = true)"


def sql_text(text: str) -> str:
    """Quote ``text`` as an SQL string literal.

    Examples
    --------
    >>> sql_text("it's")
    "'it''s'"
    """
    return "'" + text.replace("'", "''") + "'"


def ident(name: str) -> str:
    """Quote a column name as an SQL identifier.

    Examples
    --------
    >>> ident('a"b')
    '"a""b"'
    """
    return '"' + str(name).replace('"', '""') + '"'


def values_list(values: Any) -> list:
    """One value or a list of values, as a list (the convention of ``focus`` and ``where``)."""
    return list(values) if isinstance(values, (list, tuple, set)) else [values]


def in_clause(column: str, values: Any, params: list) -> str:
    """Return SQL ``column IN (?, ...)``, appending the values to ``params``."""
    vals = values_list(values)
    params.extend(vals)
    return f"{ident(column)} IN ({', '.join('?' * len(vals))})"


def check_sides(focus: Any, comparison: Any) -> None:
    """Raise :class:`DataError` when the focus and comparison values overlap."""
    if comparison is not None:
        both = {repr(v) for v in values_list(focus)} & {repr(v) for v in values_list(comparison)}
        if both:
            raise DataError("focus and comparison overlap; give disjoint groups")


def cell_sums_duckdb(
    source: str | Path | Store,
    value: str,
    by: str | Sequence[str] | None = None,
    *,
    kind: str = "mean",
    weight: str | None = None,
    table: str | None = None,
    where: dict[str, Any] | None = None,
    side: tuple[str, Any, Any] | None = None,
) -> pd.DataFrame:
    """Compute the sums per cell of :mod:`cilib.stats.sufficient` with DuckDB from parquet.

    Same result as :func:`cilib.stats.sufficient.cell_sums` on the data read into pandas (to
    rounding; for means DuckDB's mean and variance per cell are turned into sums about the
    overall mean by :func:`sums_from_moments`). ``side`` is
    ``(group, focus, comparison)``: the cells are then split by ``group`` too, and
    :func:`split_sides` adds them up into a ``_side`` column, ``"focus"`` or ``"comparison"``
    (rows in neither are left out).
    """
    import duckdb

    by = as_list(by)
    weighted = weight is not None
    sum_columns(kind, weighted)
    src = parquet_source(source, table)
    params: list = []  # in the order the placeholders appear: SELECT's, then WHERE's
    wparams: list = []
    filters = [in_clause(c, v, wparams) for c, v in (where or {}).items()]
    keys = [ident(c) for c in by]
    cols = [*keys, f"CAST({ident(value)} AS DOUBLE) AS _y"]
    # NaN is missing too; DuckDB 2.0's isnan() on parquet columns can be folded to false from
    # the file's min/max statistics (which leave NaN out), so the test is on the text form
    keep = ["_y IS NOT NULL", f"CAST(_y AS VARCHAR) NOT IN {NAN_TEXT}"]
    if weighted:
        cols.append(f"CAST({ident(weight)} AS DOUBLE) AS _w")
        keep += ["_w IS NOT NULL", f"CAST(_w AS VARCHAR) NOT IN {NAN_TEXT}"]
    groups = [*by]
    if side is not None and side[0] not in by:
        groups.append(side[0])
        keys.append(ident(side[0]))
        cols.append(ident(side[0]))
    params += wparams
    inner = f"SELECT {', '.join(cols)} FROM {src}"
    if filters:
        inner += " WHERE " + " AND ".join(filters)
    # a cursor on DuckDB's default in-memory database: opening a new database costs ~0.1 s
    con = duckdb.default_connection().cursor()
    con.execute("SET enable_progress_bar = false")
    try:
        check_numeric(con, src, [value] + ([weight] if weighted else []))
        if kind == "mean":  # DuckDB's streaming mean and variance, turned into sums below
            aggs = ["avg(_y) AS _mean", "var_samp(_y) AS _var"]
        elif not weighted:
            aggs = ["sum(_y) AS successes", "count(*) FILTER (WHERE _y NOT IN (0, 1)) AS _bad"]
        else:
            aggs = [
                "sum(_w) AS sum_w",
                "sum(_w * _y) AS sum_wy",
                "sum(_w * _w) AS sum_w2",
                "sum(_w * _w * _y) AS sum_w2y",
                "sum(_w * _w * _y * _y) AS sum_w2y2",
                "count(*) FILTER (WHERE _y < 0 OR _y > 1) AS _bad",
                "count(*) FILTER (WHERE _w < 0) AS _negw",
            ]
        # NaN values (not only NULLs) are left out too; filtering them costs a pass, so the
        # query first runs without that filter and again with it only if a NaN shows up
        for nan_filter in (False, True):
            cond = keep if nan_filter else [k for k in keep if NAN_TEXT not in k]
            sql = (
                f"SELECT {', '.join([*keys, 'count(*) AS n', *aggs])} FROM ({inner}) "
                f"WHERE {' AND '.join(cond)}"
            )
            if keys:
                sql += f" GROUP BY {', '.join(keys)}"
            try:
                out = con.execute(sql, params).df()
            except duckdb.Error as exc:
                raise DataError(f"could not compute {value!r} from {src}: {exc}") from exc
            sums = out[[c for c in out.columns if c not in groups and c not in ("n", "_var")]]
            if not sums.isna().any().any():
                break
    finally:
        con.close()
    out = finish_checks(out, value, weight, kind, groups)
    return split_sides(out, by, side) if side is not None else out


def split_sides(sums: pd.DataFrame, by: list[str], side: tuple[str, Any, Any]) -> pd.DataFrame:
    """Add up sums per ``by`` and ``group`` value into a focus and a comparison side.

    ``side`` is ``(group, focus, comparison)`` with the meaning of :func:`gap`: a missing group
    value is on neither side, and ``comparison=None`` is every other value.

    Examples
    --------
    >>> s = pd.DataFrame({"g": ["x", "y", "z", None], "n": [1, 2, 3, 4]})
    >>> split_sides(s, [], ("g", "x", None))
            _side  n
    0  comparison  5
    1       focus  1
    """
    group, focus, comparison = side
    f = equity.group_mask(sums[group], focus)
    if comparison is None:
        c = ~f & sums[group].notna()
    else:
        c = equity.group_mask(sums[group], comparison)
    work = sums.assign(**{SIDE: np.where(f, "focus", "comparison")})[f | c]
    if group not in by:
        work = work.drop(columns=group)
    return combine_sums([work], [*by, SIDE])


def check_numeric(con: Any, src: str, columns: list[str]) -> None:
    """Raise :class:`DataError` unless each column is stored as a number or boolean."""
    types = dict(con.execute(f"SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM {src})")
                 .fetchall())
    for col in columns:
        if col not in types:
            raise DataError(f"the data lacks column {col!r}; available columns: {list(types)}")
        t = str(types[col]).upper()
        if not (t == "BOOLEAN" or t.startswith(("DECIMAL", "DOUBLE", "FLOAT", "REAL"))
                or t.endswith("INT") or t in ("TINYINT", "SMALLINT", "INTEGER", "BIGINT",
                                              "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER",
                                              "UBIGINT")):
            raise DataError(
                f"column {col!r} must be numeric; it is stored as {t}. Convert codes such as "
                "'SUPP' or 'x' to missing and store the column as numbers."
            )


def sums_from_moments(out: pd.DataFrame) -> pd.DataFrame:
    """Turn ``n``, ``_mean`` and ``_var`` per cell into ``sum_d`` and ``sum_d2`` about one shift.

    The shift is the overall mean ``Σ n·mean / Σ n``; with ``m = mean - shift``,
    ``sum_d = n·m`` and ``sum_d2 = (n - 1)·var + n·m²`` (exact algebra; a cell of one has no
    variance term).

    Examples
    --------
    >>> m = pd.DataFrame({"n": [2, 1], "_mean": [2.0, 5.0], "_var": [2.0, None]})
    >>> sums_from_moments(m)
       n  sum_d  sum_d2  shift
    0  2   -2.0     4.0    3.0
    1  1    2.0     4.0    3.0
    """
    n = out["n"].to_numpy(float)
    mean = out.pop("_mean").to_numpy(float)
    var = np.nan_to_num(out.pop("_var").to_numpy(float), nan=0.0)
    shift = float((n * mean).sum() / n.sum()) if n.sum() else 0.0
    m = mean - shift
    out["sum_d"] = n * m
    out["sum_d2"] = (n - 1) * var + n * m**2
    out["shift"] = shift
    return out


def finish_checks(
    out: pd.DataFrame, value: str, weight: str | None, kind: str, keys: list[str]
) -> pd.DataFrame:
    """Raise the errors pandas would raise from the engine's check counts; drop empty cells."""
    if "_negw" in out.columns and int(out.pop("_negw").sum()):
        raise DataError(f"weight column {weight!r} has negative values; trials must be >= 0")
    if "_bad" in out.columns and int(out.pop("_bad").sum()):
        if weight is None:
            raise DataError(
                f"kind='rate' needs {value!r} to be 0/1 or boolean per pupil. Pass weight= for a "
                "proportion."
            )
        raise DataError(f"with weight=, {value!r} must be a proportion between 0 and 1")
    out = out[out["n"] > 0].copy()
    for c in out.columns:
        if c not in keys and c != "n":
            out[c] = pd.to_numeric(out[c]).astype("float64")
            if c != "_var":
                out[c] = out[c].fillna(0.0)
    out["n"] = out["n"].astype("int64")
    if kind == "mean":
        out = sums_from_moments(out)
    if keys:
        out = out.sort_values(keys, na_position="last", kind="stable")
    return out.reset_index(drop=True)


def cell_sums_dask(
    ddf: Any,
    value: str,
    by: str | Sequence[str] | None = None,
    *,
    kind: str = "mean",
    weight: str | None = None,
    side: tuple[str, Any, Any] | None = None,
) -> pd.DataFrame:
    """Compute the sums per cell partition by partition on a Dask DataFrame, then add them.

    Each partition runs :func:`cilib.stats.sufficient.cell_sums` where it lives; only the sums
    travel. For means the shift is the mean of the first partition's values.
    """
    import dask

    by = as_list(by)
    sum_columns(kind, weight is not None)
    groups = [*by] + ([side[0]] if side is not None and side[0] not in by else [])
    shift = None
    if kind == "mean":
        head = pd.to_numeric(ddf[value].partitions[0].compute(), errors="coerce").dropna()
        shift = float(head.astype("float64").mean()) if len(head) else 0.0
    tasks = [
        dask.delayed(cell_sums)(part, value, groups, kind=kind, weight=weight, shift=shift)
        for part in ddf.to_delayed()
    ]
    parts = [p for p in dask.compute(*tasks) if len(p)]
    if not parts:
        cols = list(sum_columns(kind, weight is not None))
        parts = [pd.DataFrame({c: pd.Series(dtype="float64") for c in [*groups, *cols]})]
    out = combine_sums(parts, groups)
    return split_sides(out, by, side) if side is not None else out


def source_sums(source: Any, value: str, by: list[str], **kw: Any) -> pd.DataFrame:
    """Compute the sums from a Dask DataFrame or a parquet source (not a pandas DataFrame)."""
    if is_dask(source):
        where = kw.pop("where", None)
        if kw.pop("table", None):
            raise DataError("table= is only used with a store as the source")
        for col, vals in (where or {}).items():
            source = source[source[col].isin(values_list(vals))]
        return cell_sums_dask(source, value, by, **kw)
    if isinstance(source, (str, Path, Store)):
        return cell_sums_duckdb(source, value, by, **kw)
    raise DataError(
        "the data must be a pandas or Dask DataFrame, a parquet path or a store; got "
        f"{type(source).__name__}"
    )


def pandas_rows(df: pd.DataFrame, where: dict[str, Any] | None) -> pd.DataFrame:
    """Rows of ``df`` matching ``where`` (all rows when it is empty)."""
    for col, vals in (where or {}).items():
        df = df[df[col].isin(values_list(vals))]
    return df


def group_summary(
    source: Any,
    value: str,
    by: str | Sequence[str] | None = None,
    *,
    kind: str = "mean",
    weight: str | None = None,
    threshold: int = 5,
    level: float = 0.95,
    table: str | None = None,
    where: dict[str, Any] | None = None,
) -> pd.DataFrame:
    """Summarise ``value`` per group from a DataFrame, parquet, a store or a Dask DataFrame.

    The figures and columns are those of :func:`cilib.stats.equity.group_summary` (n, mean or
    rate, SD, SE, t or Wilson interval, suppression below ``threshold`` pupils).

    Examples
    --------
    >>> df = pd.DataFrame({"g": ["a"] * 5, "y": [1.0, 2.0, 3.0, 4.0, 5.0]})
    >>> group_summary(df, "y", "g")[["g", "n", "mean", "sd"]].round(3)
       g  n  mean     sd
    0  a  5   3.0  1.581
    """
    if isinstance(source, pd.DataFrame):
        return equity.group_summary(
            pandas_rows(source, where), value, by, kind=kind, weight=weight,
            threshold=threshold, level=level,
        )
    sums = source_sums(source, value, as_list(by), kind=kind, weight=weight, table=table,
                       where=where)
    stats = stats_from_sums(sums, kind=kind, weighted=weight is not None)
    return summary_from_stats(stats, kind=kind, threshold=threshold, level=level)


def gap(
    source: Any,
    value: str,
    group: str,
    *,
    focus: Any,
    comparison: Any = None,
    by: str | Sequence[str] | None = None,
    kind: str = "mean",
    weight: str | None = None,
    threshold: int = 5,
    level: float = 0.95,
    table: str | None = None,
    where: dict[str, Any] | None = None,
) -> pd.DataFrame:
    """Gap between a focus and a comparison group per ``by`` cell, from any source.

    The figures and columns are those of :func:`cilib.stats.equity.gap` (focus minus
    comparison; Welch or Newcombe interval; Hedges' g; for rates the ratio; suppression when
    either side has fewer than ``threshold`` pupils). With parquet or a store, DuckDB computes
    the sums per cell and school; with a Dask DataFrame, each partition does.

    Examples
    --------
    >>> df = pd.DataFrame({"dis": [True] * 5 + [False] * 5,
    ...                    "score": [4, 5, 6, 5, 5, 7, 8, 6, 7, 7]})
    >>> gap(df, "score", "dis", focus=True)[["n_focus", "gap"]]
       n_focus  gap
    0        5 -2.0
    """
    if isinstance(source, pd.DataFrame):
        return equity.gap(
            pandas_rows(source, where), value, group, focus=focus, comparison=comparison, by=by,
            kind=kind, weight=weight, threshold=threshold, level=level,
        )
    equity.check_kind(kind)
    check_sides(focus, comparison)
    by = as_list(by)
    sums = source_sums(source, value, by, kind=kind, weight=weight, table=table, where=where,
                       side=(group, focus, comparison))
    if not (sums[SIDE] == "focus").any():
        raise DataError(f"no rows with a value have {group!r} equal to focus={focus!r}")
    return gap_from_side_sums(sums, by, kind=kind, weighted=weight is not None,
                              threshold=threshold, level=level)


def gap_from_side_sums(
    sums: pd.DataFrame, by: list[str], *, kind: str, weighted: bool, threshold: int, level: float
) -> pd.DataFrame:
    """Finish sums split by ``_side`` into the table of :func:`cilib.stats.equity.gap`."""
    stats = stats_from_sums(sums, kind=kind, weighted=weighted)
    sides = []
    for name in ("focus", "comparison"):
        s = stats[stats[SIDE] == name].drop(columns=SIDE).reset_index(drop=True)
        sides.append(s.rename(columns={c: f"{c}_{name}" for c in s.columns if c not in by}))
    if by:
        cells = sides[0].merge(sides[1], on=by, how="outer", sort=False)
        cells = cells.sort_values(by, na_position="last", kind="stable")
    else:
        cells = pd.concat(sides, axis=1)
    for c in ("n_focus", "n_comparison"):
        cells[c] = cells[c].fillna(0).astype("int64")
    if kind == "rate":
        for c in ("successes_focus", "trials_focus", "successes_comparison", "trials_comparison"):
            cells[c] = cells[c].fillna(0.0)
    out = gap_from_stats(cells, kind=kind, threshold=threshold, level=level)
    keep = by + list(GAP_COLUMNS) + (list(RATIO_COLUMNS) if kind == "rate" else [])
    return out[keep + ["suppressed"]].reset_index(drop=True)
