"""Prepare a run: load every table, validate once, quarantine bad rows, write the store.

This is the only place where raw files are read and Great Expectations runs; notebooks read the
prepared store that :func:`prepare` writes.
"""

from __future__ import annotations

import json
import platform
import re
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from cilib.core.calendar import academic_year_of
from cilib.core.errors import ConfigError, DataError
from cilib.core.paths import check_unique, inside, period_slug, within
from cilib.core.schema import PERIOD_TABLES
from cilib.cycle.plan_file import load_plan
from cilib.data.benchmarks import prepare_benchmarks
from cilib.data.config import (
    TrustConfig,
    check_against_pupils,
    check_sample_key,
    load_config,
)
from cilib.data.load import load_tables
from cilib.data.readers import SOURCE_ROW, read_file
from cilib.data.store import Store, file_sha256, write_store
from cilib.data.validate import validate  # Great Expectations is imported inside, when run

QUARANTINE_COLUMNS = ["source_row", "rule", "column", "reason", "record"]


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


def _summarise_quarantine(quarantine: dict[str, pd.DataFrame]) -> pd.DataFrame:
    rows = []
    for table, q in quarantine.items():
        if not len(q):
            continue
        for rule, g in q.groupby("rule", sort=True):
            rows.append(
                {
                    "table": table,
                    "rule": rule,
                    "rows": len(g),
                    "example_reason": without_values(g["reason"].iloc[0]),
                }
            )
    return pd.DataFrame(rows, columns=["table", "rule", "rows", "example_reason"])


def prepare(
    config: TrustConfig,
    period: str,
    *,
    store_dir: Path | None = None,
    schools: list[str] | None = None,
    progress: Callable[[str], None] | None = None,
) -> Store:
    """Load, validate and store every table for one run.

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
    t0 = time.perf_counter()
    say(f"Loading {len(config.tables)} tables from {config.data_dir}")
    loaded = load_tables(config)
    check_sample_key(config, loaded["schools"].frame)
    check_against_pupils(config, loaded["pupils"].frame)
    say(f"Validating with Great Expectations ({sum(t.rows_read for t in loaded.values()):,} rows)")
    result = validate(
        {n: t.frame for n, t in loaded.items()},
        periods=config.periods,
        type_failures={n: t.type_failures for n, t in loaded.items()},
    )
    quarantine: dict[str, pd.DataFrame] = {}
    dq_rows = []
    for name, lt in loaded.items():
        vq = result.quarantine.get(name)
        parts = [p for p in (lt.mapping_quarantine, vq) if p is not None and len(p)]
        q = (
            pd.concat(parts, ignore_index=True)
            if parts
            else pd.DataFrame(columns=QUARANTINE_COLUMNS)
        )
        q.insert(0, "table", name)
        quarantine[name] = q
        clean = result.clean[name]
        n_clean, n_q = len(clean), len(q)
        if n_clean + n_q != lt.rows_read:
            raise RuntimeError(
                f"Row accounting does not add up for {name}: {lt.rows_read} read, {n_clean} clean, "
                f"{n_q} quarantined. This is a bug in cilib; please report it."
            )
        top = q["reason"].iloc[0] if n_q else ""
        if n_q:
            top = q.groupby("rule").size().sort_values(ascending=False).index[0]
        dq_rows.append(
            {
                "table": name,
                "rows_in": lt.rows_read,
                "rows_clean": n_clean,
                "rows_quarantined": n_q,
                "top_rule": top,
            }
        )
    clean = {n: df.drop(columns=[SOURCE_ROW], errors="ignore") for n, df in result.clean.items()}
    clean, later = up_to_period(clean, config, period)
    for row in dq_rows:
        row["rows_after_period"] = later.get(row["table"], 0)
    data_quality = pd.DataFrame(dq_rows)

    # a school set aside for a bad non-key cell (e.g. pupils_on_roll "abc") is quarantined in
    # the schools table, but its pupils stay clean and its reports still name it
    all_schools = pd.concat(
        [clean["schools"], result.set_aside.get("schools", clean["schools"].iloc[:0])],
        ignore_index=True,
    ).drop_duplicates("school_id")
    known = sorted(all_schools["school_id"].astype(str))
    check_unique(known, "school id")  # school ids name report folders
    selected = check_schools(config, schools, known)
    sch = all_schools.set_index("school_id")
    inputs = {
        name: {"path": str(p), "sha256": file_sha256(p)}
        for name, p in {**config.tables, "plan": config.plan, "roadmap": config.roadmap}.items()
        if p is not None and Path(p).exists()
    }
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
        clean,
        data_quality=data_quality,
        quarantine=quarantine,
        quarantine_summary=_summarise_quarantine(quarantine),
        meta=json.loads(json.dumps(meta, default=str)),
        extras=extras,
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
