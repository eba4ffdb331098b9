"""Tidy loaders: one function per canonical table.

Each loader reads the file the trust config names (CSV with ``,`` ``;`` or tab, with or without a
byte-order mark; Excel; parquet), applies the config's column mapping, converts every column to
its canonical dtype (pandas 3) and pseudonymises pupil ids with a keyed hash. Values that cannot
be converted are never silently dropped: they are listed as *type failures* so that validation
puts their rows in the quarantine with a reason.

Ids are pseudonymised at the edge, right after reading and before any mapping step, so no
quarantine reason or record shows a raw pupil id; rows with a blank or null-word id are
quarantined first (rule ``invalid_id``). Numbers are read as written (:func:`parse_numbers`):
rule ``ambiguous_number`` for ``1,234`` when the decimal mark is neither declared
(``decimal:`` in the mapping) nor detected. Lines the reader could not read
(``unparseable_line``, ``mixed_encoding``) are quarantined too, so rows read = data lines.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import string
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from cilib.core.errors import DataError
from cilib.core.schema import ID_COLUMNS, LOAD_ORDER, TABLES, Table
from cilib.data.config import TrustConfig
from cilib.data.fast_csv import map_distinct, plain_numbers, stripped
from cilib.data.mapping import QUARANTINE_COLUMNS, empty_quarantine, map_frame
from cilib.data.mapping_spec import READ_KEYS
from cilib.data.readers import SOURCE_ROW, read_file, set_aside_rows

log = logging.getLogger(__name__)

TRUE_WORDS = {"true", "t", "yes", "y", "1"}
FALSE_WORDS = {"false", "f", "no", "n", "0"}
FAILURE_COLUMNS = [SOURCE_ROW, "column", "value", "expected"]
#: Words (compared case-insensitively) that mean "no id"; such an id is quarantined.
NULL_IDS = {"", "na", "n/a", "null", "none", "nan", "-"}
_LONGEST_NULL_ID = max(len(w) for w in NULL_IDS)
_COMMA_DECIMAL = re.compile(r"^[+-]?\d+,\d+$")
_DOT_GROUPED = re.compile(r"^[+-]?\d{1,3}(\.\d{3})+(,\d+)?$")
_COMMA_GROUPED = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$")


@dataclass
class LoadedTable:
    """A canonical table, the values that could not be read and the rows the mapping set aside."""

    name: str
    frame: pd.DataFrame
    type_failures: pd.DataFrame
    mapping_quarantine: pd.DataFrame = field(default_factory=empty_quarantine)
    rows_read: int = 0


def _hmac_sha256(key: bytes):
    """Return a function giving HMAC-SHA256 under ``key`` (RFC 2104), keyed once for many ids.

    The same digest as ``hmac.new(key, msg, hashlib.sha256).digest()``, with the padded key
    hashed once instead of once per message.
    """
    if len(key) > 64:  # SHA-256's block size: longer keys are hashed first
        key = hashlib.sha256(key).digest()
    key = key.ljust(64, b"\0")
    inner = hashlib.sha256(bytes(b ^ 0x36 for b in key)).copy
    outer = hashlib.sha256(bytes(b ^ 0x5C for b in key)).copy

    def digest(msg: bytes) -> bytes:
        h = inner()
        h.update(msg)
        o = outer()
        o.update(h.digest())
        return o.digest()

    return digest


def pseudonymise(ids: pd.Series, key: bytes, *, memo: dict | None = None) -> pd.Series:
    """Replace identifiers with a keyed hash (HMAC-SHA256, first 16 hex digits, prefix ``p_``).

    The same id and key always give the same pseudonym, so tables still join; without the key
    the original id cannot be recovered or re-derived from a list of candidate ids. ``memo``
    (id text -> pseudonym, for this key only) saves hashing an id again in another column.

    Examples
    --------
    >>> s = pseudonymise(pd.Series(["P001", "P001", None]), b"k")
    >>> s[0] == s[1], s[0].startswith("p_"), len(s[0]), pd.isna(s[2])
    (True, True, 18, True)
    """
    hasher = _hmac_sha256(key)
    memo = {} if memo is None else memo

    def one_text(text: str) -> str:
        pseudonym = memo.get(text)
        if pseudonym is None:
            pseudonym = memo[text] = "p_" + hasher(text.encode()).hex()[:16]
        return pseudonym

    def one(v):
        return pd.NA if pd.isna(v) else one_text(str(v))

    fast = map_distinct(ids, one_text)  # Arrow strings: each distinct id hashed once
    if fast is not None:
        return fast
    uniques = pd.unique(ids)
    lookup = {u: one(u) for u in uniques if not pd.isna(u)}
    return (
        ids.map(lookup)  # a dict maps in one vectorised step; missing ids give NaN
        .astype("str")
        .where(ids.notna(), pd.NA)
    )


def _failures(
    rows: pd.Series, values: pd.Series, mask: pd.Series, column: str, expected: str
) -> pd.DataFrame:
    return pd.DataFrame(
        {
            SOURCE_ROW: rows[mask].astype("Int64").to_numpy(),
            "column": column,
            "value": values[mask].astype("str").to_numpy(),
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


def parse_numbers(values: pd.Series, decimal: str | None = None) -> tuple[pd.Series, pd.Series]:
    """Read numbers as written; return the floats and a mask of *ambiguous* values.

    With ``decimal=","`` (a declared or detected decimal-comma export) ``3,4`` is 3.4 and
    ``1.234,5`` is 1234.5 (``.`` between groups of three digits is a thousands mark).
    With ``decimal="."`` (declared) ``,`` is only a thousands mark between groups of three
    digits: ``1,234`` is 1234 and ``12,5`` is not a number. Undeclared (``None``, the default,
    read as ``.``): ``1,234,567`` and ``1,234.5`` are unambiguous thousands (1234567, 1234.5),
    but ``1,234`` (one group, no point) and ``12,5`` could be either a thousands or a decimal
    comma, so they are flagged *ambiguous* (missing in the result) and never turned silently
    into 1234 or 125. Anything else that is not a plain number is missing and not flagged.

    Examples
    --------
    >>> num, amb = parse_numbers(pd.Series(["3,4", "1.234,5", "7"]), decimal=",")
    >>> num.tolist(), amb.tolist()
    ([3.4, 1234.5, 7.0], [False, False, False])
    >>> num, amb = parse_numbers(pd.Series(["1,234", "1,234,567", "12,5", "2.5"]))
    >>> num.tolist()[1:], amb.tolist()
    ([1234567.0, nan, 2.5], [True, False, True, False])
    """
    fast = plain_numbers(values, decimal)
    if fast is None:
        return _careful_numbers(values, decimal)
    floats, done = fast
    name = values.name if decimal is None else None
    amb = np.zeros(len(values), dtype=bool)
    rest = ~done & values.notna().to_numpy()
    if rest.any():  # values not written plainly: read the careful way, one by one
        num_r, amb_r = _careful_numbers(values[rest], decimal)
        floats[rest] = num_r.to_numpy()
        amb[rest] = amb_r.to_numpy()
    return (
        pd.Series(floats, index=values.index, dtype="float64"),
        pd.Series(amb, index=values.index, name=name),
    )


def _careful_numbers(values: pd.Series, decimal: str | None) -> tuple[pd.Series, pd.Series]:
    """Read numbers as :func:`parse_numbers` says, with pandas' string methods."""
    s = values.astype("str").str.strip()
    out = pd.Series(np.nan, index=values.index, dtype="float64")
    amb = pd.Series(False, index=values.index)
    present = s.notna()
    plain = present & ~s.str.contains(",", regex=False).fillna(True).astype(bool)
    if decimal == ",":
        grouped = present & s.str.match(_DOT_GROUPED).fillna(False).astype(bool)
        comma = present & s.str.match(_COMMA_DECIMAL).fillna(False).astype(bool)
        text = s.where(~grouped, s.str.replace(".", "", regex=False))
        text = text.str.replace(",", ".", regex=False)
        ok = plain | grouped | comma
    else:
        grouped = present & s.str.match(_COMMA_GROUPED).fillna(False).astype(bool)
        comma = present & s.str.match(_COMMA_DECIMAL).fillna(False).astype(bool) & ~grouped
        one_group = grouped & (s.str.count(",") == 1) & ~s.str.contains(".", regex=False)
        if decimal is None:
            amb = (one_group | comma).fillna(False).astype(bool)
            grouped = grouped & ~one_group
        text = s.str.replace(",", "", regex=False)
        ok = plain | grouped
    ok = ok.fillna(False).astype(bool)
    out[ok] = pd.to_numeric(text[ok], errors="coerce").astype("float64")
    return out, amb


def detect_decimal_comma(df: pd.DataFrame, columns: list[str], sep: str | None) -> bool:
    """Whether a ``;``-separated export writes decimals with a comma (``3,4``) in ``columns``.

    True when some value of a numeric column looks like ``3,4`` (a comma not followed by
    exactly three digits, so it cannot be a thousands mark) and none looks like ``3.4`` or a
    comma-grouped thousand (``1,234,567``). ``1,234`` alone decides nothing: it stays ambiguous.
    """
    if sep != ";":
        return False
    seen = False
    for c in columns:
        if c not in df.columns:
            continue
        s = df[c].dropna().astype("str").str.strip()
        if s.str.match(r"^[+-]?\d+\.\d+$").any() or s.str.match(r"^[+-]?\d{1,3}(,\d{3}){2,}").any():
            return False
        unlike_thousands = s.str.match(_COMMA_DECIMAL) & ~s.str.match(r"^[+-]?\d+,\d{3}$")
        seen = seen or bool(unlike_thousands.any())
    return seen


def coerce(
    df: pd.DataFrame, table: Table, *, decimal: str | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Convert string columns to the canonical dtypes of ``table``.

    Returns the typed frame and a frame of type failures (``_source_row``, ``column``, ``value``,
    ``expected``) for values present in the file that could not be converted; those cells become
    missing in the typed frame, and validation quarantines their rows. Numbers are read as
    written with the decimal mark ``decimal`` (see :func:`parse_numbers`); a whole-number
    column holding ``1,0`` in a decimal-comma file is 1, and ``1,5`` there is a failure (not a
    whole number), never 15. Ambiguous numbers are failures here too; :func:`load_table`
    quarantines them first with rule ``ambiguous_number``.
    """
    out = df.copy(deep=False)  # columns are replaced, never changed in place
    failures = []
    for col in table.columns:
        if col.name not in out.columns:
            continue
        s = out[col.name]
        if not stripped(s):  # (when stripped, stripping would change nothing and none is blank)
            s = s.astype("str").str.strip()
            blank = s == ""
            if blank.any():
                s = s.where(s.notna() & ~blank, pd.NA)
        present = s.notna()
        if col.dtype == "str":
            out[col.name] = s.astype("str")
        elif col.dtype in ("float64", "Int64"):
            num, _ = parse_numbers(s, decimal)
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
                failures.append(_failures(df[SOURCE_ROW], s, bad, col.name, kind))
        elif col.dtype == "boolean":
            low = s.str.lower()
            is_t = low.isin(TRUE_WORDS).fillna(False).to_numpy(dtype=bool)
            is_f = low.isin(FALSE_WORDS).fillna(False).to_numpy(dtype=bool)
            val = pd.Series(pd.arrays.BooleanArray(is_t, ~(is_t | is_f)), index=s.index)
            bad = present & val.isna()
            out[col.name] = val
            if bad.any():
                failures.append(_failures(df[SOURCE_ROW], s, bad, col.name, "true or false"))
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


def id_sources(spec: dict, columns, *, table: Table) -> dict[str, str]:
    """Export columns that become id columns: export name -> canonical id column.

    An export column is an id source if the mapping renames it (``columns:``) to
    ``pupil_id``/``respondent_id``/``school_id``, if it already has that name and is not renamed
    away, or if a ``derive`` (``from``, ``coalesce``, ``template``) builds an id from it.
    """
    renames = spec.get("columns") or {}
    wanted = set(ID_COLUMNS) | {"school_id"}
    out: dict[str, str] = {}
    for src, dst in renames.items():
        if dst in wanted:
            out[src] = dst
    for c in wanted:
        if c in columns and c not in renames and c not in out.values():
            out[c] = c
    back = {dst: src for src, dst in renames.items()}
    for col, op in (spec.get("derive") or {}).items():
        if col not in wanted or not isinstance(op, dict):
            continue
        parts = list(op.get("coalesce") or [])
        if op.get("from"):
            parts.append(op["from"])
        if op.get("template"):
            parts += [f for _, f, _, _ in string.Formatter().parse(op["template"]) if f]
        for p in parts:
            out.setdefault(back.get(p, p), col)
    return out


def _invalid_ids(
    raw: pd.DataFrame, sources: dict[str, str], table: Table
) -> tuple[pd.DataFrame, list[dict]]:
    """Set aside rows whose required id is blank or a null word (rule ``invalid_id``).

    An optional id (``survey_responses.pupil_id``) given as a null word becomes missing.
    """
    required = {c.name for c in table.columns if c.required}
    bad_any = pd.Series(False, index=raw.index)
    aside: list[dict] = []
    for src, dst in sources.items():
        if src not in raw.columns:
            continue
        col = raw[src]
        if stripped(col) and not (col.str.len() <= _LONGEST_NULL_ID).any():
            words = pd.Series(False, index=raw.index)  # too long to be a null word, unstripped
        else:
            words = col.astype("str").str.strip().str.lower().isin(NULL_IDS)
        if dst not in required:  # an optional id given as a null word is missing, not an id
            if words.any():
                raw = raw.assign(**{src: col.where(~words.fillna(False), pd.NA)})
            continue
        bad = (col.isna() | words).fillna(True).astype(bool) & ~bad_any
        for r, v in zip(raw.loc[bad, SOURCE_ROW], raw.loc[bad, src], strict=True):
            shown = "blank" if pd.isna(v) or not str(v).strip() else repr(str(v)[:10])
            aside.append(
                {
                    "source_row": int(r),
                    "rule": "invalid_id",
                    "column": dst,
                    "reason": f"{table.name}.{dst} is {shown}, not an id",
                    "record": json.dumps({dst: None if pd.isna(v) else str(v)[:10]}),
                }
            )
        bad_any |= bad
    return (raw.loc[~bad_any] if bad_any.any() else raw), aside


def _hash_columns(df: pd.DataFrame, cols, key: bytes, memo: dict) -> pd.DataFrame:
    cols = [c for c in cols if c in df.columns]
    if not cols:
        return df
    attrs = dict(df.attrs)
    out = df.assign(**{c: pseudonymise(df[c], key, memo=memo) for c in cols})
    out.attrs.update(attrs)
    return out


def _ambiguous(
    mapped: pd.DataFrame, table: Table, decimal: str | None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Move rows with an ambiguous number (``1,234``, ``12,5``) to a quarantine frame."""
    if decimal is not None:
        return mapped, empty_quarantine()
    parts = []
    bad_any = pd.Series(False, index=mapped.index)
    for col in table.columns:
        if col.dtype not in ("float64", "Int64") or col.name not in mapped.columns:
            continue
        text = mapped[col.name].astype("str")
        if not text.str.contains(",", regex=False).fillna(False).astype(bool).any():
            continue  # an ambiguous number has a comma
        _, amb = parse_numbers(text, None)
        amb = amb & ~bad_any
        if not amb.any():
            continue
        rows = mapped.loc[amb]
        parts.append(
            pd.DataFrame(
                {
                    "source_row": rows[SOURCE_ROW].astype("Int64").to_numpy(),
                    "rule": "ambiguous_number",
                    "column": col.name,
                    "reason": [
                        f"{table.name}.{col.name} {str(v)[:20]!r} could mean two numbers (is "
                        "the comma a thousands or a decimal mark?); declare decimal: in the "
                        "mapping"
                        for v in rows[col.name]
                    ],
                    "record": [
                        json.dumps({k: (None if pd.isna(v) else str(v)) for k, v in r.items()})
                        for r in rows.drop(columns=[SOURCE_ROW]).to_dict("records")
                    ],
                }
            )
        )
        bad_any |= amb
    if not parts:
        return mapped, empty_quarantine()
    q = pd.concat(parts, ignore_index=True).astype({"source_row": "Int64"})
    return mapped.loc[~bad_any], q[QUARANTINE_COLUMNS]


def load_table(name: str, config: TrustConfig) -> LoadedTable:
    """Load one canonical table named in the trust config.

    Ids are handled at the edge, before any mapping step can echo them: rows whose id
    (``pupil_id``, ``respondent_id``, ``school_id``, or the export column the mapping turns
    into one) is blank or a null word (``NA``, ``N/A``, ``null``, ``None``, ``NaN``, ``-``)
    are quarantined with rule ``invalid_id``; then, on pupil-level tables, the export columns
    that become ``pupil_id``/``respondent_id`` are pseudonymised, in the joined files too, as
    are join keys that are ids or are not kept as canonical columns. So quarantine reasons and
    records carry pseudonyms only. Numbers are read with the mapping's ``decimal:`` mark (or a
    decimal comma detected in a ``;`` export, with a warning); ambiguous numbers are quarantined
    with rule ``ambiguous_number``.

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
    read_opts = {k: spec[k] for k in READ_KEYS if k in spec}
    decimal = spec.get("decimal")
    if decimal not in (None, ".", ","):
        raise DataError(f"mappings.{name}.decimal must be '.' or ',', not {decimal!r}.")
    raw = read_file(path, **read_opts)
    aside = set_aside_rows(raw)
    frames = {j["file"]: read_file(config.data_dir / j["file"]) for j in (spec.get("join") or [])}
    sources = id_sources(spec, raw.columns, table=table)
    raw, bad_ids = _invalid_ids(raw, sources, table)
    aside = aside + bad_ids
    hashed: set[str] = set()
    if table.pupil_level:
        key = config.pseudonym_key()
        pupil_src = {s for s, d in sources.items() if d in ID_COLUMNS}
        # a join key used by no later step is only a link (an admission number, say): hash it
        # on both sides too, so that an unmatched row's reason cannot show it
        later = json.dumps({k: v for k, v in spec.items() if k != "join"}, default=str)
        for j in spec.get("join") or []:
            on = j.get("keys", j.get("on", j.get(True)))
            for k in [on] if isinstance(on, str) else list(on or []):
                if k not in table.names and k not in later:
                    pupil_src.add(k)
        memo: dict[str, str] = {}  # id text -> pseudonym, shared by the columns hashed here
        raw = _hash_columns(raw, pupil_src, key, memo)
        frames = {f: _hash_columns(fr, pupil_src, key, memo) for f, fr in frames.items()}
        derived = spec.get("derive") or {}
        hashed = {
            d
            for s, d in sources.items()
            if d in ID_COLUMNS and not (d in derived and "template" in (derived[d] or {}))
        }
    result = map_frame(raw, spec, table=name, frames=frames, set_aside=aside)
    mapped = result.data
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
    numeric = [c.name for c in table.columns if c.dtype in ("float64", "Int64")]
    if decimal is None and detect_decimal_comma(mapped, numeric, raw.attrs.get("sep")):
        decimal = ","
        log.warning(
            "%s: numbers are written with a decimal comma (3,4); read ',' as the decimal mark. "
            "Declare decimal: ',' in mappings.%s to silence this.",
            path,
            name,
        )
    mapped, amb = _ambiguous(mapped, table, decimal)
    parts = [p for p in (result.quarantine, amb) if len(p)]
    mq = collapse_quarantine(pd.concat(parts, ignore_index=True) if parts else empty_quarantine())
    # canonical columns, plus on pupils any further characteristic the config names as a lens
    extra = (
        [c for c in config.lenses if c in mapped.columns and c not in table.names]
        if (name == "pupils")
        else []
    )
    keep = [SOURCE_ROW] + [c for c in table.names if c in mapped.columns] + extra
    typed, failures = coerce(mapped[keep], table, decimal=decimal)
    for c in table.names:
        if c not in typed.columns:  # optional column absent: add it empty with its dtype
            dtype = {"str": "str", "float64": "float64", "Int64": "Int64", "boolean": "boolean"}[
                table.column(c).dtype
            ]
            typed[c] = pd.Series(pd.NA, index=typed.index, dtype=dtype)
    if table.pupil_level:
        for c in ID_COLUMNS:
            if c in typed.columns and c not in hashed:
                typed[c] = pseudonymise(typed[c], key, memo=memo)
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
