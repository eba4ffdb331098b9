"""Validate typed canonical tables and split them into clean rows and a quarantine.

Every input row ends up in exactly one place: the clean frame, or the quarantine with the
rules it broke and a plain-English reason for each (``rows_in == rows_clean +
rows_quarantined`` for every table, checked on every run).

Single-table rules are run by Great Expectations (GX) from the JSON suites in
``expectations/<table>.json``. Those files are generated from :mod:`cilib.core.schema` by
:func:`build_suites`; a test checks the committed files equal what it writes, so the schema and
the suites never drift. The rules, in the order they are applied:

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
``import cilib`` stays fast and notebooks never import it.

Reasons name the table, column and offending value, but never the value of an identifier of a
person (``pupil_id``, ``respondent_id``): an unknown pupil reads "pupil not found in pupils".
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from cilib.core import schema
from cilib.core.errors import DataError

log = logging.getLogger(__name__)

SOURCE_ROW = "_source_row"
#: Internal row-position column handed to GX as the unexpected-index column.
_POS = "__cilib_pos"
#: Directory holding the committed suites (``expectations/`` at the repository root).
SUITES_DIR = Path(__file__).resolve().parents[2] / "expectations"
#: Cross-column rules checked by GX: table -> (rule, greater column, smaller column).
PAIR_RULES: dict[str, tuple[tuple[str, str, str], ...]] = {
    "attendance": (("attended_le_possible", "possible_sessions", "attended_sessions"),),
}
#: GX names for schema dtypes. GX compares ``dtype.type`` on pandas, so the nullable ``Int64``
#: is checked as ``int64`` and ``boolean`` as ``bool`` (their ``.type`` is numpy's).
_GX_TYPES = {"str": "str", "Int64": "int64", "float64": "float64", "boolean": "bool"}
#: Plain-English names of types for reasons about values the loader could not convert.
_TYPE_WORDS = {
    "float64": "a number",
    "Float64": "a number",
    "float": "a number",
    "number": "a number",
    "numeric": "a number",
    "Int64": "a whole number",
    "int64": "a whole number",
    "int": "a whole number",
    "integer": "a whole number",
    "boolean": "true or false",
    "bool": "true or false",
    "date": "a date",
    "datetime": "a date",
    "str": "text",
}
#: Order of rules within a quarantined row that broke several.
#: Rules about one cell's value: a row quarantined only for these, outside its key columns,
#: is set aside and its key still counts for the references of child tables.
CELL_RULES = frozenset({"type", "not_null", "allowed_values", "range"})
RULE_ORDER = (
    "type",
    "not_null",
    "allowed_values",
    "range",
    "calendar_period",
    "duplicate",
    "conflicting_key",
    "attended_le_possible",
    "response_in_item_range",
    "reference",
)
_QUARANTINE_COLUMNS = ["source_row", "rule", "column", "reason", "record"]
_ISSUE_COLUMNS = ["table", "source_row", "rule", "column", "reason"]
_MAX_SHOWN = 60


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


# --------------------------------------------------------------------------- suites


def _exp(kind: str, rule: str, **kwargs: object) -> dict:
    """Return one expectation in GX's JSON form, tagged with the cilib rule it implements."""
    return {"type": kind, "kwargs": kwargs, "meta": {"cilib_rule": rule}}


def suite_for(table: schema.Table) -> dict:
    """Return the GX suite (as a JSON-ready dict) that checks one table's single-table rules.

    Parameters
    ----------
    table : schema.Table
        The table from :data:`cilib.core.schema.TABLES`.

    Returns
    -------
    dict
        ``{"name", "meta", "expectations"}``, each expectation ``{"type", "kwargs", "meta"}``
        with ``meta["cilib_rule"]`` naming the rule. The period check takes its labels from
        the run-time parameter ``periods`` (GX's ``{"$PARAMETER": "periods"}``).

    Examples
    --------
    >>> suite = suite_for(schema.TABLES["behaviour"])
    >>> [e["meta"]["cilib_rule"] for e in suite["expectations"]][:3]
    ['required', 'required', 'required']
    """
    exps: list[dict] = []
    for col in table.columns:
        if col.required:
            exps.append(_exp("expect_column_to_exist", "required", column=col.name))
    for col in table.columns:
        exps.append(
            _exp(
                "expect_column_values_to_be_of_type",
                "dtype",
                column=col.name,
                type_=_GX_TYPES[col.dtype],
            )
        )
    for col in table.columns:
        if not col.nullable:
            exps.append(_exp("expect_column_values_to_not_be_null", "not_null", column=col.name))
        if col.allowed is not None:
            exps.append(
                _exp(
                    "expect_column_values_to_be_in_set",
                    "allowed_values",
                    column=col.name,
                    value_set=list(col.allowed),
                )
            )
        if col.min is not None or col.max is not None:
            exps.append(
                _exp(
                    "expect_column_values_to_be_between",
                    "range",
                    column=col.name,
                    min_value=col.min,
                    max_value=col.max,
                )
            )
    if table.name in schema.PERIOD_TABLES:
        exps.append(
            _exp(
                "expect_column_values_to_be_in_set",
                "calendar_period",
                column="period",
                value_set={"$PARAMETER": "periods"},
            )
        )
    if len(table.key) == 1:
        exps.append(_exp("expect_column_values_to_be_unique", "key", column=table.key[0]))
    elif table.key:
        exps.append(
            _exp("expect_compound_columns_to_be_unique", "key", column_list=list(table.key))
        )
    for rule, greater, smaller in PAIR_RULES.get(table.name, ()):
        exps.append(
            _exp(
                "expect_column_pair_values_a_to_be_greater_than_b",
                rule,
                column_A=greater,
                column_B=smaller,
                or_equal=True,
                ignore_row_if="either_value_is_missing",
            )
        )
    return {
        "name": f"cilib.{table.name}",
        "meta": {
            "generated_by": "cilib.data.validate.build_suites",
            "note": "Generated from cilib/core/schema.py; do not edit by hand.",
        },
        "expectations": exps,
    }


def build_suites(out_dir: Path | str = SUITES_DIR) -> dict[str, Path]:
    """Write one GX suite per canonical table to ``out_dir/<table>.json``.

    Parameters
    ----------
    out_dir : Path or str
        Folder to write into (created if needed); by default the repository's
        ``expectations/``.

    Returns
    -------
    dict of str to Path
        Table name -> path written.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     paths = build_suites(d)
    ...     sorted(paths) == sorted(schema.TABLES)
    True
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, table in schema.TABLES.items():
        path = out / f"{name}.json"
        path.write_text(json.dumps(suite_for(table), indent=2) + "\n", encoding="utf-8")
        paths[name] = path
    return paths


def _exp_columns(exp: dict) -> list[str]:
    """Return the columns an expectation (JSON form) reads."""
    kw = exp["kwargs"]
    if "column_list" in kw:
        return list(kw["column_list"])
    if "column_A" in kw:
        return [kw["column_A"], kw["column_B"]]
    return [kw["column"]]


def _read_suite(suites_dir: Path, table: str) -> dict:
    """Read ``suites_dir/<table>.json``, with a message that says what to do if it is absent."""
    path = suites_dir / f"{table}.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise DataError(
            f"No expectation suite for {table} at {path}: run "
            "`python -c 'from cilib.data.validate import build_suites; build_suites()'`."
        ) from exc


def _gx_suite(gx: object, name: str, exps: list[dict]) -> object:
    """Build a GX ExpectationSuite and fail loudly if GX dropped any expectation.

    GX 1.24's ``ExpectationSuite(expectations=...)`` logs and silently skips an invalid
    expectation (an unknown type, a bad keyword), which would let a rule go unchecked.
    """
    suite = gx.ExpectationSuite(name=name, expectations=[dict(e) for e in exps])
    if len(suite.expectations) != len(exps):
        raise RuntimeError(
            f"Great Expectations rejected {len(exps) - len(suite.expectations)} expectation(s) "
            f"of suite {name}; see the log above and fix cilib.data.validate.suite_for."
        )
    return suite


# --------------------------------------------------------------------------- GX running


class _Runner:
    """One ephemeral GX context with one pandas data source, reused for every table."""

    def __init__(self) -> None:
        import great_expectations as gx
        from great_expectations.data_context.types.base import ProgressBarsConfig

        self.gx = gx
        self.ctx = gx.get_context(mode="ephemeral")
        self.ctx.variables.progress_bars = ProgressBarsConfig(
            globally=False, metric_calculations=False
        )
        self.source = self.ctx.data_sources.add_pandas("cilib")
        self._batch_defs: dict[str, object] = {}

    def run(self, table: str, df: pd.DataFrame, exps: list[dict], params: dict) -> list:
        """Validate ``df`` against ``exps`` and return GX's per-expectation results."""
        if not exps:
            return []
        if table not in self._batch_defs:
            asset = self.source.add_dataframe_asset(table)
            self._batch_defs[table] = asset.add_batch_definition_whole_dataframe("whole")
        batch = self._batch_defs[table].get_batch(batch_parameters={"dataframe": df})
        suite = _gx_suite(self.gx, f"cilib.{table}", exps)
        res = batch.validate(
            suite,
            result_format={"result_format": "COMPLETE", "unexpected_index_column_names": [_POS]},
            expectation_parameters=params,
        )
        for r in res.results:
            message = _raised(r.exception_info)
            if message is not None:
                cfg = r.expectation_config
                raise RuntimeError(
                    f"Great Expectations could not run {cfg.type} {dict(cfg.kwargs)} on "
                    f"{table}: {message}. This is a bug in cilib, not bad data."
                )
        return list(res.results)


def _raised(info: dict | None) -> str | None:
    """Return the message of an exception GX swallowed, or None.

    ``exception_info`` is either flat (``{"raised_exception": ..., "exception_message": ...}``)
    or, when a metric failed, keyed by metric id with one such dict per metric.
    """
    if not info:
        return None
    if "raised_exception" in info:
        return (
            (info.get("exception_message") or "unknown error") if info["raised_exception"] else None
        )
    for value in info.values():
        if isinstance(value, dict) and value.get("raised_exception"):
            return value.get("exception_message") or "unknown error"
    return None


def _positions(result: object) -> np.ndarray:
    """Return the row positions GX reported as unexpected, checked against its count."""
    rows = result.result.get("unexpected_index_list") or []
    pos = np.fromiter((int(r[_POS]) for r in rows), dtype=np.int64, count=len(rows))
    expected = result.result.get("unexpected_count")
    if expected is not None and expected != len(pos):
        raise RuntimeError(
            f"Great Expectations reported {expected} unexpected rows but listed {len(pos)} for "
            f"{result.expectation_config.type}; cilib needs every row listed."
        )
    return pos


# --------------------------------------------------------------------------- reasons


def _show(value: object) -> str:
    """Format a value for a reason: quoted text, plain numbers, shortened if long."""
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return "(missing)"
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value)).lower()
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        return f"{float(value):g}"
    text = str(value)
    if len(text) > _MAX_SHOWN:
        text = text[: _MAX_SHOWN - 3] + "..."
    return repr(text)


def _is_id(column: str) -> bool:
    """Whether ``column`` holds identifiers of people (never shown in reasons)."""
    return column in schema.ID_COLUMNS


def _type_reason(table: str, column: str, value: object, expected: object) -> str:
    """Reason for a value the loader could not convert."""
    what = _TYPE_WORDS.get(str(expected), str(expected))
    if _is_id(column):
        return f"{table}.{column} value is not {what}"
    return f"{table}.{column} {_show(value)} is not {what}"


def _reasons_for(
    spec: schema.Table, exp: dict, df: pd.DataFrame, pos: np.ndarray
) -> Iterable[tuple[int, str, str, str]]:
    """Yield ``(position, rule, column, reason)`` for one failed single-table expectation.

    Codes and limits are read from the schema, not from GX's echo of the expectation.
    """
    table = spec.name
    rule = exp["meta"]["cilib_rule"]
    kw = exp["kwargs"]
    if "column_A" in kw:
        a, b = kw["column_A"], kw["column_B"]
        va, vb = df[a].to_numpy(dtype=object)[pos], df[b].to_numpy(dtype=object)[pos]
        for p, x, y in zip(pos, va, vb, strict=True):
            yield int(p), rule, b, f"{table}.{b} {_show(y)} is more than {a} {_show(x)}"
        return
    col = kw["column"]
    values = df[col].to_numpy(dtype=object)[pos]
    if rule == "not_null":
        for p in pos:
            yield int(p), rule, col, f"{table}.{col} is missing"
    elif rule == "allowed_values":
        codes = ", ".join(spec.column(col).allowed)
        for p, v in zip(pos, values, strict=True):
            shown = "value" if _is_id(col) else _show(v)
            yield int(p), rule, col, f"{table}.{col} {shown} is not one of {codes}"
    elif rule == "calendar_period":
        for p, v in zip(pos, values, strict=True):
            yield int(p), rule, col, f"{table}.{col} {_show(v)} is not a period in the calendar"
    elif rule == "range":
        lo, hi = spec.column(col).min, spec.column(col).max
        for p, v in zip(pos, values, strict=True):
            shown = "value" if _is_id(col) else _show(v)
            if lo is not None and v < lo:
                yield int(p), rule, col, f"{table}.{col} {shown} is below the minimum {_show(lo)}"
            else:
                yield int(p), rule, col, f"{table}.{col} {shown} is above the maximum {_show(hi)}"
    else:  # pragma: no cover - suite_for only writes the rules above
        raise RuntimeError(f"cilib does not know how to explain rule {rule!r}")


def _key_issues(
    table: schema.Table, df: pd.DataFrame, pos: np.ndarray, src: np.ndarray
) -> list[tuple[int, str, str, str]]:
    """Split rows GX flagged as sharing a key into exact duplicates and conflicts.

    Exact copies of an earlier row are quarantined as ``duplicate of row N`` (the first copy is
    kept unless it conflicts); rows that share the key but differ elsewhere are all quarantined.
    """
    if len(pos) == 0:
        return []
    pos = np.sort(pos)
    canon = [c for c in table.names if c in df.columns]
    sub = df.iloc[pos][canon]
    row_hash = pd.util.hash_pandas_object(sub, index=False).to_numpy()
    key_hash = pd.util.hash_pandas_object(sub[list(table.key)], index=False).to_numpy()
    frame = pd.DataFrame({"pos": pos, "src": src[pos], "row": row_hash, "key": key_hash})
    first_src = frame.groupby("row", sort=False)["src"].transform("first").to_numpy()
    is_dup = frame.duplicated("row", keep="first").to_numpy()
    out: list[tuple[int, str, str, str]] = []
    key_label = ", ".join(table.key)
    for p, f in zip(frame["pos"].to_numpy()[is_dup], first_src[is_dup], strict=True):
        out.append((int(p), "duplicate", key_label, f"duplicate of row {_show(f)}"))
    distinct = frame.loc[~is_dup]
    groups = distinct.groupby("key", sort=False)["src"]
    sizes = groups.transform("size").to_numpy()
    rows_in_group = groups.transform(lambda s: ", ".join(_show(v) for v in s)).to_numpy()
    for p, n, rows in zip(distinct["pos"].to_numpy(), sizes, rows_in_group, strict=True):
        if n > 1:
            out.append(
                (
                    int(p),
                    "conflicting_key",
                    key_label,
                    f"conflicting rows for the same key ({key_label}): rows {rows}",
                )
            )
    return out


def _reference_reason(table: str, column: str, parent: str, value: object) -> str:
    """Reason for a value missing from the clean parent table (never showing a person's id)."""
    if column == "pupil_id":
        return f"pupil not found in {parent}"
    if _is_id(column):
        return f"{table}.{column} not found in {parent}"
    return f"{table}.{column} {_show(value)} not found in {parent}"


# --------------------------------------------------------------------------- validate


def _check_tables(tables: dict[str, pd.DataFrame]) -> None:
    """Raise DataError for a table name the schema does not know."""
    unknown = sorted(set(tables) - set(schema.TABLES))
    if unknown:
        raise DataError(
            f"Unknown table(s) {', '.join(unknown)}: expected some of "
            f"{', '.join(schema.LOAD_ORDER)}."
        )


def _with_positions(df: pd.DataFrame) -> pd.DataFrame:
    """Return a copy of ``df`` with ``_source_row`` (1..n if absent) and the GX position column."""
    out = df.copy()
    if SOURCE_ROW not in out.columns:
        out[SOURCE_ROW] = pd.array(np.arange(1, len(out) + 1), dtype="Int64")
    out[_POS] = np.arange(len(out), dtype=np.int64)
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
    frames = {t: _with_positions(tables[t]) for t in order}
    suites = {t: _read_suite(suites_dir, t)["expectations"] for t in order}

    runner = _Runner()
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
                "top_reason": _top_reason(issues),
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
    runner: _Runner, frames: dict[str, pd.DataFrame], suites: dict[str, list[dict]]
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


def _type_issues(
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
        reason = _type_reason(t, c, v, e)
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
    runner: _Runner,
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
        if e["meta"]["cilib_rule"] != "required" and all(c in df.columns for c in _exp_columns(e))
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
    issues, orphans = _type_issues(t, df, type_failures)
    type_cells = {(p, c) for p, _, c, _ in issues}
    src = df[SOURCE_ROW].to_numpy(dtype=object)
    for r in results:
        cfg = r.expectation_config
        rule = cfg.meta.get("cilib_rule")
        if r.success or rule == "dtype":
            continue
        pos = _positions(r)
        if rule == "key":
            issues.extend(_key_issues(table, df, pos, src))
            continue
        exp = {"type": cfg.type, "kwargs": dict(cfg.kwargs), "meta": dict(cfg.meta)}
        issues.extend(
            item
            for item in _reasons_for(table, exp, df, pos)
            if not (item[1] == "not_null" and (item[0], item[2]) in type_cells)
        )
    if t == "survey_responses" and "survey_items" in clean:
        issues.extend(_response_range_issues(df, clean["survey_items"]))
    issues.extend(_reference_issues(table, df, known))

    q_pos, q_frame, issue_frame = _assemble(t, df, issues, orphans)
    keep = np.ones(len(df), dtype=bool)
    keep[q_pos] = False
    # canonical columns first, then any extra columns the trust keeps (e.g. configured lenses)
    canon = [c for c in table.names if c in df.columns]
    canon += [c for c in df.columns if c not in canon and c not in (_POS, SOURCE_ROW)]
    clean_df = df.loc[keep, canon].reset_index(drop=True)
    rows_in = len(df) + len(orphans)
    assert rows_in == len(clean_df) + len(q_frame), f"row counts do not add up for {t}"
    return clean_df, q_frame, issue_frame, rows_in, _set_aside(table, df, issues, canon)


def _set_aside(
    table: schema.Table,
    df: pd.DataFrame,
    issues: list[tuple[int, str, str, str]],
    canon: list[str],
) -> pd.DataFrame:
    """Quarantined rows whose only faults are bad values in non-key cells (cells blanked).

    Their keys stay known to child tables (see the module docstring: no cascades).
    """
    if not issues:
        return df.loc[[], canon].reset_index(drop=True)
    long = pd.DataFrame(issues, columns=["pos", "rule", "column", "reason"])
    key = set(table.key)
    ok = long["rule"].isin(CELL_RULES) & ~long["column"].isin(key)
    fine = ok.groupby(long["pos"]).all()
    pos = fine.index[fine.to_numpy()].to_numpy(dtype=np.int64)
    rows = df.iloc[pos][canon].copy()
    for p, c in long.loc[long["pos"].isin(pos), ["pos", "column"]].itertuples(index=False):
        if c in rows.columns:
            rows.loc[rows.index[np.searchsorted(pos, p)], c] = pd.NA
    return rows.reset_index(drop=True)


def _response_range_issues(
    df: pd.DataFrame, items: pd.DataFrame
) -> list[tuple[int, str, str, str]]:
    """Survey responses outside their item's min..max (pandas, after a join with clean items)."""
    items = items[["item_id", "min", "max"]].drop_duplicates("item_id")
    joined = df[[_POS, "item_id", "response"]].merge(items, on="item_id", how="inner")
    bad = joined[(joined["response"] < joined["min"]) | (joined["response"] > joined["max"])]
    return [
        (
            int(p),
            "response_in_item_range",
            "response",
            f"survey_responses.response {_show(v)} is outside the range {_show(lo)} to "
            f"{_show(hi)} of item {_show(item)}",
        )
        for p, item, v, lo, hi in bad[[_POS, "item_id", "response", "min", "max"]].itertuples(
            index=False
        )
    ]


def _reference_issues(
    table: schema.Table, df: pd.DataFrame, known: dict[str, pd.DataFrame]
) -> list[tuple[int, str, str, str]]:
    """Values with no match in the parent table's clean or set-aside rows (pandas ``isin``).

    A reference to a table that was not given is not checked.
    """
    out = []
    for col, (parent, pcol) in table.references.items():
        if parent not in known or col not in df.columns:
            continue
        values = df[col]
        bad = values.notna().to_numpy() & ~values.isin(known[parent][pcol]).to_numpy()
        out.extend(
            (int(p), "reference", col, _reference_reason(table.name, col, parent, values.iat[p]))
            for p in np.flatnonzero(bad)
        )
    return out


def _assemble(
    t: str, df: pd.DataFrame, issues: list[tuple[int, str, str, str]], orphans: dict
) -> tuple[np.ndarray, pd.DataFrame, pd.DataFrame]:
    """Turn per-rule issues into the per-row quarantine frame and the long issue frame."""
    src = df[SOURCE_ROW]
    long = pd.DataFrame(issues, columns=["pos", "rule", "column", "reason"])
    long = long.drop_duplicates(["pos", "rule", "column", "reason"])
    rank = long["rule"].map({r: i for i, r in enumerate(RULE_ORDER)}).fillna(len(RULE_ORDER))
    long = long.assign(_rank=rank).sort_values(["pos", "_rank"], kind="stable")
    long["source_row"] = src.to_numpy(dtype=object)[long["pos"].to_numpy(dtype=np.int64)]
    q_pos = np.unique(long["pos"].to_numpy(dtype=np.int64))

    def join(s: pd.Series) -> str:
        return "; ".join(dict.fromkeys(s))

    if len(long):
        per_row = long.groupby("pos", sort=True).agg(
            rule=("rule", join), column=("column", join), reason=("reason", join)
        )
        record_cols = [c for c in df.columns if c not in (_POS, SOURCE_ROW)]
        records = (
            df.iloc[per_row.index.to_numpy()][record_cols]
            .to_json(orient="records", lines=True, date_format="iso")
            .replace("\\/", "/")
            .splitlines()
        )  # pandas escapes "/" as "\/"; JSON allows both
        q = pd.DataFrame(
            {
                "source_row": src.to_numpy(dtype=object)[per_row.index.to_numpy()],
                "rule": per_row["rule"].to_numpy(),
                "column": per_row["column"].to_numpy(),
                "reason": per_row["reason"].to_numpy(),
                "record": records,
            }
        )
    else:
        q = pd.DataFrame({c: [] for c in _QUARANTINE_COLUMNS})
    extra_long = []
    if orphans:
        orphan_rows = []
        for s, info in orphans.items():
            orphan_rows.append(
                {
                    "source_row": s,
                    "rule": "; ".join(dict.fromkeys(r for r, _, _ in info["issues"])),
                    "column": "; ".join(dict.fromkeys(c for _, c, _ in info["issues"])),
                    "reason": "; ".join(dict.fromkeys(m for _, _, m in info["issues"])),
                    "record": json.dumps(
                        {k: None if pd.isna(v) else str(v) for k, v in info["values"].items()}
                    ),
                }
            )
            for r, c, m in info["issues"]:
                extra_long.append({"source_row": s, "rule": r, "column": c, "reason": m})
        q = pd.concat([q, pd.DataFrame(orphan_rows)], ignore_index=True)
    q = q.astype(
        {"source_row": "Int64", "rule": "str", "column": "str", "reason": "str", "record": "str"}
    )
    q = q.sort_values("source_row", kind="stable").reset_index(drop=True)[_QUARANTINE_COLUMNS]
    issue_frame = (
        pd.concat(
            [long[["source_row", "rule", "column", "reason"]], pd.DataFrame(extra_long)],
            ignore_index=True,
        )
        if extra_long
        else long[["source_row", "rule", "column", "reason"]].copy()
    )
    issue_frame.insert(0, "table", t)
    issue_frame = issue_frame.astype(
        {"table": "str", "source_row": "Int64", "rule": "str", "column": "str", "reason": "str"}
    )
    return q_pos, q, issue_frame.reset_index(drop=True)


def _top_reason(issues: pd.DataFrame) -> str:
    """Return ``"rule (rows): example reason"`` for the most frequent rule, "" if none.

    Ties go to the rule whose name sorts first, so the summary is reproducible.
    """
    if issues.empty:
        return ""
    counts = issues.drop_duplicates(["source_row", "rule"])["rule"].value_counts()
    counts = counts.rename_axis("rule").reset_index(name="n")
    top, count = counts.sort_values(["n", "rule"], ascending=[False, True]).iloc[0]
    example = issues.loc[issues["rule"] == top, "reason"].iloc[0]
    return f"{top} ({int(count)}): {example}"


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
