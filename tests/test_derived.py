"""Tests for cilib.report.derived: results shared between a run's reports, kept beside the store."""

from __future__ import annotations

import importlib
import json
import shutil
import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cilib.data.store import Store, write_store
from cilib.report import derived
from cilib.report.derived import DERIVED, frame_fingerprint, shared_frame, store_fingerprint


def _tiny(folder: Path, scores=(1.0, 2.0, 3.0)) -> Store:
    frame = pd.DataFrame({"pupil_id": ["a", "b", "c"], "score": list(scores)})
    write_store(
        folder, {"assessments": frame}, data_quality=pd.DataFrame({"table": ["assessments"]}),
        quarantine={}, quarantine_summary=pd.DataFrame(), meta={"period": "x"},
    )
    return Store(folder)


def _mean_frame(store: Store) -> pd.DataFrame:
    a = store.table("assessments")
    out = pd.DataFrame({"what": ["mean"], "value": [a["score"].mean()]})
    out.attrs["note"] = ["from the store"]
    return out


def _files(store: Store) -> list[Path]:
    folder = store.folder / DERIVED
    return sorted(folder.iterdir()) if folder.is_dir() else []


def test_a_shared_frame_is_computed_once_and_read_back_by_a_new_report(tmp_path):
    """The first report computes and keeps the frame; a newly opened store reads it back."""
    s1 = _tiny(tmp_path / "s")
    calls = []

    def make(store):
        calls.append(1)
        return _mean_frame(store)

    first = shared_frame(s1, "mean", "trust", make=lambda: make(s1))
    again = shared_frame(s1, "mean", "trust", make=lambda: make(s1))
    s2 = Store(tmp_path / "s")
    read = shared_frame(s2, "mean", "trust", make=lambda: make(s2))
    assert len(calls) == 1
    assert len(_files(s1)) == 1
    for got in (again, read):
        pd.testing.assert_frame_equal(got, first, check_exact=True)
        assert got.attrs == {"note": ["from the store"]}
    assert first["value"].iloc[0] == 2.0
    # callers get copies: changing one leaves the shared frame alone
    read.loc[0, "value"] = -1
    assert shared_frame(s2, "mean", "trust", make=lambda: make(s2))["value"].iloc[0] == 2.0


def test_the_file_is_what_is_read(tmp_path):
    """A new store object reads the kept file (a planted frame proves it is not recomputed)."""
    s = _tiny(tmp_path / "s")
    shared_frame(s, "mean", make=lambda: _mean_frame(s))
    (path,) = _files(s)
    pd.DataFrame({"what": ["planted"], "value": [9.0]}).to_parquet(path)
    got = shared_frame(Store(s.folder), "mean", make=lambda: _mean_frame(s))
    assert got["what"].tolist() == ["planted"]


def test_a_changed_store_never_reads_an_old_result(tmp_path):
    """Changed data gives a new meta.json, so another file: an old result is never read."""
    s = _tiny(tmp_path / "s")
    shared_frame(s, "mean", make=lambda: _mean_frame(s))
    (old,) = _files(s)
    kept = tmp_path / old.name
    shutil.copy(old, kept)
    s2 = _tiny(tmp_path / "s", scores=(10.0, 20.0, 30.0))  # the store prepared again
    (s2.folder / DERIVED).mkdir(exist_ok=True)
    shutil.copy(kept, s2.folder / DERIVED / old.name)  # even with the old file put back
    got = shared_frame(s2, "mean", make=lambda: _mean_frame(s2))
    assert got["value"].iloc[0] == 20.0
    # only meta.json changing (e.g. prepared again from the same data) is enough too
    meta = json.loads((s2.folder / "meta.json").read_text())
    (s2.folder / "meta.json").write_text(json.dumps({**meta, "prepared_at": "later"}))
    s3 = Store(s2.folder)
    assert store_fingerprint(s3) != store_fingerprint(s2)
    calls = []
    shared_frame(s3, "mean", make=lambda: calls.append(1) or _mean_frame(s3))
    assert calls == [1]


def test_changed_cilib_source_changes_the_key(tmp_path, monkeypatch):
    """The key covers cilib's source files: an edited module never reads an older result."""
    src = tmp_path / "pkg"
    src.mkdir()
    (src / "m.py").write_text("x = 1\n")
    monkeypatch.setattr(derived, "_PACKAGE", src)
    before = store_fingerprint(_tiny(tmp_path / "s"))
    (src / "m.py").write_text("x = 2\n")
    assert store_fingerprint(Store(tmp_path / "s")) != before


def test_another_question_gets_another_file(tmp_path):
    """The key (school, options) is part of the file name: answers never mix."""
    s = _tiny(tmp_path / "s")
    a = shared_frame(s, "rows", "S1", make=lambda: pd.DataFrame({"school": ["S1"]}))
    b = shared_frame(s, "rows", "S2", make=lambda: pd.DataFrame({"school": ["S2"]}))
    c = shared_frame(s, "rows", None, make=lambda: pd.DataFrame({"school": ["trust"]}))
    assert (a["school"].tolist(), b["school"].tolist(), c["school"].tolist()) == (
        ["S1"], ["S2"], ["trust"]
    )
    assert len(_files(s)) == 3
    s2 = Store(s.folder)
    assert shared_frame(s2, "rows", "S2", make=lambda: None)["school"].tolist() == ["S2"]


def test_object_columns_keep_each_cell_s_type(tmp_path):
    """Object columns (e.g. an outer merge's) read back with every cell's own type and value."""
    s = _tiny(tmp_path / "s")
    frame = pd.DataFrame(
        {
            "n": pd.Series([3, None, np.int64(7), 2.5, np.float64("nan")], dtype=object),
            "w": pd.Series(["x", True, np.bool_(False), pd.NA, np.float64(0.1)], dtype=object),
            "x": [1.0, 2.0, 3.0, 4.0, 5.0],
        }
    )
    shared_frame(s, "odd", make=lambda: frame)
    assert len(_files(s)) == 1
    got = shared_frame(Store(s.folder), "odd", make=lambda: None)
    for c in ("n", "w"):
        assert [type(v) for v in got[c]] == [type(v) for v in frame[c]]
    assert got["n"].iloc[0] == 3 and got["n"].iloc[2] == 7 and got["w"].iloc[4] == 0.1
    assert got["n"].iloc[1] is None and got["w"].iloc[3] is pd.NA and np.isnan(got["n"].iloc[4])


def test_a_frame_that_cannot_be_kept_exactly_is_not_shared(tmp_path):
    """Cells of other types (here tuples) are not kept: every report computes the frame."""
    s = _tiny(tmp_path / "s")
    frame = pd.DataFrame({"pair": pd.Series([("a", 1), ("b", 2)], dtype=object)})
    got = shared_frame(s, "odd", make=lambda: frame)
    assert got["pair"].tolist() == [("a", 1), ("b", 2)]
    assert _files(s) == []
    calls = []
    shared_frame(Store(s.folder), "odd", make=lambda: calls.append(1) or frame)
    assert calls == [1]


def test_an_unwritable_store_still_gives_the_answer(tmp_path):
    """When the derived folder cannot be made, every report computes the frame itself."""
    s = _tiny(tmp_path / "s")
    (s.folder / DERIVED).write_text("not a folder")
    got = shared_frame(s, "mean", make=lambda: _mean_frame(s))
    assert got["value"].iloc[0] == 2.0
    assert (s.folder / DERIVED).read_text() == "not a folder"


def test_two_workers_computing_at_once_both_get_the_answer(tmp_path):
    """Two reports that compute the same frame at the same time leave one whole file."""
    _tiny(tmp_path / "s")
    both = threading.Barrier(2)
    results = []

    def report():
        s = Store(tmp_path / "s")

        def make():
            both.wait(timeout=30)  # both are computing before either has written
            return _mean_frame(s)

        results.append(shared_frame(s, "mean", make=make))

    threads = [threading.Thread(target=report) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert len(results) == 2
    for r in results:
        pd.testing.assert_frame_equal(r, results[0])
    files = _files(Store(tmp_path / "s"))
    assert len(files) == 1 and not files[0].name.startswith(".")
    read = pd.read_parquet(files[0])
    pd.testing.assert_frame_equal(read, results[0])


def test_frame_fingerprint_sees_values_dtypes_and_order():
    """Any change to a frame's values, dtypes, columns or row order changes its fingerprint."""
    df = pd.DataFrame({"a": [1, 2, 3], "b": ["x", "y", None]})
    fp = frame_fingerprint(df)
    assert frame_fingerprint(df.copy()) == fp
    assert frame_fingerprint(df.assign(a=[1, 2, 4])) != fp
    assert frame_fingerprint(df.astype({"a": "float64"})) != fp
    assert frame_fingerprint(df.rename(columns={"b": "c"})) != fp
    assert frame_fingerprint(df.iloc[::-1]) != fp
    assert frame_fingerprint(df.assign(b=["x", "y", "z"])) != fp


# --------------------------------------------------------------------------------------------
# The shared results of the reports equal a fresh computation
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def store_copy(sample_store_dir, tmp_path_factory) -> Path:
    """A copy of the sample store whose derived folder these tests fill."""
    folder = tmp_path_factory.mktemp("derived") / "store"
    shutil.copytree(sample_store_dir, folder, ignore=shutil.ignore_patterns(DERIVED))
    return folder


def _same(a: pd.DataFrame, b: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(a, b, check_exact=True)
    assert a.attrs == b.attrs


def test_verdicts_read_back_equal_a_fresh_computation(store_copy):
    """The trust overview and the Monitor reports read the same verdicts as computed afresh."""
    from cilib.report.sections import verdicts

    verdicts.school_verdicts(Store(store_copy))
    verdicts.trust_verdicts(Store(store_copy))
    fresh = Store(store_copy)
    _same(verdicts.school_verdicts(Store(store_copy)), verdicts._school_verdicts(fresh))
    names = {p.name.split("-")[0] for p in (store_copy / DERIVED).iterdir()}
    assert "verdicts" in names


@pytest.mark.parametrize("school_id", [None, "NLT03"])
def test_summary_rows_and_decisions_read_back_equal_a_fresh_computation(store_copy, school_id):
    """Every report's summary rows and decisions, read back, equal a fresh computation."""
    from cilib.report.sections import monitor_decisions

    summary = importlib.import_module("cilib.report.summary")  # the package names a function so

    summary.goal_rows(Store(store_copy), school_id)  # the first report keeps them
    read = Store(store_copy)
    _same(summary.goal_rows(read, school_id), summary._goal_rows(Store(store_copy), school_id))
    _same(
        monitor_decisions.strategy_decisions(read, school_id),
        monitor_decisions._decisions(Store(store_copy), school_id, None),
    )
    # a rule other than the one in force is never taken from the shared file
    strict = monitor_decisions.strategy_decisions(read, school_id, rule={"small_effect": 5.0})
    _same(strict, monitor_decisions._decisions(Store(store_copy), school_id, {"small_effect": 5.0}))


@pytest.mark.parametrize("school_id", [None, "NLT01", "NLT06"])
def test_lens_tables_read_back_equal_a_fresh_computation(store_copy, school_id):
    """Each school's lens tables from the shared joint table equal lens_table without a store."""
    from cilib.report.sections import needs_tables as nt

    s = Store(store_copy)
    ytd = nt.attendance_year_to_date(s, None)
    for kind, value in (("mean", "rate"), ("rate", "persistent_absence")):
        kw = dict(kind=kind, threshold=s.threshold, scale=100, school=school_id)
        nt.lens_table(ytd, value, s.lenses, store=Store(store_copy), **kw)
        shared = nt.lens_table(ytd, value, s.lenses, store=Store(store_copy), **kw)
        _same(shared, nt.lens_table(ytd, value, s.lenses, **kw))
    latest = nt.latest_assessment_period(s)
    a = nt.attainment_pupils(s, None, periods=[latest])
    kw = dict(threshold=s.threshold, by=["subject"], school=school_id)
    nt.lens_table(a, "score", s.lenses, store=Store(store_copy), **kw)
    _same(
        nt.lens_table(a, "score", s.lenses, store=Store(store_copy), **kw),
        nt.lens_table(a, "score", s.lenses, **kw),
    )
    by_school = dict(threshold=s.threshold, by=["school_id"], scale=100.0)
    _same(
        nt.lens_table(ytd, "rate", s.lenses, store=Store(store_copy), **by_school),
        nt.lens_table(ytd, "rate", s.lenses, **by_school),
    )


@pytest.mark.parametrize("school_id", [None, "NLT02", "NLT07"])
def test_completeness_read_back_equals_a_fresh_computation(store_copy, school_id):
    """Each report's completeness rows, cut from the shared table, equal its own computation."""
    from cilib.report.sections import plan_tracking as pt
    from cilib.report.sections.plan_goals import tables_of

    pt.store_completeness(Store(store_copy), "NLT01")  # another report keeps the whole table
    s = Store(store_copy)
    names = ("pupils", "attendance", "assessments", "survey_responses")
    fresh = pt.completeness(tables_of(s, names), periods=s.periods, school_id=school_id)
    _same(pt.store_completeness(s, school_id), fresh)
    assert set(fresh["school_id"]) == ({school_id} if school_id else set(s.school_ids)) | {
        "(trust)"
    }
