"""Tests for cilib.data.store: the memo is the library's one cache."""

from __future__ import annotations

import ast
from pathlib import Path

import cilib


def test_memo_computes_once_per_store_and_key(sample_store_dir):
    """store.memo runs make() once per key, and a newly opened store starts empty."""
    from cilib.data.store import Store

    calls = []
    s = Store(sample_store_dir)
    for _ in range(3):
        assert s.memo("x", 1, make=lambda: calls.append(1) or len(calls)) == 1
    assert s.memo("x", 2, make=lambda: calls.append(1) or len(calls)) == 2
    assert Store(sample_store_dir).memo("x", 1, make=lambda: "fresh") == "fresh"


def test_no_module_level_caches():
    """No cilib module keeps a cache at module level (one memo lives on the Store)."""
    root = Path(cilib.__file__).parent
    found = []
    for path in root.rglob("*.py"):
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            targets = (
                node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
            )
            for t in targets:
                if isinstance(t, ast.Name) and "CACHE" in t.id.upper():
                    found.append(f"{path.name}:{t.id}")
    assert not found


def _tiny_store(folder: Path, rows_per_file):
    """A store with one pupil-level table of 23 rows, written whole or in parts."""
    import numpy as np
    import pandas as pd

    from cilib.data.store import write_store

    rng = np.random.default_rng(5)
    frame = pd.DataFrame(
        {
            "pupil_id": [f"p_{i:04d}" for i in range(23)],
            "school_id": rng.choice(["S1", "S2"], 23),
            "disadvantaged": pd.array(rng.random(23) < 0.4, dtype="boolean"),
            "score": rng.normal(50, 10, 23),
        }
    )
    frame.loc[3, "score"] = np.nan
    write_store(
        folder, {"assessments": frame}, data_quality=pd.DataFrame({"table": ["assessments"]}),
        quarantine={}, quarantine_summary=pd.DataFrame(), meta={"period": "x"},
        rows_per_file=rows_per_file,
    )
    return frame


def test_table_in_parts_reads_back_the_same(tmp_path):
    """A table written in parts of 10 rows reads back equal, dtypes and order included."""
    import pandas as pd

    from cilib.data.store import Store

    frame = _tiny_store(tmp_path / "store", rows_per_file=10)
    parts = sorted(p.name for p in (tmp_path / "store" / "assessments").iterdir())
    assert parts == ["part-00000.parquet", "part-00001.parquet", "part-00002.parquet"]
    store = Store(tmp_path / "store")
    assert store.tables == ["assessments"]
    pd.testing.assert_frame_equal(store.table("assessments"), frame)


def test_gap_from_store_parts_equals_pandas(tmp_path):
    """cilib.gap on a store table in parts (DuckDB) equals the gap on the frame (pandas)."""
    import numpy as np

    from cilib.data.store import Store

    frame = _tiny_store(tmp_path / "store", rows_per_file=7)
    store = Store(tmp_path / "store")
    kw = {"value": "score", "group": "disadvantaged", "focus": True, "by": "school_id",
          "threshold": 2}
    got = cilib.gap(store, table="assessments", **kw)
    expect = cilib.gap(frame, **kw)
    np.testing.assert_allclose(got["gap"], expect["gap"], rtol=1e-9)
    np.testing.assert_allclose(got["gap_ci_low"], expect["gap_ci_low"], rtol=1e-9)
    assert got["n_focus"].tolist() == expect["n_focus"].tolist()
