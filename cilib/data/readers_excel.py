"""Read a workbook sheet as text cells, for :func:`cilib.data.readers.read_file`.

Cells come back as the text a user sees in Excel (``3`` not ``3.0``, dates ISO), blank cells as
``None``, with the columns a merged cell covers (so that the reader can name merged headers).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from cilib.core.errors import DataError

__all__ = ["cell_text", "read_excel_grid", "sheet_has_data"]


def read_excel_grid(
    path: Path, *, sheet: str | int | None
) -> tuple[list[list[str | None]], dict[int, set[int]]]:
    """Return every cell of a workbook sheet as text (``None`` if blank) and merged columns.

    The second value maps a 0-based row to the 0-based columns covered by a merged cell
    other than its first. Without ``sheet``, the workbook must hold data on one sheet only.
    """
    suffix = path.suffix.lower()
    merged: dict[int, set[int]] = {}
    if suffix in (".xlsx", ".xlsm"):
        import openpyxl

        try:
            wb = openpyxl.load_workbook(path, data_only=True)
        except Exception as exc:  # openpyxl raises many kinds for a bad workbook
            raise DataError(
                f"Could not open the workbook {path} ({type(exc).__name__}). Open it in Excel "
                "and save it again as .xlsx, or export the table as CSV."
            ) from exc
        if sheet is None:
            full = [ws.title for ws in wb.worksheets if sheet_has_data(ws)]
            if len(full) > 1:
                raise DataError(
                    f"{path} has data on {len(full)} sheets ({', '.join(map(repr, full))}); say "
                    "which to read with sheet: in the mapping."
                )
            ws = wb[full[0]] if full else wb.worksheets[0]
        elif isinstance(sheet, int):
            if not -len(wb.worksheets) <= sheet < len(wb.worksheets):
                raise DataError(f"{path} has no sheet number {sheet}; it has {wb.sheetnames}.")
            ws = wb.worksheets[sheet]
        else:
            if sheet not in wb.sheetnames:
                raise DataError(
                    f"Sheet {sheet!r} not found in {path}; it has {', '.join(wb.sheetnames)}."
                )
            ws = wb[sheet]
        grid = [
            [None if v is None or str(v).strip() == "" else cell_text(v).strip() for v in row]
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
    try:
        raw = pd.read_excel(path, sheet_name=sheet or 0, header=None, dtype=str)
    except Exception as exc:
        raise DataError(f"Could not read {path} ({type(exc).__name__}).") from exc
    return [[None if pd.isna(v) else str(v) for v in row] for row in raw.itertuples(False)], {}


def sheet_has_data(ws) -> bool:
    """Whether a worksheet holds any non-blank cell."""
    rows = ws.iter_rows(values_only=True)
    return any(v is not None and str(v).strip() != "" for row in rows for v in row)





def cell_text(value: object) -> str:
    """Excel cell value as the text a user would see (``3`` not ``3.0``, dates ISO)."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if hasattr(value, "isoformat"):
        text = value.isoformat()
        return text[:10] if text.endswith("T00:00:00") else text
    return str(value)
