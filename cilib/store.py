"""The prepared store: clean tables as parquet, written once per run, read by every notebook.

Layout of a store folder::

    <store>/<table>.parquet        clean canonical tables (pupil ids pseudonymised)
    <store>/data_quality.csv       rows in / clean / quarantined per table
    <store>/quarantine_summary.csv rows set aside per table and rule (no ids)
    <store>/quarantine/<table>.csv the quarantined rows with rule and reason (pseudonymised)
    <store>/meta.json              trust, period, calendar, lenses, focus group, schools, inputs

Notebooks read the store and never the raw files, and never import Great Expectations.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import pandas as pd

from cilib.config import FocusGroup
from cilib.errors import DataError

META = "meta.json"


def period_slug(period: str) -> str:
    """Return a folder-safe form of a period label.

    Examples
    --------
    >>> period_slug("2025/26 HT6")
    '2025-26_HT6'
    """
    return str(period).replace("/", "-").replace(" ", "_")


def write_store(
    folder: Path,
    clean: dict[str, pd.DataFrame],
    *,
    data_quality: pd.DataFrame,
    quarantine: dict[str, pd.DataFrame],
    quarantine_summary: pd.DataFrame,
    meta: dict,
    extras: dict[str, bytes] | None = None,
) -> Path:
    """Write a prepared store to ``folder`` (replacing any earlier store there).

    ``extras`` are further files (name -> bytes) copied in as they are, e.g. the checked plan.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.parquet"):
        old.unlink()
    for name, frame in clean.items():
        frame.to_parquet(folder / f"{name}.parquet", index=False)
    data_quality.to_csv(folder / "data_quality.csv", index=False)
    quarantine_summary.to_csv(folder / "quarantine_summary.csv", index=False)
    qdir = folder / "quarantine"
    qdir.mkdir(exist_ok=True)
    for old in qdir.glob("*.csv"):
        old.unlink()
    for name, frame in quarantine.items():
        if len(frame):
            frame.to_csv(qdir / f"{name}.csv", index=False)
    for name in ("plan.yml", "roadmap.csv"):
        (folder / name).unlink(missing_ok=True)
    for name, data in (extras or {}).items():
        (folder / name).write_bytes(data)
    (folder / META).write_text(json.dumps(meta, indent=2, default=str), encoding="utf-8")
    return folder


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

    @cached_property
    def meta(self) -> dict:
        """The run's metadata: trust, period, calendar, lenses, focus group, schools, inputs."""
        return json.loads((self.folder / META).read_text(encoding="utf-8"))

    @property
    def tables(self) -> list[str]:
        """Names of the tables in the store."""
        return sorted(p.stem for p in self.folder.glob("*.parquet"))

    def table(self, name: str) -> pd.DataFrame:
        """Return a copy of a clean table, e.g. ``store.table("attendance")``."""
        if name not in self._cache:
            path = self.folder / f"{name}.parquet"
            if not path.exists():
                raise DataError(
                    f"The store has no {name!r} table. It has: {', '.join(self.tables)}."
                )
            self._cache[name] = pd.read_parquet(path)
        return self._cache[name].copy()

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
        """Return the trust's improvement plan (:class:`cilib.plan.Plan`), or None."""
        from cilib.plan import load_plan

        path = self.folder / "plan.yml"
        return load_plan(path, calendar=self.meta["periods"]) if path.exists() else None

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

