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

__all__ = [
    "KEY_HASH",
    "ChunkPlan",
    "ChunkResult",
    "NotSplittable",
    "cut_chunk",
    "key_hash",
    "load_chunk",
    "load_range",
    "plan_chunks",
    "value_columns",
]

#: Column of a typed part holding a 64-bit hash of the row's key (missing when the key is).
KEY_HASH = "__cilib_key"

_TEXT_SUFFIXES = (".csv", ".txt", ".tsv")
_BLOCK = 1 << 20  # bytes read at a time while splitting
#: Rules of lines the reader sets aside; their reasons give a line number within the file read.
_READER_RULES = ("unparseable_line", "mixed_encoding")


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


@dataclass(frozen=True)
class ChunkPlan:
    """Where to cut a clean export: byte ranges of about ``chunk_rows`` lines each."""

    path: Path
    header: bytes  # the header line, with its line end, for every chunk after the first
    sep: str
    ranges: list[tuple[int, int]]


class NotSplittable(Exception):
    """A chunk holds a line that cannot be read on its own: load the file whole instead."""


def plan_chunks(config: TrustConfig, name: str, chunk_rows: int) -> ChunkPlan | None:
    """Plan cutting table ``name``'s file into chunks of ``chunk_rows`` lines at line ends.

    Returns None when the file is small enough to load whole, or the mapping, the header or the
    separator rule it out (see the module docstring). Whether every line can be read on its own
    (no quote, UTF-8, none wider than the header) is checked by :func:`cut_chunk`, on each
    chunk, in the worker that loads it.
    """
    path = Path(config.tables[name])
    if not _splittable(config, name, path) or not path.is_file():
        return None
    spec = config.mappings.get(name) or {}
    with open(path, "rb") as fh:
        head = fh.read(_BLOCK)
    bom = 3 if head.startswith(b"\xef\xbb\xbf") else 0
    first = head[bom:].split(b"\n", 1)[0]
    try:
        first_text = first.decode("utf-8").rstrip("\r")
        lines = head[bom : head.rfind(b"\n") + 1].decode("utf-8").splitlines()[:200]
    except UnicodeDecodeError:
        return None
    sep = spec.get("sep") or sniff_separator("\n".join(lines) + "\n")
    if len(sep) != 1 or (sep == ";" and spec.get("decimal") is None):
        return None
    cells = first_text.split(sep)
    if not first_text.strip() or any(not c.strip() for c in cells):
        return None  # the header must be the first line, every column named
    if any(len(ln.split(sep)) > len(cells) for ln in lines[1:]):
        return None  # a wider line: the header may be further down
    avg = max(1, len(head) // max(1, head.count(b"\n")))
    size = path.stat().st_size
    if size <= chunk_rows * avg * 1.5:
        return None
    cuts = [0]
    count = -1  # the header line is not a data line
    with open(path, "rb") as fh:
        pos = 0
        while block := fh.read(_BLOCK):
            n = block.count(b"\n")
            if count + n >= chunk_rows:
                ends = np.flatnonzero(np.frombuffer(block, dtype=np.uint8) == 10)
                for e in ends:
                    count += 1
                    if count == chunk_rows:
                        cuts.append(pos + int(e) + 1)
                        count = 0
            else:
                count += n
            pos += len(block)
    if cuts[-1] >= size:
        cuts.pop()
    cuts.append(size)
    ranges = list(zip(cuts[:-1], cuts[1:], strict=True))
    if len(ranges) < 2:
        return None
    return ChunkPlan(path, first_text.encode("utf-8") + b"\n", sep, ranges)


def cut_chunk(plan: ChunkPlan, index: int, out: Path) -> Path:
    """Write chunk ``index`` of ``plan`` to ``out/<file name>`` (the header line first).

    Raises NotSplittable if it holds a quote, a lone carriage return or bytes that are not
    UTF-8. (A line wider than the header is found by the reader: see :func:`load_range`.)
    """
    start, end = plan.ranges[index]
    with open(plan.path, "rb") as fh:
        fh.seek(start)
        body = fh.read(end - start)
    if body and not body.endswith(b"\n"):
        body += b"\n"
    if not _clean_block(body):
        raise NotSplittable(f"{plan.path.name}: chunk {index + 1} needs the careful reader")
    out.mkdir(parents=True, exist_ok=True)
    target = out / plan.path.name
    with open(target, "wb") as fh:
        if index:
            fh.write(plan.header)
        fh.write(body)
    return target


def load_range(
    config: TrustConfig,
    name: str,
    plan: ChunkPlan,
    index: int,
    folder: Path,
    part: Path,
    full: set[str],
    pairs: list[tuple[str, str]],
) -> ChunkResult:
    """Cut chunk ``index`` of ``plan`` into ``folder``, load it, and remove the chunk file.

    Raises NotSplittable when the reader set a line aside (one wider than the header with cells
    beyond it): its reason would name a line of the chunk, not of the file.
    """
    source = cut_chunk(plan, index, folder)
    try:
        got = load_chunk(config, name, index, source, part, full, pairs)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    if got.mapping_quarantine["rule"].isin(_READER_RULES).any():
        raise NotSplittable(f"{plan.path.name}: chunk {index + 1} has a line set aside")
    return got


def _clean_block(body: bytes) -> bool:
    """Whether no line of ``body`` needs the careful reader for a quote or its encoding."""
    if b'"' in body or b"\x00" in body or body.count(b"\r") != body.count(b"\r\n"):
        return False
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True
