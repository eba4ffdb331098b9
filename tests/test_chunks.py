"""Cutting exports into chunk files: only files whose lines can be read one at a time."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pandas as pd
import pytest

from cilib.data.chunks import (
    KEY_HASH,
    NotSplittable,
    cut_chunk,
    key_hash,
    load_chunk,
    load_range,
    plan_chunks,
    value_columns,
)
from cilib.data.config import load_config
from cilib.data.load import load_table
from cilib.data.suites import SUITES_DIR, read_suite

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "data" / "sample" / "trust.yml"
HEADER = "pupil_id,school_id,academic_year,period,possible_sessions,attended_sessions"


def config_for(folder: Path, text: str, mappings: dict | None = None):
    """The sample config with attendance read from ``text`` written in ``folder``."""
    path = folder / "attendance.csv"
    path.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
    cfg = load_config(SAMPLE)
    return dataclasses.replace(
        cfg, tables={**cfg.tables, "attendance": path},
        mappings={**cfg.mappings, **({"attendance": mappings} if mappings else {})},
    )


def body(n: int) -> list[str]:
    return [f"P{i},NLT01,2024/25,2024/25 HT1,70,{i % 70}" for i in range(n)]


def test_clean_file_is_cut_with_the_header_repeated(tmp_path):
    """Every line lands in exactly one chunk, in order, each chunk starting with the header."""
    lines = body(5000)
    cfg = config_for(tmp_path, "\n".join([HEADER, *lines]) + "\n")
    plan = plan_chunks(cfg, "attendance", 1000)
    assert plan is not None and len(plan.ranges) >= 4
    files = [cut_chunk(plan, i, tmp_path / "chunks" / str(i)) for i in range(len(plan.ranges))]
    got = []
    for f in files:
        text = f.read_text(encoding="utf-8").splitlines()
        assert text[0] == HEADER
        got.extend(text[1:])
    assert got == lines
    assert all(f.name == "attendance.csv" for f in files)  # messages name the same file


def test_chunks_load_to_the_same_rows_as_the_whole_file(tmp_path):
    """Loading each chunk and renumbering gives the whole file's typed rows."""
    lines = body(3000)
    lines[1500] = "   "  # a blank line is not a row, in the whole file or in a chunk
    cfg = config_for(tmp_path, "\n".join([HEADER, *lines]) + "\n")
    whole = load_table("attendance", cfg).frame
    plan = plan_chunks(cfg, "attendance", 700)
    files = [cut_chunk(plan, i, tmp_path / "chunks" / str(i)) for i in range(len(plan.ranges))]
    exps = read_suite(SUITES_DIR, "attendance")["expectations"]
    full, pairs = value_columns("attendance", exps, [])
    offset, frames = 0, []
    for i, f in enumerate(files):
        r = load_chunk(cfg, "attendance", i, f, tmp_path / f"part-{i}.parquet", full, pairs)
        part = pd.read_parquet(r.part).drop(columns=[KEY_HASH])
        part["_source_row"] = part["_source_row"] + offset
        offset += r.rows_read
        frames.append(part)
    pd.testing.assert_frame_equal(pd.concat(frames, ignore_index=True), whole)


@pytest.mark.parametrize(
    "text, why",
    [
        ("report exported 2025\n" + HEADER + "\n" + "\n".join(body(3000)), "a line above"),
        (HEADER.replace(",", ";") + "\n" + "\n".join(r.replace(",", ";") for r in body(3000)),
         "a ; file with no declared decimal mark"),
        (HEADER + "\n" + "\n".join(body(50)), "a small file"),
    ],
)
def test_files_that_need_the_careful_path_are_not_planned(tmp_path, text, why):
    """A header not on the first line, an undeclared decimal mark, a small file: loaded whole."""
    cfg = config_for(tmp_path, text)
    assert plan_chunks(cfg, "attendance", 500) is None, why


@pytest.mark.parametrize(
    "bad, why",
    [
        ('"P1",NLT01,2024/25,2024/25 HT1,70,1', "a quote"),
        ("P9,NLT01,2024/25,2024/25 HT1,70,1,extra,cells", "a line wider than the header"),
        ("P9,NLT01,2024/25,2024/25 HT1,70,1,,", "empty cells past the header: fine"),
        (b"P\xe9,NLT01,2024/25,2024/25 HT1,70,1", "a line that is not UTF-8"),
        ("P9,NLT01\r,2024/25,2024/25 HT1,70,1", "a lone carriage return"),
    ],
)
def test_a_chunk_with_a_line_that_needs_the_careful_path_is_refused(tmp_path, bad, why):
    """The chunk holding such a line raises NotSplittable (its table is then loaded whole).

    Empty cells past the header's last column are export debris the reader drops, line by line,
    so they do not stop the chunk.
    """
    lines = [ln.encode() for ln in body(40_000)]  # beyond the first megabyte, which is read
    lines[36_000] = bad if isinstance(bad, bytes) else bad.encode()  # to plan
    cfg = config_for(tmp_path, b"\n".join([HEADER.encode(), *lines]) + b"\n")
    plan = plan_chunks(cfg, "attendance", 5000)
    assert plan is not None
    exps = read_suite(SUITES_DIR, "attendance")["expectations"]
    full, pairs = value_columns("attendance", exps, [])
    args = (tmp_path / "part.parquet", full, pairs)
    load_range(cfg, "attendance", plan, 0, tmp_path / "c0", *args)  # the first chunks are fine
    if why.endswith("fine"):
        assert load_range(cfg, "attendance", plan, 7, tmp_path / "c7", *args).rows_read == 5000
        return
    with pytest.raises(NotSplittable):
        load_range(cfg, "attendance", plan, 7, tmp_path / "c7", *args)  # lines 35,001-40,000


def test_mappings_that_join_or_melt_are_not_cut(tmp_path):
    cfg = config_for(tmp_path, HEADER + "\n" + "\n".join(body(3000)) + "\n",
                     mappings={"melt": {"columns": ["a"], "variable": "v", "value": "x"}})
    assert plan_chunks(cfg, "attendance", 500) is None


def test_value_columns_keeps_the_columns_with_value_rules():
    exps = read_suite(SUITES_DIR, "attendance")["expectations"]
    full, pairs = value_columns("attendance", exps, ["extra"])
    assert {"period", "possible_sessions", "attended_sessions", "extra"} <= full
    assert "pupil_id" not in full  # only "missing?" and "type?" rules: a sample suffices
    assert pairs == [("possible_sessions", "attended_sessions")]


def test_key_hash_is_equal_for_equal_keys_in_separate_frames():
    """Two chunks hash the same key alike; a row whose key is all missing gets no hash."""
    a = pd.DataFrame({"k1": pd.Series(["x", "y", None], dtype="str"),
                      "k2": pd.Series(["1", "2", None], dtype="str"), "v": [1, 2, 3]})
    b = pd.DataFrame({"k1": pd.Series(["y", "x"], dtype="str"),
                      "k2": pd.Series(["2", "9"], dtype="str"), "v": [5, 6]})
    ha, hb = key_hash(a, ("k1", "k2")), key_hash(b, ("k1", "k2"))
    assert ha[1] == hb[0]  # ("y", "2") in both
    assert ha[0] != hb[1]  # ("x", "1") against ("x", "9")
    assert pd.isna(ha[2])
