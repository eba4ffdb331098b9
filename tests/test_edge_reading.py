"""Issue 11: reading real exports safely (pseudonyms at the edge, numbers as written, every
physical line counted, encodings, invalid ids)."""

import json
import logging
import textwrap

import openpyxl
import pandas as pd
import pytest

from cilib.core.errors import DataError
from cilib.data.config import load_config
from cilib.data.load import load_table, parse_numbers
from cilib.data.mapping import map_frame
from cilib.data.mapping_spec import STEPS
from cilib.data.readers import SOURCE_ROW, read_file, set_aside_rows
from tests.conftest import TINY_CONFIG, TINY_FILES, write_config

# ------------------------------------------------------------------ fault 3: pseudonyms


def test_join_on_pupil_id_quarantine_has_no_raw_id(tiny_trust):
    """A join on the pupil id with an unmatched row: quarantine and reason carry pseudonyms only."""
    folder = tiny_trust.parent
    raw = pd.read_csv(folder / "pupils.csv", dtype=str).rename(columns={"pupil_id": "UPN"})
    raw = raw.drop(columns=["ethnicity"])
    raw.loc[3, "UPN"] = "P00001"
    raw.to_csv(folder / "pupils.csv", index=False)
    roster = {"UPN": ["A1", "A2", "A3"], "ethnicity": ["white_british", "asian", "black"]}
    pd.DataFrame(roster).to_csv(folder / "roster.csv", index=False)
    cfg = write_config(
        folder,
        TINY_CONFIG
        + textwrap.dedent("""\
        mappings:
          pupils:
            join: [{file: roster.csv, keys: UPN, columns: [ethnicity]}]
            columns: {UPN: pupil_id}
        """),
    )
    lt = load_table("pupils", load_config(cfg))
    q = lt.mapping_quarantine
    assert q["rule"].tolist() == ["join_unmatched"]
    text = q.to_csv(index=False)
    assert "P00001" not in text and "A1" not in text
    assert "p_" in q["reason"][0]
    assert len(lt.frame) == 3 and lt.rows_read == 4
    assert not set(lt.frame["pupil_id"]) & {"A1", "A2", "A3"}


def test_join_on_link_key_hides_it(tiny_trust):
    """A join on an admission number (a link used by no later step) does not show it either."""
    folder = tiny_trust.parent
    raw = pd.read_csv(folder / "pupils.csv", dtype=str).drop(columns=["pupil_id"])
    raw.insert(0, "AdNo", ["ADN-1001", "ADN-1002", "ADN-1003", "ADN-9999"])
    raw.to_csv(folder / "pupils.csv", index=False)
    roster = {"AdNo": ["ADN-1001", "ADN-1002", "ADN-1003"], "UPN": ["A1", "A2", "A3"]}
    pd.DataFrame(roster).to_csv(folder / "roster.csv", index=False)
    mapping = """\
        mappings:
          pupils:
            join: [{file: roster.csv, keys: AdNo}]
            columns: {UPN: pupil_id}
        """
    cfg = write_config(folder, TINY_CONFIG + textwrap.dedent(mapping))
    lt = load_table("pupils", load_config(cfg))
    text = lt.mapping_quarantine.to_csv(index=False)
    assert lt.mapping_quarantine["rule"].tolist() == ["join_unmatched"]
    assert "ADN-" not in text and len(lt.frame) == 3
    assert not set(lt.frame["pupil_id"]) & {"A1", "A2", "A3"}


def test_pseudonym_same_with_and_without_mapping(tiny_trust):
    """A pupil id renamed by the mapping gets the same pseudonym as one named pupil_id."""
    cfg = load_config(tiny_trust)
    direct = load_table("pupils", cfg).frame["pupil_id"].tolist()
    folder = tiny_trust.parent
    raw = pd.read_csv(folder / "pupils.csv", dtype=str).rename(columns={"pupil_id": "UPN"})
    raw.to_csv(folder / "pupils.csv", index=False)
    mapping = "mappings:\n  pupils:\n    columns: {UPN: pupil_id}\n"
    cfg2 = write_config(folder, TINY_CONFIG + mapping)
    assert load_table("pupils", load_config(cfg2)).frame["pupil_id"].tolist() == direct


# ------------------------------------------------------------------ fault 7: invalid ids


@pytest.mark.parametrize("word", ["NA", "null", "None", "N/A", "NaN", "-", ""])
def test_null_word_ids_are_invalid_id(tiny_trust, word):
    """A null word or blank as a pupil id is quarantined (invalid_id), never hashed."""
    folder = tiny_trust.parent
    text = textwrap.dedent(TINY_FILES["attendance.csv"]).replace("A2,S1", f"{word},S1")
    (folder / "attendance.csv").write_text(text)
    lt = load_table("attendance", load_config(tiny_trust))
    q = lt.mapping_quarantine
    assert q["rule"].tolist() == ["invalid_id"] and q["source_row"].tolist() == [2]
    assert len(lt.frame) == 3 and lt.rows_read == 4


def test_null_word_school_id_is_invalid_id(tiny_trust):
    """school_id 'null' in pupils is invalid_id; the reason shows the word, not a pupil id."""
    folder = tiny_trust.parent
    text = textwrap.dedent(TINY_FILES["pupils.csv"]).replace("A3,S2", "A3,null")
    (folder / "pupils.csv").write_text(text)
    lt = load_table("pupils", load_config(tiny_trust))
    q = lt.mapping_quarantine
    assert q[["source_row", "rule", "column"]].values.tolist() == [[3, "invalid_id", "school_id"]]
    assert "A3" not in q.to_csv(index=False)


# ------------------------------------------------------------------ fault 4: numbers


def test_parse_numbers_rules():
    """Decimal comma read as written; ambiguous thousands flagged, never silently x10/x1000."""
    num, amb = parse_numbers(pd.Series(["3,4", "7,5", "1,0", "1.234,5"]), ",")
    assert num.tolist() == [3.4, 7.5, 1.0, 1234.5] and not amb.any()
    num, amb = parse_numbers(pd.Series(["1,234", "12,5", "1,234,567", "1,234.5", "3"]))
    assert amb.tolist() == [True, True, False, False, False]
    assert num.tolist()[2:] == [1234567.0, 1234.5, 3.0]
    num, amb = parse_numbers(pd.Series(["1,234", "12,5"]), ".")
    assert num.tolist()[0] == 1234.0 and pd.isna(num[1]) and not amb.any()


def test_decimal_comma_semicolon_file_detected(tiny_trust, caplog):
    """In a ; file with 3,4 and 7,5, ',' is the decimal mark (warned): whole-number sessions
    1,0 are 1 (not 10) and 7,5 / 3,4 are type failures (not whole numbers), never 75 / 34."""
    folder = tiny_trust.parent
    text = textwrap.dedent(TINY_FILES["attendance.csv"]).replace(",", ";")
    text = text.replace("70;60", "70;1,0").replace("70;69", "70;7,5").replace("70;70", "3,4;70")
    (folder / "attendance.csv").write_text(text)
    with caplog.at_level(logging.WARNING):
        lt = load_table("attendance", load_config(tiny_trust))
    assert "decimal comma" in caplog.text
    assert lt.frame["attended_sessions"].tolist()[0] == 1
    f = lt.type_failures
    assert f[["_source_row", "column", "value"]].values.tolist() == [
        [3, "possible_sessions", "3,4"],
        [2, "attended_sessions", "7,5"],
    ]
    assert set(f["expected"]) == {"a whole number"}


def test_declared_decimal_comma_whole_number(tiny_trust):
    """decimal: ',' declared: year_group 1,0 is 1, never 10."""
    folder = tiny_trust.parent
    text = textwrap.dedent(TINY_FILES["pupils.csv"]).replace(",", ";")
    text = text.replace("2024/25;3;", "2024/25;1,0;", 1)
    (folder / "pupils.csv").write_text(text)
    cfg = write_config(folder, TINY_CONFIG + "mappings:\n  pupils:\n    decimal: ','\n")
    lt = load_table("pupils", load_config(cfg))
    assert lt.frame["year_group"].tolist() == [1, 3, 8, 8]
    assert "decimal" in STEPS


def test_ambiguous_thousands_quarantined(tiny_trust):
    """1,234 in a file with no declared decimal mark is quarantined as ambiguous_number."""
    folder = tiny_trust.parent
    text = textwrap.dedent(TINY_FILES["attendance.csv"]).replace(",", ";")
    text = text.replace("70;60", "1,234;60")
    (folder / "attendance.csv").write_text(text)
    lt = load_table("attendance", load_config(tiny_trust))
    q = lt.mapping_quarantine
    assert q["rule"].tolist() == ["ambiguous_number"] and q["source_row"].tolist() == [1]
    assert "A1" not in q.to_csv(index=False)
    assert len(lt.frame) == 3 and lt.rows_read == 4


# ------------------------------------------------------------------ fault 5: physical lines


def test_stray_quote_does_not_merge_lines(tmp_path):
    """A stray quote sets aside its own line only; every other line is read."""
    p = tmp_path / "b.csv"
    lines = ["id,note,score"] + [f"{i},ok,{i}" for i in range(1, 21)]
    lines[3] = '3,"quiet, shy,3'
    p.write_text("\n".join(lines) + "\n")
    df = read_file(p)
    aside = set_aside_rows(df)
    assert len(df) + len(aside) == 20
    assert [a["rule"] for a in aside] == ["unparseable_line"]
    assert "line 4" in aside[0]["reason"] and "quiet" not in json.dumps(aside)
    result = map_frame(df, None, table="behaviour")
    assert result.rows_in == 20 and result.balanced and len(result.data) == 19


def test_load_counts_every_physical_line(tiny_trust):
    """load_table: rows_read = data lines; a stray-quote line is in the mapping quarantine."""
    folder = tiny_trust.parent
    text = textwrap.dedent(TINY_FILES["attendance.csv"]).replace("A2,S1", '"A2,S1')
    (folder / "attendance.csv").write_text(text)
    lt = load_table("attendance", load_config(tiny_trust))
    assert lt.rows_read == 4 and len(lt.frame) == 3
    q = lt.mapping_quarantine
    assert q[["source_row", "rule"]].values.tolist() == [[2, "unparseable_line"]]
    assert "A2" not in q.to_csv(index=False) and "line 3" in q["reason"][0]


def test_unclosed_quote_at_end_and_wrong_field_count(tmp_path):
    """An unclosed quote on the last line and a line with too many fields are each set aside;
    a short line is padded; a blank line is ignored."""
    p = tmp_path / "b.csv"
    p.write_text('id,note,score\n1,a,1\n2,b,2,extra\n\n3,c\n4,"never closed,4\n')
    df = read_file(p)
    aside = set_aside_rows(df)
    assert df["id"].tolist() == ["1", "3"] and pd.isna(df["score"][1])
    assert [a["source_row"] for a in aside] == [2, 4]
    assert all(a["rule"] == "unparseable_line" for a in aside)
    assert "line 3 " in aside[0]["reason"] and "line 6 " in aside[1]["reason"]


def test_quoted_newline_is_one_row(tmp_path):
    """A properly quoted field spanning two lines is still one row."""
    p = tmp_path / "b.csv"
    p.write_text('id,note,score\n1,"two\nlines",1\n2,b,2\n')
    df = read_file(p)
    assert df["note"].tolist() == ["two\nlines", "b"] and not set_aside_rows(df)


def test_workbook_with_two_full_sheets_needs_sheet(tmp_path):
    """Data on two sheets and no sheet: option is an error naming both; an empty sheet is fine."""
    p = tmp_path / "w.xlsx"
    wb = openpyxl.Workbook()
    wb.active.title = "Pupils"
    wb.active.append(["id", "x"])
    wb.active.append(["1", "2"])
    wb.create_sheet("Empty")
    wb.save(p)
    assert len(read_file(p)) == 1
    ws = wb.create_sheet("Staff")
    ws.append(["id", "y"])
    wb.save(p)
    with pytest.raises(DataError, match="'Pupils'.*'Staff'"):
        read_file(p)
    assert read_file(p, sheet="Staff").columns.tolist() == [SOURCE_ROW, "id", "y"]


# ------------------------------------------------------------------ fault 7: encodings


def test_utf16_with_bom(tmp_path):
    """UTF-16 with a byte-order mark is read."""
    p = tmp_path / "u.csv"
    p.write_bytes("id,name\n1,Zoë\n".encode("utf-16"))
    assert read_file(p)["name"].tolist() == ["Zoë"]


@pytest.mark.parametrize("data", [b"PK\x03\x04\x14\x00rest", b"id,x\n1,\x00\x00\x00\n"])
def test_binary_file_is_named_binary(tmp_path, data):
    """A zip/xlsx renamed .csv or a file with NUL bytes is a DataError saying it is binary."""
    p = tmp_path / "x.csv"
    p.write_bytes(data)
    with pytest.raises(DataError, match="binary"):
        read_file(p)


def test_one_cp1252_byte_quarantines_its_line_only(tmp_path):
    """One cp1252 byte in a UTF-8 file: that line is mixed_encoding, the rest stays UTF-8."""
    p = tmp_path / "m.csv"
    p.write_bytes("id,name\n1,Zoë\n".encode() + "2,José\n".encode("cp1252") + b"3,Ann\n")
    df = read_file(p)
    aside = set_aside_rows(df)
    assert df["name"].tolist() == ["Zoë", "Ann"]
    assert [(a["source_row"], a["rule"]) for a in aside] == [(2, "mixed_encoding")]


# ------------------------------------------------------------------ dates


def test_month_first_date_in_day_first_file_quarantined(caplog):
    """09/25/2024 in a day-first column is quarantined (bad_date, says mm/dd), never swapped."""
    raw = pd.DataFrame(
        {SOURCE_ROW: [1, 2, 3], "d": ["03/09/2024", "09/25/2024", "2024-10-01"]}
    ).astype({"d": "str"})
    with caplog.at_level(logging.WARNING):
        r = map_frame(raw, {"dates": {"d": {"dayfirst": True}}}, table="attendance")
    assert r.quarantine["rule"].tolist() == ["bad_date"]
    assert "mm/dd/yyyy" in r.quarantine["reason"][0] and "mm/dd/yyyy" in caplog.text
    assert r.data["d"].dt.strftime("%Y-%m-%d").tolist() == ["2024-09-03", "2024-10-01"]
