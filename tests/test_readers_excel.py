"""Workbook cells as text: what Excel shows, merged cells filled, one sheet with data."""

import datetime as dt

import openpyxl
import pytest

from cilib.core.errors import DataError
from cilib.data.readers_excel import cell_text, read_excel_grid, sheet_has_data


def test_cell_text_is_what_excel_shows():
    """Whole floats lose their .0, dates are ISO, midnight times are dropped."""
    assert cell_text(3.0) == "3" and cell_text(2.5) == "2.5" and cell_text("x") == "x"
    assert cell_text(dt.datetime(2024, 9, 3)) == "2024-09-03"
    assert cell_text(dt.datetime(2024, 9, 3, 8, 30)) == "2024-09-03T08:30:00"


def test_grid_fills_merged_cells_and_lists_them(tmp_path):
    """A merged header cell is copied across its merge; the covered columns are listed."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Maths", None, "id"])
    ws.append([1.0, " 2 ", "P1"])
    ws.merge_cells("A1:B1")
    path = tmp_path / "t.xlsx"
    wb.save(path)
    grid, merged = read_excel_grid(path, sheet=None)
    assert grid == [["Maths", "Maths", "id"], ["1", "2", "P1"]]
    assert merged == {0: {1}}


def test_two_sheets_with_data_need_a_sheet(tmp_path):
    """Data on two sheets and no sheet named: an error naming both; an empty sheet is fine."""
    wb = openpyxl.Workbook()
    wb.active.title = "a"
    wb.active.append(["x"])
    wb.create_sheet("b").append(["y"])
    wb.create_sheet("empty")
    path = tmp_path / "t.xlsx"
    wb.save(path)
    assert sheet_has_data(wb["a"]) and not sheet_has_data(wb["empty"])
    with pytest.raises(DataError, match="'a', 'b'"):
        read_excel_grid(path, sheet=None)
    assert read_excel_grid(path, sheet="b")[0] == [["y"]]
    assert read_excel_grid(path, sheet=0)[0] == [["x"]]
