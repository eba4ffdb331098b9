"""Tests of the synthetic sample generator and of the committed ``data/sample/`` files.

The planted effects are recovered with independent, simple computations (pandas group means,
Cronbach's alpha from the item covariance matrix), never with cilib's own metrics.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from cilib.core import schema
from cilib.data.config import is_sample_data
from cilib.sample import design, dirt
from cilib.sample import generate as sample

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "data" / "sample"
CSV_TABLES = (
    "schools",
    "pupils",
    "assessments",
    "attendance",
    "behaviour",
    "survey_items",
    "survey_responses",
    "systems",
    "roadmap",
)


def _read(name: str) -> pd.DataFrame:
    """Read a committed CSV with every value as text, blanks as empty strings."""
    return pd.read_csv(SAMPLE / f"{name}.csv", dtype=str, keep_default_na=False)


GENERATION_SECONDS: list[float] = []


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> dict[str, Path]:
    start = time.perf_counter()
    paths = sample.generate(tmp_path_factory.mktemp("sample"))
    GENERATION_SECONDS.append(time.perf_counter() - start)
    return paths


@pytest.fixture(scope="module")
def tables() -> dict[str, pd.DataFrame]:
    return {name: _read(name) for name in CSV_TABLES}


def _dirty_mask(df: pd.DataFrame, table: str) -> np.ndarray:
    """Rows of ``df`` matched by any DIRTY_ROWS entry of ``table``."""
    mask = np.zeros(len(df), dtype=bool)
    for d in dirt.DIRTY_ROWS:
        if d["table"] != table:
            continue
        m = np.ones(len(df), dtype=bool)
        for col, val in d["match"].items():
            m &= (df[col] == val).to_numpy()
        mask |= m
    return mask


@pytest.fixture(scope="module")
def clean(tables) -> dict[str, pd.DataFrame]:
    """The committed tables without the planted dirty rows, numbers parsed."""
    out = {k: v.loc[~_dirty_mask(v, k)].reset_index(drop=True) for k, v in tables.items()}
    p = out["pupils"]
    out["pupils"] = p.assign(
        year_group=p["year_group"].astype(int), dis=p["disadvantaged"] == "true"
    )
    a = out["assessments"]
    out["assessments"] = a.assign(score=a["score"].astype(float))
    t = out["attendance"]
    out["attendance"] = t.assign(
        possible=t["possible_sessions"].astype(int), attended=t["attended_sessions"].astype(int)
    )
    return out


def _with_dis(df: pd.DataFrame, pupils: pd.DataFrame) -> pd.DataFrame:
    """Attach disadvantaged status of the pupil in that academic year."""
    key = pupils.drop_duplicates(["pupil_id", "academic_year"], keep=False)
    return df.merge(key[["pupil_id", "academic_year", "dis"]], on=["pupil_id", "academic_year"])


# --------------------------------------------------------------------------- files


def test_committed_sample_equals_generate(generated):
    """data/sample is byte-for-byte what generate() writes for the default seed."""
    committed = sorted(p.name for p in SAMPLE.iterdir() if p.is_file())
    assert committed == sorted(sample.FILES)
    for path in generated.values():
        assert path.read_bytes() == (SAMPLE / path.name).read_bytes(), (
            f"data/sample/{path.name} is stale: run "
            "python -c \"from cilib.sample.generate import generate; generate('data/sample')\""
        )


def test_generate_returns_every_file(generated):
    """The returned paths name every file written, keyed by stem."""
    assert sorted(generated) == sorted(n.rsplit(".", 1)[0] for n in sample.FILES)
    assert all(p.exists() and p.stat().st_size > 0 for p in generated.values())


@pytest.mark.slow
def test_other_seed_differs_and_is_well_formed(tmp_path, generated):
    """Another seed gives other data with the same columns and the same dirty rows."""
    paths = sample.generate(tmp_path, seed=7)
    for name in ("pupils", "assessments", "attendance", "behaviour", "survey_responses", "systems"):
        assert paths[name].read_bytes() != generated[name].read_bytes()
        a = pd.read_csv(paths[name], dtype=str, keep_default_na=False)
        b = pd.read_csv(generated[name], dtype=str, keep_default_na=False)
        assert list(a.columns) == list(b.columns)
        for d in dirt.DIRTY_ROWS:
            if d["table"] == name:
                m = np.ones(len(a), dtype=bool)
                for col, val in d["match"].items():
                    m &= (a[col] == val).to_numpy()
                assert m.sum() == d["count"], d["description"]
    # same seed again, in this process: same bytes as the committed file
    assert paths["trust"].read_bytes() == (SAMPLE / "trust.yml").read_bytes()


def test_total_size_is_modest():
    """The committed sample stays small enough for git (under 20 MB)."""
    total = sum((SAMPLE / name).stat().st_size for name in sample.FILES)
    assert total < 20_000_000


def test_csv_format(tables):
    """CSVs are UTF-8, comma-separated, LF line ends, no index column, booleans true/false."""
    raw = (SAMPLE / "pupils.csv").read_bytes()
    assert b"\r\n" not in raw
    assert raw.decode("utf-8").splitlines()[0] == ",".join(schema.TABLES["pupils"].names)
    for name in ("pupils", "survey_items"):
        for col in ("disadvantaged", "fsm", "eal", "reverse_coded"):
            if col in tables[name]:
                assert set(tables[name][col]) <= {"true", "false"}


def test_columns_follow_schema(tables):
    """Every table has the schema's required columns (optional ones where written)."""
    for name, table in schema.TABLES.items():
        cols = list(tables[name].columns)
        assert set(table.required) <= set(cols), name
        assert set(cols) <= set(table.names), name
    assert list(tables["roadmap"].columns) == [
        "phase",
        "what_have_we_done",
        "how_have_we_engaged_stakeholders",
        "what_do_we_still_need_to_do",
        "by_when",
        "who_is_responsible",
    ]


def test_trust_yml_structure():
    """trust.yml has the agreed structure and names all eight schools."""
    cfg = yaml.safe_load((SAMPLE / "trust.yml").read_text())
    assert cfg["name"] == "Northfield Learning Trust (synthetic sample)"
    assert cfg["trust_id"] == "NLT"
    assert cfg["schools"] == [f"NLT0{i}" for i in range(1, 9)]
    assert cfg["calendar"] == {
        "academic_years": ["2023/24", "2024/25", "2025/26"],
        "periods_per_year": 6,
        "period_prefix": "HT",
    }
    assert cfg["data"]["directory"] == "."
    for name in schema.TABLES:
        assert (SAMPLE / cfg["data"][name]).exists()
    assert cfg["focus_group"] == {
        "column": "disadvantaged",
        "value": True,
        "label": "Disadvantaged pupils",
        "comparison_label": "Other pupils",
    }
    assert cfg["pseudonymisation"] == {"key_env": "CILIB_PSEUDONYM_KEY", "sample_key": True}
    assert cfg["suppression_threshold"] == 5
    assert cfg["lenses"] == ["disadvantaged", "sen", "eal", "gender", "prior_attainment"]


def test_plan_is_the_packaged_sample_plan():
    """plan.yml is the packaged sample plan, byte for byte (or the minimal plan without it)."""
    packaged = ROOT / "cilib" / "resources" / "sample_plan.yml"
    written = (SAMPLE / "plan.yml").read_bytes()
    if packaged.exists():
        assert written == packaged.read_bytes()
    else:  # pragma: no cover - the packaged plan is committed
        assert {"vision", "priorities"} <= set(yaml.safe_load(written))


def test_roadmap_covers_every_phase(tables):
    """The roadmap has one or two rows for each improvement phase, with ISO dates."""
    counts = tables["roadmap"]["phase"].value_counts()
    phases = [
        "Set the Vision",
        "Assess Needs",
        "Create Strategic Plan",
        "Implement Plan",
        "Monitor and Adjust",
    ]
    assert sorted(counts.index) == sorted(phases)
    assert counts.between(1, 2).all()
    pd.to_datetime(tables["roadmap"]["by_when"], format="%Y-%m-%d")


# --------------------------------------------------------------------------- shape


def test_sizes_and_calendar(clean):
    """Eight schools of both phases, three years of six half-terms, thousands of pupils."""
    s = clean["schools"]
    assert len(s) == 8
    assert (s["phase"] == "primary").sum() == 5 and (s["phase"] == "secondary").sum() == 3
    assert s["urn"].str.fullmatch(r"\d{6}").all()
    roll = s["pupils_on_roll"].astype(int)
    assert roll[s["phase"] == "primary"].between(200, 420).all()
    assert roll[s["phase"] == "secondary"].between(780, 1200).all()
    p = clean["pupils"]
    assert p["academic_year"].unique().tolist() == ["2023/24", "2024/25", "2025/26"]
    per_year = p.groupby("academic_year")["pupil_id"].nunique()
    assert (per_year > 3000).all()
    periods = [f"{y} HT{h}" for y in ("2023/24", "2024/25", "2025/26") for h in range(1, 7)]
    assert list(design.PERIODS) == periods
    assert sorted(clean["attendance"]["period"].unique()) == periods
    assert sorted(clean["systems"]["period"].unique()) == periods
    phase = p["school_id"].map(dict(zip(s["school_id"], s["phase"], strict=True)))
    assert p.loc[phase == "primary", "year_group"].between(0, 6).all()
    assert p.loc[phase == "secondary", "year_group"].between(7, 11).all()


def test_cohorts_move_up_and_leave(clean):
    """Pupils move up one year group a year; Year 6 and Year 11 leave; some pupils move."""
    p = clean["pupils"]
    a = p[p["academic_year"] == "2023/24"].set_index("pupil_id")
    b = p[p["academic_year"] == "2024/25"].set_index("pupil_id")
    both = a.index.intersection(b.index)
    assert (b.loc[both, "year_group"] == a.loc[both, "year_group"] + 1).all()
    assert not a.loc[a["year_group"].isin([6, 11])].index.isin(b.index).any()
    stayers = a.loc[~a["year_group"].isin([6, 11])]
    kept = stayers.index.isin(b.index).mean()
    assert 0.9 < kept < 0.99
    moved = (b.loc[both, "school_id"] != a.loc[both, "school_id"]).sum()
    assert moved > 10
    assert (b["year_group"].isin([0, 7]) & ~b.index.isin(a.index)).sum() > 500


def test_pupil_characteristics(clean):
    """Characteristics have realistic rates and fsm implies disadvantaged."""
    p = clean["pupils"]
    assert 0.22 <= p["dis"].mean() <= 0.30
    by_school = p.groupby("school_id")["dis"].mean()
    assert by_school.min() >= 0.14 and by_school.max() <= 0.45
    assert not ((p["fsm"] == "true") & ~p["dis"]).any()
    assert 0.11 <= (p["sen"] == "support").mean() <= 0.15
    ehcp = (p["sen"] == "ehcp").groupby(p["school_id"]).mean()
    assert ehcp.drop("NLT04").between(0.01, 0.06).all() and ehcp["NLT04"] > 0.07
    assert 0.15 <= (p["eal"] == "true").mean() <= 0.30
    assert set(p["ethnicity"]) == set(schema.ETHNICITIES)
    assert 0 < (p["gender"] == "other").sum() < 50
    young = p["year_group"] < 3
    assert (p.loc[young, "prior_attainment"] == "").all()
    shares = p.loc[~young, "prior_attainment"].value_counts(normalize=True)
    assert set(shares.index) == {"low", "middle", "high"} and shares.min() > 0.2


def test_attendance_levels(clean):
    """Attendance ~94% primary, ~91% secondary, disadvantaged 3-5 points lower, PA 15-20%."""
    t = _with_dis(clean["attendance"], clean["pupils"])
    phase = t["school_id"].map(
        dict(zip(clean["schools"]["school_id"], clean["schools"]["phase"], strict=True))
    )
    t = t.assign(phase=phase)
    assert t["possible"].between(60, 72).all()
    yearly = t.groupby(["pupil_id", "academic_year", "phase", "dis"])[
        ["attended", "possible"]
    ].sum()
    rate = (yearly["attended"] / yearly["possible"]).rename("rate").reset_index()
    by_phase = rate.groupby("phase")["rate"].mean()
    assert by_phase["primary"] == pytest.approx(0.94, abs=0.01)
    assert by_phase["secondary"] == pytest.approx(0.91, abs=0.01)
    gap = rate.groupby(["phase", "dis"])["rate"].mean().unstack()
    assert ((gap[False] - gap[True]).between(0.025, 0.05)).all()
    pa = rate["rate"] < 0.9
    assert 0.15 <= pa.mean() <= 0.20
    assert pa[rate["dis"]].mean() > 2 * pa[~rate["dis"]].mean()


def test_assessments_shape(clean):
    """Primary years 1-6 take reading/writing/maths, secondary english/maths/science, 3 a year."""
    a = clean["assessments"]
    assert a["score"].between(0, 100).all()
    assert (a["max_score"] == "100").all()
    prim = a["school_id"].isin(["NLT01", "NLT02", "NLT03", "NLT04", "NLT05"])
    assert set(a.loc[prim, "subject"]) == {"reading", "writing", "maths"}
    assert set(a.loc[~prim, "subject"]) == {"english", "maths", "science"}
    assert set(a.loc[prim, "grade"]) == {"Working towards", "Expected", "Greater depth"}
    assert (a.loc[~prim, "grade"] == "").all()
    pairs = set(zip(a["period"].str[-3:], a["assessment"], strict=True))
    assert pairs == {("HT2", "HT2 checkpoint"), ("HT4", "HT4 checkpoint"), ("HT6", "HT6 summer")}
    p = clean["pupils"]
    merged = a.merge(
        p[["pupil_id", "academic_year", "year_group", "prior_attainment"]],
        on=["pupil_id", "academic_year"],
    )
    assert merged["year_group"].min() == 1
    by_prior = merged.groupby("prior_attainment")["score"].mean()
    assert by_prior["high"] - by_prior["middle"] > 10 and by_prior["middle"] - by_prior["low"] > 10


def test_disadvantaged_gap_in_scores(clean):
    """The disadvantaged gap in 2023/24 (before the intervention) is 8-12 points everywhere."""
    a = _with_dis(clean["assessments"], clean["pupils"])
    base = a[a["academic_year"] == "2023/24"]
    means = base.groupby(["subject", "dis"])["score"].mean().unstack()
    gap = means[True] - means[False]
    assert gap.between(-12.5, -8).all(), gap


# --------------------------------------------------------------------------- planted effects


def _reading_gaps(clean, subject: str) -> pd.DataFrame:
    a = _with_dis(clean["assessments"], clean["pupils"])
    a = a[a["subject"] == subject]
    a = a.assign(
        group=np.where(
            a["school_id"].isin(design.INTERVENTION_SCHOOLS), "intervention", "comparison"
        )
    )
    before = a[a["academic_year"] == "2023/24"]
    after = a[a["period"] == "2025/26 HT6"]
    out = {}
    for label, df in (("before", before), ("after", after)):
        m = df.groupby(["group", "dis"])["score"].mean().unstack()
        out[label] = m[True] - m[False]
    return pd.DataFrame(out)


def test_intervention_narrows_reading_gap(clean):
    """Planted effect 1: the reading gap narrows by ~6 points in NLT01-03 only."""
    g = _reading_gaps(clean, "reading")
    change = g["after"] - g["before"]
    assert g.loc["intervention", "before"] == pytest.approx(-10, abs=2)
    assert g.loc["intervention", "after"] == pytest.approx(-4, abs=2)
    assert change["intervention"] > 3.5
    assert abs(change["comparison"]) < 2
    did = change["intervention"] - change["comparison"]
    assert did == pytest.approx(design.INTERVENTION_EFFECT["reading"], abs=2.5)


def test_intervention_narrows_maths_gap_a_little(clean):
    """Planted effect 1: maths narrows less than reading; writing does not narrow more."""
    read = _reading_gaps(clean, "reading")
    maths = _reading_gaps(clean, "maths")
    writing = _reading_gaps(clean, "writing")

    def did(g):
        c = g["after"] - g["before"]
        return c["intervention"] - c["comparison"]

    assert 0 < did(maths) < did(read)
    assert did(writing) < did(read) - 2


def test_fidelity_only_in_intervention_schools(clean):
    """Fidelity is reported in NLT01-03 from 2024/25 HT1 only, as a percentage."""
    s = clean["systems"]
    fid = s[s["measure"] == "fidelity_reading_intervention"]
    assert sorted(fid["school_id"].unique()) == list(design.INTERVENTION_SCHOOLS)
    assert fid["period"].min() == "2024/25 HT1" and len(fid) == 3 * 12
    assert fid["value"].astype(float).between(0, 100).all()
    assert set(s["measure"]) == {
        "staff_absence_rate",
        "cpd_hours_per_teacher",
        "teacher_vacancies",
        "fidelity_reading_intervention",
        "pupils_on_roll",
    }


def _school_attendance(clean) -> pd.DataFrame:
    t = clean["attendance"].drop_duplicates()
    sums = t.groupby(["school_id", "period"])[["attended", "possible"]].sum()
    return (100 * sums["attended"] / sums["possible"]).unstack(0)


def test_attendance_shift_at_nlt07(clean):
    """Planted effect 2: NLT07 attendance falls ~3 points from 2024/25 HT4; others do not."""
    rates = _school_attendance(clean)
    after = rates.index >= design.SHIFT_START
    change = rates[after].mean() - rates[~after].mean()
    assert change["NLT07"] == pytest.approx(design.SHIFT_SIZE, abs=0.8)
    assert change.drop("NLT07").abs().max() < 0.8


def test_attendance_shift_gives_long_run_below_centre(clean):
    """Planted effect 2: 8+ consecutive half-terms of NLT07 below the XmR centre line."""
    series = _school_attendance(clean)["NLT07"].to_numpy()
    below = series < series.mean()
    longest = run = 0
    for b in below:
        run = run + 1 if b else 0
        longest = max(longest, run)
    assert longest >= 8
    for school in ("NLT06", "NLT08"):
        other = _school_attendance(clean)[school].to_numpy()
        runs = np.diff(np.flatnonzero(np.diff(np.r_[0, other < other.mean(), 0])))[::2]
        assert runs.max() < 8


def _alpha(items: np.ndarray) -> float:
    """Cronbach's alpha from the covariance matrix: k/(k-1) * (1 - trace(C) / sum(C))."""
    c = np.cov(items, rowvar=False)
    k = c.shape[0]
    return k / (k - 1) * (1 - np.trace(c) / c.sum())


@pytest.mark.parametrize(
    ("scale", "target"), [("belonging", 0.80), ("learning_climate", 0.65), ("workload", 0.75)]
)
def test_survey_scale_reliability(clean, scale, target):
    """Planted effect 3: each scale's alpha (reverse items reversed) is near its target."""
    items = clean["survey_items"]
    ids = items.loc[items["scale"] == scale, "item_id"].tolist()
    reverse = set(items.loc[items["reverse_coded"] == "true", "item_id"])
    r = clean["survey_responses"]
    r = r[r["item_id"].isin(ids)].assign(v=lambda d: d["response"].astype(float))
    r.loc[r["item_id"].isin(reverse), "v"] = 6 - r.loc[r["item_id"].isin(reverse), "v"]
    wide = r.pivot_table(index=["respondent_id", "period"], columns="item_id", values="v")
    wide = wide.dropna()
    assert len(wide) > 500
    assert _alpha(wide.to_numpy()) == pytest.approx(target, abs=0.03)
    # unreversed, a reverse-coded item correlates negatively with the others
    raw = (
        r.pivot_table(
            index=["respondent_id", "period"], columns="item_id", values="response", aggfunc="first"
        )
        .dropna()
        .astype(float)
    )
    corr = raw.corr()
    for item in set(ids) & reverse:
        assert (corr.loc[item, [i for i in ids if i not in reverse]] < 0).all()


def test_survey_items_definition(tables):
    """Scales have 6, 5 and 4 items on 1-5 with 2, 1 and 1 reverse-coded."""
    items = tables["survey_items"]
    assert items["item_id"].is_unique
    assert (items["min"] == "1").all() and (items["max"] == "5").all()
    counts = items.groupby("scale")["item_id"].size().to_dict()
    assert counts == {"belonging": 6, "learning_climate": 5, "workload": 4}
    rev = items[items["reverse_coded"] == "true"].groupby("scale").size().to_dict()
    assert rev == {"belonging": 2, "learning_climate": 1, "workload": 1}


def test_survey_response_bias(clean):
    """Planted effect 4: ~70% of pupils answer, disadvantaged pupils markedly less often."""
    r = clean["survey_responses"]
    pupil = r[r["respondent_type"] == "pupil"]
    assert (pupil["respondent_id"] == pupil["pupil_id"]).all()
    assert sorted(pupil["period"].str[-3:].unique()) == ["HT2", "HT5"]
    p = clean["pupils"]
    rates = []
    for period in sorted(pupil["period"].unique()):
        year = period[:7]
        on_roll = p[(p["academic_year"] == year) & p["year_group"].between(4, 11)]
        on_roll = on_roll.drop_duplicates("pupil_id", keep=False)
        answered = on_roll["pupil_id"].isin(pupil.loc[pupil["period"] == period, "pupil_id"])
        rates.append(
            (answered.mean(), answered[on_roll["dis"]].mean(), answered[~on_roll["dis"]].mean())
        )
    rates = np.array(rates)
    assert rates[:, 0] == pytest.approx(0.70, abs=0.04)
    assert (rates[:, 2] - rates[:, 1] > 0.12).all()
    assert rates[:, 1].mean() == pytest.approx(design.RESPONSE_RATE[True], abs=0.03)


def test_staff_survey(clean):
    """Staff answer the workload items once a year, with STF ids and a blank pupil_id."""
    r = clean["survey_responses"]
    staff = r[r["respondent_type"] == "staff"]
    assert staff["respondent_id"].str.fullmatch(r"STF\d{4}").all()
    assert (staff["pupil_id"] == "").all()
    assert set(staff["item_id"].str[:2]) == {"wl"}
    assert staff.groupby(staff["period"].str[:7])["period"].nunique().eq(1).all()
    assert set(r["respondent_type"]) == {"pupil", "staff"}


# --------------------------------------------------------------------------- dirty rows


def test_dirty_rows_listed_for_every_kind():
    """DIRTY_ROWS covers the agreed faults and names a rule for each."""
    kinds = pd.Series([d["table"] for d in dirt.DIRTY_ROWS]).value_counts().to_dict()
    assert kinds == {
        "pupils": 5,
        "assessments": 4,
        "attendance": 3,
        "behaviour": 2,
        "survey_responses": 2,
        "systems": 2,
    }
    assert all(
        {"table", "description", "rule", "column", "match", "count"} <= set(d)
        for d in dirt.DIRTY_ROWS
    )


@pytest.mark.parametrize("entry", dirt.DIRTY_ROWS, ids=lambda d: d["description"])
def test_dirty_row_present(tables, entry):
    """Each listed dirty row is in its file exactly as described."""
    df = tables[entry["table"]]
    m = np.ones(len(df), dtype=bool)
    for col, val in entry["match"].items():
        m &= (df[col] == val).to_numpy()
    assert m.sum() == entry["count"]


def _violations(tables: dict[str, pd.DataFrame]) -> dict[str, set[int]]:
    """Rows breaking the schema, checked independently of cilib.data.validate (row positions)."""
    periods = set(design.PERIODS)
    out: dict[str, set[int]] = {}
    for name, table in schema.TABLES.items():
        df = tables[name]
        bad = np.zeros(len(df), dtype=bool)
        for col in table.columns:
            if col.name not in df:
                continue
            v = df[col.name]
            if not col.nullable:
                bad |= (v == "").to_numpy()
            if col.allowed:
                bad |= ((v != "") & ~v.isin(col.allowed)).to_numpy()
            if col.dtype in ("Int64", "float64"):
                num = pd.to_numeric(v.replace("", np.nan), errors="coerce")
                bad |= (num.isna() & (v != "")).to_numpy()
                if col.min is not None:
                    bad |= (num < col.min).to_numpy()
                if col.max is not None:
                    bad |= (num > col.max).to_numpy()
        if "period" in df:
            bad |= ~df["period"].isin(periods).to_numpy()
        if table.key:
            bad |= df.duplicated(list(table.key), keep=False).to_numpy()
        for col, (parent, pcol) in table.references.items():
            bad |= ~df[col].isin(tables[parent][pcol]).to_numpy()
        out[name] = set(np.flatnonzero(bad))
    t = tables["attendance"]
    over = pd.to_numeric(t["attended_sessions"]) > pd.to_numeric(t["possible_sessions"])
    out["attendance"] |= set(np.flatnonzero(over.to_numpy()))
    r = tables["survey_responses"]
    out["survey_responses"] |= set(
        np.flatnonzero(~pd.to_numeric(r["response"]).between(1, 5).to_numpy())
    )
    return out


def test_only_the_listed_rows_are_dirty(tables):
    """An independent schema check flags exactly the DIRTY_ROWS and nothing else."""
    found = _violations(tables)
    for name in schema.TABLES:
        expected = set(np.flatnonzero(_dirty_mask(tables[name], name)))
        assert found[name] == expected, name
    assert not found["schools"] and not found["survey_items"]


def test_dirty_rows_documented():
    """docs/sample-data.md lists every dirty row's description and rule."""
    text = (ROOT / "docs" / "sample-data.md").read_text()
    for d in dirt.DIRTY_ROWS:
        assert d["description"] in text and d["rule"] in text


def test_generation_is_fast(generated):
    """generate() takes well under 20 seconds."""
    assert GENERATION_SECONDS and GENERATION_SECONDS[0] < 20


@pytest.mark.slow
def test_cilib_validation_catches_exactly_the_dirty_rows(tables):
    """Loading and validating the sample quarantines the DIRTY_ROWS with their listed rules."""
    from cilib.data.config import load_config
    from cilib.data.load import load_tables
    from cilib.data.validate import validate

    cfg = load_config(SAMPLE / "trust.yml")
    loaded = {k: v for k, v in load_tables(cfg).items() if k in schema.TABLES}
    result = validate(
        {k: v.frame for k, v in loaded.items()},
        periods=cfg.periods,
        type_failures={k: v.type_failures for k, v in loaded.items()},
    )
    issues = result.issues
    for name in schema.TABLES:
        df = tables[name]
        flagged = set(issues.loc[issues["table"] == name, "source_row"].astype(int))
        expected = set()
        for d in dirt.DIRTY_ROWS:
            if d["table"] != name:
                continue
            m = np.ones(len(df), dtype=bool)
            for col, val in d["match"].items():
                m &= (df[col] == val).to_numpy()
            rows = np.flatnonzero(m) + 1  # 1-based data rows
            if d["rule"] == "duplicate":
                rows = rows[1:]  # the first copy is kept
            rules = set(
                issues.loc[(issues["table"] == name) & issues["source_row"].isin(rows), "rule"]
            )
            assert d["rule"] in rules, d["description"]
            expected |= set(rows.tolist())
        assert flagged == expected, name


# --------------------------------------------------------------------------- districts


@pytest.fixture(scope="module")
def district(tmp_path_factory) -> dict[str, pd.DataFrame]:
    """A 24-school district: the eight sample schools and two copies of each."""
    paths = sample.generate(tmp_path_factory.mktemp("district"), schools=24)
    out = {
        k: pd.read_csv(paths[k], dtype=str, keep_default_na=False)
        for k in ("schools", "pupils", "assessments", "systems")
    }
    out["plan"] = yaml.safe_load(paths["plan"].read_text(encoding="utf-8"))
    return out


def test_district_schools_copy_the_sample(district):
    s = district["schools"].set_index("school_id")
    assert len(s) == 24 and s.index.is_unique and s["urn"].is_unique
    # the first eight are the sample's own, unchanged
    assert list(s.index[:8]) == [x.school_id for x in design.SCHOOLS]
    assert s.loc["NLT09", "school_name"] == "Northfield Primary Academy 2"
    assert s.loc["NLT24", "school_name"] == "Riverside High School 3"
    assert (s.loc["NLT14":"NLT16", "phase"] == "secondary").all()
    assert int(s.loc["NLT22", "pupils_on_roll"]) > 600  # a copy of a secondary is as large


def test_district_keeps_the_planted_intervention(district):
    """Copies of NLT01-03 run the intervention (and report fidelity); other primaries do not."""
    treated = {"NLT01", "NLT02", "NLT03", "NLT09", "NLT10", "NLT11", "NLT17", "NLT18", "NLT19"}
    fid = district["systems"]
    fid = fid[fid["measure"] == "fidelity_reading_intervention"]
    assert set(fid["school_id"]) == treated
    p = district["pupils"]
    dis = p.assign(dis=p["disadvantaged"] == "true")[["pupil_id", "academic_year", "dis"]]
    dis = dis.drop_duplicates(["pupil_id", "academic_year"], keep=False)
    a = district["assessments"]
    a = a[(a["subject"] == "reading") & a["score"].ne("")].copy()
    a["score"] = pd.to_numeric(a["score"], errors="coerce")
    a = a.merge(dis, on=["pupil_id", "academic_year"])
    primaries = set(district["schools"].query("phase == 'primary'")["school_id"])
    a = a[a["school_id"].isin(primaries)]
    a["group"] = np.where(a["school_id"].isin(treated), "intervention", "comparison")

    def gap(period):
        m = a[a["period"] == period].groupby(["group", "dis"])["score"].mean().unstack()
        return m[True] - m[False]

    change = gap("2025/26 HT6") - gap("2023/24 HT6")
    did = change["intervention"] - change["comparison"]
    assert did == pytest.approx(design.INTERVENTION_EFFECT["reading"], abs=2.0)


def test_district_plan_covers_the_copies(district):
    """A goal for the sample's primaries covers every copy of them too."""
    lists = []

    def collect(node):
        if isinstance(node, dict):
            lists.extend([v for k, v in node.items() if k == "schools"])
            for v in node.values():
                collect(v)
        elif isinstance(node, list):
            for v in node:
                collect(v)

    collect(district["plan"])
    assert len(lists) >= 4, "the sample plan restricts goals and strategies to schools"
    for schools in lists:
        if "NLT01" in schools:
            assert {"NLT09", "NLT17"} <= set(schools)
        if "NLT06" in schools:
            assert {"NLT14", "NLT22"} <= set(schools)


def test_district_is_recognised_as_sample_data(district):
    assert is_sample_data(district["schools"])
    renamed = district["schools"].assign(school_name="Real School")
    assert not is_sample_data(renamed)


def test_district_size_is_checked():
    with pytest.raises(ValueError, match="8 to"):
        design.district_schools(7)
