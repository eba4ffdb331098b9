"""prepare(): row accounting, quarantine files, the period cut-off and the store's contents."""

import textwrap

import pandas as pd
import pytest

from cilib.config import load_config
from cilib.errors import DataError
from cilib.pipeline import prepare
from tests.conftest import TINY_FILES


def _add_attendance(folder, rows: str) -> None:
    text = textwrap.dedent(TINY_FILES["attendance.csv"]) + textwrap.dedent(rows)
    (folder / "attendance.csv").write_text(text)


def test_accounting_quarantine_and_period_cut_off(tiny_trust, tmp_path):
    """Rows in = clean + set aside; later periods are valid but left out of the period's store."""
    _add_attendance(tiny_trust.parent, """\
        A1,S1,2024/25,2024/25 HT2,70,65
        A2,S1,2024/25,2024/25 HT2,70,71
        A9,S1,2024/25,2024/25 HT2,70,60
        """)
    store = prepare(load_config(tiny_trust), "2024/25 HT1", store_dir=tmp_path / "st")
    dq = store.data_quality.set_index("table")
    assert dq.loc["attendance", "rows_in"] == 7
    assert dq.loc["attendance", "rows_quarantined"] == 2  # attended > possible; unknown pupil
    assert dq.loc["attendance", "rows_clean"] == 5
    assert dq.loc["attendance", "rows_after_period"] == 1  # A1's HT2 row
    att = store.table("attendance")
    assert set(att["period"]) == {"2024/25 HT1"} and len(att) == 4
    q = pd.read_csv(store.folder / "quarantine" / "attendance.csv")
    assert sorted(q["rule"]) == ["attended_le_possible", "reference"]
    assert sorted(q["source_row"]) == [6, 7]


def test_store_has_no_raw_ids_and_keeps_meta(tiny_trust, tmp_path):
    """The stored tables hold pseudonyms only; meta records the inputs' hashes and the schools."""
    store = prepare(load_config(tiny_trust), "2024/25 HT1", store_dir=tmp_path / "st")
    for name in ("pupils", "attendance"):
        assert not set(store.table(name)["pupil_id"]) & {"A1", "A2", "A3", "A4"}
    assert len(store.meta["inputs"]["pupils"]["sha256"]) == 64
    assert store.school_ids == ["S1", "S2"] and store.school_name("S2") == "Beta Academy"
    assert store.school_name(None) == "Tiny Trust"
    with pytest.raises(DataError, match="Unknown school 'S9'"):
        store.school_name("S9")


def test_malformed_plan_stops_before_any_notebook(tiny_trust, tmp_path):
    """A plan.yml with an error stops prepare() with a message naming the line."""
    from cilib.errors import PlanError

    (tiny_trust.parent / "plan.yml").write_text("vision: x\ngoals:\n  - id: G1\n    title: t\n")
    text = tiny_trust.read_text().replace("  attendance: attendance.csv",
                                          "  attendance: attendance.csv\n  plan: plan.yml")
    tiny_trust.write_text(text)
    with pytest.raises(PlanError, match="line"):
        prepare(load_config(tiny_trust), "2024/25 HT1", store_dir=tmp_path / "st")
