"""The dirty rows planted in the synthetic sample, which validation must catch.

:data:`DIRTY_ROWS` lists them (table, fault, rule of :mod:`cilib.data.validate`, column, and the
rows that carry it); :func:`add_dirt` plants them in the clean tables.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

#: Dirty rows planted in the sample. Each names its table, what is wrong, the validation rule
#: that must catch it (the rule names of :mod:`cilib.data.validate`), the column at fault, and
#: ``match``: column values (as written in the CSV, blank for missing) that pick out the rows,
#: ``count`` of them.
DIRTY_ROWS: list[dict] = [
    {"table": "pupils", "description": "unknown SEN code 'X'", "rule": "allowed_values",
     "column": "sen", "match": {"pupil_id": "P90001", "sen": "X"}, "count": 1},
    {"table": "pupils", "description": "missing gender", "rule": "not_null",
     "column": "gender", "match": {"pupil_id": "P90002", "gender": ""}, "count": 1},
    {"table": "pupils", "description": "year_group 15 (outside 0-13)", "rule": "range",
     "column": "year_group", "match": {"pupil_id": "P90003", "year_group": "15"}, "count": 1},
    {"table": "pupils", "description": "school_id NLT99 not in schools", "rule": "reference",
     "column": "school_id", "match": {"pupil_id": "P90004", "school_id": "NLT99"}, "count": 1},
    {"table": "pupils",
     "description": "(pupil_id, academic_year) duplicated with conflicting gender and year_group",
     "rule": "conflicting_key", "column": "pupil_id, academic_year",
     "match": {"pupil_id": "P00001", "academic_year": "2025/26"}, "count": 2},
    {"table": "assessments", "description": "score 150 (above max_score 100)", "rule": "range",
     "column": "score", "match": {"pupil_id": "P00001", "period": "2025/26 HT2",
                                  "subject": "reading", "score": "150"}, "count": 1},
    {"table": "assessments", "description": "non-numeric score 'abs'", "rule": "type",
     "column": "score", "match": {"pupil_id": "P00002", "period": "2025/26 HT2",
                                  "subject": "maths", "score": "abs"}, "count": 1},
    {"table": "assessments", "description": "period '2025/26 HT9' not in the calendar",
     "rule": "calendar_period", "column": "period",
     "match": {"pupil_id": "P00003", "period": "2025/26 HT9"}, "count": 1},
    {"table": "assessments", "description": "pupil_id P99999 not in pupils", "rule": "reference",
     "column": "pupil_id", "match": {"pupil_id": "P99999"}, "count": 1},
    {"table": "attendance", "description": "attended_sessions above possible_sessions",
     "rule": "attended_le_possible", "column": "attended_sessions",
     "match": {"pupil_id": "P00001", "period": "2025/26 HT1"}, "count": 1},
    {"table": "attendance",
     "description": "negative possible_sessions -70 (attended then also exceeds possible, "
     "so attended_le_possible fires too)",
     "rule": "range", "column": "possible_sessions",
     "match": {"pupil_id": "P00002", "period": "2025/26 HT1", "possible_sessions": "-70"},
     "count": 1},
    {"table": "attendance", "description": "exact duplicate row (the second copy is caught)",
     "rule": "duplicate", "column": "pupil_id, period",
     "match": {"pupil_id": "P00003", "period": "2025/26 HT1"},
     "count": 2},
    {"table": "behaviour", "description": "negative count -1", "rule": "range",
     "column": "count", "match": {"pupil_id": "P00001", "period": "2025/26 HT1",
                                  "count": "-1"}, "count": 1},
    {"table": "behaviour", "description": "unknown incident_type 'fight'",
     "rule": "allowed_values", "column": "incident_type",
     "match": {"pupil_id": "P00002", "incident_type": "fight"}, "count": 1},
    {"table": "survey_responses", "description": "response 9 on a 1-5 item",
     "rule": "response_in_item_range",
     "column": "response", "match": {"respondent_id": "STF0001", "period": "2023/24 HT3",
                                     "item_id": "wl1", "response": "9"}, "count": 1},
    {"table": "survey_responses", "description": "item_id 'wl9' not in survey_items",
     "rule": "reference", "column": "item_id",
     "match": {"respondent_id": "STF0001", "item_id": "wl9"}, "count": 1},
    {"table": "systems", "description": "missing value", "rule": "not_null", "column": "value",
     "match": {"school_id": "NLT02", "period": "2024/25 HT3",
               "measure": "cpd_hours_per_teacher", "value": ""}, "count": 1},
    {"table": "systems", "description": "school_id NLT99 not in schools", "rule": "reference",
     "column": "school_id", "match": {"school_id": "NLT99"}, "count": 1},
]  # fmt: skip


def _locate(df: pd.DataFrame, **match: str) -> int:
    mask = np.ones(len(df), dtype=bool)
    for col, val in match.items():
        mask &= (df[col] == val).to_numpy()
    hits = np.flatnonzero(mask)
    if len(hits) != 1:  # pragma: no cover - guarded by the protected pupils
        raise RuntimeError(f"dirty-row target {match} found {len(hits)} times")
    return int(hits[0])


def _insert_after(df: pd.DataFrame, pos: int, rows: pd.DataFrame) -> pd.DataFrame:
    return pd.concat([df.iloc[: pos + 1], rows, df.iloc[pos + 1 :]], ignore_index=True)


def add_dirt(tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Plant the rows listed in :data:`DIRTY_ROWS` (returns new frames)."""
    out = {k: v.copy() for k, v in tables.items()}

    # pupils: appended rows for pupils with no other records, and one conflicting duplicate
    p = out["pupils"]
    template = p.iloc[_locate(p, pupil_id="P00001", academic_year="2025/26")]
    bad = []
    for pid, col, val in (
        ("P90001", "sen", "X"),
        ("P90002", "gender", ""),
        ("P90003", "year_group", "15"),
        ("P90004", "school_id", "NLT99"),
    ):
        row = template.copy()
        row["pupil_id"] = pid
        row[col] = val
        bad.append(row)
    dup = template.copy()
    dup["gender"] = "male" if template["gender"] != "male" else "female"
    dup["year_group"] = str(int(template["year_group"]) + 1)
    bad.append(dup)
    out["pupils"] = pd.concat([p, pd.DataFrame(bad)], ignore_index=True)

    # assessments
    a = out["assessments"]
    i = _locate(a, pupil_id="P00001", period="2025/26 HT2", subject="reading")
    a.loc[i, "score"] = "150"
    a.loc[i, "grade"] = "Greater depth"
    i = _locate(a, pupil_id="P00002", period="2025/26 HT2", subject="maths")
    a.loc[i, "score"] = "abs"
    a.loc[i, "grade"] = ""
    i = _locate(a, pupil_id="P00003", period="2025/26 HT6", subject="reading")
    ht9 = a.iloc[[i]].copy()
    ht9["period"] = "2025/26 HT9"
    ghost = a.iloc[[i]].copy()
    ghost["pupil_id"] = "P99999"
    ghost["period"] = "2025/26 HT2"
    ghost["assessment"] = "HT2 checkpoint"
    out["assessments"] = pd.concat([a, ht9, ghost], ignore_index=True)

    # attendance
    t = out["attendance"]
    i = _locate(t, pupil_id="P00001", period="2025/26 HT1")
    t.loc[i, "attended_sessions"] = str(int(t.loc[i, "possible_sessions"]) + 4)
    i = _locate(t, pupil_id="P00002", period="2025/26 HT1")
    t.loc[i, "possible_sessions"] = "-70"
    i = _locate(t, pupil_id="P00003", period="2025/26 HT1")
    out["attendance"] = _insert_after(t, i, t.iloc[[i]])

    # behaviour: replace any clean row with the same key, so only the planted fault is present
    b = out["behaviour"]
    clash = (
        (b["pupil_id"] == "P00001")
        & (b["period"] == "2025/26 HT1")
        & (b["incident_type"] == "low_level")
    )
    b = b.loc[~clash]
    extra = pd.DataFrame(
        [
            ("P00001", "NLT01", "2025/26 HT1", "low_level", "-1"),
            ("P00002", "NLT01", "2025/26 HT1", "fight", "1"),
        ],
        columns=list(b.columns),
    )
    out["behaviour"] = pd.concat([b, extra], ignore_index=True)

    # survey responses (staff member STF0001 always answers the first staff survey)
    s = out["survey_responses"]
    i = _locate(s, respondent_id="STF0001", period="2023/24 HT3", item_id="wl1")
    s.loc[i, "response"] = "9"
    unknown = s.iloc[[i]].copy()
    unknown["item_id"] = "wl9"
    unknown["response"] = "3"
    out["survey_responses"] = _insert_after(s, i + 3, unknown)

    # systems
    m = out["systems"]
    i = _locate(m, school_id="NLT02", period="2024/25 HT3", measure="cpd_hours_per_teacher")
    m.loc[i, "value"] = ""
    out["systems"] = pd.concat(
        [
            m,
            pd.DataFrame(
                [("NLT99", "2025/26 HT1", "staff_absence_rate", "4.2")], columns=list(m.columns)
            ),
        ],
        ignore_index=True,
    )
    return out
