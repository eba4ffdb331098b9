"""Map an export's columns and codes onto the canonical tables of the data contract.

A mapping is a small dict (YAML in the trust config under ``mappings: <table>:``, or a separate
file, see ``docs/own-data.md``). Steps run in this fixed order; each is optional:

1. ``melt``: ``{columns, variable, value}``; wide to long (e.g. grades G1, G2, G3 -> one row
   per period). Row accounting then counts long rows.
2. ``join``: list of ``{file, keys, columns}``; left-joins another file on key columns (each
   key must match at most one row there). A row with no match is quarantined (rule
   ``join_unmatched``).
3. ``columns``: ``{export_name: canonical_name}`` renames.
4. ``constants``: ``{column: value}``.
5. ``values``: ``{column: {code: value}}`` recodes; a code not listed is quarantined
   (rule ``unknown_code``) with its value, never turned into missing. Missing stays missing.
6. ``booleans``: list of columns holding Y/N, yes/no, true/false, 1/0, T/F; anything else is
   quarantined.
7. ``dates``: ``{column: {dayfirst: true}}``; ISO or dd/mm/yyyy (see
   :func:`cilib.data.readers.parse_dates`); unparseable dates are quarantined (rule ``bad_date``),
   including a date valid only the other way round (``09/25/2024`` in a day-first file),
   which is never swapped, with a logged warning.
8. ``derive``: ordered ``{new_column: {op...}}``, each one of
   ``template: "{a}-{b}"`` (string from other columns, e.g. ids),
   ``any_of: [a, b]`` / ``all_of: [a, b]`` (boolean OR / AND, e.g. disadvantaged = fsm OR
   looked_after), ``map: {code: value}, from: col`` (recode into a new column, unknown codes
   quarantined), ``calendar: {label: start}, from: col`` (period: the last label whose start
   is on or before the value; dates or numbers), ``scale: {grade: number}, from: col``
   (score from a grade scale), ``rescale: [lo, hi], from: col`` (linear to 0-100),
   ``coalesce: [a, b]`` (first non-missing).
9. ``numbers``: ``{column: {min, max}}``; to float, unparseable or out-of-range quarantined.
10. ``required``: columns that must not be missing (rule ``missing_value``).
11. ``keep``: columns to keep (default: all).

Read options may sit beside the steps: ``sheet``, ``header_row``, ``encoding``, ``sep``,
``expected`` (see :func:`cilib.data.readers.read_file`) and ``decimal`` (``"."`` or ``","``: the
decimal mark of numbers; see :func:`cilib.data.load.parse_numbers`).

Rows :func:`cilib.data.readers.read_file` set aside (``unparseable_line``, ``mixed_encoding``) are
quarantined first and count as rows read. Every output row keeps ``_source_row``. Rows read
(after melt) = rows mapped + rows quarantined, always (:attr:`MappingResult.balanced`).
"""

from __future__ import annotations

import json
import logging
import string
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from cilib.core import safe_yaml
from cilib.core.errors import ConfigError, DataError
from cilib.data.mapping_spec import check_mapping_spec
from cilib.data.readers import SOURCE_ROW, parse_dates, read_file, set_aside_rows

log = logging.getLogger(__name__)
QUARANTINE_COLUMNS = ["source_row", "rule", "column", "reason", "record"]
#: Text read as True / False by the ``booleans`` step (compared case-insensitively).
TRUE_CODES = ("y", "yes", "true", "t", "1")
FALSE_CODES = ("n", "no", "false", "f", "0")
#: Internal id of a row after join and melt; dropped before returning.
_ROW = "_row_id"


def empty_quarantine() -> pd.DataFrame:
    """Return an empty quarantine frame with the standard columns."""
    return pd.DataFrame({c: pd.Series(dtype="str") for c in QUARANTINE_COLUMNS}).astype(
        {"source_row": "Int64"}
    )


@dataclass(frozen=True)
class MappingResult:
    """A mapped table and its quarantine, with the row accounting."""

    table: str
    data: pd.DataFrame
    quarantine: pd.DataFrame
    rows_read: int
    rows_in: int
    rows_quarantined: int

    @property
    def rows_clean(self) -> int:
        """Rows mapped."""
        return len(self.data)

    @property
    def balanced(self) -> bool:
        """Whether rows in (after melt) = rows mapped + distinct rows quarantined."""
        return self.rows_in == self.rows_clean + self.rows_quarantined

    def top_reasons(self, n: int = 3) -> list[tuple[str, int]]:
        """Return the ``n`` commonest quarantine rules (with column) and their row counts."""
        if self.quarantine.empty:
            return []
        key = self.quarantine["rule"] + ":" + self.quarantine["column"].fillna("")
        return list(key.value_counts().head(n).items())


def _records(rows: pd.DataFrame) -> list[str]:
    rows = rows.drop(columns=[c for c in (SOURCE_ROW, _ROW) if c in rows.columns])
    out = []
    for r in rows.to_dict("records"):
        out.append(json.dumps({k: (None if _isna(v) else str(v)) for k, v in r.items()}))
    return out


def _short(v: object, n: int = 40) -> str:
    """Return a cell value for a message: escaped (``repr``) and at most ``n`` characters."""
    return repr(str(v)[:n])


def _isna(v: object) -> bool:
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


class _Quarantine:
    """Collects failing rows; each row is kept once in the mapped frame's accounting."""

    def __init__(self, table: str) -> None:
        self.table = table
        self.parts: list[pd.DataFrame] = []
        self.bad: set[int] = set()
        # a row set aside by two steps keeps the record it had when first set aside, so that its
        # entries collapse to one line (a later step sees values an earlier step changed)
        self.first_record: dict[int, str] = {}

    def add(self, df: pd.DataFrame, mask: pd.Series, rule: str, column: str, reasons) -> None:
        mask = mask.fillna(False).astype(bool)
        if not mask.any():
            return
        rows = df.loc[mask]
        reasons = list(reasons(rows)) if callable(reasons) else [reasons] * len(rows)
        self.parts.append(
            pd.DataFrame(
                {
                    "source_row": rows[SOURCE_ROW].astype("Int64").to_numpy(),
                    "rule": rule,
                    "column": column,
                    "reason": reasons,
                    "record": [
                        self.first_record.setdefault(rid, rec)
                        for rid, rec in zip(rows[_ROW].tolist(), _records(rows), strict=True)
                    ],
                }
            )
        )
        self.bad.update(rows[_ROW].tolist())

    def frame(self) -> pd.DataFrame:
        if not self.parts:
            return empty_quarantine()
        q = pd.concat(self.parts, ignore_index=True)
        return q.astype(
            {
                "source_row": "Int64",
                "rule": "str",
                "column": "str",
                "reason": "str",
                "record": "str",
            }
        )


def _need(df: pd.DataFrame, cols, table: str, step: str) -> None:
    missing = [c for c in cols if c not in df.columns]
    if missing:
        have = ", ".join(c for c in df.columns if c not in (SOURCE_ROW, _ROW))
        raise DataError(
            f"{table}: the mapping's {step} step needs column(s) {missing}, which the data "
            f"does not have. Columns present: {have}."
        )


def apply_mapping(
    raw: pd.DataFrame,
    spec: dict | None,
    *,
    table: str,
    frames: dict[str, pd.DataFrame] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Map one export onto a canonical table as the mapping ``spec`` says.

    Parameters
    ----------
    raw
        Frame from :func:`cilib.data.readers.read_file` (strings plus ``_source_row``).
    spec
        Mapping (see the module docstring); ``None`` means the export already uses canonical
        names and codes.
    table
        Canonical table name (used in messages).
    frames
        Frames named in ``join:`` steps, keyed by the ``file`` value given there.

    Returns
    -------
    tuple of pandas.DataFrame
        The mapped frame (with ``_source_row``) and the quarantine (``source_row``, ``rule``,
        ``column``, ``reason``, ``record``; one line per failed rule, so a row failing two
        rules appears twice).

    Raises
    ------
    ConfigError
        If the mapping has an unknown step or a malformed derive.
    DataError
        If a step names a column the data does not have.

    Examples
    --------
    >>> raw = pd.DataFrame({"_source_row": [1, 2], "SEN": ["K", "X"]})
    >>> out, q = apply_mapping(raw, {"columns": {"SEN": "sen"},
    ...     "values": {"sen": {"K": "support", "E": "ehcp", "N": "none"}}}, table="pupils")
    >>> out["sen"].tolist(), q["reason"].tolist()
    (['support'], ["pupils.sen code 'X' is not one of K, E, N"])
    """
    result = map_frame(raw, spec, table=table, frames=frames)
    return result.data, result.quarantine


def map_frame(
    raw: pd.DataFrame,
    spec: dict | None,
    *,
    table: str,
    frames: dict[str, pd.DataFrame] | None = None,
    set_aside: list[dict] | None = None,
) -> MappingResult:
    """Like :func:`apply_mapping`, returning a :class:`MappingResult` with row accounting.

    ``set_aside`` lists rows already quarantined before mapping (quarantine dicts, e.g. lines
    :func:`cilib.data.readers.read_file` could not read); by default those of ``raw``
    (:func:`cilib.data.readers.set_aside_rows`). They count as rows read and rows quarantined.
    """
    spec = dict(spec or {})
    check_mapping_spec(spec, f"mappings.{table}", f"Mapping for {table!r}")
    if SOURCE_ROW not in raw.columns:
        raise DataError(f"{table}: the frame has no {SOURCE_ROW} column; read it with read_file.")
    aside = set_aside_rows(raw) if set_aside is None else list(set_aside)
    rows_read = len(raw) + len(aside)
    q = _Quarantine(table)
    if aside:
        q.parts.append(pd.DataFrame(aside, columns=QUARANTINE_COLUMNS))
    df = raw.copy()

    if spec.get("melt"):
        df = _melt(df, spec["melt"], table)
    df = df.reset_index(drop=True)
    df[_ROW] = np.arange(len(df))
    rows_in = len(df) + len(aside)
    for j in spec.get("join") or []:
        df = _join(df, j, frames or {}, q, table)

    renames = spec.get("columns") or {}
    _need(df, renames, table, "columns")
    df = df.rename(columns=renames)
    for col, value in (spec.get("constants") or {}).items():
        df[col] = pd.Series([str(value)] * len(df), dtype="str", index=df.index)
    for col, codes in (spec.get("values") or {}).items():
        _need(df, [col], table, "values")
        df[col] = _recode(df, col, col, codes, q, table)
    for col in spec.get("booleans") or []:
        _need(df, [col], table, "booleans")
        df[col] = _booleans(df, col, q, table)
    for col, opts in (spec.get("dates") or {}).items():
        _need(df, [col], table, "dates")
        dayfirst = (opts or {}).get("dayfirst", True)
        parsed = parse_dates(df[col], dayfirst=dayfirst)
        bad = parsed.isna() & df[col].notna()
        # a date valid only the other way round (09/25/2024 in a day-first file) is never
        # swapped per row: it is quarantined with a reason that says what it looks like
        swapped = bad & parse_dates(df[col], dayfirst=not dayfirst).notna()
        order = "dd/mm/yyyy" if dayfirst else "mm/dd/yyyy"
        other = "mm/dd/yyyy" if dayfirst else "dd/mm/yyyy"
        q.add(
            df,
            bad,
            "bad_date",
            col,
            lambda r, c=col, sw_=swapped, o=order, x=other: [
                f"{table}.{c} {_short(v)} looks {x} in a {o} file; not swapped"
                if sw
                else f"{table}.{c} {_short(v)} is not a date (yyyy-mm-dd or {o})"
                for v, sw in zip(r[c], sw_[r.index], strict=True)
            ],
        )
        if swapped.any():
            log.warning(
                "%s.%s: %d date(s) are valid only as %s in a %s file; they are quarantined. "
                "If the whole column is %s, set dates: {%s: {dayfirst: %s}}.",
                table,
                col,
                int(swapped.sum()),
                other,
                order,
                other,
                col,
                str(not dayfirst).lower(),
            )
        df[col] = parsed
    for col, op in (spec.get("derive") or {}).items():
        df[col] = _derive(df, col, op or {}, q, table)
    for col, rng in (spec.get("numbers") or {}).items():
        _need(df, [col], table, "numbers")
        df[col] = _numbers(df, col, rng or {}, q, table)
    for col in spec.get("required") or []:
        _need(df, [col], table, "required")
        q.add(df, df[col].isna(), "missing_value", col, f"{table}.{col} is blank")
    keep = spec.get("keep")
    if keep:
        _need(df, keep, table, "keep")
        df = df[[SOURCE_ROW, _ROW] + [c for c in keep if c != SOURCE_ROW]]
    clean = df.loc[~df[_ROW].isin(q.bad)].drop(columns=[_ROW]).reset_index(drop=True)
    return MappingResult(table, clean, q.frame(), rows_read, rows_in, len(q.bad) + len(aside))


def _join(df: pd.DataFrame, j: dict, frames: dict, q: _Quarantine, table: str) -> pd.DataFrame:
    name = j.get("file")
    if name not in frames:
        raise ConfigError(f"{table}: join file {name!r} was not read; give it under join: file:.")
    on = j.get("keys", j.get("on", j.get(True)))  # YAML 1.1 reads a bare `on:` key as True
    on = [on] if isinstance(on, str) else list(on or [])
    if not on:
        raise ConfigError(f"{table}: join with {name!r} needs keys: (the key column or columns).")
    other = frames[name].drop(columns=[SOURCE_ROW], errors="ignore")
    _need(df, on, table, f"join ({name})")
    if not set(on) <= set(other.columns):
        raise DataError(f"{table}: join file {name!r} lacks key column(s) {on}.")
    if j.get("columns"):
        other = other[list(dict.fromkeys(on + list(j["columns"])))]
    dup = other.duplicated(on)
    if dup.any():
        raise DataError(
            f"{table}: join file {name!r} has {int(dup.sum())} repeated key(s) on {on}; a join "
            "must match at most one row. Remove the duplicates."
        )
    merged = df.merge(other, on=on, how="left", indicator="_merge", suffixes=("", f"_{name}"))
    unmatched = merged["_merge"] == "left_only"
    q.add(
        merged,
        unmatched,
        "join_unmatched",
        ",".join(on),
        lambda r: [
            f"{table}: no row in {name} with " + ", ".join(f"{k}={r2[k]}" for k in on)
            for _, r2 in r.iterrows()
        ],
    )
    # unmatched rows are recorded (their ids stay in q.bad) and go no further
    return merged.loc[~unmatched].drop(columns=["_merge"]).reset_index(drop=True)


def _melt(df: pd.DataFrame, m: dict, table: str) -> pd.DataFrame:
    cols = list(m.get("columns") or [])
    if not cols:
        raise ConfigError(f"{table}: melt needs columns: (the wide columns to stack).")
    _need(df, cols, table, "melt")
    df = df.assign(_order=np.arange(len(df)))
    ids = [c for c in df.columns if c not in cols]
    var = m.get("variable", "variable")
    long = df.melt(id_vars=ids, value_vars=cols, var_name=var, value_name=m.get("value", "value"))
    long = long.sort_values(["_order", var], kind="stable").drop(columns="_order")
    return long.astype({var: "str"})


def _recode(df, src: str, col: str, codes: dict, q: _Quarantine, table: str) -> pd.Series:
    codes = {str(k): v for k, v in (codes or {}).items()}
    present = df[src].notna()
    unknown = present & ~df[src].astype("str").isin(list(codes))
    allowed = ", ".join(codes)
    q.add(
        df,
        unknown,
        "unknown_code",
        col,
        lambda r: [f"{table}.{col} code {_short(v)} is not one of {allowed}" for v in r[src]],
    )
    values = list(codes.values())
    mapped = df[src].astype("str").map(codes)
    if values and all(isinstance(v, bool) for v in values):
        return mapped.astype("boolean")
    if values and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        return pd.to_numeric(mapped).astype("float64")
    return mapped.astype("str").where(mapped.notna(), pd.NA).astype("str")


def _booleans(df, col: str, q: _Quarantine, table: str) -> pd.Series:
    text = df[col].astype("str").str.strip().str.lower()
    is_t, is_f = text.isin(TRUE_CODES), text.isin(FALSE_CODES)
    q.add(
        df,
        df[col].notna() & ~is_t & ~is_f,
        "unknown_code",
        col,
        lambda r: [
            f"{table}.{col} code {_short(v)} is not a yes/no value (Y/N, yes/no, true/false, 1/0)"
            for v in r[col]
        ],
    )
    out = pd.Series(pd.NA, index=df.index, dtype="boolean")
    out[is_t.fillna(False)] = True
    out[is_f.fillna(False)] = False
    return out


def _numbers(df, col: str, rng: dict, q: _Quarantine, table: str) -> pd.Series:
    values = df[col]
    num = (
        pd.to_numeric(values.astype("str").str.strip(), errors="coerce").astype("float64")
        if values.dtype != "float64"
        else values
    )
    bad = num.isna() & values.notna()
    q.add(
        df,
        bad,
        "not_a_number",
        col,
        lambda r: [f"{table}.{col} {_short(v)} is not a number" for v in r[col]],
    )
    lo, hi = rng.get("min"), rng.get("max")
    out = pd.Series(False, index=df.index)
    if lo is not None:
        out |= num < lo
    if hi is not None:
        out |= num > hi
    q.add(
        df,
        out,
        "out_of_range",
        col,
        lambda r: [f"{table}.{col} {v} is outside {lo} to {hi}" for v in num[r.index]],
    )
    return num


def _derive(df, col: str, op: dict, q: _Quarantine, table: str) -> pd.Series:
    src = op.get("from")
    if src is not None:
        _need(df, [src], table, f"derive {col}")
    if "template" in op:
        tmpl = op["template"]
        fields = [f for _, f, _, _ in string.Formatter().parse(tmpl) if f]
        _need(df, fields, table, f"derive {col}")
        missing = df[fields].isna().any(axis=1)
        q.add(
            df,
            missing,
            "missing_value",
            col,
            f"{table}.{col} cannot be built from {tmpl!r}: a part is blank",
        )
        # vectorised str.format: literal text and fields joined column-wise
        out = pd.Series("", index=df.index, dtype="str")
        for literal, field, spec, conv in string.Formatter().parse(tmpl):
            out = out + literal
            if field:
                if spec or conv:
                    raise ConfigError(f"{table}: template {tmpl!r}: use plain {{name}} fields.")
                out = out + df[field].astype("str")
        return out.where(~missing, pd.NA).astype("str")
    if "any_of" in op or "all_of" in op:
        cols = op.get("any_of") or op.get("all_of")
        _need(df, cols, table, f"derive {col}")
        frame = df[cols].astype("boolean")
        return (
            frame.any(axis=1, skipna=False) if "any_of" in op else frame.all(axis=1, skipna=False)
        )
    if "map" in op:
        return _recode(df, src, col, op["map"], q, table)
    if "scale" in op:
        scale = {str(k): float(v) for k, v in op["scale"].items()}
        return _recode(df, src, col, scale, q, table)
    if "rescale" in op:
        lo, hi = (float(x) for x in op["rescale"])
        num = _numbers(df, src, {"min": lo, "max": hi}, q, table)
        return (num - lo) * 100.0 / (hi - lo)
    if "coalesce" in op:
        cols = list(op["coalesce"])
        _need(df, cols, table, f"derive {col}")
        out = df[cols[0]].copy()
        for c in cols[1:]:
            out = out.where(out.notna(), df[c])
        return out
    if "calendar" in op:
        if not isinstance(op["calendar"], dict) or not op["calendar"]:
            raise ConfigError(
                f"{table}: derive.{col}.calendar must map each period label to its start date, "
                "e.g. {'2024/25 HT1': 2024-09-02, '2024/25 HT2': 2024-11-04}."
            )
        return _calendar(df, src, col, op["calendar"], q, table)
    raise ConfigError(
        f"{table}: derive {col!r} needs one of template, any_of, all_of, map, scale, rescale, "
        "calendar."
    )


def _calendar(df, src: str, col: str, calendar: dict, q: _Quarantine, table: str) -> pd.Series:
    labels = list(calendar)
    starts = list(calendar.values())
    values = df[src]
    if all(isinstance(s, (int, float)) for s in starts):
        keys = pd.to_numeric(values, errors="coerce").astype("float64")
        bounds = np.array(starts, dtype="float64")
    else:
        keys = values if str(values.dtype).startswith("datetime") else parse_dates(values)
        bounds = pd.to_datetime([str(s) for s in starts]).to_numpy(dtype="datetime64[ns]")
        keys = keys.astype("datetime64[ns]")
    if not (np.diff(bounds.astype("float64")) > 0).all():
        raise ConfigError(f"{table}: calendar for {col!r} must list start dates in order.")
    idx = np.searchsorted(bounds, keys.to_numpy(), side="right") - 1
    missing = keys.isna()
    before = (idx < 0) & ~missing
    q.add(
        df,
        missing,
        "missing_value",
        col,
        lambda r: [
            f"{table}.{col}: {src} {_short(v)} is blank or unreadable, so no period" for v in r[src]
        ],
    )
    q.add(
        df,
        before,
        "outside_calendar",
        col,
        lambda r: [
            f"{table}.{col}: {src} {v} is before the first period {labels[0]}" for v in r[src]
        ],
    )
    out = [labels[i] if (i >= 0 and not m) else None for i, m in zip(idx, missing, strict=False)]
    return pd.Series(out, index=df.index, dtype="str")


# ---------------------------------------------------------------- reading mapping files


def read_mapping_file(path: str | Path) -> dict:
    """Read a mapping YAML file and return its ``mappings:`` (table -> spec).

    The file may also hold ``data_dir`` (folder of the export, relative to the file) and
    free-text keys (``source``, ``notes``) that are ignored here.

    Raises
    ------
    ConfigError
        If the file is missing, is not YAML, or has no ``mappings:``.
    """
    path = Path(path)
    if not path.exists():
        raise ConfigError(f"Mapping file not found: {path}.")
    doc = safe_yaml.load_file(path, "mapping file") or {}  # refuses duplicate keys and aliases
    if not isinstance(doc.get("mappings"), dict):
        raise ConfigError(f"{path} has no mappings: section (table name -> mapping).")
    return doc


def load_mapped(
    mappings: dict, *, data_dir: str | Path, tables: list[str] | None = None
) -> dict[str, MappingResult]:
    """Read each table's ``file`` (and ``join`` files) from ``data_dir`` and map it.

    ``file`` may be a list: the files are stacked and a ``_source_file`` column says which
    file each row came from (``_source_row`` counts within its file).

    Parameters
    ----------
    mappings
        Table name -> mapping spec, each with ``file`` and optional ``read`` options
        (keyword arguments of :func:`cilib.data.readers.read_file`).
    data_dir
        Folder the file names are relative to.
    tables
        Only these tables (default: all).

    Returns
    -------
    dict of MappingResult
        One per table, in the order of ``mappings``.
    """
    data_dir = Path(data_dir)
    cache: dict[tuple, pd.DataFrame] = {}

    def read(name: str, opts: dict) -> pd.DataFrame:
        key = (name, tuple(sorted(opts.items())))
        if key not in cache:
            cache[key] = read_file(data_dir / name, **opts)
        return cache[key]

    out = {}
    for table, spec in mappings.items():
        if tables and table not in tables:
            continue
        if not spec.get("file"):
            raise ConfigError(f"Mapping for {table!r} needs file: (the export to read).")
        files = spec["file"] if isinstance(spec["file"], list) else [spec["file"]]
        opts = {
            k: spec[k] for k in ("sheet", "header_row", "encoding", "sep", "expected") if k in spec
        }
        opts.update(spec.get("read") or {})
        parts = [read(f, opts).assign(_source_file=f) for f in files]
        aside = [a for f in files for a in set_aside_rows(read(f, opts))]
        raw = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
        frames = {j["file"]: read(j["file"], j.get("read") or {}) for j in spec.get("join") or []}
        out[table] = map_frame(raw, spec, table=table, frames=frames, set_aside=aside)
    return out
