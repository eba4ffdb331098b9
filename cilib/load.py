"""Tidy loaders: one function per canonical table.

Each loader reads the file the trust config names (CSV with ``,`` ``;`` or tab, with or without a
byte-order mark; Excel; parquet), applies the config's column mapping, converts every column to
its canonical dtype (pandas 3) and pseudonymises pupil ids with a keyed hash. Values that cannot
be converted are never silently dropped: they are listed as *type failures* so that validation
puts their rows in the quarantine with a reason.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from cilib.config import TrustConfig
from cilib.errors import DataError
from cilib.mapping import empty_quarantine, map_frame
from cilib.readers import SOURCE_ROW, read_file
from cilib.schema import ID_COLUMNS, LOAD_ORDER, TABLES, Table

TRUE_WORDS = {"true", "t", "yes", "y", "1"}
FALSE_WORDS = {"false", "f", "no", "n", "0"}
FAILURE_COLUMNS = [SOURCE_ROW, "column", "value", "expected"]


@dataclass
class LoadedTable:
    """A canonical table, the values that could not be read and the rows the mapping set aside."""

    name: str
    frame: pd.DataFrame
    type_failures: pd.DataFrame
    mapping_quarantine: pd.DataFrame = field(default_factory=empty_quarantine)
    rows_read: int = 0


def pseudonymise(ids: pd.Series, key: bytes) -> pd.Series:
    """Replace identifiers with a keyed hash (HMAC-SHA256, first 16 hex digits, prefix ``p_``).

    The same id and key always give the same pseudonym, so tables still join; without the key
    the original id cannot be recovered or re-derived from a list of candidate ids.

    Examples
    --------
    >>> s = pseudonymise(pd.Series(["P001", "P001", None]), b"k")
    >>> s[0] == s[1], s[0].startswith("p_"), len(s[0]), pd.isna(s[2])
    (True, True, 18, True)
    """

    def one(v):
        if pd.isna(v):
            return pd.NA
        return "p_" + hmac.new(key, str(v).encode(), hashlib.sha256).hexdigest()[:16]

    uniques = pd.unique(ids)
    lookup = {u: one(u) for u in uniques if not pd.isna(u)}
    return (
        ids.map(lambda v: lookup.get(v, pd.NA) if not pd.isna(v) else pd.NA)
        .astype("str")
        .where(ids.notna(), pd.NA)
    )


def _failures(df: pd.DataFrame, mask: pd.Series, column: str, expected: str) -> pd.DataFrame:
    return pd.DataFrame(
        {
            SOURCE_ROW: df.loc[mask, SOURCE_ROW].astype("Int64").to_numpy(),
            "column": column,
            "value": df.loc[mask, column].astype("str").to_numpy(),
            "expected": expected,
        }
    )


def collapse_quarantine(q: pd.DataFrame) -> pd.DataFrame:
    """Return one quarantine line per source row, joining the rules and reasons it broke."""
    if q.empty or not q.duplicated(["source_row", "record"]).any():
        return q.reset_index(drop=True)
    return (
        q.groupby(["source_row", "record"], sort=True, as_index=False)
        .agg({"rule": "; ".join, "column": lambda c: "; ".join(c.fillna("")), "reason": "; ".join})
        .astype({"source_row": "Int64"})[list(q.columns)]
    )


def coerce(df: pd.DataFrame, table: Table) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Convert string columns to the canonical dtypes of ``table``.

    Returns the typed frame and a frame of type failures (``_source_row``, ``column``, ``value``,
    ``expected``) for values present in the file that could not be converted; those cells become
    missing in the typed frame, and validation quarantines their rows.
    """
    out = df.copy()
    failures = []
    for col in table.columns:
        if col.name not in out.columns:
            continue
        s = out[col.name].astype("str").str.strip()
        s = s.where(s.notna() & (s != ""), pd.NA)
        present = s.notna()
        if col.dtype == "str":
            out[col.name] = s.astype("str")
        elif col.dtype in ("float64", "Int64"):
            num = pd.to_numeric(s.str.replace(",", "", regex=False), errors="coerce")
            bad = present & num.isna()
            if col.dtype == "Int64":
                frac = num.notna() & (num != np.floor(num))
                bad = bad | frac
                num = num.where(~frac)
                out[col.name] = num.astype("Int64")
            else:
                out[col.name] = num.astype("float64")
            if bad.any():
                kind = "a whole number" if col.dtype == "Int64" else "a number"
                failures.append(_failures(df.assign(**{col.name: s}), bad, col.name, kind))
        elif col.dtype == "boolean":
            low = s.str.lower()
            val = pd.Series(pd.NA, index=s.index, dtype="boolean")
            val[low.isin(TRUE_WORDS).fillna(False)] = True
            val[low.isin(FALSE_WORDS).fillna(False)] = False
            bad = present & val.isna()
            out[col.name] = val
            if bad.any():
                failures.append(
                    _failures(df.assign(**{col.name: s}), bad, col.name, "true or false")
                )
        else:  # pragma: no cover - schema only uses the dtypes above
            raise ValueError(f"unknown dtype {col.dtype}")
    fail = (
        pd.concat(failures, ignore_index=True)
        if failures
        else pd.DataFrame(
            {c: pd.Series(dtype="Int64" if c == SOURCE_ROW else "str") for c in FAILURE_COLUMNS}
        )
    )
    return out, fail


def load_table(name: str, config: TrustConfig) -> LoadedTable:
    """Load one canonical table named in the trust config.

    Parameters
    ----------
    name
        A table of the data contract, e.g. ``"pupils"``.
    config
        The checked trust config.

    Returns
    -------
    LoadedTable
        The typed frame (canonical columns plus ``_source_row``), its type failures and the rows
        the mapping set aside.

    Raises
    ------
    DataError
        If the file is missing or unreadable, or a required column is missing after mapping.
    """
    table = TABLES[name]
    path = config.tables.get(name)
    if path is None:
        raise DataError(
            f"The config {config.path.name} names no file for table {name!r} (data.{name})."
        )
    spec = config.mappings.get(name) or {}
    read_opts = {
        k: spec[k] for k in ("sheet", "header_row", "encoding", "sep", "expected") if k in spec
    }
    raw = read_file(path, **read_opts)
    frames = {j["file"]: read_file(config.data_dir / j["file"]) for j in (spec.get("join") or [])}
    result = map_frame(raw, spec, table=name, frames=frames)
    mapped = result.data
    mq = collapse_quarantine(result.quarantine)
    rows_read = result.rows_in
    if mapped[SOURCE_ROW].duplicated().any():
        # a wide-to-long melt gives several rows per file row: number the long rows so that each
        # can be quarantined on its own (the record column still shows its values)
        mapped = mapped.assign(**{SOURCE_ROW: range(1, len(mapped) + 1)})
    missing = [c for c in table.required if c not in mapped.columns]
    if missing:
        have = ", ".join(c for c in mapped.columns if c != SOURCE_ROW)
        raise DataError(
            f"{path.name} ({name}) is missing required column(s) {', '.join(missing)}. "
            f"It has: {have}. Rename the column in the file or add it to mappings.{name}.columns "
            "in the trust config."
        )
    # canonical columns, plus on pupils any further characteristic the config names as a lens
    extra = (
        [c for c in config.lenses if c in mapped.columns and c not in table.names]
        if (name == "pupils")
        else []
    )
    keep = [SOURCE_ROW] + [c for c in table.names if c in mapped.columns] + extra
    typed, failures = coerce(mapped[keep], table)
    for c in table.names:
        if c not in typed.columns:  # optional column absent: add it empty with its dtype
            dtype = {"str": "str", "float64": "float64", "Int64": "Int64", "boolean": "boolean"}[
                table.column(c).dtype
            ]
            typed[c] = pd.Series(pd.NA, index=typed.index, dtype=dtype)
    if table.pupil_level:
        key = config.pseudonym_key()
        for c in ID_COLUMNS:
            if c in typed.columns:
                typed[c] = pseudonymise(typed[c], key)
    typed[SOURCE_ROW] = typed[SOURCE_ROW].astype("Int64")
    return LoadedTable(name, typed.reset_index(drop=True), failures, mq, rows_read)


def load_tables(config: TrustConfig) -> dict[str, LoadedTable]:
    """Load every table the config names, in the order validation needs (parents first)."""
    return {name: load_table(name, config) for name in LOAD_ORDER if name in config.tables}


def _public(name: str, doc: str):
    def loader(config: TrustConfig) -> pd.DataFrame:
        return load_table(name, config).frame.drop(columns=[SOURCE_ROW])

    loader.__name__ = f"load_{name}"
    loader.__doc__ = (
        f"Return the {doc} table as a canonical tidy frame (before validation).\n\n"
        "Parameters\n----------\nconfig\n    The checked trust config.\n"
    )
    return loader


load_schools = _public("schools", "schools")
load_pupils = _public("pupils", "pupils (one row per pupil per academic year)")
load_assessments = _public("assessments", "assessments")
load_attendance = _public("attendance", "attendance")
load_behaviour = _public("behaviour", "behaviour")
load_survey_items = _public("survey_items", "survey items")
load_survey_responses = _public("survey_responses", "survey responses")
load_systems = _public("systems", "systems measures")


def performance_tables(path):
    """Read the department's performance tables (:func:`cilib.published.performance_tables`)."""
    from cilib.published import performance_tables as _pt

    return _pt(path)
