"""Finish one part of a table in a streaming prepare: every rule, then the clean rows written.

Used by :mod:`cilib.data.stream` (in worker processes for big data). The rules are applied to
whole Arrow columns first to find the rows that may be at fault; only those rows become a pandas
frame, and get their reasons from the same code as :func:`cilib.data.validate.validate`
(:mod:`cilib.data.quarantine`). Clean rows go from the typed part to the store without passing
through pandas.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from cilib.core import schema
from cilib.core.calendar import academic_year_of
from cilib.core.schema import PERIOD_TABLES
from cilib.data.chunks import KEY_HASH
from cilib.data.quarantine import (
    assemble_quarantine,
    reasons_for,
    reference_reason,
    response_range_issues,
    set_aside_cells,
)
from cilib.data.readers import SOURCE_ROW
from cilib.data.validate import type_issues, with_positions

__all__ = ["Check", "PartJob", "PartResult", "check_rows", "finish_part"]


@dataclass
class Check:
    """One failed value rule: the expectation and the values (or pairs) it found bad."""

    index: int  # the expectation's place in the table's suite
    exp: dict
    bad: pd.Series | pd.DataFrame | None  # None: the rule flags missing values



def check_rows(check: Check, df: pd.DataFrame) -> np.ndarray:
    """Positions of the rows of ``df`` that a failed value rule flags."""
    kw = check.exp["kwargs"]
    if "column_A" in kw:
        a, b = kw["column_A"], kw["column_B"]
        hit = df[[a, b]].reset_index(drop=True).merge(
            check.bad.assign(_bad=True), on=[a, b], how="left"
        )["_bad"]
        return np.flatnonzero(hit.fillna(False).to_numpy(dtype=bool))
    col = df[kw["column"]]
    if check.bad is None:
        return np.flatnonzero(col.isna().to_numpy())
    return np.flatnonzero((col.isin(check.bad) & col.notna()).to_numpy(dtype=bool))



@dataclass
class PartJob:
    """Everything a worker needs to finish one part of a table."""

    name: str
    part: Path
    offset: int
    failures: pd.DataFrame
    exps: list[dict]
    checks: list[Check]
    keys: dict[int, tuple]
    refs: dict[str, np.ndarray]
    items: pd.DataFrame | None
    keep_periods: list[str]
    out_clean: Path
    out_known: Path | None
    out_quarantine: Path
    keep_clean: bool  # return the clean rows too (small parent tables)


@dataclass
class PartResult:
    """What finishing one part produced."""

    rows_in: int
    rows_clean: int
    rows_quarantined: int
    rows_after_period: int
    rule_rows: dict[str, int]
    rule_reason: dict[str, str]
    set_aside: pd.DataFrame
    clean: pd.DataFrame | None


def _flagged(job: PartJob, at, src: np.ndarray) -> np.ndarray:
    """Rows of the part that some rule may quarantine (a superset; computed on Arrow columns)."""
    bad = np.zeros(at.num_rows, dtype=bool)
    if len(job.failures):
        bad |= np.isin(src, job.failures[SOURCE_ROW].to_numpy(dtype=np.int64))
    for check in job.checks:
        kw = check.exp["kwargs"]
        if "column_A" in kw:
            a = at[kw["column_A"]].to_pandas()
            b = at[kw["column_B"]].to_pandas()
            hit = pd.DataFrame({"a": a, "b": b}).merge(
                check.bad.set_axis(["a", "b"], axis=1).assign(_bad=True), on=["a", "b"],
                how="left",
            )["_bad"]
            bad |= hit.fillna(False).to_numpy(dtype=bool)
            continue
        col = at[kw["column"]]
        if check.bad is None:
            bad |= pc.is_null(col).to_numpy(zero_copy_only=False)
        else:
            values = pa.array(check.bad.dropna().tolist(), type=col.type)
            bad |= pc.fill_null(pc.is_in(col, value_set=values), False).to_numpy(
                zero_copy_only=False
            )
    if job.keys:
        bad |= np.isin(src, np.fromiter(job.keys, dtype=np.int64))
    for rows in job.refs.values():
        bad |= np.isin(src, rows)
    if job.items is not None:  # a response outside its item's range (items: a small table)
        items = job.items.drop_duplicates("item_id")
        where = pc.index_in(at["item_id"], value_set=pa.array(items["item_id"].tolist(),
                                                              type=at["item_id"].type))
        lo = pc.take(pa.array(items["min"].to_numpy(dtype=float)), where)
        hi = pc.take(pa.array(items["max"].to_numpy(dtype=float)), where)
        response = pc.cast(at["response"], pa.float64())
        out = pc.or_(pc.less(response, lo), pc.greater(response, hi))
        bad |= pc.fill_null(out, False).to_numpy(zero_copy_only=False)
    return bad


def _issues(job: PartJob, df: pd.DataFrame) -> tuple[list, dict]:
    """Every rule's issues for the rows of ``df`` (as :func:`cilib.data.validate.validate`)."""
    table = schema.TABLES[job.name]
    issues, orphans = type_issues(job.name, df, job.failures)
    type_cells = {(p, c) for p, _, c, _ in issues}
    src = df[SOURCE_ROW].to_numpy(dtype=np.int64)
    failed = {c.index: c for c in job.checks}
    for i, e in enumerate(job.exps):
        rule = e["meta"]["cilib_rule"]
        if rule == "key" and job.keys:
            hit = np.flatnonzero(np.isin(src, np.fromiter(job.keys, dtype=np.int64)))
            issues.extend((int(p), *job.keys[int(src[p])]) for p in hit)
        check = failed.get(i)
        if check is None:
            continue
        issues.extend(
            item
            for item in reasons_for(table, check.exp, df, check_rows(check, df))
            if not (item[1] == "not_null" and (item[0], item[2]) in type_cells)
        )
    if job.items is not None:
        issues.extend(response_range_issues(df, job.items))
    for col, rows in job.refs.items():
        parent = table.references[col][0]
        values = df[col]
        issues.extend(
            (int(p), "reference", col, reference_reason(table.name, col, parent, values.iat[p]))
            for p in np.flatnonzero(np.isin(src, rows))
        )
    return issues, orphans


def finish_part(job: PartJob) -> PartResult:
    """Apply every rule to one part; write its clean rows, parent keys and quarantine.

    The rules are first applied to whole Arrow columns to find the rows that may be at fault;
    only those rows become a pandas frame for the reasons (the same code as the whole-table
    path). Clean rows go from the typed part to the store without passing through pandas.
    """
    table = schema.TABLES[job.name]
    at = pq.read_table(job.part)
    at = at.drop_columns([KEY_HASH]) if KEY_HASH in at.column_names else at
    src = at[SOURCE_ROW].to_numpy().astype(np.int64) + job.offset
    cand = np.flatnonzero(_flagged(job, at, src))
    df = at.take(pa.array(cand, type=pa.int64())).to_pandas()
    df[SOURCE_ROW] = (df[SOURCE_ROW] + job.offset).astype("Int64")
    df = with_positions(df)
    issues, orphans = _issues(job, df)
    q_pos, q_frame, _ = assemble_quarantine(job.name, df, issues, orphans)
    keep = np.ones(at.num_rows, dtype=bool)
    keep[cand[q_pos]] = False
    names = [c for c in at.column_names if c not in (SOURCE_ROW, KEY_HASH)]
    canon = [c for c in table.names if c in names] + [c for c in names if c not in table.names]
    clean = at.filter(pa.array(keep)).select(canon)
    aside = set_aside_cells(table, df, issues, canon)
    if job.out_known is not None:
        pcols = sorted({pc_ for t in schema.TABLES.values()
                        for _, (par, pc_) in t.references.items() if par == job.name})
        known = pa.concat_tables([
            clean.select(pcols).replace_schema_metadata(None),
            pa.Table.from_pandas(aside[pcols], preserve_index=False).replace_schema_metadata(None)
            .cast(clean.select(pcols).schema),
        ])
        job.out_known.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(known, job.out_known, compression="none")
    later = 0
    shown = clean
    if job.name in PERIOD_TABLES and "period" in canon:
        mask = pc.fill_null(pc.is_in(clean["period"], value_set=pa.array(job.keep_periods)), False)
    elif job.name == "pupils" and "academic_year" in canon:
        years = sorted({academic_year_of(p) for p in job.keep_periods})
        mask = pc.fill_null(pc.is_in(clean["academic_year"], value_set=pa.array(years)), False)
    else:
        mask = None
    if mask is not None:
        shown = clean.filter(mask)
        later = clean.num_rows - shown.num_rows
    if shown.num_rows:
        job.out_clean.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(shown, job.out_clean)
    counts, reasons = {}, {}
    if len(q_frame):
        q = q_frame.copy()
        q.insert(0, "table", job.name)
        job.out_quarantine.parent.mkdir(parents=True, exist_ok=True)
        q.to_csv(job.out_quarantine, index=False, header=False)
        for rule, g in q.groupby("rule", sort=True):
            counts[rule] = len(g)
            reasons[rule] = g["reason"].iloc[0]
    return PartResult(
        rows_in=at.num_rows + len(orphans),
        rows_clean=clean.num_rows,
        rows_quarantined=len(q_frame),
        rows_after_period=later,
        rule_rows=counts,
        rule_reason=reasons,
        set_aside=aside,
        clean=clean.to_pandas() if job.keep_clean else None,
    )
