"""Great Expectations suites for the canonical tables: build them, read them, run them.

The suites in ``expectations/<table>.json`` are generated from :mod:`cilib.core.schema` by
:func:`build_suites`; a test checks the committed files equal what it writes, so the schema and
the suites never drift. :class:`SuiteRunner` runs them on pandas frames for
:func:`cilib.data.validate.validate`. GX is imported inside :class:`SuiteRunner` only, so
``import cilib`` stays fast and notebooks never import it.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from cilib.core import schema
from cilib.core.errors import DataError

#: Internal row-position column handed to GX as the unexpected-index column.
POS_COLUMN = "__cilib_pos"
#: Directory holding the committed suites (``expectations/`` at the repository root).
SUITES_DIR = Path(__file__).resolve().parents[2] / "expectations"
#: Cross-column rules checked by GX: table -> (rule, greater column, smaller column).
PAIR_RULES: dict[str, tuple[tuple[str, str, str], ...]] = {
    "attendance": (("attended_le_possible", "possible_sessions", "attended_sessions"),),
}
#: GX names for schema dtypes. GX compares ``dtype.type`` on pandas, so the nullable ``Int64``
#: is checked as ``int64`` and ``boolean`` as ``bool`` (their ``.type`` is numpy's).
GX_TYPES = {"str": "str", "Int64": "int64", "float64": "float64", "boolean": "bool"}


def expectation(kind: str, rule: str, **kwargs: object) -> dict:
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
            exps.append(expectation("expect_column_to_exist", "required", column=col.name))
    for col in table.columns:
        exps.append(
            expectation(
                "expect_column_values_to_be_of_type",
                "dtype",
                column=col.name,
                type_=GX_TYPES[col.dtype],
            )
        )
    for col in table.columns:
        if not col.nullable:
            exps.append(
                expectation("expect_column_values_to_not_be_null", "not_null", column=col.name)
            )
        if col.allowed is not None:
            exps.append(
                expectation(
                    "expect_column_values_to_be_in_set",
                    "allowed_values",
                    column=col.name,
                    value_set=list(col.allowed),
                )
            )
        if col.min is not None or col.max is not None:
            exps.append(
                expectation(
                    "expect_column_values_to_be_between",
                    "range",
                    column=col.name,
                    min_value=col.min,
                    max_value=col.max,
                )
            )
    if table.name in schema.PERIOD_TABLES:
        exps.append(
            expectation(
                "expect_column_values_to_be_in_set",
                "calendar_period",
                column="period",
                value_set={"$PARAMETER": "periods"},
            )
        )
    if len(table.key) == 1:
        exps.append(expectation("expect_column_values_to_be_unique", "key", column=table.key[0]))
    elif table.key:
        exps.append(
            expectation("expect_compound_columns_to_be_unique", "key", column_list=list(table.key))
        )
    for rule, greater, smaller in PAIR_RULES.get(table.name, ()):
        exps.append(
            expectation(
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
            "generated_by": "cilib.data.suites.build_suites",
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


def expectation_columns(exp: dict) -> list[str]:
    """Return the columns an expectation (JSON form) reads."""
    kw = exp["kwargs"]
    if "column_list" in kw:
        return list(kw["column_list"])
    if "column_A" in kw:
        return [kw["column_A"], kw["column_B"]]
    return [kw["column"]]


def read_suite(suites_dir: Path, table: str) -> dict:
    """Read ``suites_dir/<table>.json``, with a message that says what to do if it is absent."""
    path = suites_dir / f"{table}.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise DataError(
            f"No expectation suite for {table} at {path}: run "
            "`python -c 'from cilib.data.suites import build_suites; build_suites()'`."
        ) from exc


def gx_suite(gx: object, name: str, exps: list[dict]) -> object:
    """Build a GX ExpectationSuite and fail loudly if GX dropped any expectation.

    GX 1.24's ``ExpectationSuite(expectations=...)`` logs and silently skips an invalid
    expectation (an unknown type, a bad keyword), which would let a rule go unchecked.
    """
    suite = gx.ExpectationSuite(name=name, expectations=[dict(e) for e in exps])
    if len(suite.expectations) != len(exps):
        raise RuntimeError(
            f"Great Expectations rejected {len(exps) - len(suite.expectations)} expectation(s) "
            f"of suite {name}; see the log above and fix cilib.data.suites.suite_for."
        )
    return suite


class SuiteRunner:
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
        suite = gx_suite(self.gx, f"cilib.{table}", exps)
        res = batch.validate(
            suite,
            result_format={
                "result_format": "COMPLETE",
                "unexpected_index_column_names": [POS_COLUMN],
            },
            expectation_parameters=params,
        )
        for r in res.results:
            message = swallowed_error(r.exception_info)
            if message is not None:
                cfg = r.expectation_config
                raise RuntimeError(
                    f"Great Expectations could not run {cfg.type} {dict(cfg.kwargs)} on "
                    f"{table}: {message}. This is a bug in cilib, not bad data."
                )
        return list(res.results)


def swallowed_error(info: dict | None) -> str | None:
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


def unexpected_positions(result: object) -> np.ndarray:
    """Return the row positions GX reported as unexpected, checked against its count."""
    rows = result.result.get("unexpected_index_list") or []
    pos = np.fromiter((int(r[POS_COLUMN]) for r in rows), dtype=np.int64, count=len(rows))
    expected = result.result.get("unexpected_count")
    if expected is not None and expected != len(pos):
        raise RuntimeError(
            f"Great Expectations reported {expected} unexpected rows but listed {len(pos)} for "
            f"{result.expectation_config.type}; cilib needs every row listed."
        )
    return pos
