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
  :class:`~cilib.errors.DataError` naming the column.

:func:`parse_dates` reads dates written ISO (``2024-09-03``) or day first (``03/09/2024``).
"""

from __future__ import annotations

import csv
import io
import logging
from pathlib import Path

import pandas as pd

from cilib.errors import DataError

SOURCE_ROW = "_source_row"
#: Separators tried when none is given.
SEPARATORS = (",", ";", "\t", "|")
#: Encodings tried in order when none is given.
ENCODINGS = ("utf-8-sig", "cp1252")

log = logging.getLogger(__name__)


def _decode(path: Path, encoding: str | None) -> str:
    """Return the file's text, trying UTF-8 then Windows-1252 unless ``encoding`` is given."""
    data = path.read_bytes()
    if encoding:
        try:
            return data.decode(encoding)
        except (UnicodeDecodeError, LookupError) as exc:
            raise DataError(
                f"Could not read {path} as {encoding}: {exc}. Pass the file's real encoding."
            ) from exc
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")
        log.warning(
            "%s is not UTF-8; read it as Windows-1252 (cp1252). Check accented names look "
            "right, or save the export as UTF-8.",
            path,
        )
        return text


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


def _read_grid(
    path: Path, *, sheet: str | int | None, encoding: str | None, sep: str | None
) -> tuple[list[list[str | None]], dict[int, set[int]]]:
    """Return every cell as text (``None`` if blank) and, for Excel, merged header columns.

    The second value maps a 0-based row to the 0-based columns covered by a merged cell
    other than its first.
    """
    suffix = path.suffix.lower()
    merged: dict[int, set[int]] = {}
    if suffix in (".xlsx", ".xlsm"):
        import openpyxl

        try:
            wb = openpyxl.load_workbook(path, data_only=True)
        except Exception as exc:  # openpyxl raises many kinds for a bad workbook
            raise DataError(f"Could not open the workbook {path}: {exc}") from exc
        if sheet is None:
            ws = wb.worksheets[0]
        elif isinstance(sheet, int):
            ws = wb.worksheets[sheet]
        else:
            if sheet not in wb.sheetnames:
                raise DataError(
                    f"Sheet {sheet!r} not found in {path}; it has {', '.join(wb.sheetnames)}."
                )
            ws = wb[sheet]
        grid = [
            [None if v is None or str(v).strip() == "" else _cell_text(v).strip() for v in row]
            for row in ws.iter_rows(values_only=True)
        ]
        for rng in ws.merged_cells.ranges:
            first = grid[rng.min_row - 1][rng.min_col - 1]
            for r in range(rng.min_row - 1, rng.max_row):
                for c in range(rng.min_col - 1, rng.max_col):
                    if (r, c) != (rng.min_row - 1, rng.min_col - 1):
                        merged.setdefault(r, set()).add(c)
                        grid[r][c] = first
        return grid, merged
    if suffix == ".xls":
        try:
            raw = pd.read_excel(path, sheet_name=sheet or 0, header=None, dtype=str)
        except Exception as exc:
            raise DataError(f"Could not read {path}: {exc}") from exc
        return [[None if pd.isna(v) else str(v) for v in row] for row in raw.itertuples(False)], {}
    text = _decode(path, encoding)
    if not text.strip():
        raise DataError(f"File is empty: {path}. Export it again with a header row.")
    delimiter = sep or sniff_separator(text[:50000])
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error as exc:
        raise DataError(f"Could not read {path} as CSV: {exc}") from exc
    grid = [[v.strip() or None for v in row] for row in rows if row]
    return grid, merged


def _cell_text(value: object) -> str:
    """Excel cell value as the text a user would see (``3`` not ``3.0``, dates ISO)."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if hasattr(value, "isoformat"):
        text = value.isoformat()
        return text[:10] if text.endswith("T00:00:00") else text
    return str(value)


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
        row number among the data rows below the header.

    Raises
    ------
    DataError
        If the file is missing, empty or unreadable, if no header row holds the expected
        names, or if a column name appears twice with different contents.
    """
    path = Path(path)
    if not path.exists():
        raise DataError(f"File not found: {path}. Check the path in the trust config.")
    if path.is_dir():
        raise DataError(f"{path} is a folder; give the path of one file.")
    if path.stat().st_size == 0:
        raise DataError(f"File is empty: {path}. Export it again with a header row.")
    if path.suffix.lower() == ".parquet":
        return _read_parquet(path)
    grid, merged = _read_grid(path, sheet=sheet, encoding=encoding, sep=sep)
    if not grid or all(all(v is None for v in row) for row in grid):
        raise DataError(f"File is empty: {path}. Export it again with a header row.")
    h = _find_header(grid, expected) if header_row is None else header_row
    if h >= len(grid):
        raise DataError(f"header_row={h} is past the end of {path} ({len(grid)} rows).")
    if h > 0:
        log.warning("%s: the header is on row %d; skipped %d row(s) above it.", path, h + 1, h)
    body = [row for row in grid[h + 1 :] if any(v is not None for v in row)]
    width = max([len(grid[h])] + [len(r) for r in body])
    header = list(grid[h]) + [None] * (width - len(grid[h]))
    # trailing blank columns with no data at all are export debris, not columns
    while (
        width
        and header[width - 1] is None
        and all(len(r) < width or r[width - 1] is None for r in body)
    ):
        width -= 1
    header = header[:width]
    names = _header_names(header, merged.get(h, set()), path)
    rows = [list(r[:width]) + [None] * (width - len(r)) for r in body]
    df = pd.DataFrame(rows, columns=range(width), dtype=object)
    df = df.astype("str") if width else df  # cells are stripped; blanks are already None
    df.columns = names
    df = _drop_duplicate_columns(df, path)
    df.insert(0, SOURCE_ROW, pd.array(range(1, len(df) + 1), dtype="Int64"))
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
