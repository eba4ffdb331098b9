"""Tests for cilib.data.readers: bad input from real exports."""

import logging

import openpyxl
import pandas as pd
import pytest

from cilib.core.errors import DataError
from cilib.data.mapping import map_frame
from cilib.data.readers import SOURCE_ROW, parse_dates, read_file, sniff_separator


@pytest.mark.parametrize("sep", [",", ";", "\t", "|"])
def test_separator_detected(tmp_path, sep):
    """Each of , ; tab | is detected without being told."""
    p = tmp_path / "x.csv"
    p.write_text(
        sep.join(["pupil_id", "name", "score"])
        + "\n"
        + sep.join(["1", "Ann", "5,5" if sep != "," else "5"])
        + "\n"
    )
    df = read_file(p)
    assert list(df.columns) == [SOURCE_ROW, "pupil_id", "name", "score"]
    assert df.loc[0, "name"] == "Ann"


def test_sniff_quoted_semicolon():
    """A quoted field holding the other separator does not fool detection."""
    assert sniff_separator('"a";"b, c";"d"\n"1";"2, 3";"4"\n') == ";"


def test_cp1252_fallback_warns(tmp_path, caplog):
    """A Windows-1252 file is read with its accents and a logged warning."""
    p = tmp_path / "names.csv"
    p.write_bytes("pupil_id,name\n1,Zoë Brontë\n2,José\n".encode("cp1252"))
    with caplog.at_level(logging.WARNING, logger="cilib.data.readers"):
        df = read_file(p)
    assert df["name"].tolist() == ["Zoë Brontë", "José"]
    assert "Windows-1252" in caplog.text


def test_utf8_bom_stripped(tmp_path):
    """A byte-order mark does not stick to the first column name."""
    p = tmp_path / "bom.csv"
    p.write_bytes("\ufeffURN,X\n1,2\n".encode())
    assert list(read_file(p).columns) == [SOURCE_ROW, "URN", "X"]


def test_header_not_first_row_detected(tmp_path):
    """A title block above the header is skipped; source rows count data rows."""
    p = tmp_path / "t.csv"
    p.write_text("Exported from MIS on 01/02/2025\n\npupil_id,name,score\n1,A,3\n2,B,4\n")
    df = read_file(p)
    assert list(df.columns)[1:] == ["pupil_id", "name", "score"]
    assert df[SOURCE_ROW].tolist() == [1, 2]


def test_header_found_by_expected_names(tmp_path):
    """With expected names, the header is the first row that has them all."""
    p = tmp_path / "t.csv"
    p.write_text("Report,Trust,Year,Run\nx,y,z,w\npupil_id,name,score,extra\n1,A,3,\n")
    df = read_file(p, expected=["pupil_id", "score"])
    assert df.loc[0, "pupil_id"] == "1"
    with pytest.raises(DataError, match="expected columns"):
        read_file(p, expected=["upn"])


def test_header_row_given(tmp_path):
    """header_row= overrides detection."""
    p = tmp_path / "t.csv"
    p.write_text("a,b\nc,d\n1,2\n")
    assert read_file(p, header_row=1).columns.tolist() == [SOURCE_ROW, "c", "d"]


def test_excel_merged_and_blank_headers(tmp_path, caplog):
    """Merged header cells are filled across the merge; blank ones become unnamed_N."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Attendance report"])
    ws.append(["pupil_id", "Maths", None, None, "English"])
    ws.merge_cells("B2:D2")
    ws.append(["p1", 5, 6, 7, 4.5])
    ws.append(["p2", 3, None, 2, 8])
    p = tmp_path / "x.xlsx"
    wb.save(p)
    with caplog.at_level(logging.WARNING, logger="cilib.data.readers"):
        df = read_file(p)
    assert df.columns.tolist() == [SOURCE_ROW, "pupil_id", "Maths", "Maths_2", "Maths_3", "English"]
    assert df["Maths"].tolist() == ["5", "3"]
    assert df["English"].tolist() == ["4.5", "8"]
    assert pd.isna(df.loc[1, "Maths_2"])
    assert "merged" in caplog.text


def test_blank_header_cell_named(tmp_path, caplog):
    """A blank header cell (not merged) becomes unnamed_N with a warning."""
    p = tmp_path / "b.csv"
    p.write_text("pupil_id,,score\n1,x,3\n")
    with caplog.at_level(logging.WARNING, logger="cilib.data.readers"):
        df = read_file(p)
    assert df.columns.tolist() == [SOURCE_ROW, "pupil_id", "unnamed_2", "score"]
    assert "unnamed_2" in caplog.text


def test_empty_file_errors(tmp_path):
    """An empty file raises DataError."""
    p = tmp_path / "e.csv"
    p.write_text("")
    with pytest.raises(DataError, match="empty"):
        read_file(p)
    p.write_text("\n \n")
    with pytest.raises(DataError, match="empty"):
        read_file(p)


def test_missing_file_errors(tmp_path):
    """A missing file raises DataError naming it."""
    with pytest.raises(DataError, match="not found"):
        read_file(tmp_path / "nope.csv")


def test_header_only_gives_zero_rows(tmp_path):
    """A file with only a header is an empty frame, not an error."""
    p = tmp_path / "h.csv"
    p.write_text("pupil_id;name;score\n")
    df = read_file(p)
    assert len(df) == 0
    assert df.columns.tolist() == [SOURCE_ROW, "pupil_id", "name", "score"]


def test_duplicate_column_different_errors(tmp_path):
    """A column present twice with different contents raises, naming the column."""
    p = tmp_path / "d.csv"
    p.write_text("pupil_id,score,score\n1,3,4\n")
    with pytest.raises(DataError, match="'score' appears twice"):
        read_file(p)


def test_duplicate_column_identical_kept_once(tmp_path):
    """A column present twice with identical contents is kept once."""
    p = tmp_path / "d.csv"
    p.write_text("pupil_id,score,score\n1,3,3\n2,,\n")
    df = read_file(p)
    assert df.columns.tolist() == [SOURCE_ROW, "pupil_id", "score"]


def test_all_columns_strings_with_na(tmp_path):
    """Every column is str; blank cells are NA, not empty strings or 'nan'."""
    p = tmp_path / "s.csv"
    p.write_text("a,b\n001,\n2, x \n")
    df = read_file(p)
    assert df["a"].tolist() == ["001", "2"]  # leading zeros kept
    assert pd.isna(df.loc[0, "b"]) and df.loc[1, "b"] == "x"
    assert str(df["a"].dtype) == "str"


def test_parse_dates_two_formats():
    """ISO and dd/mm/yyyy both parse; ambiguous slashes are day first by rule."""
    s = pd.Series(["2024-09-03", "03/09/2024", "4/1/2025", None])
    got = parse_dates(s)
    assert got.tolist()[:3] == [
        pd.Timestamp("2024-09-03"),
        pd.Timestamp("2024-09-03"),
        pd.Timestamp("2025-01-04"),
    ]
    assert pd.isna(got[3])
    us = parse_dates(pd.Series(["03/09/2024"]), dayfirst=False)
    assert us[0] == pd.Timestamp("2024-03-09")


def test_unparseable_dates_quarantined(tmp_path):
    """Unparseable dates go to quarantine with the value; row accounting balances."""
    p = tmp_path / "d.csv"
    p.write_text("pupil_id,dob\n1,2012-05-01\n2,01/05/2012\n3,31/02/2012\n4,May 1st\n5,\n")
    res = map_frame(read_file(p), {"dates": {"dob": {}}}, table="pupils")
    assert res.data["pupil_id"].tolist() == ["1", "2", "5"]
    assert res.data["dob"].iloc[1] == pd.Timestamp("2012-05-01")
    assert res.quarantine["source_row"].tolist() == [3, 4]
    assert "'May 1st' is not a date" in res.quarantine["reason"].iloc[1]
    assert res.rows_in == 5 == res.rows_clean + res.rows_quarantined

