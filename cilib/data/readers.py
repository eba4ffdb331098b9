"""Read tabular files (CSV, Excel, parquet) as strings, ready for mapping and typing.

Every reader returns all columns as strings (missing values as ``NA``) plus a ``_source_row``
column holding the 1-based data row number, so that every row can be traced back to its file
in the quarantine.

Exports from school systems are rarely tidy. :func:`read_file` copes with, and logs a warning
for, each of these:

- the separator: detected among ``,`` ``;`` tab and ``|`` unless given;
- the encoding: UTF-8 (with or without a byte-order mark) first, then Windows-1252 (the
  encoding Excel on Windows writes), with a logged warning when the fallback is used;
- a title block above the header: the header is the first row that holds all the
  ``expected`` column names, or else the first row that is at least half filled;
- merged header cells in Excel: the merged value is copied across the merge (``Maths``,
  ``Maths_2``, ...); blank header cells are named ``unnamed_N`` (N the 1-based column);
- a column present twice: kept once if both copies are identical, otherwise a
  :class:`~cilib.core.errors.DataError` naming the column;
- a physical line the CSV parser would merge with others (a stray ``"`` in a free-text
  field, or a quote never closed) or that splits into more fields than the header (the extra
  ones not blank): the line is *set aside* with rule ``unparseable_line`` and its line number,
  and the other lines are read normally. A line with fewer fields than the header is read
  with the missing trailing cells blank (exports often leave them out);
- a line whose bytes are not UTF-8 in an otherwise UTF-8 file (one cp1252 byte): the line is
  set aside with rule ``mixed_encoding``; only a file with no valid multi-byte UTF-8 at all and
  several non-UTF-8 bytes is read as a whole as Windows-1252;
- UTF-16 with a byte-order mark is read; a binary file (NUL bytes, a zip or workbook renamed
  ``.csv``) is a :class:`~cilib.core.errors.DataError` saying so;
- a workbook with data on more than one sheet and no ``sheet`` option is a
  :class:`~cilib.core.errors.DataError` naming the sheets (empty extra sheets are fine).

Set-aside lines are listed in ``df.attrs["set_aside"]`` (see :func:`set_aside_rows`) so that the
mapping puts them in the quarantine: rows read = data lines after the header (blank lines are
ignored), always. Their quarantine ``record`` holds only the line number, never the line's text.

Most exports need none of this care: a UTF-8 file with no quote, every line as wide as the
header, is parsed by Arrow straight from its bytes (:mod:`cilib.data.fast_csv`), with the same
result, many times faster. Workbooks are read by :mod:`cilib.data.readers_excel`.

:func:`parse_dates` reads dates written ISO (``2024-09-03``) or day first (``03/09/2024``).
"""

from __future__ import annotations

import csv
import io
import json
import logging
import re
from pathlib import Path

import numpy as np
import pandas as pd

from cilib.core.errors import DataError
from cilib.data.fast_csv import clean_bytes_start, quote_free_body, text_head
from cilib.data.readers_excel import read_excel_grid

SOURCE_ROW = "_source_row"
#: Key of ``DataFrame.attrs`` listing the rows :func:`read_file` set aside.
SET_ASIDE = "set_aside"
#: Magic numbers of binary files often renamed ``.csv`` (zip/xlsx, old Excel, PDF, gzip).
_BINARY_MAGIC = (b"PK\x03\x04", b"\xd0\xcf\x11\xe0", b"%PDF", b"\x1f\x8b")
#: Lines a quoted field may span before the opening quote is judged stray.
_MAX_FIELD_LINES = 50
#: Separators tried when none is given.
SEPARATORS = (",", ";", "\t", "|")
#: Encodings tried in order when none is given.
ENCODINGS = ("utf-8-sig", "cp1252")

log = logging.getLogger(__name__)


def _sample(text: str | bytes, n: int = 40) -> str:
    """Return a short escaped sample of file content (repr of at most ``n`` chars)."""
    return repr(text[:n])


def _decode(
    path: Path, encoding: str | None, data: bytes | None = None
) -> tuple[list[str], set[int]]:
    """Return the file's physical lines and the 1-based numbers of lines not in its encoding.

    Unless ``encoding`` is given: UTF-16 with a byte-order mark; else UTF-8 (with or without a
    byte-order mark). A file with no valid multi-byte UTF-8 and any bytes that are not
    UTF-8 is read as Windows-1252 with a warning; otherwise lines that are not UTF-8 are
    returned (decoded with replacement characters) among the bad line numbers.

    Raises
    ------
    DataError
        If the file is binary (NUL bytes or the signature of a zip, workbook, PDF or gzip).
    """
    data = path.read_bytes() if data is None else data
    if encoding:
        try:
            return _split(data.decode(encoding)), set()
        except (UnicodeDecodeError, LookupError) as exc:
            raise DataError(
                f"Could not read {path} as {encoding}: {type(exc).__name__} at byte "
                f"{getattr(exc, 'start', '?')}. Pass the file's real encoding."
            ) from exc
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        try:
            return _split(data.decode("utf-16")), set()
        except UnicodeDecodeError as exc:
            raise DataError(
                f"{path} starts as UTF-16 but is not valid UTF-16: {exc.reason}."
            ) from exc
    if data.startswith(_BINARY_MAGIC) or b"\x00" in data[:65536]:
        raise DataError(
            f"{path} is a binary file, not text (it starts {_sample(data, 8)}). If it is a "
            "workbook, give it its .xlsx name; if it is UTF-16 without a byte-order mark, pass "
            "its encoding; otherwise export the table again as CSV."
        )
    try:
        return _split(data.decode("utf-8-sig")), set()
    except UnicodeDecodeError:
        pass
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    raw_lines = data.split(b"\n")
    lines: list[str] = []
    bad: set[int] = set()
    multibyte = False
    n_bad_bytes = 0
    for i, b in enumerate(raw_lines, start=1):
        b = b[:-1] if b.endswith(b"\r") else b
        try:
            text = b.decode("utf-8")
            multibyte = multibyte or any(ord(c) > 127 for c in text)
        except UnicodeDecodeError:
            text = b.decode("utf-8", errors="replace")
            bad.add(i)
            n_bad_bytes += text.count("\ufffd")
        lines.append(text)
    if not multibyte and n_bad_bytes >= 1:
        log.warning(
            "%s is not UTF-8; read it as Windows-1252 (cp1252). Check accented names look "
            "right, or save the export as UTF-8.",
            path,
        )
        return _split(data.decode("cp1252", errors="replace")), set()
    log.warning(
        "%s: %d line(s) are not UTF-8 in an otherwise UTF-8 file (lines %s); they are "
        "quarantined (mixed_encoding). Save the export as UTF-8.",
        path,
        len(bad),
        ", ".join(str(n) for n in sorted(bad)[:10]),
    )
    if lines and lines[-1] == "":
        lines.pop()
    return lines, bad


def _split(text: str) -> list[str]:
    """Return the physical lines of a text (CR LF, LF or CR ends; no final empty line)."""
    lines = re.split(r"\r\n|\n|\r", text)
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def sniff_separator(sample: str) -> str:
    r"""Return the separator of a CSV sample: the one of ``, ; tab |`` that splits it most evenly.

    A separator wins when it gives the same number (more than one) of fields on every line
    of the sample, outside quotes; ties go to the one giving more fields.

    Examples
    --------
    >>> sniff_separator('"a";"b;c";d\\n1;2;3\\n')
    ';'
    >>> sniff_separator("a|b\\n1|2\\n")
    '|'
    """
    lines = [ln for ln in sample.splitlines()[:50] if ln.strip()]
    if len(lines) > 1 and not sample.endswith("\n"):
        lines = lines[:-1]  # the last line of a sample may be cut short
    best, best_score = ",", (-1, -1)
    for sep in SEPARATORS:
        try:
            counts = [len(row) for row in csv.reader(lines, delimiter=sep)]
        except csv.Error:
            continue
        if not counts or max(counts) < 2:
            continue
        consistent = sum(c == counts[0] for c in counts) / len(counts)
        score = (round(consistent, 2), counts[0])
        if score > best_score:
            best, best_score = sep, score
    return best


def _fields(line: str, delimiter: str) -> tuple[list[str], bool]:
    """Split one physical line; the flag says a quoted field is still open at its end."""
    rows = list(csv.reader([line + "\n"], delimiter=delimiter))
    if not rows:
        return [], False
    row = rows[0]
    if row and row[-1].endswith("\n"):
        return row, True
    return row, False


def _fits(fields: list[str], width: int) -> bool:
    """Whether a record has the header's number of fields (extra fields blank are fine)."""
    if len(fields) < width:
        return False
    return all(not f.strip() for f in fields[width:])


def _multiline(
    lines: list[str], i: int, delimiter: str, width: int, bad: set[int]
) -> tuple[list[str] | None, int]:
    """Parse a record whose quoted field opens on line ``i`` (0-based) and spans lines.

    Returns the fields and the number of lines used, or ``None`` if the opening quote is stray:
    the field does not close within ``_MAX_FIELD_LINES`` lines or before the end, a line inside
    it looks like a record of its own, or the merged record has the wrong number of fields.
    """
    for k in range(i + 1, min(len(lines), i + _MAX_FIELD_LINES)):
        if k + 1 in bad:
            return None, 0
        chunk = "\n".join(lines[i : k + 1]) + "\n"
        rows = list(csv.reader(io.StringIO(chunk, newline=""), delimiter=delimiter))
        if rows and rows[-1] and rows[-1][-1].endswith("\n") and len(rows) == 1:
            alone, still_open = _fields(lines[k], delimiter)
            if not still_open and _fits(alone, width) and len(alone) == width:
                return None, 0  # this line is a record of its own: the quote above is stray
            continue
        if len(rows) == 1 and _fits(rows[0], width):
            return rows[0], k - i + 1
        return None, 0
    return None, 0


def _header(
    lines: list[str],
    sep: str | None,
    header_row: int | None,
    expected: list[str] | None,
    path: Path,
    *,
    complete: bool = True,
) -> tuple[str, list[int], int, list[str | None]] | None:
    """Find the separator, the non-blank lines and the header row (its number and cells).

    ``lines`` are the file's physical lines, or only its first ones (``complete=False``, at
    least 200 lines and 100 non-blank ones): then None if the header row is not among them.

    Raises
    ------
    DataError
        If the file is empty, no header row holds the expected names, or ``header_row`` is past
        the end.
    """
    if not any(ln.strip() for ln in lines):
        if not complete:
            return None
        raise DataError(f"File is empty: {path}. Export it again with a header row.")
    delimiter = sep or sniff_separator("\n".join(lines[:200]) + "\n")
    nonblank = [i for i, ln in enumerate(lines) if ln.strip()]
    head = [[v.strip() or None for v in _fields(lines[i], delimiter)[0]] for i in nonblank[:100]]
    h = _find_header(head, expected) if header_row is None else header_row
    if h >= len(nonblank):
        if not complete:
            return None
        raise DataError(f"header_row={h} is past the end of {path} ({len(nonblank)} rows).")
    header = (
        head[h]
        if h < len(head)
        else [v.strip() or None for v in _fields(lines[nonblank[h]], delimiter)[0]]
    )
    return delimiter, nonblank, h, header


def _log_header_row(path: Path, h: int) -> None:
    if h > 0:
        log.warning("%s: the header is on row %d; skipped %d row(s) above it.", path, h + 1, h)


def _read_csv(
    path: Path,
    *,
    encoding: str | None,
    sep: str | None,
    header_row: int | None,
    expected: list[str] | None,
) -> tuple[list[str | None], list[list[str | None]], list[int] | np.ndarray, list[dict], str]:
    """Read a text file line by line: header, records, their numbers, set-aside rows, separator.

    Data rows are numbered 1, 2, ... over the non-blank physical records after the header,
    counting set-aside lines, so that rows read = records kept + records set aside.
    """
    data = path.read_bytes()
    start = None if encoding else clean_bytes_start(data)
    if start is not None:  # a clean UTF-8 file: Arrow may read the data lines from its bytes
        first, offsets, complete = text_head(data, start)
        found = _header(first, sep, header_row, expected, path, complete=complete)
        if found is not None:
            delimiter, nonblank, h, header = found
            fast = quote_free_body(data, delimiter, len(header), offsets[nonblank[h] + 1])
            if fast is not None:
                _log_header_row(path, h)
                return header, fast, np.arange(1, len(fast) + 1), [], delimiter
    lines, bad = _decode(path, encoding, data)
    found = _header(lines, sep, header_row, expected, path)
    assert found is not None  # a whole file gives a header or raises
    delimiter, nonblank, h, header = found
    _log_header_row(path, h)
    width = len(header)
    if not bad:
        fast = quote_free_body(lines[nonblank[h] + 1 :], delimiter, width)
        if fast is not None:
            return header, fast, np.arange(1, len(fast) + 1), [], delimiter
    body: list[list[str | None]] = []
    numbers: list[int] = []
    aside: list[dict] = []
    n = 0
    short = 0
    i = nonblank[h] + 1
    while i < len(lines):
        line = lines[i]
        if not line.strip():
            i += 1
            continue
        n += 1
        if i + 1 in bad:
            aside.append(
                _aside(n, "mixed_encoding", f"line {i + 1} of {path.name} is not valid UTF-8")
            )
            i += 1
            continue
        if '"' in line or "\r" in line:
            fields, still_open = _fields(line, delimiter)
        else:  # no quote: the csv module would split on the delimiter, as this does, faster
            fields, still_open = line.split(delimiter), False
        used = 1
        if still_open:
            fields, used = _multiline(lines, i, delimiter, width, bad)
        if fields is not None and len(fields) < width:
            short += 1  # trailing empty cells left out by the export: padded below
            fields = fields + [""] * (width - len(fields))
        if fields is None or (len(fields) != width and not _fits(fields, width)):
            got = "an unclosed quote" if fields is None else f"{len(fields)} fields"
            aside.append(
                _aside(
                    n,
                    "unparseable_line",
                    f"line {i + 1} of {path.name} could not be read as one row of {width} "
                    f"fields ({got})",
                )
            )
            i += 1
            continue
        cells = [v.strip() or None for v in fields[:width]]
        if not any(cells):  # cells are None or non-empty text
            n -= 1  # a line of separators only is a blank line
        else:
            body.append(cells)
            numbers.append(n)
        i += used
    if short:
        log.info(
            "%s: %d row(s) have fewer fields than the header; padded with blanks.", path, short
        )
    if aside:
        log.warning(
            "%s: %d line(s) could not be read and are set aside for the quarantine (%s).",
            path,
            len(aside),
            ", ".join(sorted({a["rule"] for a in aside})),
        )
    return header, body, numbers, aside, delimiter


def _aside(number: int, rule: str, reason: str) -> dict:
    """One set-aside row: its data row number, rule and reason; the record holds no content."""
    return {
        "source_row": number,
        "rule": rule,
        "column": "",
        "reason": reason,
        "record": json.dumps({"line": reason.split(" of ")[0].removeprefix("line ")}),
    }


def set_aside_rows(df: pd.DataFrame) -> list[dict]:
    """Return the rows :func:`read_file` set aside; empty if none.

    Each is a quarantine dict: ``source_row``, ``rule``, ``column``, ``reason``, ``record``.
    """
    return list(df.attrs.get(SET_ASIDE) or [])


def _find_header(grid: list[list[str | None]], expected: list[str] | None) -> int:
    """Return the 0-based row holding the column names."""
    if expected:
        want = {e.strip().lower() for e in expected}
        for i, row in enumerate(grid[:100]):
            names = {str(v).strip().lower() for v in row if v is not None}
            if want <= names:
                return i
        raise DataError(
            f"No row in the first 100 holds all the expected columns {sorted(expected)}; "
            "pass header_row= or fix the column names in the mapping."
        )
    width = max((sum(v is not None for v in row) for row in grid[:100]), default=0)
    for i, row in enumerate(grid[:100]):
        if sum(v is not None for v in row) >= max(1, width / 2):
            return i
    return 0


def _header_names(row: list[str | None], merged_cols: set[int], path: Path) -> list[str]:
    """Clean the header: strip, fill merges with numbered copies, name blank cells."""
    names: list[str] = []
    blanks: list[str] = []
    counts: dict[str, int] = {}
    for j, v in enumerate(row):
        if v is None or str(v).strip() == "":
            name = f"unnamed_{j + 1}"
            blanks.append(name)
        else:
            name = str(v).strip().lstrip("\ufeff")
        if j in merged_cols:
            counts[name] = counts.get(name, 1) + 1
            name = f"{name}_{counts[name]}"
        names.append(name)
    if blanks:
        log.warning(
            "%s: %d header cell(s) are blank; named them %s. Give them names in the export "
            "or map them by these names.",
            path,
            len(blanks),
            ", ".join(blanks),
        )
    if merged_cols:
        log.warning("%s: merged header cells were filled across their merge.", path)
    return names


def read_file(
    path: str | Path,
    *,
    sheet: str | int | None = None,
    header_row: int | None = None,
    encoding: str | None = None,
    sep: str | None = None,
    expected: list[str] | None = None,
) -> pd.DataFrame:
    """Read a CSV, Excel or parquet file with every column as strings.

    Parameters
    ----------
    path
        File to read: ``.csv``/``.txt``/``.tsv``, ``.xlsx``/``.xlsm``/``.xls`` or ``.parquet``.
    sheet
        Excel sheet name or index (default: the first sheet).
    header_row
        0-based row that holds the column names (default: detected, see ``expected``).
    encoding
        Text encoding of a CSV (default: UTF-8 with or without a byte-order mark, falling
        back to Windows-1252 with a logged warning).
    sep
        CSV separator (default: detected among ``,`` ``;`` tab and ``|``).
    expected
        Column names the header must hold; the header is the first row that holds them all.
        Without it, the header is the first row at least half as full as the fullest row.

    Returns
    -------
    pandas.DataFrame
        String columns (dtype ``str``, missing as ``NA``; cells are stripped of surrounding
        spaces and blank cells are missing) and a first column ``_source_row``: the 1-based
        row number among the data rows below the header (blank lines not counted). Lines set
        aside (``unparseable_line``, ``mixed_encoding``) keep their number and are listed in
        ``attrs["set_aside"]``; read them with :func:`set_aside_rows`.

    Raises
    ------
    DataError
        If the file is missing, empty, binary or unreadable, if no header row holds the expected
        names, if a column name appears twice with different contents, or if a workbook has
        data on several sheets and no ``sheet`` is given.
    """
    path = Path(path)
    if not path.exists():
        raise DataError(f"File not found: {path}. Check the path in the trust config.")
    if path.is_dir():
        raise DataError(f"{path} is a folder; give the path of one file.")
    if path.stat().st_size == 0:
        raise DataError(f"File is empty: {path}. Export it again with a header row.")
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        return _read_parquet(path)
    aside: list[dict] = []
    delimiter = None
    if suffix in (".xlsx", ".xlsm", ".xls"):
        grid, merged = read_excel_grid(path, sheet=sheet)
        if not grid or all(all(v is None for v in row) for row in grid):
            raise DataError(f"File is empty: {path}. Export it again with a header row.")
        h = _find_header(grid, expected) if header_row is None else header_row
        if h >= len(grid):
            raise DataError(f"header_row={h} is past the end of {path} ({len(grid)} rows).")
        if h > 0:
            log.warning("%s: the header is on row %d; skipped %d row(s) above it.", path, h + 1, h)
        head_row = list(grid[h])
        body = [row for row in grid[h + 1 :] if any(v is not None for v in row)]
        numbers = list(range(1, len(body) + 1))
        merged_cols = merged.get(h, set())
    else:
        head_row, body, numbers, aside, delimiter = _read_csv(
            path, encoding=encoding, sep=sep, header_row=header_row, expected=expected
        )
        merged_cols = set()
    fast = body if isinstance(body, pd.DataFrame) else None  # Arrow's parse, width columns
    if fast is not None:
        body = []
    width = max([len(head_row)] + [len(r) for r in body])
    header = head_row + [None] * (width - len(head_row))
    # trailing blank columns with no data at all are export debris, not columns
    while (
        width
        and header[width - 1] is None
        and (
            bool(fast[width - 1].isna().all())
            if fast is not None
            else all(len(r) < width or r[width - 1] is None for r in body)
        )
    ):
        width -= 1
    header = header[:width]
    names = _header_names(header, merged_cols, path)
    if fast is not None:
        df = fast.iloc[:, :width]
    else:
        rows = [list(r[:width]) + [None] * (width - len(r)) for r in body]
        df = pd.DataFrame(rows, columns=range(width), dtype=object)
        df = df.astype("str") if width else df  # cells are stripped; blanks are already None
    df.columns = names
    df = _drop_duplicate_columns(df, path)
    df.insert(0, SOURCE_ROW, pd.array(numbers, dtype="Int64"))
    df.attrs[SET_ASIDE] = aside
    df.attrs["sep"] = delimiter
    return df


def _drop_duplicate_columns(df: pd.DataFrame, path: Path) -> pd.DataFrame:
    """Keep one copy of a column present twice with identical contents; otherwise raise."""
    names = pd.Index(df.columns)
    if not names.has_duplicates:
        return df
    keep = []
    listed = list(names)
    for j, name in enumerate(listed):
        first = listed.index(name)
        if first == j:
            keep.append(j)
            continue
        a, b = df.iloc[:, first], df.iloc[:, j]
        if not a.fillna("\0").equals(b.fillna("\0")):
            raise DataError(
                f"{path}: column {name!r} appears twice with different contents. Rename one "
                "copy in the export, or remove it."
            )
        log.warning("%s: column %r appears twice with identical contents; kept one.", path, name)
    return df.iloc[:, keep]


def _read_parquet(path: Path) -> pd.DataFrame:
    """Read parquet and turn every column to strings, missing as ``NA``."""
    try:
        raw = pd.read_parquet(path)
    except Exception as exc:
        raise DataError(f"Could not read {path}: {exc}") from exc
    df = raw.astype("str").where(raw.notna(), pd.NA)
    df.insert(0, SOURCE_ROW, pd.array(range(1, len(df) + 1), dtype="Int64"))
    return df


def parse_dates(values: pd.Series, *, dayfirst: bool = True) -> pd.Series:
    """Parse dates written ISO (``2024-09-03``) or with slashes (``03/09/2024``).

    Rule for ambiguous dates: a slashed date is read day first (``03/09/2024`` is
    3 September), the English convention; pass ``dayfirst=False`` for a US export
    (month first). The rule is never guessed per row: ``25/12/2024`` read month first is
    unparseable, not silently swapped. Two-digit years, text months and anything else are
    unparseable. A time after an ISO date (``2024-09-03T08:30``) is dropped.

    Parameters
    ----------
    values
        Text dates; missing values stay missing.
    dayfirst
        Read ``a/b/yyyy`` as day/month (True) or month/day (False).

    Returns
    -------
    pandas.Series
        ``datetime64[ns]``; ``NaT`` where the input was missing or could not be parsed.
        Compare ``result.isna() & values.notna()`` to find unparseable entries.

    Examples
    --------
    >>> s = pd.Series(["2024-09-03", "03/09/2024", "3/9/2024", "31/02/2024", None])
    >>> parse_dates(s).dt.strftime("%Y-%m-%d").tolist()
    ['2024-09-03', '2024-09-03', '2024-09-03', nan, nan]
    """
    text = values.astype("str").str.strip()
    iso = text.str.extract(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ][\d:.]+)?$")
    slash = text.str.extract(r"^(\d{1,2})[/.](\d{1,2})[/.](\d{4})$")
    if dayfirst:
        day, month = slash[0], slash[1]
    else:
        day, month = slash[1], slash[0]
    y = iso[0].fillna(slash[2])
    m = iso[1].fillna(month)
    d = iso[2].fillna(day)
    parts = pd.DataFrame({"year": y, "month": m, "day": d}).astype("float64")
    out = pd.to_datetime(parts, errors="coerce")
    return out.where(values.notna()).astype("datetime64[ns]")
