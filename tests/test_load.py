import textwrap

import pandas as pd
import pytest

from cilib.core.errors import DataError
from cilib.data.config import load_config
from cilib.data.load import load_pupils, load_table, pseudonymise
from tests.conftest import TINY_CONFIG, TINY_FILES, write_config


def test_pupils_have_canonical_dtypes(tiny_trust):
    """Loaded pupils carry pandas 3 dtypes: str, Int64, boolean."""
    df = load_pupils(load_config(tiny_trust))
    assert str(df["school_id"].dtype) == "str"
    assert str(df["year_group"].dtype) == "Int64"
    assert str(df["disadvantaged"].dtype) == "boolean"
    assert df["disadvantaged"].tolist() == [True, False, False, True]
    assert pd.isna(df.loc[3, "prior_attainment"])


def test_ids_are_pseudonymised_consistently(tiny_trust):
    """Raw pupil ids never survive loading; a pupil gets the same pseudonym in every table."""
    cfg = load_config(tiny_trust)
    pupils = load_table("pupils", cfg).frame
    att = load_table("attendance", cfg).frame
    assert not set(pupils["pupil_id"]) & {"A1", "A2", "A3", "A4"}
    assert set(pupils["pupil_id"]) == set(att["pupil_id"])
    assert all(p.startswith("p_") for p in pupils["pupil_id"])


def test_pseudonym_depends_on_key():
    """A different key gives a different pseudonym (so ids cannot be re-derived without it)."""
    s = pd.Series(["A1"])
    assert pseudonymise(s, b"k1")[0] != pseudonymise(s, b"k2")[0]


@pytest.mark.parametrize("sep", [",", ";", "\t"])
@pytest.mark.parametrize("bom", [False, True])
def test_csv_separators_and_bom(tiny_trust, sep, bom):
    """CSV with , ; or tab, with or without a byte-order mark, loads the same."""
    folder = tiny_trust.parent
    text = textwrap.dedent(TINY_FILES["pupils.csv"]).replace(",", sep)
    (folder / "pupils.csv").write_text(text, encoding="utf-8-sig" if bom else "utf-8")
    df = load_pupils(load_config(tiny_trust))
    assert list(df.columns[:3]) == ["pupil_id", "school_id", "academic_year"]
    assert len(df) == 4 and df["sen"].tolist() == ["none", "support", "none", "ehcp"]


def test_excel_and_parquet(tiny_trust):
    """The same table loads from Excel and from parquet."""
    folder = tiny_trust.parent
    raw = pd.read_csv(folder / "pupils.csv", dtype=str)
    raw.to_excel(folder / "pupils.xlsx", index=False)
    raw.to_parquet(folder / "pupils.parquet", index=False)
    for name in ("pupils.xlsx", "pupils.parquet"):
        cfg_path = write_config(
            folder, TINY_CONFIG.replace("pupils: pupils.csv", f"pupils: {name}")
        )
        df = load_pupils(load_config(cfg_path))
        assert len(df) == 4
        assert df["year_group"].tolist() == [3, 3, 8, 8]
        assert df["eal"].tolist() == [False, False, True, False]


def test_column_mapping_renames_and_recodes(tiny_trust):
    """A mapping renames export columns and recodes SEN codes K/E/N."""
    folder = tiny_trust.parent
    raw = pd.read_csv(folder / "pupils.csv", dtype=str)
    raw["sen"] = raw["sen"].map({"none": "N", "support": "K", "ehcp": "E"})
    raw = raw.rename(columns={"pupil_id": "UPN", "sen": "SEN Status"})
    raw.to_csv(folder / "pupils.csv", index=False)
    cfg_path = write_config(
        folder,
        TINY_CONFIG
        + textwrap.dedent("""\
        mappings:
          pupils:
            columns: {UPN: pupil_id, SEN Status: sen}
            values:
              sen: {K: support, E: ehcp, N: none}
        """),
    )
    df = load_pupils(load_config(cfg_path))
    assert df["sen"].tolist() == ["none", "support", "none", "ehcp"]


def test_unconvertible_values_are_listed_not_dropped(tiny_trust):
    """A non-numeric number and an unknown boolean become type failures with their row."""
    folder = tiny_trust.parent
    text = textwrap.dedent(TINY_FILES["attendance.csv"]).replace("70,50", "seventy,50")
    (folder / "attendance.csv").write_text(text)
    text = textwrap.dedent(TINY_FILES["pupils.csv"]).replace(
        "female,true,true", "female,maybe,true"
    )
    (folder / "pupils.csv").write_text(text)
    cfg = load_config(tiny_trust)
    att = load_table("attendance", cfg)
    assert len(att.frame) == 4
    f = att.type_failures
    assert f[["_source_row", "column", "value"]].values.tolist() == [
        [4, "possible_sessions", "seventy"]
    ]
    pup = load_table("pupils", cfg)
    assert pup.type_failures["expected"].tolist() == ["true or false"]
    assert pup.type_failures["_source_row"].tolist() == [1]


def test_missing_required_column_is_a_clear_error(tiny_trust):
    """A file without a required column stops with a message naming the column and the fix."""
    folder = tiny_trust.parent
    raw = pd.read_csv(folder / "pupils.csv", dtype=str).drop(columns=["sen"])
    raw.to_csv(folder / "pupils.csv", index=False)
    with pytest.raises(DataError, match="missing required column.*sen.*mappings.pupils.columns"):
        load_pupils(load_config(tiny_trust))


def test_missing_and_empty_files(tiny_trust):
    """A missing file and an empty file each give a DataError naming the file."""
    folder = tiny_trust.parent
    (folder / "pupils.csv").unlink()
    with pytest.raises(DataError, match="pupils.csv"):
        load_pupils(load_config(tiny_trust))
    (folder / "pupils.csv").write_text("")
    with pytest.raises(DataError, match="empty"):
        load_pupils(load_config(tiny_trust))
