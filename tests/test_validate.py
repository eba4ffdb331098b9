"""Tests for cilib.data.validate: Great Expectations suites, quarantine and reasons."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cilib.core import schema
from cilib.core.errors import DataError
from cilib.data.suites import SUITES_DIR, build_suites
from cilib.data.validate import ValidationResult, quarantine_report, validate

PERIODS = ["2024/25 HT1", "2024/25 HT2", "2024/25 HT3"]
HT1, HT2 = PERIODS[0], PERIODS[1]
YEAR = "2024/25"


def S(*v):
    return pd.array(list(v), dtype="str")


def I(*v):  # noqa: E743
    return pd.array(list(v), dtype="Int64")


def B(*v):
    return pd.array(list(v), dtype="boolean")


def F(*v):
    return np.array(v, dtype="float64")


def rows(n):
    return pd.array(range(1, n + 1), dtype="Int64")


def make_pupils(ids, schools, **override):
    """Pupils frame with valid defaults for every column."""
    n = len(ids)
    cols = {
        "pupil_id": S(*ids),
        "school_id": S(*schools),
        "academic_year": S(*[YEAR] * n),
        "year_group": I(*[7] * n),
        "gender": S(*["female"] * n),
        "disadvantaged": B(*[True] * n),
        "fsm": B(*[False] * n),
        "sen": S(*["none"] * n),
        "eal": B(*[False] * n),
        "ethnicity": S(*["asian"] * n),
        "prior_attainment": S(*["middle"] * n),
    }
    cols.update(override)
    cols["_source_row"] = rows(n)
    return pd.DataFrame(cols)


def dirty_tables():
    """Small literal tables, each dirty row breaking one known rule (see EXPECTED)."""
    schools = pd.DataFrame(
        {
            "school_id": S("S1", "S2", "S3", "S4"),
            "school_name": S("Ash", "Birch", "Cedar", "Damson"),
            "phase": S("primary", "secondary", "nursery", "primary"),
            "trust_id": S("T1", "T1", "T1", "T1"),
            "region": S("North", None, "North", "North"),
            "pupils_on_roll": I(300, 900, 100, 9000),
            "_source_row": rows(4),
        }
    )
    pupils = make_pupils(
        ["P01", "P02", "P03", "P03", "P05", "P05", "P07", "P08", "P09", "P10", "P11", "P12"],
        ["S1", "S1", "S1", "S1", "S1", "S1", "S9", "S3", "S1", "S1", "S1", "S2"],
        sen=S(
            "none",
            "X",
            "none",
            "none",
            "none",
            "none",
            "none",
            "none",
            "none",
            "none",
            "none",
            "ehcp",
        ),
        year_group=I(7, 7, 8, 8, 9, 10, 7, 7, 7, 14, 7, 7),
        gender=S(
            "female",
            "male",
            "other",
            "other",
            "female",
            "female",
            "male",
            "male",
            None,
            "female",
            "male",
            "female",
        ),
        prior_attainment=S(
            "low", "low", "high", "high", "low", "low", "low", "low", "low", "low", None, "high"
        ),
    )
    assessments = pd.DataFrame(
        {
            "pupil_id": S("P01", "P02", "P01", "P01", "P12", "P12"),
            "school_id": S("S1", "S1", "S1", "S1", "S2", "S2"),
            "academic_year": S(*[YEAR] * 6),
            "period": S(HT1, HT1, HT2, "2024/25 HT9", HT1, HT2),
            "subject": S("maths", "maths", "maths", "maths", "maths", "maths"),
            "assessment": S("test", "test", "test", "test", "test", "test"),
            "score": F(55.0, 60.0, 101.0, 40.0, np.nan, 70.0),
            "_source_row": rows(6),
        }
    )
    attendance = pd.DataFrame(
        {
            "pupil_id": S("P01", "P12", "P01", "P12", "P99"),
            "school_id": S("S1", "S2", "S1", "S2", "S1"),
            "academic_year": S(*[YEAR] * 5),
            "period": S(HT1, HT1, HT2, HT2, HT1),
            "possible_sessions": I(60, 60, 60, 250, 60),
            "attended_sessions": I(55, 61, 60, 200, 50),
            "_source_row": rows(5),
        }
    )
    behaviour = pd.DataFrame(
        {
            "pupil_id": S("P01", "P01", "P12"),
            "school_id": S("S1", "S1", "S2"),
            "period": S(HT1, HT1, HT1),
            "incident_type": S("positive", "fight", "serious"),
            "count": I(3, 1, -1),
            "_source_row": rows(3),
        }
    )
    survey_items = pd.DataFrame(
        {
            "item_id": S("Q1", "Q2"),
            "scale": S("belonging", "belonging"),
            "text": S("I feel safe", "I am listened to"),
            "reverse_coded": B(False, True),
            "min": F(1.0, 1.0),
            "max": F(5.0, 4.0),
            "_source_row": rows(2),
        }
    )
    survey_responses = pd.DataFrame(
        {
            "respondent_id": S("R1", "R1", "R2", "R3", "R4"),
            "respondent_type": S("pupil", "pupil", "parent", "teacher", "staff"),
            "school_id": S("S1", "S1", "S1", "S1", "S2"),
            "period": S(HT1, HT1, HT1, HT1, HT1),
            "item_id": S("Q1", "Q2", "Q1", "Q1", "Q9"),
            "response": F(4.0, 5.0, 3.0, 2.0, 3.0),
            "_source_row": rows(5),
        }
    )
    systems = pd.DataFrame(
        {
            "school_id": S("S1", "S7"),
            "period": S(HT1, HT1),
            "measure": S("staff_absence", "staff_absence"),
            "value": F(2.5, 3.0),
            "_source_row": rows(2),
        }
    )
    return {
        "schools": schools,
        "pupils": pupils,
        "assessments": assessments,
        "attendance": attendance,
        "behaviour": behaviour,
        "survey_items": survey_items,
        "survey_responses": survey_responses,
        "systems": systems,
    }


TYPE_FAILURES = {
    "assessments": pd.DataFrame(
        {
            "_source_row": I(5),
            "column": S("score"),
            "value": S("abs"),
            "expected": S("float64"),
        }
    )
}

#: (table, source_row) -> (rule, reason) of every dirty row in dirty_tables().
EXPECTED = {
    ("schools", 3): ("allowed_values", "schools.phase 'nursery' is not one of primary, secondary"),
    ("schools", 4): ("range", "schools.pupils_on_roll 9000 is above the maximum 5000"),
    ("pupils", 2): ("allowed_values", "pupils.sen 'X' is not one of none, support, ehcp"),
    ("pupils", 4): ("duplicate", "duplicate of row 3"),
    ("pupils", 5): (
        "conflicting_key",
        "conflicting rows for the same key (pupil_id, academic_year): rows 5, 6",
    ),
    ("pupils", 6): (
        "conflicting_key",
        "conflicting rows for the same key (pupil_id, academic_year): rows 5, 6",
    ),
    ("pupils", 7): ("reference", "pupils.school_id 'S9' not found in schools"),
    ("pupils", 9): ("not_null", "pupils.gender is missing"),
    ("pupils", 10): ("range", "pupils.year_group 14 is above the maximum 13"),
    ("assessments", 3): ("range", "assessments.score 101 is above the maximum 100"),
    ("assessments", 4): (
        "calendar_period",
        "assessments.period '2024/25 HT9' is not a period in the calendar",
    ),
    ("assessments", 5): ("type", "assessments.score 'abs' is not a number"),
    ("attendance", 2): (
        "attended_le_possible",
        "attendance.attended_sessions 61 is more than possible_sessions 60",
    ),
    ("attendance", 4): ("range", "attendance.possible_sessions 250 is above the maximum 200"),
    ("attendance", 5): ("reference", "pupil not found in pupils"),
    ("behaviour", 2): (
        "allowed_values",
        "behaviour.incident_type 'fight' is not one of positive, low_level, serious, suspension",
    ),
    ("behaviour", 3): ("range", "behaviour.count -1 is below the minimum 0"),
    ("survey_responses", 2): (
        "response_in_item_range",
        "survey_responses.response 5 is outside the range 1 to 4 of item 'Q2'",
    ),
    ("survey_responses", 4): (
        "allowed_values",
        "survey_responses.respondent_type 'teacher' is not one of pupil, parent, staff",
    ),
    ("survey_responses", 5): (
        "reference",
        "survey_responses.item_id 'Q9' not found in survey_items",
    ),
    ("systems", 2): ("reference", "systems.school_id 'S7' not found in schools"),
}


@pytest.fixture(scope="module")
def dirty():
    return dirty_tables()


@pytest.fixture(scope="module")
def result(dirty):
    return validate(dirty, periods=PERIODS, type_failures=TYPE_FAILURES)


def test_every_dirty_row_quarantined_with_its_rule_and_reason(result):
    """Each planted fault is quarantined with the expected rule and plain-English reason."""
    got = {
        (t, int(r.source_row)): (r.rule, r.reason)
        for t, q in result.quarantine.items()
        for r in q.itertuples()
    }
    assert got == EXPECTED


def test_counts_add_up(result, dirty):
    """rows_in equals the input rows and clean + quarantined for every table."""
    s = result.summary.set_index("table")
    for t, df in dirty.items():
        assert s.loc[t, "rows_in"] == len(df)
        assert s.loc[t, "rows_clean"] == len(result.clean[t])
        assert s.loc[t, "rows_quarantined"] == len(result.quarantine[t])
        n_bad = sum(1 for table, _ in EXPECTED if table == t)
        assert s.loc[t, "rows_quarantined"] == n_bad
        assert s.loc[t, "rows_in"] == s.loc[t, "rows_clean"] + s.loc[t, "rows_quarantined"]
    assert list(s.index) == list(schema.LOAD_ORDER)
    assert s.loc["survey_items", "top_reason"] == ""
    assert s.loc["pupils", "top_reason"].startswith("conflicting_key (2): conflicting rows")


def test_clean_frames_are_canonical_and_typed_as_input(result, dirty):
    """Clean frames hold the canonical columns only, with the input's dtypes."""
    for t, df in result.clean.items():
        cols = [c for c in schema.TABLES[t].names if c in dirty[t].columns]
        assert list(df.columns) == cols
        assert "_source_row" not in df.columns
        for c in cols:
            assert df[c].dtype == dirty[t][c].dtype, (t, c)
        assert list(df.index) == list(range(len(df)))


def test_duplicate_keeps_first_copy(result):
    """The first of two identical pupil rows stays clean; conflicting rows all leave."""
    ids = result.clean["pupils"]["pupil_id"].tolist()
    assert ids.count("P03") == 1
    assert "P05" not in ids
    assert sorted(ids) == ["P01", "P03", "P08", "P11", "P12"]  # P08: its school is set aside


def test_type_failure_is_not_also_reported_missing(result):
    """A value the loader could not convert is reported once, as a type failure."""
    q = result.quarantine["assessments"].set_index("source_row")
    assert q.loc[5, "rule"] == "type"
    assert q.loc[5, "column"] == "score"


def test_references_use_clean_or_set_aside_parents(result):
    """A child row whose parent was quarantined for its key or its own parent is quarantined;
    a parent set aside only for a bad non-key cell keeps its children clean (no cascade)."""
    aside = result.set_aside
    assert sorted(aside["schools"]["school_id"]) == ["S3", "S4"]
    sch = aside["schools"].set_index("school_id")  # the bad cells are blank, the rest kept
    assert pd.isna(sch.loc["S3", "phase"]) and sch.loc["S3", "school_name"] == "Cedar"
    assert pd.isna(sch.loc["S4", "pupils_on_roll"]) and sch.loc["S4", "phase"] == "primary"
    assert sorted(aside["pupils"]["pupil_id"]) == ["P02", "P09", "P10"]
    # P08 is in S3 (phase 'nursery'); P02's sen is 'X': their rows and children stay clean
    assert "P08" in set(result.clean["pupils"]["pupil_id"])
    assert "P02" in set(result.clean["assessments"]["pupil_id"])
    # P05's rows conflict on the key and P07's school is unknown: not set aside
    assert not {"P05", "P07"} & set(aside["pupils"]["pupil_id"])
    known_pupils = set(result.clean["pupils"]["pupil_id"]) | set(aside["pupils"]["pupil_id"])
    assert set(result.clean["attendance"]["pupil_id"]) <= known_pupils
    known_schools = set(result.clean["schools"]["school_id"]) | {"S3", "S4"}
    assert set(result.clean["pupils"]["school_id"]) <= known_schools


@pytest.mark.slow
def test_input_frames_not_mutated(dirty):
    """validate never changes the frames it is given."""
    before = {t: df.copy() for t, df in dirty.items()}
    validate(dirty, periods=PERIODS, type_failures=TYPE_FAILURES)
    for t, df in dirty.items():
        pd.testing.assert_frame_equal(df, before[t])


def test_record_holds_the_row_values(result, dirty):
    """The quarantine record is the input row as JSON."""
    q = result.quarantine["attendance"].set_index("source_row")
    record = json.loads(q.loc[4, "record"])
    assert record == {
        "pupil_id": "P12",
        "school_id": "S2",
        "academic_year": YEAR,
        "period": HT2,
        "possible_sessions": 250,
        "attended_sessions": 200,
    }


def test_several_rules_on_one_row_are_joined():
    """A row breaking two rules carries both, joined by '; '."""
    t = dirty_tables()
    schools = t["schools"].iloc[:1].copy()
    schools["phase"] = S("nursery")
    schools["pupils_on_roll"] = I(-5)
    res = validate({"schools": schools}, periods=PERIODS)
    q = res.quarantine["schools"]
    assert len(q) == 1
    assert q.loc[0, "rule"] == "allowed_values; range"
    assert q.loc[0, "column"] == "phase; pupils_on_roll"
    assert q.loc[0, "reason"] == (
        "schools.phase 'nursery' is not one of primary, secondary; "
        "schools.pupils_on_roll -5 is below the minimum 0"
    )
    report = quarantine_report(res)
    assert report[["rule", "rows"]].to_dict("records") == [
        {"rule": "allowed_values", "rows": 1},
        {"rule": "range", "rows": 1},
    ]


def test_missing_required_column_stops_the_run():
    """A missing required column raises DataError naming table and column."""
    t = dirty_tables()
    pupils = t["pupils"].drop(columns=["sen"])
    with pytest.raises(DataError, match="pupils is missing required column 'sen'"):
        validate({"schools": t["schools"], "pupils": pupils}, periods=PERIODS)


def test_optional_column_may_be_absent_or_present():
    """An optional column (grade, max_score) is checked when present and skipped when absent."""
    t = dirty_tables()
    a = t["assessments"].iloc[:2].copy()
    a["max_score"] = F(100.0, -1.0)
    res = validate({"pupils": t["pupils"], "assessments": a}, periods=PERIODS)
    q = res.quarantine["assessments"]
    # (row 2's pupil P02 is set aside for sen 'X' but still known: no reference fault)
    assert q["reason"].tolist() == ["assessments.max_score -1 is below the minimum 0"]
    assert q["rule"].tolist() == ["range"]


def test_wrong_dtype_raises():
    """A column the loader did not convert (object strings for a number) raises DataError."""
    t = dirty_tables()
    a = t["attendance"].copy()
    a["possible_sessions"] = a["possible_sessions"].astype("float64")
    with pytest.raises(DataError, match="attendance.possible_sessions holds float64 values"):
        validate({"attendance": a}, periods=PERIODS)


def test_unknown_table_raises():
    """A table the schema does not know raises DataError listing the known ones."""
    with pytest.raises(DataError, match="Unknown table.*staff.*expected some of schools"):
        validate({"staff": pd.DataFrame()}, periods=PERIODS)


def test_missing_parent_skips_reference():
    """Without a pupils table, attendance pupils are not checked (the table is optional)."""
    t = dirty_tables()
    res = validate({"attendance": t["attendance"]}, periods=PERIODS)
    assert set(res.quarantine["attendance"]["source_row"]) == {2, 4}


def test_type_failure_for_row_missing_from_frame_is_still_counted():
    """A type failure whose row the loader dropped is quarantined and counted in rows_in."""
    t = dirty_tables()
    tf = {
        "systems": pd.DataFrame(
            {
                "_source_row": I(9),
                "column": S("value"),
                "value": S("n/a"),
                "expected": S("float64"),
            }
        )
    }
    res = validate({"systems": t["systems"].iloc[:1]}, periods=PERIODS, type_failures=tf)
    s = res.summary.set_index("table")
    assert s.loc["systems", "rows_in"] == 2
    assert s.loc["systems", "rows_quarantined"] == 1
    q = res.quarantine["systems"]
    assert q.loc[0, "reason"] == "systems.value 'n/a' is not a number"
    assert json.loads(q.loc[0, "record"]) == {"value": "n/a"}


def test_reasons_never_contain_person_ids(result, dirty):
    """No pupil or respondent id appears in any reason or in the report."""
    ids = set()
    for df in dirty.values():
        for c in schema.ID_COLUMNS:
            if c in df.columns:
                ids |= set(df[c].dropna())
    texts = list(result.issues["reason"]) + list(quarantine_report(result)["example_reason"])
    texts += [r for q in result.quarantine.values() for r in q["reason"]]
    texts += list(result.summary["top_reason"])
    for text in texts:
        assert not any(i in text for i in ids), text


def test_quarantine_report_counts_per_table_and_rule(result):
    """The report counts rows per (table, rule) with an example reason."""
    report = quarantine_report(result)
    assert list(report.columns) == ["table", "rule", "rows", "example_reason"]
    expected = pd.Series([(t, r) for (t, _), (r, _) in EXPECTED.items()]).value_counts()
    got = report.set_index(["table", "rule"])["rows"]
    assert got.to_dict() == {k: int(v) for k, v in expected.items()}
    row = report[(report["table"] == "pupils") & (report["rule"] == "allowed_values")].iloc[0]
    assert row["example_reason"] == "pupils.sen 'X' is not one of none, support, ehcp"


def test_quarantine_report_empty_when_all_clean():
    """A clean run gives an empty report with the same columns."""
    t = dirty_tables()
    res = validate({"survey_items": t["survey_items"]}, periods=PERIODS)
    assert res.quarantine["survey_items"].empty
    assert list(res.quarantine["survey_items"].columns) == [
        "source_row",
        "rule",
        "column",
        "reason",
        "record",
    ]
    report = quarantine_report(res)
    assert report.empty and list(report.columns) == ["table", "rule", "rows", "example_reason"]


def test_committed_suites_equal_build_suites(tmp_path):
    """expectations/*.json is exactly what build_suites writes from the schema."""
    paths = build_suites(tmp_path)
    committed = sorted(p.name for p in SUITES_DIR.glob("*.json"))
    assert committed == sorted(f"{t}.json" for t in schema.TABLES)
    for t, path in paths.items():
        assert path.read_text() == (SUITES_DIR / f"{t}.json").read_text(), t


def test_suites_cover_the_schema():
    """Each schema fact has its expectation in the committed suite."""
    suite = json.loads((SUITES_DIR / "pupils.json").read_text())
    kinds = {(e["type"], json.dumps(e["kwargs"], sort_keys=True)) for e in suite["expectations"]}
    assert (
        "expect_column_values_to_be_in_set",
        json.dumps({"column": "sen", "value_set": list(schema.SEN_CODES)}, sort_keys=True),
    ) in kinds
    assert (
        "expect_compound_columns_to_be_unique",
        json.dumps({"column_list": ["pupil_id", "academic_year"]}, sort_keys=True),
    ) in kinds
    att = json.loads((SUITES_DIR / "attendance.json").read_text())
    types = [e["type"] for e in att["expectations"]]
    assert "expect_column_pair_values_a_to_be_greater_than_b" in types
    period = [e for e in att["expectations"] if e["meta"]["cilib_rule"] == "calendar_period"]
    assert period[0]["kwargs"]["value_set"] == {"$PARAMETER": "periods"}


def test_invalid_expectation_in_suite_is_an_error(tmp_path):
    """An expectation GX cannot build raises instead of being silently dropped."""
    for p in SUITES_DIR.glob("*.json"):
        shutil.copy(p, tmp_path / p.name)
    suite = json.loads((tmp_path / "schools.json").read_text())
    suite["expectations"].append(
        {
            "type": "expect_column_values_to_be_bogus",
            "kwargs": {"column": "phase"},
            "meta": {"cilib_rule": "allowed_values"},
        }
    )
    (tmp_path / "schools.json").write_text(json.dumps(suite))
    with pytest.raises(RuntimeError, match="rejected 1 expectation"):
        validate({"schools": dirty_tables()["schools"]}, periods=PERIODS, suites_dir=tmp_path)


def test_expectation_that_errors_raises(tmp_path):
    """An expectation that errors inside GX (exception_info) raises, not passes."""
    for p in SUITES_DIR.glob("*.json"):
        shutil.copy(p, tmp_path / p.name)
    suite = json.loads((tmp_path / "schools.json").read_text())
    suite["expectations"].append(
        {
            "type": "expect_column_values_to_be_between",
            "kwargs": {"column": "school_name", "min_value": 0, "max_value": 5},
            "meta": {"cilib_rule": "range"},
        }
    )
    (tmp_path / "schools.json").write_text(json.dumps(suite))
    with pytest.raises(RuntimeError, match="bug in cilib, not bad data"):
        validate({"schools": dirty_tables()["schools"]}, periods=PERIODS, suites_dir=tmp_path)


def test_missing_suite_file_says_how_to_build_it(tmp_path):
    """A missing suite file raises DataError pointing at build_suites."""
    with pytest.raises(DataError, match="build_suites"):
        validate({"schools": dirty_tables()["schools"]}, periods=PERIODS, suites_dir=tmp_path)


# --------------------------------------------------------------------------- property test


def random_tables(seed: int, n_pupils: int = 60, n_att: int = 400):
    """Random schools, pupils and attendance with faults planted at random."""
    rng = np.random.default_rng(seed)
    schools = pd.DataFrame(
        {
            "school_id": S("S1", "S2", "S3"),
            "school_name": S("A", "B", "C"),
            "phase": S(*rng.choice(["primary", "secondary", "nursery"], 3, p=[0.45, 0.45, 0.1])),
            "trust_id": S("T", "T", "T"),
            "region": S("N", "N", None),
            "pupils_on_roll": I(*rng.integers(-10, 5100, 3)),
            "_source_row": rows(3),
        }
    )
    pid = [f"P{i:03d}" for i in rng.integers(0, n_pupils, n_pupils)]
    pupils = make_pupils(
        pid,
        list(rng.choice(["S1", "S2", "S3", "S4"], n_pupils, p=[0.3, 0.3, 0.3, 0.1])),
        year_group=I(*rng.integers(0, 15, n_pupils)),
        sen=S(
            *rng.choice(
                ["none", "support", "ehcp", "X", None], n_pupils, p=[0.6, 0.2, 0.1, 0.05, 0.05]
            )
        ),
    )
    ids = [f"P{i:03d}" for i in rng.integers(0, n_pupils + 5, n_att)]
    poss = rng.integers(0, 210, n_att)
    att = rng.integers(0, 210, n_att)
    missing = rng.random(n_att) < 0.03
    attendance = pd.DataFrame(
        {
            "pupil_id": S(*ids),
            "school_id": S(*rng.choice(["S1", "S2", "S3"], n_att)),
            "academic_year": S(*[YEAR] * n_att),
            "period": S(*rng.choice(PERIODS + ["2024/25 HT7"], n_att, p=[0.32, 0.32, 0.32, 0.04])),
            "possible_sessions": pd.array(np.where(missing, None, poss), dtype="Int64"),
            "attended_sessions": I(*np.minimum(att, poss + rng.integers(-5, 3, n_att)).clip(-2)),
            "_source_row": rows(n_att),
        }
    )
    # exact copies of some rows at the end
    copies = attendance.sample(10, random_state=seed).copy()
    copies["_source_row"] = pd.array(range(n_att + 1, n_att + 11), dtype="Int64")
    attendance = pd.concat([attendance, copies], ignore_index=True)
    return {"schools": schools, "pupils": pupils, "attendance": attendance}


def violates(table: str, df: pd.DataFrame, periods: list[str]) -> pd.Series:
    """Single-row rule violations computed independently of cilib (plain pandas)."""
    spec = schema.TABLES[table]
    bad = pd.Series(False, index=df.index)
    for col in spec.columns:
        if col.name not in df.columns:
            continue
        s = df[col.name]
        if not col.nullable:
            bad |= s.isna()
        if col.allowed is not None:
            bad |= s.notna() & ~s.isin(col.allowed)
        if col.min is not None:
            bad |= (s < col.min).fillna(False).astype(bool)
        if col.max is not None:
            bad |= (s > col.max).fillna(False).astype(bool)
    if table in schema.PERIOD_TABLES:
        bad |= ~df["period"].isin(periods)
    if table == "attendance":
        bad |= (df["attended_sessions"] > df["possible_sessions"]).fillna(False).astype(bool)
    return bad


@pytest.mark.parametrize("seed", range(4))
def test_random_dirty_data_every_row_accounted_for(seed):
    """On random dirty data every row is clean or quarantined, never both, and clean rows pass."""
    tables = random_tables(seed)
    res = validate(tables, periods=PERIODS)
    for t, df in tables.items():
        src = set(df["_source_row"])
        q_rows = list(res.quarantine[t]["source_row"])
        assert len(q_rows) == len(set(q_rows))
        clean = res.clean[t]
        assert len(clean) + len(q_rows) == len(df)
        assert set(q_rows) <= src
        # the clean rows are exactly the input rows not quarantined, in input order
        kept = df[~df["_source_row"].isin(q_rows)].drop(columns="_source_row")
        pd.testing.assert_frame_equal(clean, kept.reset_index(drop=True))
        # every single-row violator is quarantined, and no clean row violates a rule
        bad = violates(t, df, PERIODS)
        assert set(df.loc[bad, "_source_row"]) <= set(q_rows)
        assert not violates(t, clean, PERIODS).any()
        # keys are unique in clean data
        assert not clean.duplicated(list(schema.TABLES[t].key)).any()
        # each quarantined row has a reason for each rule
        q = res.quarantine[t]
        assert (q["reason"].str.len() > 0).all()
        assert (q["rule"].str.count("; ") <= q["reason"].str.count("; ")).all()

    # references hold against clean or set-aside parents
    def known(t: str, col: str) -> set:
        aside = res.set_aside.get(t)
        return set(res.clean[t][col]) | (set(aside[col]) if aside is not None else set())

    assert set(res.clean["pupils"]["school_id"]) <= known("schools", "school_id")
    assert set(res.clean["attendance"]["pupil_id"]) <= known("pupils", "pupil_id")
    # exact copies never survive twice
    att = res.clean["attendance"]
    assert not att.duplicated().any()
    s = res.summary
    assert (s["rows_in"] == s["rows_clean"] + s["rows_quarantined"]).all()


def test_validation_result_is_a_dataclass_with_contract_fields():
    """ValidationResult exposes clean, quarantine and summary (and the long issues)."""
    fields = list(ValidationResult.__dataclass_fields__)
    assert fields[:3] == ["clean", "quarantine", "summary"]


def test_tiny_trust_loaded_by_the_loader_is_all_clean(tiny_trust):
    """Frames from cilib.data.load (the real contract) validate with nothing quarantined."""
    from cilib.data.config import load_config
    from cilib.data.load import load_tables

    cfg = load_config(tiny_trust)
    loaded = load_tables(cfg)
    res = validate(
        {n: lt.frame for n, lt in loaded.items()},
        periods=cfg.periods,
        type_failures={n: lt.type_failures for n, lt in loaded.items()},
    )
    assert res.summary["rows_quarantined"].tolist() == [0, 0, 0]
    assert res.summary["rows_in"].tolist() == [2, 4, 4]


#: Rule names this module uses for the sample's planted faults (cilib.sample.dirt.DIRTY_ROWS).
SAMPLE_RULES = {
    ("pupils", "duplicate_key"): "conflicting_key",
    ("attendance", "duplicate_key"): "duplicate",
    ("survey_responses", "range"): "response_in_item_range",
}


@pytest.fixture(scope="module")
def sample_result(tmp_path_factory):
    """The sample trust (committed, or generated if data/sample is empty), loaded and validated."""
    from cilib.data.config import load_config
    from cilib.data.load import load_tables
    from cilib.sample.generate import generate

    config = Path(__file__).resolve().parent.parent / "data" / "sample" / "trust.yml"
    if not config.exists():
        folder = tmp_path_factory.mktemp("sample")
        generate(folder)
        config = folder / "trust.yml"
    cfg = load_config(config)
    loaded = load_tables(cfg)
    res = validate(
        {n: lt.frame for n, lt in loaded.items()},
        periods=cfg.periods,
        type_failures={n: lt.type_failures for n, lt in loaded.items()},
    )
    return loaded, res


def test_sample_planted_faults_are_quarantined_and_nothing_else(sample_result):
    """Every fault planted in the sample is quarantined under its rule, and no other row."""
    from cilib.sample.dirt import DIRTY_ROWS

    loaded, res = sample_result
    expected: dict[tuple[str, str], int] = {}
    for d in DIRTY_ROWS:
        rule = SAMPLE_RULES.get((d["table"], d["rule"]), d["rule"])
        # an exact duplicate keeps its first copy, so one of the two rows is quarantined
        count = 1 if rule == "duplicate" else d["count"]
        expected[(d["table"], rule)] = expected.get((d["table"], rule), 0) + count
    # possible_sessions -70 also makes attended exceed possible (DIRTY_ROWS says so)
    expected[("attendance", "attended_le_possible")] += 1
    report = quarantine_report(res)
    got = {(r.table, r.rule): r.rows for r in report.itertuples()}
    assert got == expected
    planted_rows = {
        "pupils": 6,
        "assessments": 4,
        "attendance": 3,
        "behaviour": 2,
        "survey_responses": 2,
        "systems": 2,
    }
    s = res.summary.set_index("table")
    for t, lt in loaded.items():
        assert s.loc[t, "rows_in"] == len(lt.frame)
        assert s.loc[t, "rows_quarantined"] == planted_rows.get(t, 0), t
        assert s.loc[t, "rows_in"] == s.loc[t, "rows_clean"] + s.loc[t, "rows_quarantined"]


def test_importing_validate_does_not_import_great_expectations():
    """Notebooks import cilib; Great Expectations must load only when validate runs."""
    import subprocess
    import sys

    code = "import sys, cilib, cilib.data.validate; print('great_expectations' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_empty_tables_validate_to_empty_results():
    """Zero-row tables give zero counts and empty, typed quarantine frames."""
    empty = {t: df.iloc[:0] for t, df in dirty_tables().items()}
    res = validate(empty, periods=PERIODS)
    assert res.summary[["rows_in", "rows_clean", "rows_quarantined"]].to_numpy().sum() == 0
    assert all(q.empty for q in res.quarantine.values())
    assert res.quarantine["pupils"]["source_row"].dtype == "Int64"


@pytest.mark.slow
def test_bad_school_cell_does_not_cascade_to_pupils(tmp_path):
    """One unreadable pupils_on_roll quarantines that school row only (issue 11, fault 7).

    Before, the school's 795 pupils and 5,954 assessments were quarantined too (or the run
    stopped with "Unknown school"). The school is still listed, by name, for its reports.
    """
    import textwrap

    from cilib.data.config import load_config
    from cilib.data.prepare import prepare
    from tests.conftest import SAMPLE_CONFIG

    src = SAMPLE_CONFIG.parent
    schools = (src / "schools.csv").read_text(encoding="utf-8")
    row = "NLT03,Hollins Lane Primary,primary,NLT,East,"
    bad = schools.replace(row + "210,", row + "abc,")
    assert bad != schools
    (tmp_path / "schools.csv").write_text(bad, encoding="utf-8")
    for name in ("pupils.csv", "assessments.csv"):
        shutil.copy(src / name, tmp_path / name)
    cfg = tmp_path / "trust.yml"
    cfg.write_text(
        textwrap.dedent("""\
            name: Northfield Learning Trust (synthetic sample)
            trust_id: NLT
            data: {schools: schools.csv, pupils: pupils.csv, assessments: assessments.csv}
            calendar: {academic_years: ["2023/24", "2024/25", "2025/26"]}
            schools: [NLT01, NLT02, NLT03, NLT04, NLT05, NLT06, NLT07, NLT08]
            lenses: [disadvantaged, sen, eal, gender, prior_attainment]
            pseudonymisation: {sample_key: true}
            """),
        encoding="utf-8",
    )
    store = prepare(load_config(cfg), "2025/26 HT6", store_dir=tmp_path / "store")
    dq = store.data_quality.set_index("table")
    counts = dq[["rows_in", "rows_clean", "rows_quarantined"]].to_dict("index")
    assert counts == {
        "schools": {"rows_in": 8, "rows_clean": 7, "rows_quarantined": 1},
        "pupils": {"rows_in": 11495, "rows_clean": 11489, "rows_quarantined": 6},
        "assessments": {"rows_in": 96308, "rows_clean": 96304, "rows_quarantined": 4},
    }
    q = pd.read_csv(store.folder / "quarantine" / "schools.csv")
    assert q["rule"].tolist() == ["type"]
    assert "pupils_on_roll 'abc'" in q["reason"].iloc[0]
    names = {s["school_id"]: s["school_name"] for s in store.meta["schools"]}
    assert names["NLT03"] == "Hollins Lane Primary"
    assert "NLT03" in store.meta["selected_schools"]
