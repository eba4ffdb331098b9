"""Tests for cilib.data.mapping: the mapping format and the shipped example mappings."""

from pathlib import Path

import pandas as pd
import pytest

from cilib.core.errors import ConfigError, DataError
from cilib.data.mapping import apply_mapping, map_frame, read_mapping_file
from cilib.data.published import load_example
from tests.conftest import REAL

EXAMPLES = Path(__file__).resolve().parents[1] / "configs" / "examples"


def raw(**cols):
    n = len(next(iter(cols.values())))
    df = pd.DataFrame({k: pd.array(v, dtype="str") for k, v in cols.items()})
    df.insert(0, "_source_row", pd.array(range(1, n + 1), dtype="Int64"))
    return df


SEN = {"K": "support", "E": "ehcp", "N": "none"}


def test_rename_and_recode_unknown_code_quarantined():
    """Unknown SEN codes go to quarantine with their value, never to missing."""
    df = raw(UPN=["a", "b", "c", "d"], SEN=["K", "E", "X", None])
    out, q = apply_mapping(
        df, {"columns": {"UPN": "pupil_id", "SEN": "sen"}, "values": {"sen": SEN}}, table="pupils"
    )
    assert out["sen"].tolist()[:2] == ["support", "ehcp"]
    assert pd.isna(out["sen"].iloc[2])  # missing stays missing
    assert out["_source_row"].tolist() == [1, 2, 4]
    assert q["reason"].tolist() == ["pupils.sen code 'X' is not one of K, E, N"]
    assert q["source_row"].tolist() == [3]
    assert '"pupil_id": "c"' in q["record"].iloc[0]


def test_booleans_all_spellings():
    """Y/N, yes/no, True/False and 1/0 become booleans; others are quarantined."""
    df = raw(fsm=["Y", "n", "True", "false", "1", "0", "maybe"])
    res = map_frame(df, {"booleans": ["fsm"]}, table="pupils")
    assert res.data["fsm"].tolist() == [True, False, True, False, True, False]
    assert "'maybe' is not a yes/no value" in res.quarantine["reason"].iloc[0]
    assert res.balanced


def test_constants_template_any_of():
    """Constants, templated ids and disadvantaged = fsm OR looked_after."""
    df = raw(
        mod=["AAA", "BBB", "CCC"],
        pres=["2013J", "2014B", "2014J"],
        fsm=["Y", "N", "N"],
        cla=["N", "N", "Y"],
    )
    spec = {
        "constants": {"trust_id": "t1"},
        "booleans": ["fsm", "cla"],
        "derive": {
            "school_id": {"template": "{mod}-{pres}"},
            "disadvantaged": {"any_of": ["fsm", "cla"]},
        },
    }
    out, q = apply_mapping(df, spec, table="pupils")
    assert out["school_id"].tolist() == ["AAA-2013J", "BBB-2014B", "CCC-2014J"]
    assert out["disadvantaged"].tolist() == [True, False, True]
    assert set(out["trust_id"]) == {"t1"} and q.empty


def test_period_from_date_calendar():
    """A date falls in the last period that starts on or before it; earlier dates quarantine."""
    cal = {"2024/25 HT1": "2024-09-02", "2024/25 HT2": "2024-11-04", "2024/25 HT3": "2025-01-06"}
    df = raw(d=["2024-09-02", "03/11/2024", "04/11/2024", "2025-03-01", "2024-08-01", "bad"])
    res = map_frame(
        df,
        {"dates": {"d": {}}, "derive": {"period": {"from": "d", "calendar": cal}}},
        table="attendance",
    )
    assert res.data["period"].tolist() == [
        "2024/25 HT1",
        "2024/25 HT1",
        "2024/25 HT2",
        "2024/25 HT3",
    ]
    assert set(res.quarantine["rule"]) == {"outside_calendar", "bad_date", "missing_value"}
    assert res.rows_quarantined == 2 and res.balanced


def test_grade_scale_and_melt():
    """Wide grades melt to one row per period; a grade scale maps to scores."""
    df = raw(pupil=["p1", "p2"], T1=["A", "B"], T2=["C", "Z"])
    spec = {
        "melt": {"columns": ["T1", "T2"], "variable": "period", "value": "grade"},
        "derive": {"score": {"from": "grade", "scale": {"A": 100, "B": 80, "C": 60}}},
    }
    res = map_frame(df, spec, table="assessments")
    assert res.rows_in == 4 and res.rows_clean == 3 and res.rows_quarantined == 1
    assert res.data[["pupil", "period", "score"]].values.tolist() == [
        ["p1", "T1", 100.0],
        ["p1", "T2", 60.0],
        ["p2", "T1", 80.0],
    ]
    assert res.data["_source_row"].tolist() == [1, 1, 2]
    assert "code 'Z'" in res.quarantine["reason"].iloc[0]


def test_join_unmatched_quarantined():
    """Rows with no match in a join file are quarantined, not dropped."""
    subs = raw(id_assessment=["1", "2", "9"], score=["50", "60", "70"])
    ass = raw(id_assessment=["1", "2"], module=["AAA", "BBB"])
    res = map_frame(
        subs,
        {"join": [{"file": "a.csv", "keys": "id_assessment"}]},
        table="assessments",
        frames={"a.csv": ass},
    )
    assert res.data["module"].tolist() == ["AAA", "BBB"]
    assert res.quarantine["rule"].tolist() == ["join_unmatched"]
    assert res.balanced and res.rows_in == 3


def test_numbers_range_and_rescale():
    """Numbers outside their range or not numbers are quarantined; rescale is linear."""
    df = raw(g=["0", "10", "20", "21", "x"])
    res = map_frame(
        df, {"derive": {"score": {"from": "g", "rescale": [0, 20]}}}, table="assessments"
    )
    assert res.data["score"].tolist() == [0.0, 50.0, 100.0]
    assert sorted(res.quarantine["rule"]) == ["not_a_number", "out_of_range"]


def test_bad_spec_errors():
    """Unknown steps and missing columns say what to fix."""
    df = raw(a=["1"])
    with pytest.raises(ConfigError, match="unknown key"):
        apply_mapping(df, {"rename": {}}, table="pupils")
    with pytest.raises(DataError, match=r"needs column\(s\) \['b'\]"):
        apply_mapping(df, {"columns": {"b": "c"}}, table="pupils")


def test_row_accounting_many_rules():
    """A row failing two rules is counted once: rows in = mapped + quarantined."""
    df = raw(sen=["X", "K", "K"], fsm=["?", "Y", "N"])
    res = map_frame(df, {"values": {"sen": SEN}, "booleans": ["fsm"]}, table="pupils")
    assert len(res.quarantine) == 2 and res.rows_quarantined == 1 and res.rows_clean == 2


def test_example_uci_loads_real_files():
    """The UCI example maps both real files; G1-G3 become three periods."""
    res = load_example(
        EXAMPLES / "uci-student-performance.yml", data_dir=REAL / "uci-student-performance"
    )
    pupils, ass = res["pupils"], res["assessments"]
    assert pupils.rows_read == 395 + 649 and pupils.balanced
    assert ass.rows_in == 3 * (395 + 649) and ass.balanced
    assert set(pupils.data["school_id"]) == {"GP", "MS"}
    assert set(ass.data["period"]) == {"2005/06 T1", "2005/06 T2", "2005/06 T3"}
    # independent check of the proxy on the raw file
    mat = pd.read_csv(REAL / "uci-student-performance" / "student-mat.csv", sep=";")
    expect = ((mat["Medu"] <= 2) & (mat["Fedu"] <= 2)).tolist()
    got = pupils.data.loc[pupils.data["subject"] == "maths", "disadvantaged"].tolist()
    assert got == expect
    g3 = ass.data.loc[(ass.data["subject"] == "maths") & (ass.data["period"] == "2005/06 T3")]
    assert g3["score"].tolist() == pytest.approx((mat["G3"] * 5.0).tolist())


@pytest.mark.slow
def test_example_oulad_loads_real_files():
    """The OULAD example joins three files; blank scores and imd_band are handled."""
    res = load_example(EXAMPLES / "oulad.yml", data_dir=REAL / "oulad")
    pupils, ass = res["pupils"], res["assessments"]
    info = pd.read_csv(REAL / "oulad" / "studentInfo.csv", dtype=str, keep_default_na=False)
    assert pupils.rows_read == len(info) and pupils.balanced
    assert pupils.data["imd_band"].isna().sum() == (info["imd_band"] == "").sum()
    assert "10-20" not in set(pupils.data["imd_band"].dropna())
    sa = pd.read_csv(REAL / "oulad" / "studentAssessment.csv", dtype=str, keep_default_na=False)
    assert ass.rows_in == len(sa) and ass.balanced
    assert ass.rows_quarantined == (sa["score"] == "").sum()
    assert ass.data["school_id"].str.match(r"^[A-G]{3}-201[34][BJ]$").all()
    assert len(res["schools"].data) == 22


def test_read_mapping_file_errors(tmp_path):
    """A mapping file without mappings: is a ConfigError."""
    p = tmp_path / "m.yml"
    p.write_text("source: x\n")
    with pytest.raises(ConfigError, match="mappings"):
        read_mapping_file(p)
