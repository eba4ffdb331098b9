"""Prepare a run: load every table, validate once, quarantine bad rows, write the store.

This is the only place where raw files are read and Great Expectations runs; notebooks read the
prepared store that :func:`prepare` writes.
"""

from __future__ import annotations

import json
import platform
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from cilib.core.errors import ConfigError, DataError
from cilib.core.paths import check_unique, inside, make_temp_dir, period_slug, within
from cilib.cycle.plan_file import load_plan
from cilib.data.benchmarks import prepare_benchmarks
from cilib.data.config import TrustConfig, load_config
from cilib.data.readers import SOURCE_ROW, read_file
from cilib.data.store import Store, check_store_folder, file_sha256, write_store
from cilib.data.stream import DEFAULT_CHUNK_ROWS, StreamResult, stream_tables


def default_store_dir(config: TrustConfig, period: str) -> Path:
    """Return where the prepared store for ``period`` lives: ``<config folder>/store/<period>``.

    The store holds pseudonymised pupil-level rows, so it lives beside the trust's data, never in
    the reports folder that leaders receive.
    """
    data = config.raw.get("data", {})
    base = data.get("store")
    root = (config.path.parent / str(base)) if base else (config.path.parent / "store")
    root = within(
        config.path.parent, root, "data.store", allow=data.get("allow_outside") is True,
        error=ConfigError,
    )
    return inside(root, root / period_slug(period), "the store")


def check_schools(config: TrustConfig, schools: list[str] | None, known: list[str]) -> list[str]:
    """Return the schools to report on, checking each against the schools table."""
    wanted = schools or config.schools or known
    unknown = [s for s in wanted if s not in known]
    if unknown:
        raise ConfigError(
            f"Unknown school {unknown[0]!r}. Schools in the data: {', '.join(known)}."
        )
    return list(wanted)


def _text_or(value: object, default: str) -> str:
    """``value`` as text, or ``default`` when it is missing (a set-aside row's blank cell)."""
    return default if pd.isna(value) else str(value)


_QUOTED = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"")


def without_values(reason: str) -> str:
    """Return a quarantine reason with every quoted cell value replaced by ``'…'``.

    The summary of rules shows what kind of fault each rule is, never a row's value (a value can
    be a pupil's data, or hostile text).

    Examples
    --------
    >>> without_values("gender '<img src=x>' is not one of female, male, other")
    "gender '…' is not one of female, male, other"
    """
    return _QUOTED.sub("'…'", str(reason))


def prepare(
    config: TrustConfig,
    period: str,
    *,
    store_dir: Path | None = None,
    schools: list[str] | None = None,
    progress: Callable[[str], None] | None = None,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    jobs: int | None = None,
) -> Store:
    """Load, validate and store every table for one run, in bounded memory.

    Tables stream through :func:`cilib.data.stream.stream_tables`: big clean exports are cut
    into chunks of ``chunk_rows`` lines, loaded and checked in ``jobs`` worker processes, with
    Great Expectations run once per table on its distinct values and the cross-row rules in
    DuckDB. The clean rows and the quarantine are the same as loading each table whole and
    calling :func:`cilib.data.validate.validate`.

    Parameters
    ----------
    config
        The checked trust config.
    period
        The period the run reports on (must be in the calendar).
    store_dir
        Where to write the store (default :func:`default_store_dir`).
    schools
        Schools to report on (default: the config's list, else every school in the data).
    progress
        Called with a short message at each step (e.g. ``print``).
    chunk_rows
        Data lines per chunk of a big export (memory grows with it; default 250,000).
    jobs
        Worker processes for a big prepare (default: the config's ``reports.jobs``, else 2).

    Returns
    -------
    Store
        The prepared store, whose data-quality table shows rows in = clean + quarantined.

    Raises
    ------
    DataError, ConfigError
        For an unreadable file, a missing required column, an unknown school or period.
    """
    say = progress or (lambda _msg: None)
    config.period_index(period)
    folder = store_dir or default_store_dir(config, period)  # refuses an unsafe place early
    folder = check_store_folder(folder)
    made = [p for p in [folder.parent, *folder.parent.parents] if not p.exists()]
    folder.parent.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    say(f"Loading {len(config.tables)} tables from {config.data_dir}")
    tables = make_temp_dir(folder.parent, f".{folder.name}.tables-")
    staging = make_temp_dir(folder.parent, f".{folder.name}.staging-")
    sources = {**config.tables, "plan": config.plan, "roadmap": config.roadmap}
    sources = {n: Path(p) for n, p in sources.items() if p is not None and Path(p).exists()}
    try:
        with ThreadPoolExecutor(max_workers=2) as hasher:  # the inputs' hashes, meanwhile
            hashes = {n: hasher.submit(file_sha256, p) for n, p in sources.items()}
            result = stream_tables(
                config, period, tables, staging, chunk_rows=chunk_rows,
                jobs=jobs if jobs is not None else default_jobs(config), progress=say,
            )
            inputs = {n: {"path": str(p), "sha256": hashes[n].result()}
                      for n, p in sources.items()}
        return _finish(config, period, folder, tables, result, inputs, selected=schools, t0=t0,
                       say=say)
    finally:
        shutil.rmtree(tables, ignore_errors=True)
        shutil.rmtree(staging, ignore_errors=True)
        for p in made:  # a failed first prepare leaves no empty store folder behind
            if p.is_dir() and not any(p.iterdir()):
                p.rmdir()


def default_jobs(config: TrustConfig) -> int:
    """Worker processes for a big prepare: the config's ``reports.jobs``, else 2."""
    jobs = (config.raw.get("reports") or {}).get("jobs")
    return int(jobs) if isinstance(jobs, int) and jobs > 0 else 2


def _finish(
    config: TrustConfig,
    period: str,
    folder: Path,
    tables: Path,
    result: StreamResult,
    inputs: dict[str, dict],
    *,
    selected: list[str] | None,
    t0: float,
    say: Callable[[str], None],
) -> Store:
    """Write the store from the streamed tables: data quality, meta, plan and extras."""
    dq_rows, summary_rows = [], []
    for name, t in result.tables.items():
        counts = pd.Series(t.rule_rows, dtype="int64").sort_index()
        top = counts.sort_values(ascending=False).index[0] if len(counts) else ""
        dq_rows.append(
            {
                "table": name,
                "rows_in": t.rows_in,
                "rows_clean": t.rows_clean,
                "rows_quarantined": t.rows_quarantined,
                "top_rule": top,
                "rows_after_period": t.rows_after_period,
            }
        )
        summary_rows.extend(
            {"table": name, "rule": rule, "rows": n,
             "example_reason": without_values(t.rule_reason[rule])}
            for rule, n in counts.items()
        )
    data_quality = pd.DataFrame(dq_rows)
    quarantine_summary = pd.DataFrame(
        summary_rows, columns=["table", "rule", "rows", "example_reason"]
    )
    # a school set aside for a bad non-key cell (e.g. pupils_on_roll "abc") is quarantined in
    # the schools table, but its pupils stay clean and its reports still name it
    all_schools = result.schools.drop_duplicates("school_id")
    known = sorted(all_schools["school_id"].astype(str))
    check_unique(known, "school id")  # school ids name report folders
    selected = check_schools(config, selected, known)
    sch = all_schools.set_index("school_id")
    meta = {
        "trust_name": config.name,
        "trust_id": config.trust_id,
        "period": period,
        "periods": config.periods,
        "lenses": config.lenses,
        "focus": {
            "column": config.focus.column,
            "value": config.focus.value,
            "label": config.focus.label,
            "comparison_label": config.focus.comparison_label,
        },
        "suppression_threshold": config.suppression_threshold,
        "suppression_override": config.suppression_override,
        "schools": [
            {
                "school_id": s,
                "school_name": _text_or(sch.loc[s, "school_name"], s),
                "phase": _text_or(sch.loc[s, "phase"], "unknown"),
            }
            for s in known
        ],
        "selected_schools": selected,
        "config": {"path": str(config.path), "sha256": file_sha256(config.path)},
        "inputs": inputs,
        "plan": str(config.plan) if config.plan else None,
        "roadmap": str(config.roadmap) if config.roadmap else None,
        "benchmarks": config.benchmarks,
        "decision_rule": config.decision_rule,
        "progress": config.progress,
        "prepared_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "validation_seconds": round(time.perf_counter() - t0, 2),
    }
    extras = {}
    bench = prepare_benchmarks(config, schools=all_schools)
    if bench is not None:
        say(f"Published benchmarks: {len(bench):,} rows")
        extras["benchmarks.parquet"] = bench.to_parquet(index=False)
        source = Path(config.benchmarks["performance_tables"])
        for p in sorted(source.rglob("*.csv")) if source.is_dir() else [source]:
            meta["inputs"][f"benchmarks/{p.name}"] = {"path": str(p), "sha256": file_sha256(p)}
    if config.plan is not None:
        if not config.plan.exists():
            raise DataError(f"The plan file {config.plan} named in data.plan does not exist.")
        load_plan(config.plan, calendar=config.periods)  # a malformed plan stops the run here
        extras["plan.yml"] = config.plan.read_bytes()
    if config.roadmap is not None:
        extras["roadmap.csv"] = (
            read_file(config.roadmap).drop(columns=[SOURCE_ROW]).to_csv(index=False).encode()
        )
    write_store(
        folder,
        {},
        data_quality=data_quality,
        quarantine={},
        quarantine_summary=quarantine_summary,
        meta=json.loads(json.dumps(meta, default=str)),
        extras=extras,
        written=tables,
    )
    say(f"Prepared store written to {folder} in {time.perf_counter() - t0:.1f}s")
    return Store(folder)


def open_store(
    store: str | Path | None = None, *, config: str | Path | None = None, period: str | None = None
) -> Store:
    """Open a prepared store; with only ``config`` and ``period``, prepare it first if needed.

    A store given by folder is checked against the hashes in its ``meta.json`` and refused
    (:class:`DataError`) if a file is missing or changed. With ``config`` and ``period``, a store
    that is missing or fails that check is prepared again.

    Notebooks call this with the ``store`` path the batch passes in. Run on their own (an analyst
    opening a notebook in JupyterLab), they pass the config and period instead, and the store is
    prepared in a separate process so that the notebook itself never imports Great Expectations.
    """
    if store:
        return Store(Path(store))
    if not config or not period:
        raise DataError("open_store needs either a store folder or both a config and a period.")
    cfg = load_config(config)
    folder = default_store_dir(cfg, period)
    try:
        ready = Store(folder) is not None
    except DataError:  # missing, or failed its hash check (e.g. a killed run): prepare again
        ready = False
    if not ready:
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "cilib",
                "validate",
                "--config",
                str(cfg.path),
                "--period",
                period,
                "--quiet",
            ],
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:  # e.g. "cilib validate: error: <what to fix>"
            lines = done.stderr.strip().splitlines() or [f"exit status {done.returncode}"]
            raise DataError(f"Preparing the store failed: {lines[-1]}")
    return Store(folder)
