"""prepare(): row accounting, quarantine files, the period cut-off and the store's contents."""

import textwrap

import pandas as pd
import pytest

from cilib.core.errors import DataError
from cilib.data.config import load_config
from cilib.data.prepare import prepare
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
    from cilib.core.errors import PlanError

    (tiny_trust.parent / "plan.yml").write_text("vision: x\ngoals:\n  - id: G1\n    title: t\n")
    text = tiny_trust.read_text().replace("  attendance: attendance.csv",
                                          "  attendance: attendance.csv\n  plan: plan.yml")
    tiny_trust.write_text(text)
    with pytest.raises(PlanError, match="line"):
        prepare(load_config(tiny_trust), "2024/25 HT1", store_dir=tmp_path / "st")


def test_store_with_a_missing_or_changed_table_is_refused(tiny_trust, tmp_path):
    """meta.json lists every file's hash: a deleted or edited table makes the store unusable."""
    from cilib.data.prepare import open_store
    from cilib.data.store import Store

    folder = prepare(load_config(tiny_trust), "2024/25 HT1", store_dir=tmp_path / "st").folder
    files = Store(folder).meta["files"]
    assert {"pupils.parquet", "attendance.parquet", "data_quality.csv"} <= set(files)
    assert all(len(f["sha256"]) == 64 for f in files.values())
    data = (folder / "pupils.parquet").read_bytes()
    (folder / "pupils.parquet").unlink()
    with pytest.raises(DataError, match=r"pupils.parquet is missing.*cilib validate"):
        open_store(folder)
    (folder / "pupils.parquet").write_bytes(data[:-1] + bytes([data[-1] ^ 1]))
    with pytest.raises(DataError, match="pupils.parquet has changed"):
        Store(folder)
    (folder / "pupils.parquet").write_bytes(data)
    assert len(Store(folder).table("pupils")) == 4


def test_crash_while_writing_the_store_keeps_the_earlier_store(tiny_trust, tmp_path, monkeypatch):
    """A failure after the first table is written leaves the earlier store whole and usable."""
    from cilib.data.store import Store

    cfg = load_config(tiny_trust)
    folder = prepare(cfg, "2024/25 HT1", store_dir=tmp_path / "stores" / "st").folder
    before = {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}
    real = pd.DataFrame.to_parquet
    calls = []

    def crash_after_first(self, *args, **kwargs):
        calls.append(1)
        if len(calls) > 1:
            raise KeyboardInterrupt  # as a kill or Ctrl-C part-way through
        return real(self, *args, **kwargs)

    monkeypatch.setattr(pd.DataFrame, "to_parquet", crash_after_first)
    with pytest.raises(KeyboardInterrupt):
        prepare(cfg, "2024/25 HT1", store_dir=tmp_path / "stores" / "st")
    monkeypatch.undo()
    assert len(calls) == 2
    after = {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}
    assert after == before
    assert len(Store(folder).table("attendance")) == 4
    assert sorted(p.name for p in (tmp_path / "stores").iterdir()) == ["st"]  # nothing half-written


def test_store_without_file_hashes_is_refused(tmp_path):
    """A meta.json that lists no file hashes (an older or hand-made store) is not trusted."""
    import json

    from cilib.data.store import Store

    (tmp_path / "pupils.parquet").write_bytes(b"x")
    (tmp_path / "meta.json").write_text(json.dumps({"trust_name": "T", "schools": []}))
    with pytest.raises(DataError, match="no file hashes.*cilib validate"):
        Store(tmp_path)


@pytest.mark.slow
def test_open_store_with_config_prepares_a_broken_store_again(tiny_trust):
    """open_store(config=, period=) re-prepares a store that fails its check, not uses it."""
    from cilib.data.prepare import default_store_dir, open_store

    cfg = load_config(tiny_trust)
    folder = prepare(cfg, "2024/25 HT1").folder
    assert folder == default_store_dir(cfg, "2024/25 HT1")
    (folder / "attendance.parquet").unlink()
    store = open_store(config=tiny_trust, period="2024/25 HT1")
    assert len(store.table("attendance")) == 4
