"""Split large clean CSV exports into chunk files and load each chunk into a typed parquet part.

The first half of a streaming prepare (:mod:`cilib.data.stream`). A big export is cut at line
ends into files of about ``chunk_rows`` data lines, each with the header line repeated, and every
chunk goes through the ordinary loader (:func:`cilib.data.load.load_table`: mapping, typing,
pseudonymising) on its own, so memory is bounded by the chunk, not the file.

Only exports whose lines can be read one at a time are split: a CSV with its header on the first
line, in UTF-8, with no quote characters, no line wider than the header, and a mapping with no
``join``, ``melt`` or reading options other than ``sep`` (and, for a ``;`` file, a declared
``decimal``). Then each line's cells, and its data-row number (counted without blank lines), do
not depend on the other lines, and chunk ``k``'s row ``r`` is the file's row ``offset_k + r``.
Anything else is loaded whole, as one chunk, exactly as before.
"""

from __future__ import annotations

import dataclasses
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from cilib.core.schema import TABLES
from cilib.data.config import TrustConfig
from cilib.data.load import load_table
from cilib.data.readers import SOURCE_ROW, sniff_separator

__all__ = ["KEY_HASH", "ChunkResult", "key_hash", "load_chunk", "split_csv", "value_columns"]

#: Column of a typed part holding a 64-bit hash of the row's key (missing when the key is).
KEY_HASH = "__cilib_key"

_TEXT_SUFFIXES = (".csv", ".txt", ".tsv")
_BLOCK = 1 << 20  # bytes read at a time while splitting


@dataclass
class ChunkResult:
    """What loading one chunk produced.

    Attributes
    ----------
    table, index
        The table and the chunk's place in its file (0 first).
    part
        The typed rows as parquet (``_source_row`` counted within the chunk, from 1).
    rows_read
        Data rows the chunk held (clean, typed or set aside by the mapping).
    rows
        Rows in ``part``.
    failures
        Values that could not be converted (``_source_row`` within the chunk).
    mapping_quarantine
        Rows the mapping set aside (``source_row`` within the chunk).
    values
        Per column, its distinct values (for rule checks), or at most one value and a missing
        one (for columns whose rules only ask "is it missing" and "is it the right type").
    pairs
        Per column pair of a cross-column rule, the distinct pairs.
    """

    table: str
    index: int
    part: Path
    rows_read: int
    rows: int
    failures: pd.DataFrame
    mapping_quarantine: pd.DataFrame
    values: dict[str, pd.Series] = field(repr=False)
    pairs: dict[tuple[str, str], pd.DataFrame] = field(repr=False)


def value_columns(name: str, exps: list[dict], extra: list[str]) -> tuple[set[str], list]:
    """Columns whose every distinct value must be checked, and the column pairs of pair rules.

    ``exps`` are the table's expectations (JSON form); ``extra`` are further columns to keep in
    full (the focus group and lens columns, checked against the config).
    """
    full = set(extra)
    pairs = []
    for e in exps:
        rule, kw = e["meta"]["cilib_rule"], e["kwargs"]
        if "column_A" in kw:
            pairs.append((kw["column_A"], kw["column_B"]))
        elif rule in ("allowed_values", "range", "calendar_period"):
            full.add(kw["column"])
    return full, pairs


def key_hash(frame: pd.DataFrame, key: tuple[str, ...]) -> pd.Series:
    """Return a 64-bit hash of each row's key, equal for equal keys in any chunk or process.

    Missing where the key is entirely missing (such rows are not checked for uniqueness, as GX's
    uniqueness expectations skip them). Equal hashes only make rows candidates: the key values
    themselves are compared before a row is called a duplicate.
    """
    cols = [c for c in key if c in frame.columns]
    if not cols:
        return pd.Series(pd.NA, index=frame.index, dtype="Int64")
    h = pd.util.hash_pandas_object(frame[cols], index=False).to_numpy().view(np.int64)
    present = frame[cols].notna().any(axis=1).to_numpy()
    return pd.Series(pd.arrays.IntegerArray(h, ~present), index=frame.index)


def _few(s: pd.Series) -> pd.Series:
    """One present value and one missing value of ``s`` (those it has), keeping its dtype."""
    missing = s.isna().to_numpy()
    picks = []
    if (~missing).any():
        picks.append(int(np.argmax(~missing)))
    if missing.any():
        picks.append(int(np.argmax(missing)))
    return s.iloc[picks].reset_index(drop=True)


def load_chunk(
    config: TrustConfig,
    name: str,
    index: int,
    source: Path,
    part: Path,
    full: set[str],
    pairs: list[tuple[str, str]],
) -> ChunkResult:
    """Load one chunk file (or a whole file) as table ``name`` and write its typed rows.

    Runs in a worker process during a streaming prepare; ``source`` stands in for the table's
    file in the config, so messages name the same file name.
    """
    cfg = dataclasses.replace(config, tables={**config.tables, name: Path(source)})
    lt = load_table(name, cfg)
    frame = lt.frame
    part.parent.mkdir(parents=True, exist_ok=True)
    frame.assign(**{KEY_HASH: key_hash(frame, TABLES[name].key)}).to_parquet(
        part, index=False, compression=None  # scratch: fast beats small
    )
    values = {}
    for c in frame.columns:
        if c == SOURCE_ROW:
            continue
        s = frame[c]
        values[c] = s.drop_duplicates().reset_index(drop=True) if c in full else _few(s)
    got = {p: frame[list(p)].drop_duplicates().reset_index(drop=True) for p in pairs
           if all(c in frame.columns for c in p)}
    return ChunkResult(
        table=name,
        index=index,
        part=part,
        rows_read=lt.rows_read,
        rows=len(frame),
        failures=lt.type_failures,
        mapping_quarantine=lt.mapping_quarantine,
        values=values,
        pairs=got,
    )


def _splittable(config: TrustConfig, name: str, path: Path) -> bool:
    """Whether the mapping and the file type allow reading the file a chunk at a time."""
    spec = config.mappings.get(name) or {}
    if path.suffix.lower() not in _TEXT_SUFFIXES or name not in TABLES:
        return False
    if spec.get("join") or spec.get("melt") or spec.get("read"):
        return False
    return not any(k in spec for k in ("sheet", "header_row", "encoding", "expected"))


def _field_counts(block: bytes, sep: int) -> np.ndarray:
    """Return the number of separators on each line of ``block`` (ending with a line end)."""
    arr = np.frombuffer(block, dtype=np.uint8)
    ends = np.flatnonzero(arr == 10)
    starts = np.concatenate(([0], ends[:-1] + 1))
    counts = np.add.reduceat((arr == sep).view(np.uint8), starts, dtype=np.int64)
    return np.where(starts == ends, 0, counts)  # an empty line has no separator


def split_csv(
    config: TrustConfig, name: str, out: Path, chunk_rows: int
) -> list[Path] | None:
    """Cut table ``name``'s file into chunk files of about ``chunk_rows`` data lines.

    Returns the chunk files (in order; each starts with the header line), or None when the file
    is small enough to load whole or cannot safely be read a chunk at a time (see the module
    docstring); then nothing is left in ``out``.
    """
    path = Path(config.tables[name])
    if not _splittable(config, name, path) or not path.is_file():
        return None
    spec = config.mappings.get(name) or {}
    with open(path, "rb") as fh:
        head = fh.read(_BLOCK)
        if head.startswith(b"\xef\xbb\xbf"):
            head = head[3:]
        first = head.split(b"\n", 1)[0]
        try:
            first_text = first.decode("utf-8").rstrip("\r")
            lines = head[: head.rfind(b"\n") + 1].decode("utf-8").splitlines()[:200]
        except UnicodeDecodeError:
            return None
        sep = spec.get("sep") or sniff_separator("\n".join(lines) + "\n")
        if len(sep) != 1 or (sep == ";" and spec.get("decimal") is None):
            return None
        cells = first_text.split(sep)
        if not first_text.strip() or any(not c.strip() for c in cells):
            return None  # the header must be the first line, every column named
        width = len(cells)
        avg = max(1, len(head) // max(1, head.count(b"\n")))
        if path.stat().st_size <= chunk_rows * avg * 1.5:
            return None
        out.mkdir(parents=True, exist_ok=True)
        header = first_text.encode("utf-8") + b"\n"
        fh.seek(0)
        files: list[Path] = []
        carry = b""
        buf: list[bytes] = []
        count = 0  # lines in the chunk being gathered
        ok = True
        while ok:
            block = fh.read(_BLOCK)
            data = carry + block
            if not block and data and not data.endswith(b"\n"):
                data += b"\n"
            cut = data.rfind(b"\n") + 1 if block else len(data)
            body, carry = data[:cut], data[cut:]
            if not files and not buf and body.startswith(b"\xef\xbb\xbf"):
                body = body[3:]
            if body:
                ok = _clean_block(body, ord(sep), width)
                ends = np.flatnonzero(np.frombuffer(body, dtype=np.uint8) == 10)
                start = 0
                while ok and len(ends):
                    need = chunk_rows + (1 if not files else 0) - count  # + the header line
                    if len(ends) < need:
                        buf.append(body[start:])
                        count += len(ends)
                        break
                    stop = int(ends[need - 1]) + 1
                    buf.append(body[start:stop])
                    files.append(_write_chunk(out, path.name, len(files), header, buf))
                    buf, count, start = [], 0, stop
                    ends = ends[need:]
            if not block:
                if buf and ok:
                    files.append(_write_chunk(out, path.name, len(files), header, buf))
                break
    if not ok or len(files) < 2:
        shutil.rmtree(out, ignore_errors=True)
        return None
    return files


def _clean_block(body: bytes, sep: int, width: int) -> bool:
    """Whether every line of ``body`` can be read on its own (see the module docstring)."""
    if b'"' in body or b"\x00" in body or body.count(b"\r") != body.count(b"\r\n"):
        return False
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return bool((_field_counts(body, sep) <= width - 1).all())


def _write_chunk(out: Path, filename: str, i: int, header: bytes, buf: list[bytes]) -> Path:
    """Write one chunk: the header line, then its lines (the first chunk holds the header)."""
    folder = out / f"{i:05d}"
    folder.mkdir()
    target = folder / filename
    with open(target, "wb") as fh:
        if i:
            fh.write(header)
        for b in buf:
            fh.write(b)
    return target
