"""Validate typed canonical tables and split them into clean rows and a quarantine.

Every input row ends up in exactly one place: the clean frame, or the quarantine with the
rules it broke and a plain-English reason for each (``rows_in == rows_clean +
rows_quarantined`` for every table, checked on every run).

Single-table rules are run by Great Expectations (GX) from the JSON suites in
``expectations/<table>.json``. Those files are generated from :mod:`cilib.core.schema` by
:func:`cilib.data.suites.build_suites`; a test checks the committed files equal what it
writes, so the schema and the suites never drift. The rules, in the order they are applied:

- missing required column: raises :class:`~cilib.core.errors.DataError` before any row is checked
  (GX ``expect_column_to_exist``);
- column of the wrong dtype: raises ``DataError`` (GX ``expect_column_values_to_be_of_type``);
- ``type``: the loader could not convert the value (from ``type_failures``);
- ``not_null``: a non-nullable column is empty (GX);
- ``allowed_values``: a categorical column holds a code the schema does not allow (GX);
- ``range``: a number outside the schema's min and max (GX);
- ``calendar_period``: ``period`` is not a label of the calendar (GX, run-time value set);
- ``duplicate``: an exact copy of an earlier row; the first copy is kept (GX flags rows sharing
  a key, pandas tells copies from conflicts);
- ``conflicting_key``: rows share a key but differ elsewhere; all are quarantined (GX + pandas);
- ``attended_le_possible``: ``attended_sessions > possible_sessions`` (GX column pair);
- ``response_in_item_range``: a survey response outside its item's min and max (pandas, after a
  join with clean ``survey_items``);
- ``reference``: no matching row in the parent table (pandas): among its clean rows, or its
  set-aside rows (below).

No cascades: a parent row (e.g. a school) quarantined only for a bad value in a non-key cell
(rules ``type``, ``not_null``, ``allowed_values``, ``range``) is *set aside*: it is quarantined
like any other row, but its key still counts as known, so one unreadable ``pupils_on_roll`` does
not quarantine the school's pupils and all their assessments. The set-aside rows (bad cells
blank) are returned in ``ValidationResult.set_aside`` so that reports can still name the school.
A row whose key is at fault, duplicated or conflicting, or that itself references an unknown
parent, is not set aside: its children are quarantined as before.

GX flags the rows that share a key; pandas then tells exact duplicates from conflicts.
Referential checks and the survey range check are done in pandas after GX (see
``docs/validation.md`` for why). GX is imported inside the functions that need it, so
``import cilib`` stays fast and notebooks never import it. The reasons and the quarantine frames
are built by :mod:`cilib.data.quarantine`.

Reasons name the table, column and offending value, but never the value of an identifier of a
person (``pupil_id``, ``respondent_id``): an unknown pupil reads "pupil not found in pupils".
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from cilib.core import schema
from cilib.core.errors import DataError
from cilib.data.quarantine import (
    assemble_quarantine,
    key_issues,
    reasons_for,
    reference_issues,
    response_range_issues,
    set_aside_cells,
    top_reason,
    type_reason,
)
from cilib.data.readers import SOURCE_ROW
from cilib.data.suites import (
    POS_COLUMN,
    SUITES_DIR,
    SuiteRunner,
    expectation_columns,
    read_suite,
    unexpected_positions,
)

log = logging.getLogger(__name__)

_ISSUE_COLUMNS = ["table", "source_row", "rule", "column", "reason"]


@dataclass
class ValidationResult:
    """Outcome of :func:`validate`.

    Attributes
    ----------
    clean : dict of str to DataFrame
        Rows that passed every rule, canonical columns only, dtypes as input.
    quarantine : dict of str to DataFrame
        One row per quarantined input row: ``source_row``, ``rule``, ``column``, ``reason``,
        ``record`` (the row's values as JSON); several rules are joined by ``"; "``.
    summary : DataFrame
        ``table, rows_in, rows_clean, rows_quarantined, top_reason`` per table.
    issues : DataFrame
        Long form of the quarantine: one row per (row, rule, column) with ``table,
        source_row, rule, column, reason``. :func:`quarantine_report` counts from it.
    set_aside : dict of str to DataFrame
        Per table, quarantined rows whose key is sound and whose only faults are bad values in
        non-key cells (those cells blank): their keys still count for children's references.
        These rows are also in ``quarantine`` (rows in = clean + quarantined still holds).
    """

    clean: dict[str, pd.DataFrame]
    quarantine: dict[str, pd.DataFrame]
    summary: pd.DataFrame
    issues: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=_ISSUE_COLUMNS), repr=False
    )
    set_aside: dict[str, pd.DataFrame] = field(default_factory=dict, repr=False)


def _check_tables(tables: dict[str, pd.DataFrame]) -> None:
    """Raise DataError for a table name the schema does not know."""
    unknown = sorted(set(tables) - set(schema.TABLES))
    if unknown:
        raise DataError(
            f"Unknown table(s) {', '.join(unknown)}: expected some of "
            f"{', '.join(schema.LOAD_ORDER)}."
        )


def with_positions(df: pd.DataFrame) -> pd.DataFrame:
    """Return a copy of ``df`` with ``_source_row`` (1..n if absent) and the GX position column."""
    out = df.copy()
    if SOURCE_ROW not in out.columns:
        out[SOURCE_ROW] = pd.array(np.arange(1, len(out) + 1), dtype="Int64")
    out[POS_COLUMN] = np.arange(len(out), dtype=np.int64)
    return out.reset_index(drop=True)


def validate(
    tables: dict[str, pd.DataFrame],
    *,
    periods: list[str],
    type_failures: dict[str, pd.DataFrame] | None = None,
    suites_dir: Path | None = None,
) -> ValidationResult:
    """Check typed canonical tables and split each into clean rows and quarantined rows.

    Tables are validated in :data:`cilib.core.schema.LOAD_ORDER`, so references are checked against
    the *clean* parent (a pupil quarantined in ``pupils`` makes their assessments unknown too).
    Tables absent from ``tables`` are skipped, and so are references to them.

    Parameters
    ----------
    tables : dict of str to DataFrame
        Canonical typed frames, each with ``_source_row`` (the 1-based row in the input file;
        numbered 1..n if absent). Extra columns are allowed and dropped from ``clean``.
    periods : list of str
        The calendar's ordered period labels; any other period is quarantined.
    type_failures : dict of str to DataFrame, optional
        Per table, values the loader could not convert: columns ``_source_row``, ``column``,
        ``value``, ``expected``. Those rows are quarantined with rule ``type``; a row listed
        here but absent from its frame is still quarantined (and counted in ``rows_in``).
    suites_dir : Path, optional
        Folder of the JSON suites; by default the repository's ``expectations/``.

    Returns
    -------
    ValidationResult
        ``clean``, ``quarantine``, ``summary`` and the long-form ``issues``.

    Raises
    ------
    DataError
        A table lacks a required column, has a column of the wrong type, or is unknown.
    RuntimeError
        Great Expectations failed to run an expectation (a bug, not bad data).
    """
    _check_tables(tables)
    suites_dir = Path(suites_dir) if suites_dir is not None else SUITES_DIR
    type_failures = type_failures or {}
    order = [t for t in schema.LOAD_ORDER if t in tables]
    frames = {t: with_positions(tables[t]) for t in order}
    suites = {t: read_suite(suites_dir, t)["expectations"] for t in order}

    runner = SuiteRunner()
    _check_required(runner, frames, suites)
    clean: dict[str, pd.DataFrame] = {}
    quarantine: dict[str, pd.DataFrame] = {}
    set_aside: dict[str, pd.DataFrame] = {}
    known: dict[str, pd.DataFrame] = {}  # clean + set-aside rows: what children may reference
    issues_all: list[pd.DataFrame] = []
    summary_rows = []
    for t in order:
        clean[t], quarantine[t], issues, rows_in, set_aside[t] = _validate_table(
            t,
            frames[t],
            suites[t],
            runner=runner,
            periods=list(periods),
            type_failures=type_failures.get(t),
            clean=clean,
            known=known,
        )
        known[t] = (
            pd.concat([clean[t], set_aside[t]], ignore_index=True)
            if len(set_aside[t])
            else clean[t]
        )
        issues_all.append(issues)
        summary_rows.append(
            {
                "table": t,
                "rows_in": rows_in,
                "rows_clean": len(clean[t]),
                "rows_quarantined": len(quarantine[t]),
                "top_reason": top_reason(issues),
            }
        )
    summary = pd.DataFrame(
        summary_rows,
        columns=["table", "rows_in", "rows_clean", "rows_quarantined", "top_reason"],
    ).astype(
        {
            "rows_in": "int64",
            "rows_clean": "int64",
            "rows_quarantined": "int64",
            "top_reason": "str",
        }
    )
    assert (summary["rows_in"] == summary["rows_clean"] + summary["rows_quarantined"]).all()
    for row in summary.itertuples():
        if row.rows_quarantined:
            log.info(
                "%s: %d of %d rows quarantined (most often: %s)",
                row.table,
                row.rows_quarantined,
                row.rows_in,
                row.top_reason,
            )
    issues_df = (
        pd.concat(issues_all, ignore_index=True)
        if issues_all
        else pd.DataFrame({c: pd.Series(dtype="str") for c in _ISSUE_COLUMNS})
    )
    return ValidationResult(
        clean=clean,
        quarantine=quarantine,
        summary=summary,
        issues=issues_df,
        set_aside={t: df for t, df in set_aside.items() if len(df)},
    )


def _check_required(
    runner: SuiteRunner, frames: dict[str, pd.DataFrame], suites: dict[str, list[dict]]
) -> None:
    """Run every table's required-column expectations; raise DataError naming what is missing.

    This runs for all tables before any row is checked, so a missing column stops the run
    before anything else happens.
    """
    missing = []
    for t, df in frames.items():
        exps = [e for e in suites[t] if e["meta"]["cilib_rule"] == "required"]
        for r in runner.run(t, df, exps, {}):
            if not r.success:
                missing.append(
                    f"{t} is missing required column {r.expectation_config.kwargs['column']!r}"
                )
    if missing:
        raise DataError(
            "; ".join(missing)
            + ". Add the column to the input file, or map the file's column to it in the "
            "mapping file."
        )


def type_issues(
    t: str, df: pd.DataFrame, failures: pd.DataFrame | None
) -> tuple[list[tuple[int, str, str, str]], dict]:
    """Turn the loader's type failures into issues (and orphans: rows absent from ``df``)."""
    issues: list[tuple[int, str, str, str]] = []
    orphans: dict[object, dict] = {}
    if failures is None or not len(failures):
        return issues, orphans
    where = pd.Series(np.arange(len(df)), index=df[SOURCE_ROW].to_numpy())
    cols = [SOURCE_ROW, "column", "value", "expected"]
    for s, c, v, e in failures[cols].itertuples(index=False):
        reason = type_reason(t, c, v, e)
        if s in where.index:
            issues.extend((int(p), "type", c, reason) for p in where.loc[[s]].to_numpy())
        else:
            orphan = orphans.setdefault(s, {"values": {}, "issues": []})
            orphan["values"][c] = v
            orphan["issues"].append(("type", c, reason))
    return issues, orphans


def _validate_table(
    t: str,
    df: pd.DataFrame,
    suite: list[dict],
    *,
    runner: SuiteRunner,
    periods: list[str],
    type_failures: pd.DataFrame | None,
    clean: dict[str, pd.DataFrame],
    known: dict[str, pd.DataFrame],
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, int, pd.DataFrame]:
    """Validate one table; return clean rows, quarantine, long issues, rows in, set-aside rows."""
    table = schema.TABLES[t]
    exps = [
        e
        for e in suite
        if e["meta"]["cilib_rule"] != "required"
        and all(c in df.columns for c in expectation_columns(e))
    ]
    results = runner.run(t, df, exps, {"periods": periods})
    wrong_types = [
        f"{t}.{r.expectation_config.kwargs['column']} holds {r.result.get('observed_value')}"
        f" values, expected {r.expectation_config.kwargs['type_']}"
        for r in results
        if r.expectation_config.meta.get("cilib_rule") == "dtype" and not r.success
    ]
    if wrong_types:
        raise DataError(
            "; ".join(wrong_types) + ". Convert the columns to the schema's types "
            "(cilib.data.load.load_tables does this) before validating."
        )

    # Values the loader could not convert are missing now: not reported again as not_null.
    issues, orphans = type_issues(t, df, type_failures)
    type_cells = {(p, c) for p, _, c, _ in issues}
    src = df[SOURCE_ROW].to_numpy(dtype=object)
    for r in results:
        cfg = r.expectation_config
        rule = cfg.meta.get("cilib_rule")
        if r.success or rule == "dtype":
            continue
        pos = unexpected_positions(r)
        if rule == "key":
            issues.extend(key_issues(table, df, pos, src))
            continue
        exp = {"type": cfg.type, "kwargs": dict(cfg.kwargs), "meta": dict(cfg.meta)}
        issues.extend(
            item
            for item in reasons_for(table, exp, df, pos)
            if not (item[1] == "not_null" and (item[0], item[2]) in type_cells)
        )
    if t == "survey_responses" and "survey_items" in clean:
        issues.extend(response_range_issues(df, clean["survey_items"]))
    issues.extend(reference_issues(table, df, known))

    q_pos, q_frame, issue_frame = assemble_quarantine(t, df, issues, orphans)
    keep = np.ones(len(df), dtype=bool)
    keep[q_pos] = False
    # canonical columns first, then any extra columns the trust keeps (e.g. configured lenses)
    canon = [c for c in table.names if c in df.columns]
    canon += [c for c in df.columns if c not in canon and c not in (POS_COLUMN, SOURCE_ROW)]
    clean_df = df.loc[keep, canon].reset_index(drop=True)
    rows_in = len(df) + len(orphans)
    assert rows_in == len(clean_df) + len(q_frame), f"row counts do not add up for {t}"
    return clean_df, q_frame, issue_frame, rows_in, set_aside_cells(table, df, issues, canon)


def quarantine_report(result: ValidationResult) -> pd.DataFrame:
    """Count quarantined rows per table and rule, with one example reason each.

    Safe to show leaders: reasons never contain pupil or respondent ids. A row that broke
    several rules is counted under each.

    Parameters
    ----------
    result : ValidationResult
        The output of :func:`validate`.

    Returns
    -------
    DataFrame
        ``table, rule, rows, example_reason``, tables in load order, most frequent rule first.

    Examples
    --------
    >>> issues = pd.DataFrame({"table": ["pupils"] * 2, "source_row": [3, 5],
    ...     "rule": ["allowed_values"] * 2, "column": ["sen"] * 2,
    ...     "reason": ["pupils.sen 'X' is not one of none, support, ehcp"] * 2})
    >>> res = ValidationResult(clean={}, quarantine={}, summary=pd.DataFrame(), issues=issues)
    >>> quarantine_report(res)[["table", "rule", "rows"]].to_dict("records")
    [{'table': 'pupils', 'rule': 'allowed_values', 'rows': 2}]
    """
    issues = result.issues
    cols = ["table", "rule", "rows", "example_reason"]
    if issues is None or issues.empty:
        return pd.DataFrame(
            {c: pd.Series([], dtype="int64" if c == "rows" else "str") for c in cols}
        )
    distinct = issues.drop_duplicates(["table", "source_row", "rule"])
    out = (
        distinct.groupby(["table", "rule"], sort=False)
        .agg(rows=("source_row", "size"), example_reason=("reason", "first"))
        .reset_index()
    )
    rank = {t: i for i, t in enumerate(schema.LOAD_ORDER)}
    out["_order"] = out["table"].map(rank).fillna(len(rank))
    out = out.sort_values(["_order", "rows", "rule"], ascending=[True, False, True])
    return out.drop(columns="_order").astype({"rows": "int64"}).reset_index(drop=True)[cols]
