"""Quarantine: the plain-English reasons for rows that broke a rule, and the quarantine frames.

Turns the failures :func:`cilib.data.validate.validate` finds (GX results, the loader's type
failures, pandas checks of survey ranges and references) into reasons and frames: one row per
quarantined input row, and the long form with one row per (row, rule, column). Reasons name the
table, column and offending value, but never the value of an identifier of a person
(``pupil_id``, ``respondent_id``): an unknown pupil reads "pupil not found in pupils".
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable

import numpy as np
import pandas as pd

from cilib.core import schema
from cilib.data.mapping import QUARANTINE_COLUMNS
from cilib.data.readers import SOURCE_ROW
from cilib.data.suites import POS_COLUMN

#: Plain-English names of types for reasons about values the loader could not convert.
TYPE_WORDS = {
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
#: Rules about one cell's value: a row quarantined only for these, outside its key columns,
#: is set aside and its key still counts for the references of child tables.
CELL_RULES = frozenset({"type", "not_null", "allowed_values", "range"})
#: Order of rules within a quarantined row that broke several.
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
MAX_SHOWN = 60


def show_value(value: object) -> str:
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
    if len(text) > MAX_SHOWN:
        text = text[: MAX_SHOWN - 3] + "..."
    return repr(text)


def is_person_id(column: str) -> bool:
    """Whether ``column`` holds identifiers of people (never shown in reasons)."""
    return column in schema.ID_COLUMNS


def type_reason(table: str, column: str, value: object, expected: object) -> str:
    """Reason for a value the loader could not convert."""
    what = TYPE_WORDS.get(str(expected), str(expected))
    if is_person_id(column):
        return f"{table}.{column} value is not {what}"
    return f"{table}.{column} {show_value(value)} is not {what}"


def reasons_for(
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
            yield int(p), rule, b, f"{table}.{b} {show_value(y)} is more than {a} {show_value(x)}"
        return
    col = kw["column"]
    values = df[col].to_numpy(dtype=object)[pos]
    if rule == "not_null":
        for p in pos:
            yield int(p), rule, col, f"{table}.{col} is missing"
    elif rule == "allowed_values":
        codes = ", ".join(spec.column(col).allowed)
        for p, v in zip(pos, values, strict=True):
            shown = "value" if is_person_id(col) else show_value(v)
            yield int(p), rule, col, f"{table}.{col} {shown} is not one of {codes}"
    elif rule == "calendar_period":
        for p, v in zip(pos, values, strict=True):
            shown = show_value(v)
            yield int(p), rule, col, f"{table}.{col} {shown} is not a period in the calendar"
    elif rule == "range":
        lo, hi = spec.column(col).min, spec.column(col).max
        for p, v in zip(pos, values, strict=True):
            shown = "value" if is_person_id(col) else show_value(v)
            if lo is not None and v < lo:
                limit = show_value(lo)
                yield int(p), rule, col, f"{table}.{col} {shown} is below the minimum {limit}"
            else:
                limit = show_value(hi)
                yield int(p), rule, col, f"{table}.{col} {shown} is above the maximum {limit}"
    else:  # pragma: no cover - suite_for only writes the rules above
        raise RuntimeError(f"cilib does not know how to explain rule {rule!r}")


def key_issues(
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
        out.append((int(p), "duplicate", key_label, f"duplicate of row {show_value(f)}"))
    distinct = frame.loc[~is_dup]
    groups = distinct.groupby("key", sort=False)["src"]
    sizes = groups.transform("size").to_numpy()
    rows_in_group = groups.transform(lambda s: ", ".join(show_value(v) for v in s)).to_numpy()
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


def reference_reason(table: str, column: str, parent: str, value: object) -> str:
    """Reason for a value missing from the clean parent table (never showing a person's id)."""
    if column == "pupil_id":
        return f"pupil not found in {parent}"
    if is_person_id(column):
        return f"{table}.{column} not found in {parent}"
    return f"{table}.{column} {show_value(value)} not found in {parent}"


def set_aside_cells(
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


def response_range_issues(df: pd.DataFrame, items: pd.DataFrame) -> list[tuple[int, str, str, str]]:
    """Survey responses outside their item's min..max (pandas, after a join with clean items)."""
    items = items[["item_id", "min", "max"]].drop_duplicates("item_id")
    joined = df[[POS_COLUMN, "item_id", "response"]].merge(items, on="item_id", how="inner")
    bad = joined[(joined["response"] < joined["min"]) | (joined["response"] > joined["max"])]
    return [
        (
            int(p),
            "response_in_item_range",
            "response",
            f"survey_responses.response {show_value(v)} is outside the range {show_value(lo)} to "
            f"{show_value(hi)} of item {show_value(item)}",
        )
        for p, item, v, lo, hi in bad[[POS_COLUMN, "item_id", "response", "min", "max"]].itertuples(
            index=False
        )
    ]


def reference_issues(
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
            (int(p), "reference", col, reference_reason(table.name, col, parent, values.iat[p]))
            for p in np.flatnonzero(bad)
        )
    return out


def assemble_quarantine(
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
        record_cols = [c for c in df.columns if c not in (POS_COLUMN, SOURCE_ROW)]
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
        q = pd.DataFrame({c: [] for c in QUARANTINE_COLUMNS})
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
    q = q.sort_values("source_row", kind="stable").reset_index(drop=True)[QUARANTINE_COLUMNS]
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


def top_reason(issues: pd.DataFrame) -> str:
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
