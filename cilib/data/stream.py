"""Streaming prepare: load, validate and store every table in bounded memory.

:func:`stream_tables` does what loading every table whole and calling
:func:`cilib.data.validate.validate` does, with the same clean rows, quarantine and reasons, but
a part at a time, so memory is bounded by the part, not the data:

1. **Load.** Each big clean export is cut into chunks (:func:`cilib.data.chunks.plan_chunks`)
   and each chunk is loaded into a typed parquet part; other files are one part. Parts load in
   ``jobs`` worker processes.
2. **Great Expectations** runs each table's suite once, on a frame of the distinct values seen in
   its parts (for each pair rule, the distinct pairs). The single-table rules (missing, allowed
   values, ranges, calendar periods, the attended-possible pair, types) judge each value on its
   own, so a value is bad in a row exactly when it is bad in that frame; the rows holding a bad
   value are then found part by part. GX's cost no longer grows with the rows.
3. **Cross-row rules in DuckDB** over all the parts at once: rows sharing a key (exact copies and
   conflicts, told apart by the same code as before, in any part), and references to a parent's
   clean or set-aside keys. Parents are finished before their children.
4. **Finish** each part: assemble its quarantine with the same reasons, write its clean rows (up
   to the report period) as a part of the store, and its quarantined rows as CSV.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import multiprocessing
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from cilib.core import schema
from cilib.core.errors import DataError
from cilib.data.chunks import (
    KEY_HASH,
    ChunkResult,
    NotSplittable,
    load_chunk,
    load_range,
    plan_chunks,
    value_columns,
)
from cilib.data.config import TrustConfig, check_against_pupils, check_sample_key
from cilib.data.mapping import empty_quarantine
from cilib.data.parts import Check, PartJob, finish_part
from cilib.data.quarantine import (
    key_issues,
)
from cilib.data.readers import SOURCE_ROW
from cilib.data.suites import POS_COLUMN, SUITES_DIR, SuiteRunner, read_suite, unexpected_positions

__all__ = ["DEFAULT_CHUNK_ROWS", "StreamResult", "stream_tables"]

#: Data lines per chunk of a big export (about 15-30 MB of CSV; a worker holds one at a time).
DEFAULT_CHUNK_ROWS = 250_000
QUARANTINE_HEADER = "table,source_row,rule,column,reason,record\n"


@dataclass
class TableSummary:
    """What streaming one table produced (for the data-quality table and the store)."""

    rows_in: int = 0
    rows_clean: int = 0
    rows_quarantined: int = 0
    rows_after_period: int = 0
    rule_rows: dict[str, int] = field(default_factory=dict)
    rule_reason: dict[str, str] = field(default_factory=dict)


@dataclass
class StreamResult:
    """Outcome of :func:`stream_tables`: per table its summary, plus the schools it named."""

    tables: dict[str, TableSummary]
    schools: pd.DataFrame  # clean and set-aside rows of the schools table


def _pool(jobs: int) -> cf.Executor | None:
    """Return a pool of ``jobs`` worker processes, or None for one job (work in this process)."""
    if jobs <= 1:
        return None
    return cf.ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("spawn"))


@contextlib.contextmanager
def _main_hidden():
    """Start worker processes without re-running the caller's script in each of them.

    A spawned worker runs the parent's ``__main__`` file again (so a script without an
    ``if __name__ == "__main__":`` guard would prepare again, recursively). The workers only run
    cilib's own functions, so the script's path is hidden while they start.
    """
    main = sys.modules.get("__main__")
    path = main.__dict__.pop("__file__", None) if main is not None else None
    try:
        yield
    finally:
        if path is not None:
            main.__file__ = path


def _merge_values(chunks: list[ChunkResult]) -> tuple[dict[str, pd.Series], dict]:
    values: dict[str, pd.Series] = {}
    for c in chunks[0].values:  # (the key hash column is not among them)
        s = pd.concat([ch.values[c] for ch in chunks], ignore_index=True)
        values[c] = s.drop_duplicates().reset_index(drop=True)
    pairs = {
        p: pd.concat([ch.pairs[p] for ch in chunks], ignore_index=True).drop_duplicates()
        for p in chunks[0].pairs
    }
    return values, pairs


def _distinct_frame(values: dict[str, pd.Series], pairs: dict) -> pd.DataFrame:
    """Return one frame holding every distinct value of every column and every distinct pair.

    Columns are repeated cyclically up to the longest, which changes no value rule's verdict.
    """
    cols: dict[str, pd.Series] = dict(values)
    for (a, b), frame in pairs.items():
        cols[a], cols[b] = frame[a].reset_index(drop=True), frame[b].reset_index(drop=True)
    n = max([len(s) for s in cols.values()] + [0])
    out = {}
    for c, s in cols.items():
        take = np.resize(np.arange(len(s)), n) if len(s) else np.zeros(0, dtype=int)
        out[c] = s.iloc[take].reset_index(drop=True) if len(s) else s.reindex(range(n))
    frame = pd.DataFrame(out)
    frame[POS_COLUMN] = np.arange(n, dtype=np.int64)
    return frame


def value_checks(
    runner: SuiteRunner, name: str, frame: pd.DataFrame, exps: list[dict], periods: list[str]
) -> list[Check]:
    """Run the table's suite (all but the key rule) with GX on its distinct-values frame.

    Returns the failed value rules with the values they found bad. Raises DataError for a missing
    required column or a column of the wrong type, as :func:`cilib.data.validate.validate` does.
    """
    run = [
        {**e, "meta": {**e["meta"], "cilib_index": i}}  # GX may return results in its own order
        for i, e in enumerate(exps)
        if e["meta"]["cilib_rule"] != "key"
    ]
    results = runner.run(name, frame, run, {"periods": list(periods)})
    missing, wrong, checks = [], [], []
    for r in results:
        cfg = r.expectation_config
        rule = cfg.meta.get("cilib_rule")
        i = int(cfg.meta["cilib_index"])
        if r.success:
            continue
        if rule == "required":
            missing.append(f"{name} is missing required column {cfg.kwargs['column']!r}")
            continue
        if rule == "dtype":
            wrong.append(
                f"{name}.{cfg.kwargs['column']} holds {r.result.get('observed_value')} values, "
                f"expected {cfg.kwargs['type_']}"
            )
            continue
        pos = unexpected_positions(r)
        exp = exps[i]
        kw = exp["kwargs"]
        if "column_A" in kw:
            bad = frame.iloc[pos][[kw["column_A"], kw["column_B"]]].drop_duplicates()
        elif rule == "not_null":
            bad = None
        else:
            bad = frame[kw["column"]].iloc[pos].drop_duplicates()
        checks.append(Check(i, exp, bad))
    if missing:
        raise DataError("; ".join(missing) + ". Add the column to the input file, or map the "
                        "file's column to it in the mapping file.")
    if wrong:
        raise DataError("; ".join(wrong) + ". Convert the columns to the schema's types "
                        "(cilib.data.load.load_tables does this) before validating.")
    return checks


def _quote(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def _union(parts: list[tuple[Path, int]], columns: list[str]) -> str:
    """Return SQL for all parts of a table (only ``columns``), ``_source_row`` made file-wide."""
    cols = ", ".join(f'"{c}"' for c in columns)
    return " UNION ALL ".join(
        f'SELECT "{SOURCE_ROW}" + {off} AS "{SOURCE_ROW}", {cols} FROM read_parquet({_quote(p)})'
        for p, off in parts
    )


def key_rows(con, table: schema.Table, parts: list[tuple[Path, int]]) -> dict[int, tuple]:
    """Source rows that share a key with another row, in any part: row -> (rule, column, reason).

    DuckDB finds the rows whose key hash occurs more than once; their key values are then
    compared exactly, and the same code as the whole-table path tells copies from conflicts.
    """
    if not table.key or not parts:
        return {}
    keys = list(table.key)
    sql = (f"WITH r AS ({_union(parts, [KEY_HASH])}), "
           f'd AS (SELECT "{KEY_HASH}" FROM r WHERE "{KEY_HASH}" IS NOT NULL '
           f'GROUP BY "{KEY_HASH}" HAVING count(*) > 1) '
           f'SELECT r."{SOURCE_ROW}" FROM r JOIN d USING ("{KEY_HASH}")')
    rows = np.sort(con.execute(sql).fetchnumpy()[SOURCE_ROW].astype(np.int64))
    if not len(rows):
        return {}
    frames = []
    bounds = [off for _, off in parts] + [np.iinfo(np.int64).max]
    for i, (p, off) in enumerate(parts):
        mine = rows[(rows > off) & (rows <= bounds[i + 1])]
        if len(mine):
            got = pd.read_parquet(p, filters=[(SOURCE_ROW, "in", [int(r - off) for r in mine])])
            got[SOURCE_ROW] = got[SOURCE_ROW] + off
            frames.append(got.drop(columns=[KEY_HASH]))
    cand = pd.concat(frames, ignore_index=True).sort_values(SOURCE_ROW, kind="stable")
    present = cand[keys].notna().any(axis=1)
    dups = cand[present & cand.duplicated(keys, keep=False)].reset_index(drop=True)
    src = dups[SOURCE_ROW].to_numpy(dtype=object)
    found = key_issues(table, dups, np.arange(len(dups)), src)
    return {int(src[p]): (rule, col, reason) for p, rule, col, reason in found}


def reference_rows(
    con, table: schema.Table, parts: list[tuple[Path, int]], known: dict[str, list[Path]]
) -> dict[str, np.ndarray]:
    """Per referencing column, the source rows whose value is not among the parent's keys."""
    out = {}
    for col, (parent, pcol) in table.references.items():
        if parent not in known or not parts:
            continue
        files = "[" + ", ".join(_quote(p) for p in known[parent]) + "]"
        sql = (f'SELECT "{SOURCE_ROW}" FROM ({_union(parts, [col])}) WHERE "{col}" IS NOT NULL '
               f'AND "{col}" NOT IN (SELECT "{pcol}" FROM read_parquet({files}) '
               f'WHERE "{pcol}" IS NOT NULL)')
        rows = con.execute(sql).fetchnumpy()[SOURCE_ROW]
        out[col] = np.sort(np.asarray(rows, dtype=np.int64))
    return out


def _plan(config, name, staging, chunk_rows, suites) -> tuple[list[tuple], list[tuple]]:
    """Return the arguments for loading each chunk of a table, and for loading it whole.

    The chunk list is empty when the table is loaded whole (:func:`plan_chunks` said None).
    """
    extra = [config.focus.column, *config.lenses] if name == "pupils" else []
    full, pairs = value_columns(name, suites[name], extra)
    typed = staging / "typed" / name
    whole = (config, name, 0, Path(config.tables[name]), typed / "part-00000.parquet", full, pairs)
    plan = plan_chunks(config, name, chunk_rows)
    if plan is None:
        return [], whole
    return [
        (config, name, plan, i, staging / "chunks" / name / f"{i:05d}",
         typed / f"part-{i:05d}.parquet", full, pairs)
        for i in range(len(plan.ranges))
    ], whole


def _loaded(futures: list, whole: tuple) -> list[ChunkResult]:
    """Wait for a table's chunks; if one cannot be read on its own, load the file whole."""
    try:
        return [f.result() for f in futures]
    except NotSplittable:
        for f in futures:
            f.cancel()
        cf.wait([f for f in futures if isinstance(f, cf.Future)])
        return [load_chunk(*whole)]


def _ready() -> bool:
    """Nothing: a first task that makes a worker process start (and import cilib) early."""
    return True


class _Done:
    """A finished result or error, shaped like a future (for work done in this process)."""

    def __init__(self, value=None, error: BaseException | None = None) -> None:
        self.value, self.error = value, error

    def result(self):
        if self.error is not None:
            raise self.error
        return self.value

    def cancel(self) -> bool:
        return False


def _submit(pool: cf.Executor | None, fn: Callable, *args) -> cf.Future | _Done:
    """Run ``fn(*args)`` in the pool, or here and now when there is no pool."""
    if pool is None:
        try:
            return _Done(fn(*args))
        except Exception as exc:  # raised when the result is asked for, as from a pool
            return _Done(error=exc)
    with _main_hidden():
        return pool.submit(fn, *args)


class _Pool:
    """A pool of ``jobs`` worker processes, started when first asked for; shut down on exit."""

    def __init__(self, jobs: int) -> None:
        self.jobs = jobs
        self.pool: cf.Executor | None = None

    def start(self) -> cf.Executor | None:
        if self.pool is None:
            self.pool = _pool(self.jobs)
        return self.pool

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)


@dataclass
class _Table:
    """One table on its way through the stream."""

    chunks: list[ChunkResult]
    offsets: list[int]
    checks: list[Check]
    keys: dict[int, tuple]
    futures: list = field(default_factory=list)


def stream_tables(
    config: TrustConfig,
    period: str,
    out: Path,
    staging: Path,
    *,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    jobs: int = 2,
    progress: Callable[[str], None] | None = None,
    suites_dir: Path | None = None,
) -> StreamResult:
    """Load, validate and write every table of ``config`` part by part.

    While the workers load the chunks, this process runs each table's Great Expectations suite
    and its key check as soon as the table is loaded; then every part is finished, parents
    (schools, pupils, survey items) before the tables that refer to them.

    Parameters
    ----------
    config, period
        The checked trust config and the report period (clean rows after it are counted in
        ``rows_after_period`` and not written).
    out
        Folder receiving ``<table>.parquet`` (or ``<table>/part-NNNNN.parquet``) and
        ``quarantine/<table>.csv``: the tables of a store.
    staging
        A scratch folder for chunk files and typed parts (emptied afterwards).
    chunk_rows
        Data lines per chunk of a big clean export.
    jobs
        Worker processes for loading and finishing parts (1: all in this process).
    progress
        Called with a short message at each step.

    Returns
    -------
    StreamResult
        Per table: rows in, clean, quarantined, after the period, quarantined rows per rule with
        an example reason; and the schools' clean and set-aside rows.
    """
    import duckdb

    say = progress or (lambda _msg: None)
    suites_dir = Path(suites_dir) if suites_dir is not None else SUITES_DIR
    names = [t for t in schema.LOAD_ORDER if t in config.tables]
    suites = {t: read_suite(suites_dir, t)["expectations"] for t in names}
    parents = {par for t in schema.TABLES.values() for par, _ in t.references.values()}
    keep = config.periods_up_to(period)
    tables: dict[str, _Table] = {}
    summaries: dict[str, TableSummary] = {}
    known: dict[str, list[Path]] = {}
    small: dict[str, pd.DataFrame] = {}
    aside_schools: list[pd.DataFrame] = []
    con = duckdb.connect()
    con.execute(f"SET threads TO {max(1, jobs)}")
    con.execute("SET memory_limit = '256MB'")  # DuckDB spills to disk beyond this
    (staging / "duckdb").mkdir(parents=True, exist_ok=True)
    con.execute(f"SET temp_directory = {_quote(staging / 'duckdb')}")
    runner = None
    with _Pool(jobs) as workers:
        sizes = [Path(p).stat().st_size for p in config.tables.values() if Path(p).is_file()]
        if any(size > chunk_rows * 40 for size in sizes):  # likely cut: start workers early,
            pool = workers.start()  # so they import while the files are planned here
            for _ in range(jobs):
                _submit(pool, _ready)
        plans = {n: _plan(config, n, staging, chunk_rows, suites) for n in names}
        loading = {  # tables cut into chunks go to the workers first...
            n: [_submit(workers.start(), load_range, *a) for a in ranges]
            for n, (ranges, _) in plans.items() if ranges
        }
        wholes = {n: whole for n, (_, whole) in plans.items()}
        for n in names:  # ...then the others load here (or in the workers when they run)
            if n not in loading:
                loading[n] = [_submit(workers.pool, load_chunk, *wholes[n])]
        parts_in = sum(len(f) for f in loading.values())
        def finished(name: str) -> None:
            """Wait for a table's parts; record its summary (and keys, for a parent)."""
            if name in summaries or name not in tables:
                return
            t = tables[name]
            results = [f.result() for f in t.futures]
            summaries[name] = _summarise(name, t.chunks, t.offsets, results, staging, out)
            if name in parents:
                known[name] = sorted((staging / "known" / name).glob("part-*.parquet"))
            if name in ("schools", "survey_items"):
                small[name] = pd.concat([r.clean for r in results], ignore_index=True)
            if name == "schools":
                aside_schools.extend(r.set_aside for r in results if len(r.set_aside))
            say(f"Checked {name}: {summaries[name].rows_clean:,} clean, "
                f"{summaries[name].rows_quarantined:,} quarantined")

        def submit_finish(name: str) -> None:
            """Finish a table's parts: in the workers, or here when it was loaded whole."""
            table = schema.TABLES[name]
            for parent, _ in table.references.values():
                finished(parent)
            if name == "survey_responses":
                finished("survey_items")
            t = tables[name]
            parts = [(c.part, o) for c, o in zip(t.chunks, t.offsets, strict=True)]
            refs = reference_rows(con, table, parts, known)
            items = small.get("survey_items") if name == "survey_responses" else None
            pool = workers.pool if len(t.chunks) > 1 else None  # one part: quicker here
            for c, lo in zip(t.chunks, t.offsets, strict=True):
                hi = lo + c.rows_read
                fails = c.failures.copy()
                fails[SOURCE_ROW] = (fails[SOURCE_ROW] + lo).astype("Int64")
                job = PartJob(
                    name=name, part=c.part, offset=lo, failures=fails, exps=suites[name],
                    checks=t.checks,
                    keys={r: v for r, v in t.keys.items() if lo < r <= hi},
                    refs={col: rows[(rows > lo) & (rows <= hi)] for col, rows in refs.items()},
                    items=items, keep_periods=keep,
                    out_clean=staging / "clean" / name / f"part-{c.index:05d}.parquet",
                    out_known=(staging / "known" / name / f"part-{c.index:05d}.parquet"
                               if name in parents else None),
                    out_quarantine=staging / "quarantine" / name / f"part-{c.index:05d}.csv",
                    keep_clean=name in ("schools", "survey_items"),
                )
                t.futures.append(_submit(pool, finish_part, job))

        for name in names:
            chunks = _loaded(loading[name], wholes[name])
            rows = sum(c.rows_read for c in chunks)
            say(f"Loaded {name}: {rows:,} rows in {len(chunks)} part(s)")
            if name == "schools":
                check_sample_key(config, pd.concat([pd.read_parquet(c.part) for c in chunks])
                                 .drop(columns=[KEY_HASH]))
            values, pairs = _merge_values(chunks)
            if name == "pupils":
                check_against_pupils(config, pd.DataFrame(values))
            if runner is None:
                say(f"Validating with Great Expectations (tables in {parts_in} part(s))")
                runner = SuiteRunner()
            offsets = [int(o) for o in np.cumsum([0] + [c.rows_read for c in chunks])[:-1]]
            parts = [(c.part, o) for c, o in zip(chunks, offsets, strict=True)]
            tables[name] = _Table(
                chunks, offsets,
                value_checks(runner, name, _distinct_frame(values, pairs), suites[name],
                             config.periods),
                key_rows(con, schema.TABLES[name], parts),
            )
            submit_finish(name)  # the next table's checks run while its parts are finished

        for name in names:
            finished(name)
    con.close()
    schools = pd.concat([small["schools"], *aside_schools], ignore_index=True) \
        if "schools" in small else pd.DataFrame(columns=["school_id"])
    return StreamResult(tables={n: summaries[n] for n in names}, schools=schools)


def _summarise(name, chunks, offsets, results, staging, out) -> TableSummary:
    """Add up one table's parts; move its clean parts and quarantine into ``out``."""
    s = TableSummary()
    mq = [
        c.mapping_quarantine.assign(source_row=c.mapping_quarantine["source_row"] + int(off))
        for c, off in zip(chunks, offsets, strict=True) if len(c.mapping_quarantine)
    ]
    mapping_q = pd.concat(mq, ignore_index=True) if mq else empty_quarantine()
    s.rows_in = sum(c.rows_read for c in chunks)
    s.rows_clean = sum(r.rows_clean for r in results)
    s.rows_quarantined = len(mapping_q) + sum(r.rows_quarantined for r in results)
    s.rows_after_period = sum(r.rows_after_period for r in results)
    if len(mapping_q):
        for rule, g in mapping_q.groupby("rule", sort=True):
            s.rule_rows[rule] = len(g)
            s.rule_reason[rule] = g["reason"].iloc[0]
    for r in results:
        for rule, n in r.rule_rows.items():
            s.rule_rows[rule] = s.rule_rows.get(rule, 0) + n
            s.rule_reason.setdefault(rule, r.rule_reason[rule])
    if s.rows_clean + s.rows_quarantined != s.rows_in:
        raise RuntimeError(
            f"Row accounting does not add up for {name}: {s.rows_in} read, {s.rows_clean} clean, "
            f"{s.rows_quarantined} quarantined. This is a bug in cilib; please report it."
        )
    written = sorted((staging / "clean" / name).glob("part-*.parquet"))
    if len(written) == 1:
        target = out / f"{name}.parquet"
        shutil.move(written[0], target)
    elif written:
        folder = out / name
        folder.mkdir(parents=True, exist_ok=True)
        for i, p in enumerate(written):
            shutil.move(p, folder / f"part-{i:05d}.parquet")
    else:  # no clean row up to the period: an empty table with the right columns
        empty = pd.read_parquet(chunks[0].part).iloc[:0].drop(columns=[SOURCE_ROW, KEY_HASH])
        names = schema.TABLES[name].names
        empty = empty[[c for c in names if c in empty] + [c for c in empty if c not in names]]
        target = out / f"{name}.parquet"
        empty.to_parquet(target, index=False)
    if s.rows_quarantined:
        qdir = out / "quarantine"
        qdir.mkdir(parents=True, exist_ok=True)
        target = qdir / f"{name}.csv"
        with open(target, "w", encoding="utf-8", newline="") as fh:
            fh.write(QUARANTINE_HEADER)
            if len(mapping_q):
                fh.write(mapping_q.assign(table=name)[
                    ["table", "source_row", "rule", "column", "reason", "record"]
                ].to_csv(index=False, header=False))
            for p in sorted((staging / "quarantine" / name).glob("part-*.csv")):
                fh.write(p.read_text(encoding="utf-8"))
    return s
