"""Push-down: gaps and summaries from parquet (DuckDB), a store and Dask equal pandas to 1e-9."""

import dask
import dask.dataframe as dd
import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

import cilib
from cilib.core.errors import DataError
from cilib.data.aggregate import cell_sums_duckdb, gap, group_summary, parquet_source
from cilib.stats import equity

TOL = {"rtol": 1e-9, "atol": 1e-12}


@pytest.fixture
def pupils():
    """Random pupils in schools with NaNs, a school with one pupil, a school with no focus pupil."""
    rng = np.random.default_rng(14)
    n = 3000
    df = pd.DataFrame(
        {
            "school_id": rng.choice([f"S{i:02d}" for i in range(12)], n),
            "period": rng.choice(["HT1", "HT2"], n),
            "disadvantaged": rng.random(n) < 0.3,
            "score": rng.normal(100.0, 15.0, n),
            "flag": (rng.random(n) < 0.4).astype(float),
            "attendance": rng.uniform(0.6, 1.0, n),
            "possible": rng.integers(10, 300, n).astype(float),
        }
    )
    df.loc[rng.random(n) < 0.05, "score"] = np.nan
    df.loc[rng.random(n) < 0.05, "flag"] = np.nan
    df.loc[rng.random(n) < 0.05, "possible"] = np.nan
    group = df["disadvantaged"].astype(object)
    group[rng.random(n) < 0.03] = None
    df["disadvantaged"] = group
    df.loc[df["school_id"] == "S11", "disadvantaged"] = False  # no focus pupil at all
    single = pd.DataFrame([{"school_id": "S99", "period": "HT1", "disadvantaged": True,
                            "score": 90.0, "flag": 1.0, "attendance": 0.9, "possible": 100.0}])
    df = pd.concat([df, single], ignore_index=True)
    df.loc[(df["school_id"] == "S05") & df["disadvantaged"].eq(True), "score"] = np.nan
    df["disadvantaged"] = df["disadvantaged"].astype("boolean")
    return df


@pytest.fixture
def parquet(pupils, tmp_path):
    """The pupils written to a parquet file."""
    path = tmp_path / "pupils.parquet"
    pupils.to_parquet(path, index=False)
    return path


CASES = [
    {"value": "score", "kind": "mean"},
    {"value": "flag", "kind": "rate"},
    {"value": "attendance", "kind": "rate", "weight": "possible"},
]


def same(a: pd.DataFrame, b: pd.DataFrame, by: list[str]) -> None:
    """Assert two result tables are equal to 1e-9 after sorting by the cells."""
    a = a.sort_values(by).reset_index(drop=True) if by else a
    b = b.sort_values(by).reset_index(drop=True) if by else b
    assert list(a.columns) == list(b.columns)
    assert len(a) == len(b)
    for c in a.columns:
        if c in by:
            assert a[c].astype(str).tolist() == b[c].astype(str).tolist()
        elif a[c].dtype == bool:
            assert a[c].tolist() == b[c].tolist(), c
        else:
            np.testing.assert_allclose(a[c].to_numpy(float), b[c].to_numpy(float), **TOL,
                                       err_msg=c)


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("by", [["school_id"], ["school_id", "period"], []])
def test_gap_from_parquet_equals_pandas(pupils, parquet, case, by):
    """DuckDB's sums finished by the same formulas give pandas' gap to 1e-9."""
    kw = {**case, "by": by or None, "threshold": 3}
    expect = equity.gap(pupils, group="disadvantaged", focus=True, **kw)
    got = gap(parquet, group="disadvantaged", focus=True, **kw)
    same(got, expect, by)


@pytest.mark.parametrize("case", CASES)
def test_gap_from_dask_equals_pandas(pupils, case):
    """Per-partition sums from a local Dask DataFrame give pandas' gap to 1e-9."""
    ddf = dd.from_pandas(pupils, npartitions=4)
    kw = {**case, "by": "school_id", "threshold": 3}
    expect = equity.gap(pupils, group="disadvantaged", focus=True, **kw)
    got = gap(ddf, group="disadvantaged", focus=True, **kw)  # Dask's local threads
    same(got, expect, ["school_id"])


@pytest.mark.parametrize("case", CASES)
def test_summary_from_parquet_and_dask_equals_pandas(pupils, parquet, case):
    """Group summaries agree across pandas, DuckDB and Dask."""
    kw = {**case, "by": ["school_id", "disadvantaged"], "threshold": 2}
    expect = equity.group_summary(pupils, **kw)
    same(group_summary(parquet, **kw), expect, kw["by"])
    with dask.config.set(scheduler="synchronous"):
        got = group_summary(dd.from_pandas(pupils, npartitions=3), **kw)
    same(got, expect, kw["by"])


def test_where_filters_rows(pupils, parquet):
    """where= keeps the rows equal to the given values on every engine."""
    kw = {"value": "score", "group": "disadvantaged", "focus": True, "by": "school_id"}
    expect = equity.gap(pupils[pupils["period"] == "HT2"], **kw)
    same(gap(parquet, where={"period": "HT2"}, **kw), expect, ["school_id"])
    same(gap(pupils, where={"period": ["HT2"]}, **kw), expect, ["school_id"])


def test_gap_matches_scipy_welch(pupils, parquet):
    """The pushed-down gap's interval is scipy's Welch interval for one school."""
    got = gap(parquet, "score", "disadvantaged", focus=True, by="school_id")
    row = got[got["school_id"] == "S01"].iloc[0]
    d = pupils[pupils["school_id"] == "S01"].dropna(subset=["score", "disadvantaged"])
    a = d.loc[d["disadvantaged"].astype(bool), "score"]
    b = d.loc[~d["disadvantaged"].astype(bool), "score"]
    ci = sps.ttest_ind(a, b, equal_var=False).confidence_interval(0.95)
    assert row["gap"] == pytest.approx(a.mean() - b.mean(), rel=1e-9)
    assert (row["gap_ci_low"], row["gap_ci_high"]) == pytest.approx((ci.low, ci.high), rel=1e-9)


def test_partitioned_folder_reads_as_one(pupils, tmp_path):
    """A folder of hive-partitioned parquet gives the same gap as the single file."""
    folder = tmp_path / "parts"
    pupils.to_parquet(folder, partition_cols=["period"], index=False)
    kw = {"value": "score", "group": "disadvantaged", "focus": True, "by": "school_id"}
    same(gap(folder, **kw), equity.gap(pupils, **kw), ["school_id"])


def test_cilib_gap_takes_any_source(pupils, parquet):
    """cilib.gap is the any-source gap and still takes a DataFrame."""
    a = cilib.gap(pupils, "score", "disadvantaged", focus=True)
    b = cilib.gap(str(parquet), "score", "disadvantaged", focus=True)
    same(a, b, [])
    assert "n" in cilib.group_summary(pupils, "score").columns


def test_errors(parquet, tmp_path):
    """Bad inputs raise DataError with a message that says what to fix."""
    with pytest.raises(DataError, match="no rows"):
        gap(parquet, "score", "school_id", focus="nowhere")
    with pytest.raises(DataError, match="overlap"):
        gap(parquet, "score", "school_id", focus="S01", comparison=["S01", "S02"])
    with pytest.raises(DataError, match="0/1"):
        group_summary(parquet, "score", kind="rate")
    with pytest.raises(DataError, match="numeric"):
        group_summary(parquet, "school_id")
    with pytest.raises(DataError, match="lacks column"):
        group_summary(parquet, "nothing")
    with pytest.raises(DataError, match="table="):
        parquet_source(parquet, table="x")
    with pytest.raises(DataError, match="pandas or Dask"):
        group_summary(42, "score")


def test_sums_have_one_row_per_cell(parquet, pupils):
    """DuckDB's sums count the rows with a value per school."""
    sums = cell_sums_duckdb(parquet, "score", "school_id")
    expect = pupils.dropna(subset=["score"]).groupby("school_id").size()
    assert sums.set_index("school_id")["n"].to_dict() == expect.to_dict()


def test_nan_values_are_left_out(tmp_path):
    """NaN stored as a float (not a null) is missing, as in pandas."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    score = pa.array([1.0, float("nan"), 3.0, 4.0, 5.0, 6.0], from_pandas=False)
    table = pa.table({"g": ["a", "a", "a", "b", "b", "b"], "y": score})
    path = tmp_path / "nan.parquet"
    pq.write_table(table, path)
    got = group_summary(path, "y", "g", threshold=1)
    assert got["n"].tolist() == [2, 3]
    assert got["mean"].tolist() == [2.0, 5.0]
