"""What a corpus case expects, and the checks every case must pass.

Two kinds of expected outcome (issue 11, "What to build"):

- :class:`Exit2`: the command stops with exit status 2 and one ``cilib <cmd>: error: ...``
  line whose text matches every pattern in ``words`` (regular expressions, case-insensitive);
- :class:`Accounted`: exit status 0 and, for every table, ``rows_in == rows_clean +
  rows_quarantined`` in ``data_quality.csv``, ``rows_in`` equal to the number of non-blank
  physical data lines of the input file (counted here, from the raw bytes, before any parsing),
  the quarantine file holding ``rows_quarantined`` rows, and each expected rule present.

A case may accept one of several outcomes (a tuple of expectations) where the issue leaves the
choice to the fix, e.g. mixed date formats either stop the run or quarantine the doubtful rows.

Every case, whatever its outcome, must also: not crash (no traceback), not print or store a raw
pupil id, not show its ``forbidden`` strings in ``data_quality.csv`` or
``quarantine_summary.csv``, and create, change or delete nothing outside the trust's ``store/``
and the working folder's ``reports/``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import yaml

from tests.corpus.builder import RAW_ID, SENTINEL_TEXT, TABLE_FILES, CaseRun, physical_data_lines

#: Folders (relative to the case root) a command may write in.
ALLOWED_WRITES = ("trust/store/", "work/reports/")


@dataclass(frozen=True)
class Exit2:
    """Exit status 2 with one error line matching every pattern of ``words``."""

    words: tuple[str, ...] = ()

    def problems(self, run: CaseRun) -> list[str]:
        """Return what is wrong with ``run`` for this expectation (empty if it holds)."""
        errors = [ln for ln in run.stderr.splitlines() if re.match(r"cilib( \w+)?: error: ", ln)]
        if run.exit_code != 2:
            return [
                f"expected exit 2, got {run.exit_code}"
                + (f": {errors[0][:200]!r}" if errors else "")
            ]
        out = []
        usage = "usage:" in run.stderr
        if not errors and not usage:
            out.append("no 'cilib <cmd>: error: ...' line on stderr")
        text = "\n".join(errors) if errors else run.stderr
        for w in self.words:
            if not re.search(w, text, flags=re.IGNORECASE):
                out.append(f"error message lacks /{w}/: {text.strip()[:300]!r}")
        return out


@dataclass(frozen=True)
class Accounted:
    """Exit 0 and every row accounted for; ``rules``: table -> rules that must be quarantined.

    A rule may be written ``a|b`` to accept either. ``lines`` overrides the expected rows in
    for a table whose file is not text (e.g. a workbook); ``check`` adds case-specific checks.
    """

    rules: dict[str, tuple[str, ...]] = field(default_factory=dict)
    lines: dict[str, int] = field(default_factory=dict)
    check: Callable[[CaseRun], list[str]] | None = None

    def problems(self, run: CaseRun) -> list[str]:
        """Return what is wrong with ``run`` for this expectation (empty if it holds)."""
        if run.exit_code != 0:
            errors = [ln for ln in run.stderr.splitlines() if ": error: " in ln]
            said = f": {errors[0][:300]!r}" if errors else ""
            return [f"expected exit 0, got {run.exit_code}{said}"]
        store = run.store()
        if store is None:
            return ["exit 0 but no store with data_quality.csv was written"]
        out = []
        dq = pd.read_csv(store / "data_quality.csv", keep_default_na=False)
        files = input_files(run)
        for row in dq.itertuples(index=False):
            t = row.table
            if row.rows_in != row.rows_clean + row.rows_quarantined:
                out.append(
                    f"{t}: rows_in {row.rows_in} != clean {row.rows_clean} + quarantined "
                    f"{row.rows_quarantined}"
                )
            want = self.lines.get(t)
            if want is None and t in files:
                want = count_rows(files[t], run)
            if want is not None and row.rows_in != want:
                out.append(f"{t}: rows_in {row.rows_in} but the file has {want} data lines")
            qfile = store / "quarantine" / f"{t}.csv"
            n_q = len(pd.read_csv(qfile, dtype=str)) if qfile.exists() else 0
            if n_q != row.rows_quarantined:
                out.append(
                    f"{t}: data_quality says {row.rows_quarantined} quarantined, "
                    f"quarantine/{t}.csv holds {n_q}"
                )
        for t, rules in self.rules.items():
            found = quarantined_rules(store, t)
            for rule in rules:
                if not set(rule.split("|")) & found:
                    out.append(f"{t}: expected quarantine rule {rule}, found {sorted(found)}")
        if self.check is not None and not out:
            out.extend(self.check(run))
        return out


def quarantined_rules(store: Path, table: str) -> set[str]:
    """Return the rules named in ``quarantine/<table>.csv`` (a row may list several)."""
    qfile = store / "quarantine" / f"{table}.csv"
    if not qfile.exists():
        return set()
    q = pd.read_csv(qfile, dtype=str, keep_default_na=False)
    return {r.strip() for cell in q.get("rule", []) for r in str(cell).split(";") if r.strip()}


def input_files(run: CaseRun) -> dict[str, Path]:
    """Return table -> input file as the case's trust.yml names them (empty if unreadable)."""
    try:
        raw = yaml.safe_load(run.config.read_text(encoding="utf-8"))
        data = raw["data"]
        base = (run.config.parent / str(data.get("directory", "."))).resolve()
        return {t: base / str(data[t]) for t in TABLE_FILES if data.get(t)}
    except Exception:
        return {}


def count_rows(path: Path, run: CaseRun) -> int | None:
    """Count the data rows of an input file: physical lines for text, rows for a workbook."""
    if not path.exists() or path.is_dir():
        return None
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        import openpyxl

        sheet = _mapping_option(run, path, "sheet")
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
        sheets = [wb[sheet]] if isinstance(sheet, str) else wb.worksheets
        total = 0
        for ws in sheets:
            rows = [r for r in ws.iter_rows(values_only=True) if any(v is not None for v in r)]
            total += max(0, len(rows) - 1)
        return total
    return physical_data_lines(path)


def _mapping_option(run: CaseRun, path: Path, key: str):
    raw = yaml.safe_load(run.config.read_text(encoding="utf-8"))
    for table, file in TABLE_FILES.items():
        if Path(str(raw["data"].get(table, file))).name == path.name:
            return ((raw.get("mappings") or {}).get(table) or {}).get(key)
    return None


# --------------------------------------------------------------------------- global checks


def global_problems(run: CaseRun, forbidden: tuple[str, ...] = ()) -> dict[str, list[str]]:
    """Return the problems every case must avoid, by kind: crash, leak, outside."""
    crash = []
    if run.crash:
        crash.append("crashed: " + run.crash.strip().splitlines()[-1][:300])
    elif "Traceback (most recent call last)" in run.stdout + run.stderr:
        crash.append("printed a traceback")
    if run.exit_code is None and not run.crash:
        crash.append("no exit status")
    crash.extend(run.notes)

    leak = []
    texts = {"stdout": run.stdout, "stderr": run.stderr}
    for store in sorted(run.trust.glob("store/*")):
        for p in [store / "data_quality.csv", store / "quarantine_summary.csv"] + sorted(
            (store / "quarantine").glob("*.csv")
        ):
            if p.exists():
                texts[p.relative_to(run.root).as_posix()] = p.read_text(
                    encoding="utf-8", errors="replace"
                )
        for p in sorted(store.glob("*.parquet")):
            try:
                df = pd.read_parquet(p)
            except Exception:
                continue
            for c in df.columns:
                if df[c].dtype == object or str(df[c].dtype).startswith("str"):
                    hits = df[c].dropna().astype(str).str.contains(RAW_ID)
                    if hits.any():
                        leak.append(f"raw pupil id in {p.name} column {c}")
    for where, text in texts.items():
        m = RAW_ID.search(text)
        if m:
            i = m.start()
            leak.append(f"raw pupil id in {where}: {text[max(0, i - 60) : i + 20]!r}")
        if where.endswith(("data_quality.csv", "quarantine_summary.csv")):
            for f in forbidden:
                if f.lower() in text.lower():
                    leak.append(f"{f!r} shown in {where}")

    outside = []
    allowed = ALLOWED_WRITES

    def ok(rel: str) -> bool:
        return rel.startswith(allowed) or rel.rstrip("/") + "/" in allowed

    for rel in sorted(set(run.before) - set(run.after)):
        if not ok(rel):
            outside.append(f"deleted {rel}")
    for rel in sorted(set(run.after) - set(run.before)):
        if not ok(rel):
            outside.append(f"created {rel}")
    for rel in sorted(set(run.before) & set(run.after)):
        if run.before[rel] != run.after[rel] and not ok(rel):
            outside.append(f"changed {rel}")
    if run.parent_before != run.parent_after:
        gone = sorted(run.parent_before - run.parent_after)
        new = sorted(run.parent_after - run.parent_before)
        outside.append(f"outside the case folder: deleted {gone}, created {new}")
    sentinel = run.root / "sentinel" / "keep.txt"
    if not sentinel.exists() or sentinel.read_text(encoding="utf-8") != SENTINEL_TEXT:
        outside.append("the sentinel sibling folder did not survive")
    return {"crash": crash, "leak": leak, "outside": outside}


def rows_lost(run: CaseRun) -> int:
    """Return rows unaccounted for: file lines not counted in, plus in != clean + quarantined."""
    store = run.store()
    if run.exit_code != 0 or store is None:
        return 0
    dq = pd.read_csv(store / "data_quality.csv", keep_default_na=False)
    files = input_files(run)
    lost = 0
    for row in dq.itertuples(index=False):
        lost += abs(row.rows_in - row.rows_clean - row.rows_quarantined)
        if row.table in files:
            n = count_rows(files[row.table], run)
            if n is not None:
                lost += abs(n - row.rows_in)
    return lost


@dataclass
class CaseResult:
    """The verdict on one case: its expected outcome, the global checks, rows lost."""

    name: str
    fault: int
    outcome_ok: bool
    problems: list[str]
    crash: list[str]
    leak: list[str]
    outside: list[str]
    rows_lost: int
    exit_code: int | None

    @property
    def ok(self) -> bool:
        """Whether the case met its expected outcome and every global check."""
        return not self.problems


def check_case(case, run: CaseRun) -> CaseResult:
    """Check a case's run against its expected outcomes and the global checks."""
    options = [e.problems(run) for e in case.expectations]
    outcome_ok = any(not p for p in options)
    problems = [] if outcome_ok else min(options, key=len)
    if not outcome_ok and len(options) > 1:
        problems = ["none of the accepted outcomes: " + " | ".join("; ".join(p) for p in options)]
    g = global_problems(run, case.forbidden)
    all_problems = g["crash"] + list(problems) + g["leak"] + g["outside"]
    return CaseResult(
        name=case.name,
        fault=case.fault,
        outcome_ok=outcome_ok,
        problems=all_problems,
        crash=g["crash"],
        leak=g["leak"],
        outside=g["outside"],
        rows_lost=rows_lost(run),
        exit_code=run.exit_code,
    )
