"""Tests for cilib.data.published on the department's real files and small fixtures."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cilib.core.errors import DataError
from cilib.data.published import (
    benchmark_gaps,
    ees_national,
    nyc_school_explorer,
    performance_tables,
)
from tests.conftest import REAL

PT = REAL / "dfe-performance-tables"


@pytest.fixture(scope="module")
def ks4():
    return performance_tables(PT / "ks4")


@pytest.fixture(scope="module")
def nyc():
    return nyc_school_explorer(REAL / "nyc-school-explorer" / "2016_School_Explorer.csv")


@pytest.fixture(scope="module")
def ks2_2017():
    return performance_tables(PT / "ks2" / "2017-850-ks2.csv")


def raw_csv(path):
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")


def test_ks4_folder_years_and_levels(ks4):
    """Year and key stage come from file names; RECTYPE maps to levels per key stage."""
    assert set(ks4["year"]) == {"2016/17", "2017/18", "2018/19"}
    assert set(ks4["key_stage"]) == {"KS4"}
    lv = ks4.drop_duplicates(["rectype", "level"]).set_index("rectype")["level"].to_dict()
    assert lv == {"1": "school", "2": "school", "4": "la", "5": "england", "7": "england"}


def test_ks4_values_match_raw_file(ks4):
    """Attainment 8 for disadvantaged pupils equals the raw cell; codes are kept as status."""
    raw = raw_csv(PT / "ks4" / "2017-2018_850_ks4final.csv")
    sub = ks4.loc[
        (ks4["year"] == "2017/18")
        & (ks4["la"] == "850")
        & (ks4["level"] == "school")
        & (ks4["measure"] == "ATT8SCR")
        & (ks4["group"] == "disadvantaged")
    ]
    got = sub.set_index("urn")
    schools = raw.loc[raw["RECTYPE"].isin(["1", "2"]) & (raw["ATT8SCR_FSM6CLA1A"] != "")]
    for _, r in schools.iterrows():
        cell = r["ATT8SCR_FSM6CLA1A"]
        if cell.replace(".", "", 1).isdigit():
            assert got.loc[r["URN"], "value"] == float(cell)
            assert got.loc[r["URN"], "status"] == ""
        else:
            assert np.isnan(got.loc[r["URN"], "value"])
            assert got.loc[r["URN"], "status"] == cell
    assert (sub["status"] == "SUPP").sum() == (schools["ATT8SCR_FSM6CLA1A"] == "SUPP").sum() > 0


def test_percent_and_status_codes(ks2_2017):
    """'15%' reads as 15.0 with percent=True; SUPP, NA and LOWCOV stay codes, not zeros."""
    raw = raw_csv(PT / "ks2" / "2017-850-ks2.csv")
    r = raw.loc[raw["PTFSM6CLA1A"].str.endswith("%")].iloc[0]
    row = ks2_2017.loc[(ks2_2017["urn"] == r["URN"]) & (ks2_2017["measure"] == "PTFSM6CLA1A")]
    assert row["value"].item() == float(r["PTFSM6CLA1A"].rstrip("%")) and row["percent"].item()
    codes = set(ks2_2017["status"]) - {""}
    assert {"SUPP", "NA", "LOWCOV"} <= codes
    assert ks2_2017.loc[ks2_2017["status"] != "", "value"].isna().all()


def test_ks2_groups_and_rectypes(ks2_2017):
    """KS2 NotFSM6CLA1A is 'other'; RECTYPE 3 is the LA, 4 and 5 are England."""
    g = ks2_2017.loc[ks2_2017["measure"] == "PTRWM_EXP", "group"]
    assert {"all", "disadvantaged", "other", "boys", "girls", "eal"} <= set(g)
    lv = ks2_2017.drop_duplicates("rectype").set_index("rectype")["level"].to_dict()
    assert lv == {"1": "school", "2": "school", "3": "la", "4": "england", "5": "england"}
    assert not ks2_2017["measure"].str.endswith(("_16", "_17")).any()  # lagged copies left out
    eng = ks2_2017.loc[
        (ks2_2017["rectype"] == "5")
        & (ks2_2017["measure"] == "PTRWM_EXP")
        & (ks2_2017["group"] == "all"),
        "value",
    ]
    raw = raw_csv(PT / "ks2" / "2017-850-ks2.csv")
    assert eng.item() == float(raw.loc[raw["RECTYPE"] == "5", "PTRWM_EXP"].item().rstrip("%"))


def test_column_missing_in_one_year_is_absent(ks4):
    """A measure only in later files is absent for earlier years, not an error."""
    m = ks4.groupby("measure")["year"].agg(set)
    only_later = m[m.map(lambda s: "2016/17" not in s)]
    assert len(only_later) > 0


def test_converted_special_school_both_urns(ks4):
    """Chart Wood School appears twice (two URNs); both kept, the new one has no results."""
    cw = ks4.loc[(ks4["school_name"] == "Chart Wood School") & (ks4["year"] == "2018/19")]
    assert set(cw["urn"]) == {"146527", "125457"}
    assert cw.loc[cw["urn"] == "146527", "status"].tolist() == ["NEW"]


def test_exact_duplicate_rows_dropped(tmp_path):
    """An exact duplicate row is dropped once; BOM, codes and % handled in a fixture."""
    text = (
        "\ufeffRECTYPE,LEA,URN,SCHNAME,TPUP,PTFSM6CLA1A,ATT8SCR_FSM6CLA1A,ATT8SCR_NFSM6CLA1A\n"
        "1,850,1,A,100,15%,SUPP,50.1\n2,850,2,B,10,NE,NP,NA\n2,850,2,B,10,NE,NP,NA\n"
        "4,850,,,110,14%,30,50\n7,,,,999,25%,36.7,50.1\n"
    )
    p = tmp_path / "2017-2018_850_ks4final.csv"
    p.write_bytes(text.encode())
    perf = performance_tables(p)
    assert (perf["urn"] == "2").sum() == 4  # one copy of B's four measures
    gaps = benchmark_gaps(perf)
    a = gaps.loc[gaps["urn"] == "1"].iloc[0]
    assert np.isnan(a["gap"]) and a["status"] == "SUPP"
    assert a["la_gap"] == pytest.approx(30 - 50) and a["england_gap"] == pytest.approx(36.7 - 50.1)


def test_benchmark_gaps_real(ks4):
    """Gaps equal disadvantaged minus other from the raw file, with LA and England beside."""
    raw = raw_csv(PT / "ks4" / "2017-2018_936_ks4final.csv")
    r = raw.loc[(raw["RECTYPE"] == "1") & raw["ATT8SCR_FSM6CLA1A"].str.match(r"^\d")].iloc[0]
    g = benchmark_gaps(ks4, [r["URN"]])
    row = g.loc[g["year"] == "2017/18"].iloc[0]
    assert row["gap"] == pytest.approx(
        float(r["ATT8SCR_FSM6CLA1A"]) - float(r["ATT8SCR_NFSM6CLA1A"])
    )
    la = raw.loc[raw["RECTYPE"] == "4"].iloc[0]
    eng = raw.loc[raw["RECTYPE"] == "7"].iloc[0]
    assert row["la_gap"] == pytest.approx(
        float(la["ATT8SCR_FSM6CLA1A"]) - float(la["ATT8SCR_NFSM6CLA1A"])
    )
    assert row["england_gap"] == pytest.approx(
        float(eng["ATT8SCR_FSM6CLA1A"]) - float(eng["ATT8SCR_NFSM6CLA1A"])
    )


def test_performance_tables_bad_path(tmp_path):
    """A missing path or a folder with no tables raises DataError."""
    with pytest.raises(DataError, match="not found"):
        performance_tables(tmp_path / "x.csv")
    with pytest.raises(DataError, match="No KS2/KS4"):
        performance_tables(tmp_path)


def test_ees_national():
    """Tidy national figures: thousands separators removed, x and . kept as status."""
    ees = ees_national(REAL / "dfe-ees-national-characteristics")
    assert {"2012/13", "2013/14", "2014/15", "2015/16", "2016/17"} <= set(ees["year"])
    row = ees.loc[
        (ees["file"].str.startswith("absence"))
        & (ees["year"] == "2016/17")
        & (ees["school_type"] == "Total")
        & (ees["characteristic_type"] == "Gender")
        & (ees["characteristic"] == "male")
        & (ees["measure"] == "sess_overall_percent")
    ]
    assert row["value"].item() == 4.7
    assert {"x", "."} <= set(ees["status"])
    assert ees.loc[ees["status"] != "", "value"].isna().all()
    raw = pd.read_csv(
        REAL / "dfe-ees-national-characteristics" / "exclusion_natcharacteristics.csv",
        dtype=str,
        keep_default_na=False,
    )
    comma = raw.loc[raw["headcount"].str.contains(",")].iloc[0]
    ex = ees.loc[(ees["measure"] == "headcount") & ees["file"].str.startswith("exclusion")]
    assert float(comma["headcount"].replace(",", "")) in set(ex["value"])


def test_nyc_school_explorer(nyc):
    """School-level tidy frame: percents and dollars parsed, subgroups named."""
    assert nyc["school_id"].nunique() == 1272
    one = nyc.loc[nyc["school_id"] == "01M015"].fillna({"grade": "<NA>"})
    s = one.set_index(["measure", "grade", "group"])["value"]
    assert s[("percent_ell", "<NA>", "all")] == 9.0
    assert s[("economic_need_index", "<NA>", "all")] == 0.919
    assert s[("school_income_estimate", "<NA>", "all")] == 31141.72
    assert s[("ela_tested", "3", "all")] == 20.0
    assert {"economically_disadvantaged", "ell", "black", "hispanic"} <= set(nyc["group"])
    assert nyc.loc[nyc["status"] != "", "value"].isna().all()


def test_nyc_district_config_matches_loader(nyc):
    """nyc-district.yml: minimum n 5, ESSA lenses, and every named group is in the data."""
    import yaml

    cfg_path = Path(__file__).resolve().parents[1] / "configs" / "examples" / "nyc-district.yml"
    cfg = yaml.safe_load(cfg_path.read_text())
    assert cfg["suppression_threshold"] == 5 and cfg["accountability_min_n"] == 30
    assert set(cfg["lenses"]) == {
        "economically_disadvantaged",
        "ell",
        "students_with_disabilities",
        "race_ethnicity",
    }
    for src in cfg["lens_sources"].values():
        groups = src["group"] if isinstance(src["group"], list) else [src["group"]]
        assert all(g is None or g in set(nyc["group"]) for g in groups)
        measures = src.get("measure") or []
        measures = measures if isinstance(measures, list) else [measures]
        assert set(measures) <= set(nyc["measure"])
