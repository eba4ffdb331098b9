"""The prepared store: clean tables as parquet, written once per run, read by every notebook.

Layout of a store folder::

    <store>/<table>.parquet        clean canonical tables (pupil ids pseudonymised), or
    <store>/<table>/part-NNNNN.parquet   a large table in parts of ``rows_per_file`` rows
    <store>/data_quality.csv       rows in / clean / quarantined per table
    <store>/quarantine_summary.csv rows set aside per table and rule (no ids)
    <store>/quarantine/<table>.csv the quarantined rows with rule and reason (pseudonymised)
    <store>/meta.json              trust, period, calendar, lenses, focus group, schools, inputs

Notebooks read the store and never the raw files, and never import Great Expectations.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import pandas as pd

from cilib.core.errors import DataError
from cilib.core.paths import inside, make_temp_dir, period_slug, safe_name, swap_in
from cilib.cycle.plan_file import load_plan
from cilib.data.config import FocusGroup

__all__ = [
    "META",
    "Store",
    "check_store_folder",
    "file_sha256",
    "period_slug",
    "write_meta",
    "write_store",
]

META = "meta.json"


def file_sha256(path: Path) -> str:
    """Return the SHA-256 hex digest of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _looks_like_store(folder: Path) -> bool:
    """Return whether ``folder`` is missing, empty or an earlier store (so may be replaced)."""
    if not folder.exists():
        return True
    if not folder.is_dir():
        return False
    names = {p.name for p in folder.iterdir()}
    return not names or META in names


def write_meta(folder: Path, meta: dict) -> Path:
    """Write ``meta.json`` into a store folder, listing the SHA-256 and size of every file.

    Written last, after every other file of the store; :class:`Store` checks the list on open.
    """
    folder = Path(folder)
    paths = [p for p in sorted(folder.rglob("*")) if p.is_file() and p.name != META]
    with ThreadPoolExecutor(max_workers=4) as pool:  # hashlib releases the GIL on big reads
        digests = list(pool.map(file_sha256, paths))
    files = {
        p.relative_to(folder).as_posix(): {"sha256": d, "bytes": p.stat().st_size}
        for p, d in zip(paths, digests, strict=True)
    }
    path = folder / META
    path.write_text(
        json.dumps({**meta, "files": files}, indent=2, default=str), encoding="utf-8"
    )
    return path


def check_store_folder(folder: Path) -> Path:
    """Return ``folder`` resolved if a store may be written there, else raise DataError.

    It must be missing, empty or an earlier store, and not a file-system root.
    """
    folder = Path(folder).resolve()
    if not _looks_like_store(folder):
        raise DataError(
            f"Refusing to write the store to {folder}: it holds files but is not a cilib store "
            "(no meta.json). Choose another data.store folder."
        )
    inside(folder.parent, folder, "the store")  # never a file-system root
    return folder


def write_store(
    folder: Path,
    clean: dict[str, pd.DataFrame],
    *,
    data_quality: pd.DataFrame,
    quarantine: dict[str, pd.DataFrame],
    quarantine_summary: pd.DataFrame,
    meta: dict,
    extras: dict[str, bytes] | None = None,
    rows_per_file: int | None = None,
    written: Path | None = None,
) -> Path:
    """Write a prepared store to ``folder``, replacing any earlier store there as a whole.

    The store is written to a temporary sibling folder, ``meta.json`` last with the SHA-256 and
    size of every file, and then renamed into place; a crash or kill part-way leaves the earlier
    store as it was. ``folder`` must be missing, empty or an earlier store: any other folder is
    refused rather than replaced. ``extras`` are further files (name -> bytes) copied in as they
    are, e.g. the checked plan. With ``rows_per_file``, a table with more rows is written as a
    folder of parquet parts of that many rows (read back as one table by :meth:`Store.table`,
    and by DuckDB or Dask as ``<table>/*.parquet``), so no single file or row group has to be
    held whole by a reader. ``written`` is a folder of tables (and ``quarantine/``) already
    written, e.g. by a streaming prepare; its contents are moved in.
    """
    folder = check_store_folder(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = make_temp_dir(folder.parent, f".{folder.name}.writing-")
    try:
        if written is not None:
            for p in sorted(Path(written).iterdir()):
                shutil.move(p, tmp / p.name)
        for name, frame in clean.items():
            write_table(tmp, safe_name(name, "table name"), frame, rows_per_file)
        data_quality.to_csv(tmp / "data_quality.csv", index=False)
        quarantine_summary.to_csv(tmp / "quarantine_summary.csv", index=False)
        qdir = tmp / "quarantine"
        qdir.mkdir(exist_ok=True)
        for name, frame in quarantine.items():
            if len(frame):
                frame.to_csv(qdir / f"{safe_name(name, 'table name')}.csv", index=False)
        for name, data in (extras or {}).items():
            (tmp / safe_name(name, "store file")).write_bytes(data)
        write_meta(tmp, meta)
        swap_in(tmp, folder)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return folder


def write_table(folder: Path, name: str, frame: pd.DataFrame, rows_per_file: int | None) -> None:
    """Write one table as ``<name>.parquet``, or as ``<name>/part-NNNNN.parquet`` parts."""
    if not rows_per_file or len(frame) <= rows_per_file:
        frame.to_parquet(folder / f"{name}.parquet", index=False)
        return
    parts = folder / name
    parts.mkdir()
    for i, start in enumerate(range(0, len(frame), rows_per_file)):
        chunk = frame.iloc[start : start + rows_per_file]
        chunk.to_parquet(parts / f"part-{i:05d}.parquet", index=False)


def read_table(path: Path) -> pd.DataFrame:
    """Read a table written by :func:`write_table`: one file, or its parts in order."""
    if path.is_dir():
        files = sorted(path.glob("part-*.parquet"))
        return pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)
    return pd.read_parquet(path)


@dataclass
class Store:
    """Read access to a prepared store. Tables are read on first use and cached."""

    folder: Path
    _cache: dict[str, pd.DataFrame] = field(default_factory=dict, repr=False)
    _memo: dict[tuple, Any] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self.folder = Path(self.folder)
        if not (self.folder / META).exists():
            raise DataError(
                f"No prepared store at {self.folder}. Run 'cilib validate --config <trust.yml> "
                "--period <period>' or 'cilib run' first."
            )
        self.check()

    def check(self) -> None:
        """Check that every file listed in ``meta.json`` is present with its size and SHA-256.

        Raises
        ------
        DataError
            If the store predates the check, or a file is missing or changed (e.g. a run that
            was killed while writing, or a file edited by hand).
        """
        files = self.meta.get("files")
        if not isinstance(files, dict):
            bad = "it lists no file hashes (written by an older cilib)"
        else:
            bad = ""
            for rel, info in sorted(files.items()):
                p = self.folder / rel
                if not p.is_file():
                    bad = f"{rel} is missing"
                elif p.stat().st_size != info.get("bytes") or file_sha256(p) != info.get("sha256"):
                    bad = f"{rel} has changed since the store was written"
                if bad:
                    break
        if bad:
            raise DataError(
                f"The prepared store at {self.folder} cannot be used: {bad}. Re-run 'cilib "
                "validate --config <trust.yml> --period <period>' to prepare it again."
            )

    @cached_property
    def meta(self) -> dict:
        """The run's metadata: trust, period, calendar, lenses, focus group, schools, inputs."""
        return json.loads((self.folder / META).read_text(encoding="utf-8"))

    @property
    def tables(self) -> list[str]:
        """Names of the tables in the store."""
        parts = {p.parent.name for p in self.folder.glob("*/part-*.parquet")}
        return sorted({p.stem for p in self.folder.glob("*.parquet")} | parts)

    def table(self, name: str) -> pd.DataFrame:
        """Return a copy of a clean table, e.g. ``store.table("attendance")``."""
        if name not in self._cache:
            self._cache[name] = read_table(self.parquet_path(name))
        return self._cache[name].copy()

    def parquet_path(self, name: str) -> Path:
        """Return the parquet file (or partitioned folder) of a table, for DuckDB or Dask."""
        for path in (self.folder / f"{name}.parquet", self.folder / name):
            if path.is_file() or (path.is_dir() and any(path.glob("part-*.parquet"))):
                return path
        raise DataError(f"The store has no {name!r} table. It has: {', '.join(self.tables)}.")

    def tables_dict(self) -> dict[str, pd.DataFrame]:
        """Return every clean table as a dict of frames."""
        return {t: self.table(t) for t in self.tables}

    @property
    def data_quality(self) -> pd.DataFrame:
        """Rows in, clean and quarantined per table."""
        dq = pd.read_csv(self.folder / "data_quality.csv", keep_default_na=False)
        return dq.replace({"top_rule": {"": "none"}})

    @property
    def quarantine_summary(self) -> pd.DataFrame:
        """Rows set aside per table and rule, with an example reason (no ids)."""
        return pd.read_csv(self.folder / "quarantine_summary.csv")

    def plan(self):
        """Return the trust's improvement plan (:class:`cilib.cycle.model.Plan`), or None."""
        path = self.folder / "plan.yml"  # parsed once per opened store (plans are frozen)
        return self.memo("plan", make=lambda: load_plan(path, calendar=self.meta["periods"])
                         if path.exists() else None)

    def roadmap(self) -> pd.DataFrame | None:
        """Return the roadmap table (one row per phase entry), or None if the trust has none."""
        path = self.folder / "roadmap.csv"
        return pd.read_csv(path, dtype="str", keep_default_na=False) if path.exists() else None

    @property
    def period(self) -> str:
        """The period the run reports on."""
        return self.meta["period"]

    @property
    def periods(self) -> list[str]:
        """The calendar's periods up to and including the run's period."""
        cal = self.meta["periods"]
        return cal[: cal.index(self.period) + 1]

    @property
    def focus(self) -> FocusGroup:
        """The configured focus group."""
        return FocusGroup(**self.meta["focus"])

    @property
    def threshold(self) -> int:
        """The suppression threshold (cells with fewer pupils are not shown)."""
        return int(self.meta["suppression_threshold"])

    @property
    def lenses(self) -> list[str]:
        """The pupil characteristics to disaggregate by."""
        return list(self.meta["lenses"])

    def school_name(self, school_id: str | None) -> str:
        """Return a school's name, or the trust's name for ``None``."""
        if school_id is None:
            return self.meta["trust_name"]
        for s in self.meta["schools"]:
            if s["school_id"] == school_id:
                return s["school_name"]
        raise DataError(f"Unknown school {school_id!r}. Schools: {', '.join(self.school_ids)}.")

    @property
    def school_ids(self) -> list[str]:
        """Ids of the schools in the run."""
        return [s["school_id"] for s in self.meta["schools"]]

    def memo(self, *key: Any, make: Callable[[], Any]) -> Any:
        """Return ``make()`` computed once per store and ``key`` (the one cache of the library).

        Report sections that need the same computation (a goal's series, a strategy's evidence)
        share it through this memo, so it lives and dies with the opened store; callers copy a
        frame before changing it.
        """
        if key not in self._memo:
            self._memo[key] = make()
        return self._memo[key]

