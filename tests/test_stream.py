"""Streaming prepare: the same store as loading each table whole, in bounded memory.

The reference is the whole-table path, computed here independently of ``cilib.data.stream``:
``load_tables`` reads each file whole and ``validate`` runs Great Expectations on every row and
the cross-row rules in pandas. The streamed store (files cut into chunks, parts loaded and
finished in worker processes, GX on distinct values, keys and references in DuckDB) must hold
exactly the same clean rows and quarantine.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from cilib.core.calendar import academic_year_of
from cilib.core.schema import LOAD_ORDER, PERIOD_TABLES
from cilib.data.config import TrustConfig, load_config
from cilib.data.load import load_tables
from cilib.data.prepare import prepare
from cilib.data.readers import SOURCE_ROW
from cilib.data.stream import _distinct_frame
from cilib.data.validate import validate

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "data" / "sample"
PERIOD = "2025/26 HT6"


def up_to_period(
    tables: dict[str, pd.DataFrame], config: TrustConfig, period: str
) -> tuple[dict[str, pd.DataFrame], dict[str, int]]:
    """Keep only rows up to the report period, so a report shows the data as of that period.

    Period tables keep the calendar's periods up to ``period``; pupils keep the academic years up
    to its year. Returns the tables and, per table, how many clean rows were later (these are
    valid rows, counted in the data-quality table, just not part of this period's reports).
    """
    keep = set(config.periods_up_to(period))
    years = {academic_year_of(p) for p in keep}
    out, later = {}, {}
    for name, df in tables.items():
        if name in PERIOD_TABLES and "period" in df.columns:
            mask = df["period"].isin(keep)
        elif name == "pupils" and "academic_year" in df.columns:
            mask = df["academic_year"].isin(years)
        else:
            out[name] = df
            continue
        out[name] = df.loc[mask].reset_index(drop=True)
        later[name] = int((~mask).sum())
    return out, later


def reference(cfg_path: Path) -> tuple[dict, dict, dict]:
    """Clean tables, quarantine CSV text and rows in/clean/quarantined, the whole-table way."""
    config = load_config(cfg_path)
    loaded = load_tables(config)
    res = validate(
        {n: t.frame for n, t in loaded.items()},
        periods=config.periods,
        type_failures={n: t.type_failures for n, t in loaded.items()},
    )
    clean = {n: df.drop(columns=[SOURCE_ROW], errors="ignore") for n, df in res.clean.items()}
    clean, _ = up_to_period(clean, config, PERIOD)
    quarantine, counts = {}, {}
    for n, lt in loaded.items():
        parts = [p for p in (lt.mapping_quarantine, res.quarantine[n]) if len(p)]
        q = pd.concat(parts, ignore_index=True) if parts else None
        n_q = 0 if q is None else len(q)
        if q is not None:
            q.insert(0, "table", n)
            quarantine[n] = q.to_csv(index=False)
        counts[n] = (lt.rows_read, len(res.clean[n]), n_q)
    return clean, quarantine, counts


def assert_same_store(store, clean: dict, quarantine: dict, counts: dict) -> None:
    """The store holds exactly the reference's tables, quarantine and row counts."""
    for name, frame in clean.items():
        pd.testing.assert_frame_equal(store.table(name), frame.reset_index(drop=True))
    for name in clean:
        path = store.folder / "quarantine" / f"{name}.csv"
        if name in quarantine:
            assert path.read_text(encoding="utf-8") == quarantine[name], name
        else:
            assert not path.exists(), name
    dq = store.data_quality.set_index("table")
    for name, (rows_in, n_clean, n_q) in counts.items():
        assert tuple(dq.loc[name, ["rows_in", "rows_clean", "rows_quarantined"]]) == (
            rows_in, n_clean, n_q)


@pytest.fixture(scope="module")
def messy_trust(tmp_path_factory) -> Path:
    """The sample trust with faults planted far apart, so that chunks split them."""
    folder = tmp_path_factory.mktemp("messy") / "trust"
    shutil.copytree(SAMPLE, folder, ignore=shutil.ignore_patterns("store"))
    path = folder / "assessments.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    header, rows = lines[0], lines[1:]
    cols = header.split(",")
    first = dict(zip(cols, rows[4].split(","), strict=True))  # data row 5
    conflict = dict(zip(cols, rows[9].split(","), strict=True))  # data row 10
    conflict["score"] = "1" if conflict["score"] != "1" else "2"
    stranger = dict(first, pupil_id="NOT-A-PUPIL", period="2025/26 HT3")
    spaced = rows[20].replace(",", " , ")  # row 21 again, with spaces around its cells
    extra = [
        ",".join(first.values()),  # an exact copy of row 5, many chunks later
        ",".join(conflict.values()),  # same key as row 10, another score: both quarantined
        ",".join(stranger.values()),  # a pupil the pupils table does not know
        spaced,
        "",  # a blank line: not counted as a row
        ",".join(dict(first, score="abc", period="2024/25 HT9").values()),  # two faults
    ]
    path.write_text("\n".join([header, *rows, *extra]) + "\n", encoding="utf-8")
    # a quoted cell near the end of attendance: its chunk needs the careful reader, so the
    # table is loaded whole instead (the quoted copy of row 7 is then a duplicate)
    att = folder / "attendance.csv"
    lines = att.read_text(encoding="utf-8").splitlines()
    cells = lines[7].split(",")
    cells[1] = f'"{cells[1]}"'
    att.write_text("\n".join([*lines, ",".join(cells)]) + "\n", encoding="utf-8")
    return folder / "trust.yml"


@pytest.mark.parametrize("jobs", [1, 2])
def test_streamed_store_equals_whole_table_path(messy_trust, tmp_path, jobs):
    """Chunks of 20,000 lines in 1 or 2 processes give the whole-table store, row for row."""
    store = prepare(load_config(messy_trust), PERIOD, store_dir=tmp_path / "s",
                    chunk_rows=20_000, jobs=jobs)
    assert (store.folder / "assessments").is_dir()  # several parts were written
    assert len(list((store.folder / "assessments").glob("part-*.parquet"))) >= 4
    assert (store.folder / "attendance.parquet").is_file()  # loaded whole: a quote in it
    assert_same_store(store, *reference(messy_trust))


def test_duplicate_key_across_chunks_is_caught(messy_trust, tmp_path):
    """A copy of row 5 at the end of the file is a duplicate; row 10's rival is a conflict."""
    store = prepare(load_config(messy_trust), PERIOD, store_dir=tmp_path / "s",
                    chunk_rows=20_000, jobs=1)
    q = pd.read_csv(store.folder / "quarantine" / "assessments.csv")
    last = int(store.data_quality.set_index("table").loc["assessments", "rows_in"])
    rows = q.set_index("source_row")
    copy_row = last - 4  # the six extra lines hold five rows: copy, rival, stranger, spaced, two
    assert rows.loc[copy_row, "rule"] == "duplicate"
    assert rows.loc[copy_row, "reason"] == "duplicate of row 5"
    assert rows.loc[10, "rule"] == "conflicting_key"
    assert rows.loc[copy_row + 1, "rule"] == "conflicting_key"
    assert rows.loc[copy_row + 2, "rule"] == "reference"
    # spaces around cells are stripped: the spaced copy of row 21 is a plain duplicate
    assert rows.loc[copy_row + 3, "reason"] == "duplicate of row 21"
    assert rows.loc[copy_row + 4, "rule"] == "type; calendar_period"
    assert 5 not in rows.index  # the first copy is kept


def test_sample_streamed_in_chunks_equals_whole_file(tmp_path):
    """The sample in chunks equals the sample in one part per table."""
    config = load_config(SAMPLE / "trust.yml")
    whole = prepare(config, PERIOD, store_dir=tmp_path / "whole")
    parts = prepare(config, PERIOD, store_dir=tmp_path / "parts", chunk_rows=30_000, jobs=2)
    for name in LOAD_ORDER:
        pd.testing.assert_frame_equal(parts.table(name), whole.table(name))
    for f in ["data_quality.csv", "quarantine_summary.csv"]:
        assert (parts.folder / f).read_text() == (whole.folder / f).read_text()
    meta = json.loads((parts.folder / "meta.json").read_text())
    assert any(k.startswith("survey_responses/part-") for k in meta["files"])


def test_distinct_frame_holds_every_value_and_pair():
    """Every value of every column, and every pair, appears in the frame GX checks."""
    values = {"a": pd.Series([1, 2, 3], dtype="Int64"), "s": pd.Series(["x"], dtype="str"),
              "p": pd.Series([1.0]), "q": pd.Series([0.0])}
    pairs = {("p", "q"): pd.DataFrame({"p": [70.0, 70.0, 5.0], "q": [69.0, 74.0, 5.0]})}
    frame = _distinct_frame(values, pairs)
    assert len(frame) == 3
    assert set(frame["a"]) == {1, 2, 3} and set(frame["s"]) == {"x"}
    assert set(zip(frame["p"], frame["q"], strict=True)) == {(70, 69), (70, 74), (5, 5)}
    assert str(frame["a"].dtype) == "Int64" and str(frame["s"].dtype) == "str"


def test_failed_prepare_leaves_no_store_folder(tmp_path):
    """A missing required column stops the run and leaves nothing behind."""
    folder = tmp_path / "trust"
    shutil.copytree(SAMPLE, folder, ignore=shutil.ignore_patterns("store"))
    df = pd.read_csv(folder / "attendance.csv", dtype=str)
    df.drop(columns=["possible_sessions"]).to_csv(folder / "attendance.csv", index=False)
    from cilib.core.errors import DataError

    with pytest.raises(DataError, match="possible_sessions"):
        prepare(load_config(folder / "trust.yml"), PERIOD, chunk_rows=20_000, jobs=2)
    assert not (folder / "store").exists()
