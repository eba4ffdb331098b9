"""Deterministic generator of the synthetic sample trust in ``data/sample/``.

The sample is a fictional multi-academy trust, *Northfield Learning Trust (synthetic sample)*,
with five primary and three secondary schools followed over three academic years of six
half-terms each. Every table of the data contract (:mod:`cilib.core.schema`) is written, together
with ``plan.yml``, ``roadmap.csv`` and the trust config ``trust.yml``.

Known effects are planted so that tests and notebooks can check that the metrics find them:

1. a reading intervention for disadvantaged pupils in NLT01, NLT02 and NLT03 from 2024/25 HT1,
   which narrows the disadvantaged gap in reading by :data:`INTERVENTION_EFFECT` points (and in
   maths a little) by 2025/26 HT6, rising linearly over twelve half-terms;
2. a sustained fall in attendance of :data:`SHIFT_SIZE` points at NLT07 from 2024/25 HT4;
3. survey scales generated from a one-factor model whose loadings give known reliability;
4. pupil-survey response rates lower for disadvantaged pupils (:data:`RESPONSE_RATE`);

and a few dirty rows that validation must catch, listed in :data:`DIRTY_ROWS`. The true values
are documented in ``docs/sample-data.md``.

Everything is drawn from one :class:`numpy.random.Generator` seeded with ``seed``, in a fixed
order, and written with fixed formatting, so the same seed gives byte-identical files.
"""

from __future__ import annotations

import csv
import io
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import special

from cilib.data.sample_identity import SCHOOL_NAMES, TRUST_ID, TRUST_NAME

__all__ = [
    "ACADEMIC_YEARS",
    "DEFAULT_SEED",
    "DIRTY_ROWS",
    "INTERVENTION_EFFECT",
    "INTERVENTION_SCHOOLS",
    "INTERVENTION_START",
    "PERIODS",
    "RESPONSE_RATE",
    "SCALE_LOADINGS",
    "SHIFT_SCHOOL",
    "SHIFT_SIZE",
    "SHIFT_START",
    "generate",
]

#: Seed of the committed sample in ``data/sample/``.
DEFAULT_SEED = 2026

ACADEMIC_YEARS = ("2023/24", "2024/25", "2025/26")
HALF_TERMS = 6
#: All period labels in calendar order, ``"2023/24 HT1"`` … ``"2025/26 HT6"``.
PERIODS = tuple(f"{y} HT{h}" for y in ACADEMIC_YEARS for h in range(1, HALF_TERMS + 1))

#: Possible sessions (two a day) per half-term, by academic year.
POSSIBLE_SESSIONS = {
    "2023/24": (70, 72, 62, 62, 60, 68),
    "2024/25": (72, 70, 60, 64, 62, 66),
    "2025/26": (70, 72, 62, 64, 60, 68),
}
#: Seasonal change in each pupil's attendance rate by half-term (HT1 … HT6), as a proportion.
SEASON = (0.006, 0.0, -0.008, -0.003, 0.003, -0.005)


@dataclass(frozen=True)
class _School:
    school_id: str
    name: str
    phase: str
    region: str
    urn: str
    cohort: int  # target pupils per year group
    disadvantaged: float  # share of new pupils who are disadvantaged
    eal: float
    white_british: float  # share of non-EAL pupils who are white British
    ehcp: float
    score_effect: float  # school effect on assessment scores (points)
    attendance_effect: float  # school effect on attendance (proportion)


SCHOOLS = (
    _School("NLT01", SCHOOL_NAMES["NLT01"], "primary", "North", "990101", 52,
            0.36, 0.30, 0.70, 0.03, -1.0, -0.004),
    _School("NLT02", SCHOOL_NAMES["NLT02"], "primary", "North", "990102", 36,
            0.25, 0.22, 0.75, 0.03, 0.0, 0.0),
    _School("NLT03", SCHOOL_NAMES["NLT03"], "primary", "East", "990103", 30,
            0.18, 0.12, 0.85, 0.025, 1.5, 0.002),
    _School("NLT04", SCHOOL_NAMES["NLT04"], "primary", "East", "990104", 32,
            0.30, 0.38, 0.60, 0.08, 0.5, -0.002),
    _School("NLT05", SCHOOL_NAMES["NLT05"], "primary", "West", "990105", 40,
            0.155, 0.08, 0.90, 0.025, 2.0, 0.004),
    _School("NLT06", SCHOOL_NAMES["NLT06"], "secondary", "North", "990106", 168,
            0.21, 0.22, 0.72, 0.03, 1.0, 0.002),
    _School("NLT07", SCHOOL_NAMES["NLT07"], "secondary", "East", "990107", 164,
            0.33, 0.28, 0.70, 0.035, -1.5, -0.004),
    _School("NLT08", SCHOOL_NAMES["NLT08"], "secondary", "West", "990108", 162,
            0.15, 0.10, 0.88, 0.03, 0.5, 0.003),
)  # fmt: skip
_SCHOOL = {s.school_id: s for s in SCHOOLS}
YEAR_GROUPS = {"primary": tuple(range(0, 7)), "secondary": tuple(range(7, 12))}
SUBJECTS = {
    "primary": ("reading", "writing", "maths"),
    "secondary": ("english", "maths", "science"),
}
SUBJECT_EFFECT = {"reading": 2.0, "writing": -3.0, "english": 0.0, "maths": 0.0, "science": -3.0}
ASSESSMENTS = {2: "HT2 checkpoint", 4: "HT4 checkpoint", 6: "HT6 summer"}

#: Primary schools that ran the reading intervention for disadvantaged pupils.
INTERVENTION_SCHOOLS = ("NLT01", "NLT02", "NLT03")
#: First half-term of the intervention.
INTERVENTION_START = "2024/25 HT1"
#: Points added to disadvantaged pupils' scores by 2025/26 HT6 (a linear ramp over 12 half-terms:
#: the effect in the k-th half-term of the intervention, k = 1 … 12, is ``effect * k / 12``).
INTERVENTION_EFFECT = {"reading": 6.0, "maths": 2.5, "writing": 0.0}
#: Direct disadvantage effect on every score (points), on top of lower prior ability.
DIRECT_GAP = -5.0

#: School with a sustained attendance shift, when it starts and its size (percentage points).
SHIFT_SCHOOL = "NLT07"
SHIFT_START = "2024/25 HT4"
SHIFT_SIZE = -3.0

#: Probability that an eligible pupil answers a pupil-survey wave, by disadvantage.
RESPONSE_RATE = {False: 0.76, True: 0.56}
STAFF_RESPONSE_RATE = 0.75
#: Standardised loading of every item on its scale's latent factor.
SCALE_LOADINGS = {"belonging": 0.665, "learning_climate": 0.55, "workload": 0.69}
#: Thresholds cutting the latent item response into the categories 1 … 5.
ITEM_THRESHOLDS = (-1.9, -1.1, -0.2, 0.8)
SURVEY_ITEMS = (
    ("bel1", "belonging", "I feel I belong at this school", False),
    ("bel2", "belonging", "I feel like an outsider at school", True),
    ("bel3", "belonging", "Adults at school care about me", False),
    ("bel4", "belonging", "I have someone I can talk to at school", False),
    ("bel5", "belonging", "I often feel lonely at school", True),
    ("bel6", "belonging", "I am proud to be at this school", False),
    ("lc1", "learning_climate", "Lessons are calm so I can concentrate", False),
    ("lc2", "learning_climate", "Teachers explain things clearly", False),
    ("lc3", "learning_climate", "Other pupils often disrupt lessons", True),
    ("lc4", "learning_climate", "I am challenged to think hard in lessons", False),
    ("lc5", "learning_climate", "I get helpful feedback on my work", False),
    ("wl1", "workload", "My workload is manageable", False),
    ("wl2", "workload", "I have enough time to plan and prepare lessons", False),
    ("wl3", "workload", "Marking and administration take too much of my time", True),
    ("wl4", "workload", "I can balance my work and my life outside work", False),
)
PUPIL_SURVEY_PERIODS = (2, 5)
STAFF_SURVEY_PERIOD = 3
SURVEY_YEAR_GROUPS = tuple(range(4, 12))

#: Pupils that the dirty rows refer to; they never leave, miss an assessment or move school.
_PROTECTED = tuple(f"P{i:05d}" for i in range(1, 11))

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

ROADMAP = (
    (
        "Set the Vision",
        "Trust board agreed a vision of every pupil attending, belonging and "
        "reading fluently by age 11",
        "Two workshops with headteachers, trustees and pupil parliament representatives",
        "Publish the vision on every school's website",
        "2023-10-20",
        "CEO",
    ),
    (
        "Assess Needs",
        "Analysed attendance, attainment and survey data for 2023/24 by disadvantage, SEN and EAL",
        "Shared the needs analysis with heads and local governing "
        "bodies; staff focus groups on workload",
        "Add parent survey and behaviour data to the needs analysis",
        "2024-02-09",
        "Director of Education",
    ),
    (
        "Assess Needs",
        "Found a reading gap of about 10 points for disadvantaged pupils in primary schools",
        "Reading leads from all five primaries reviewed the findings",
        "Check the gap against national benchmarks",
        "2024-03-28",
        "Trust Data Lead",
    ),
    (
        "Create Strategic Plan",
        "Plan with three priorities: reading, attendance, belonging; "
        "each goal has a baseline, target and half-termly milestones",
        "Consulted heads, governors and the staff forum on the draft plan",
        "Agree fidelity measures for the reading intervention",
        "2024-07-19",
        "Director of Education",
    ),
    (
        "Implement Plan",
        "Reading intervention running in NLT01, NLT02 and NLT03 since "
        "September 2024; fidelity tracked each half-term",
        "Termly updates to parents of pupils "
        "in the intervention; reading leads' network meets half-termly",
        "Train new teaching assistants in the intervention",
        "2025-10-24",
        "Primary Reading Lead",
    ),
    (
        "Implement Plan",
        "Attendance officers appointed in the secondary schools",
        "Family liaison meetings with parents of persistently absent pupils",
        "Review attendance support at Castlegate Academy after the spring fall",
        "2025-12-19",
        "Head of Castlegate Academy",
    ),
    (
        "Monitor and Adjust",
        "Half-termly review of run charts for every goal; reading gap "
        "narrowing in intervention schools",
        "Impact report shared with trustees and all staff, including what has not worked",
        "Decide whether to extend the intervention to NLT04 and NLT05",
        "2026-07-17",
        "CEO",
    ),
)

TRUST_YML = """\
name: {name}
trust_id: {trust_id}
data:
  directory: .          # relative to this file
  schools: schools.csv
  pupils: pupils.csv
  assessments: assessments.csv
  attendance: attendance.csv
  behaviour: behaviour.csv
  survey_items: survey_items.csv
  survey_responses: survey_responses.csv
  systems: systems.csv
  plan: plan.yml
  roadmap: roadmap.csv
calendar:
  academic_years: [{years}]
  periods_per_year: {periods_per_year}
  period_prefix: HT
schools: [{schools}]
lenses: [disadvantaged, sen, eal, gender, prior_attainment]
focus_group:
  column: disadvantaged
  value: true
  label: Disadvantaged pupils
  comparison_label: Other pupils
suppression_threshold: 5
pseudonymisation:
  key_env: CILIB_PSEUDONYM_KEY
  sample_key: true      # the clearly labelled default key, allowed only for this synthetic sample
reports:
  output: reports       # relative to the folder the command runs in
  # notebooks to run (leave out to run every notebook in notebooks/ named NN_*.ipynb)
  notebooks: [01_assess_needs, 02_strategic_plan, 03_implement_plan, 04_monitor_adjust,
              05_analyse_impact, 10_trust_overview]
  jobs: 2               # parallel worker processes
"""

MINIMAL_PLAN_YML = """\
# Minimal improvement plan of the synthetic sample trust.
vision: Every pupil attends, belongs and reads fluently by the age of eleven.
priorities:
  - Close the reading gap for disadvantaged pupils in primary schools
  - Improve attendance, above all for disadvantaged pupils
  - Strengthen pupils' sense of belonging
"""

_SAMPLE_PLAN = Path(__file__).resolve().parents[1] / "resources" / "sample_plan.yml"

FILES = (
    "schools.csv",
    "pupils.csv",
    "assessments.csv",
    "attendance.csv",
    "behaviour.csv",
    "survey_items.csv",
    "survey_responses.csv",
    "systems.csv",
    "plan.yml",
    "roadmap.csv",
    "trust.yml",
)


def _period_index(label: str) -> int:
    return PERIODS.index(label)


# --------------------------------------------------------------------------- pupils


def _new_pupils(
    rng: np.random.Generator,
    school: _School,
    year_groups: np.ndarray,
    first_id: int,
    *,
    joiners: bool,
) -> pd.DataFrame:
    """Draw new pupils for ``school``, one per entry of ``year_groups``."""
    n = len(year_groups)
    dis_rate = min(school.disadvantaged * (1.3 if joiners else 1.0), 0.9)
    dis = rng.random(n) < dis_rate
    fsm = dis & (rng.random(n) < 0.8)
    u = rng.random(n)
    ehcp_p = school.ehcp * (1.0 + 0.5 * dis)
    support_p = 0.11 + 0.07 * dis
    sen = np.where(u < ehcp_p, "ehcp", np.where(u < ehcp_p + support_p, "support", "none"))
    g = rng.random(n)
    other_p = 0.002 if school.phase == "secondary" else 0.0
    gender = np.where(g < other_p, "other", np.where(g < other_p + 0.493, "female", "male"))
    eal = rng.random(n) < school.eal
    e = rng.random(n)
    eal_codes = np.array(["white_other", "asian", "black", "chinese", "mixed", "other"])
    eal_cum = np.cumsum([0.30, 0.35, 0.15, 0.05, 0.05, 0.10])
    eal_eth = eal_codes[np.minimum(np.searchsorted(eal_cum, e, side="right"), 5)]
    wb = school.white_british
    rest = 1.0 - wb - 0.02
    non_codes = np.array(
        ["white_british", "mixed", "asian", "black", "white_other", "other", "unknown"]
    )
    non_cum = np.cumsum([wb, rest * 0.35, rest * 0.3, rest * 0.2, rest * 0.1, rest * 0.05, 0.02])
    non_eth = non_codes[np.minimum(np.searchsorted(non_cum, e, side="right"), 6)]
    ethnicity = np.where(eal, eal_eth, non_eth)
    ability = rng.normal(size=n) - 0.3 * dis - 0.6 * (sen == "support") - 1.2 * (sen == "ehcp")
    pa_latent = ability + rng.normal(0.0, 0.5, size=n)
    return pd.DataFrame(
        {
            "pupil_id": [f"P{first_id + i:05d}" for i in range(n)],
            "school_id": school.school_id,
            "year_group": year_groups.astype(int),
            "gender": gender,
            "disadvantaged": dis,
            "fsm": fsm,
            "sen": sen,
            "eal": eal,
            "ethnicity": ethnicity,
            "ability": ability,
            "pa_latent": pa_latent,
            "z_att": rng.normal(size=n),
            "xi_bel": rng.normal(size=n),
            "xi_lc": rng.normal(size=n),
            "frail_pos": rng.gamma(2.0, 0.5, size=n),
            "frail_neg": rng.gamma(0.8, 1.25, size=n),
            "dev0": rng.normal(0.0, 5.0, size=n),
            "dev1": rng.normal(0.0, 5.0, size=n),
            "dev2": rng.normal(0.0, 5.0, size=n),
        }
    )


def _cohort_size(rng: np.random.Generator, school: _School) -> int:
    return max(10, int(round(school.cohort * (1.0 + 0.06 * rng.normal()))))


def _rosters(rng: np.random.Generator) -> list[pd.DataFrame]:
    """Pupils on roll in each academic year, with their latent traits."""
    next_id = 1
    first = []
    for school in SCHOOLS:
        groups = YEAR_GROUPS[school.phase]
        sizes = [_cohort_size(rng, school) for _ in groups]
        ygs = np.repeat(np.array(groups), sizes)
        first.append(_new_pupils(rng, school, ygs, next_id, joiners=False))
        next_id += len(ygs)
    rosters = [pd.concat(first, ignore_index=True)]
    phase_of = {s.school_id: s.phase for s in SCHOOLS}
    for _ in ACADEMIC_YEARS[1:]:
        prev = rosters[-1].copy()
        prev["year_group"] = prev["year_group"] + 1
        phase = prev["school_id"].map(phase_of)
        leaver = ((phase == "primary") & (prev["year_group"] > 6)) | (prev["year_group"] > 11)
        prev = prev.loc[~leaver].reset_index(drop=True)
        phase = prev["school_id"].map(phase_of).to_numpy()
        protected = prev["pupil_id"].isin(_PROTECTED).to_numpy()
        u = rng.random(len(prev))
        p_leave = np.where(phase == "primary", 0.05, 0.04)
        leave = (u < p_leave) & ~protected
        move = (u >= p_leave) & (u < p_leave + 0.012) & ~protected
        pick = rng.random(len(prev))
        schools = prev["school_id"].to_numpy().copy()
        for i in np.flatnonzero(move):
            others = [
                s.school_id for s in SCHOOLS if s.phase == phase[i] and s.school_id != schools[i]
            ]
            schools[i] = others[int(pick[i] * len(others))]
        prev["school_id"] = schools
        # changes of status from one year to the next
        dis = prev["disadvantaged"].to_numpy()
        fsm = prev["fsm"].to_numpy()
        r1, r2, r3 = rng.random(len(prev)), rng.random(len(prev)), rng.random(len(prev))
        became = ~dis & (r1 < 0.02)
        new_fsm = np.where(became, r2 < 0.8, np.where(fsm, r2 < 0.92, dis & (r2 < 0.05)))
        prev["disadvantaged"] = dis | became
        prev["fsm"] = new_fsm
        sen = prev["sen"].to_numpy()
        prev["sen"] = np.where(
            (sen == "none") & (r3 < 0.02),
            "support",
            np.where(
                (sen == "support") & (r3 < 0.08),
                "none",
                np.where((sen == "support") & (r3 > 0.98), "ehcp", sen),
            ),
        )
        prev = prev.loc[~leave].reset_index(drop=True)
        parts = [prev]
        for school in SCHOOLS:
            groups = YEAR_GROUPS[school.phase]
            entry = _cohort_size(rng, school)
            joiners = rng.poisson(school.cohort * 0.045, size=len(groups) - 1)
            ygs = np.concatenate(
                [np.full(entry, groups[0])]
                + [np.full(k, g) for k, g in zip(joiners, groups[1:], strict=True)]
            )
            is_joiner = ygs != groups[0]
            new = _new_pupils(rng, school, ygs, next_id, joiners=False)
            if is_joiner.any():
                # mobile pupils are more often disadvantaged
                extra = is_joiner & (rng.random(len(ygs)) < school.disadvantaged * 0.3)
                new.loc[extra, "disadvantaged"] = True
                new.loc[extra, "fsm"] = rng.random(int(extra.sum())) < 0.8
            next_id += len(ygs)
            parts.append(new)
        roster = pd.concat(parts, ignore_index=True)
        order = np.lexsort(
            (
                roster["pupil_id"].to_numpy(),
                roster["year_group"].to_numpy(),
                roster["school_id"].to_numpy(),
            )
        )
        rosters.append(roster.iloc[order].reset_index(drop=True))
    first = rosters[0]
    order = np.lexsort(
        (
            first["pupil_id"].to_numpy(),
            first["year_group"].to_numpy(),
            first["school_id"].to_numpy(),
        )
    )
    rosters[0] = first.iloc[order].reset_index(drop=True)
    return rosters


def _prior_attainment(roster: pd.DataFrame) -> np.ndarray:
    band = np.where(
        roster["pa_latent"] < -0.9, "low", np.where(roster["pa_latent"] > 0.55, "high", "middle")
    )
    return np.where(roster["year_group"] >= 3, band, "")


# --------------------------------------------------------------------------- tables


def _fmt1(x: np.ndarray) -> np.ndarray:
    """Format floats with one decimal place (``-0.0`` written as ``0.0``)."""
    x = np.round(np.asarray(x, dtype=float), 1) + 0.0
    return np.char.mod("%.1f", x)


def _bool(x) -> np.ndarray:
    return np.where(np.asarray(x, dtype=bool), "true", "false")


def _schools_table(rosters: list[pd.DataFrame]) -> pd.DataFrame:
    last = rosters[-1]["school_id"].value_counts()
    return pd.DataFrame(
        {
            "school_id": [s.school_id for s in SCHOOLS],
            "school_name": [s.name for s in SCHOOLS],
            "phase": [s.phase for s in SCHOOLS],
            "trust_id": TRUST_ID,
            "region": [s.region for s in SCHOOLS],
            "pupils_on_roll": [str(int(last[s.school_id])) for s in SCHOOLS],
            "urn": [s.urn for s in SCHOOLS],
        }
    )


def _pupils_table(rosters: list[pd.DataFrame]) -> pd.DataFrame:
    parts = []
    for year, r in zip(ACADEMIC_YEARS, rosters, strict=True):
        parts.append(
            pd.DataFrame(
                {
                    "pupil_id": r["pupil_id"].to_numpy(),
                    "school_id": r["school_id"].to_numpy(),
                    "academic_year": year,
                    "year_group": r["year_group"].astype(int).astype(str).to_numpy(),
                    "gender": r["gender"].to_numpy(),
                    "disadvantaged": _bool(r["disadvantaged"]),
                    "fsm": _bool(r["fsm"]),
                    "sen": r["sen"].to_numpy(),
                    "eal": _bool(r["eal"]),
                    "ethnicity": r["ethnicity"].to_numpy(),
                    "prior_attainment": _prior_attainment(r),
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


def _intervention_effect(
    school_ids: np.ndarray, dis: np.ndarray, t: int, subject: str
) -> np.ndarray:
    k = t - _period_index(INTERVENTION_START) + 1
    if k <= 0:
        return np.zeros(len(dis))
    ramp = min(k, 12) / 12.0
    in_school = np.isin(school_ids, INTERVENTION_SCHOOLS)
    return INTERVENTION_EFFECT.get(subject, 0.0) * ramp * (in_school & dis)


def _grade(score: np.ndarray) -> np.ndarray:
    return np.where(
        score < 45, "Working towards", np.where(score < 75, "Expected", "Greater depth")
    )


def _assessments_table(rng: np.random.Generator, rosters: list[pd.DataFrame]) -> pd.DataFrame:
    score_effect = {s.school_id: s.score_effect for s in SCHOOLS}
    parts = []
    for y, (year, r) in enumerate(zip(ACADEMIC_YEARS, rosters, strict=True)):
        for phase in ("primary", "secondary"):
            ids = [s.school_id for s in SCHOOLS if s.phase == phase]
            sub = r.loc[r["school_id"].isin(ids) & (r["year_group"] >= 1)]
            n = len(sub)
            school_ids = sub["school_id"].to_numpy()
            dis = sub["disadvantaged"].to_numpy()
            base = (
                55.0
                + 13.0 * sub["ability"].to_numpy()
                + sub["school_id"].map(score_effect).to_numpy()
                + DIRECT_GAP * dis
                + 0.5 * y
            )
            protected = sub["pupil_id"].isin(_PROTECTED).to_numpy()
            for h, assessment in ASSESSMENTS.items():
                t = y * HALF_TERMS + h - 1
                for j, subject in enumerate(SUBJECTS[phase]):
                    score = (
                        base
                        + sub[f"dev{j}"].to_numpy()
                        + SUBJECT_EFFECT[subject]
                        + _intervention_effect(school_ids, dis, t, subject)
                        + rng.normal(0.0, 6.0, size=n)
                    )
                    score = np.clip(np.round(score, 1), 0.0, 100.0)
                    keep = (rng.random(n) >= 0.02) | protected
                    parts.append(
                        pd.DataFrame(
                            {
                                "pupil_id": sub["pupil_id"].to_numpy()[keep],
                                "school_id": school_ids[keep],
                                "academic_year": year,
                                "period": PERIODS[t],
                                "subject": subject,
                                "assessment": assessment,
                                "score": _fmt1(score[keep]),
                                "grade": _grade(score[keep]) if phase == "primary" else "",
                                "max_score": "100",
                                "_t": t,
                                "_j": j,
                            }
                        )
                    )
    df = pd.concat(parts, ignore_index=True)
    order = np.lexsort(
        (
            df["_j"].to_numpy(),
            df["pupil_id"].to_numpy(),
            df["school_id"].to_numpy(),
            df["_t"].to_numpy(),
        )
    )
    return df.iloc[order].drop(columns=["_t", "_j"]).reset_index(drop=True)


def _attendance_rates(rng: np.random.Generator, r: pd.DataFrame, y: int) -> np.ndarray:
    """Each pupil's underlying attendance rate in one academic year.

    A two-component beta mixture per pupil: most pupils attend well (beta with mean ``m``,
    concentration 150); a minority, larger among disadvantaged pupils, attend poorly (beta with
    mean 0.80, concentration 12). A persistent pupil trait (correlation 0.8 between years)
    decides both the component and the position within it.
    """
    phase = r["school_id"].map({s.school_id: s.phase for s in SCHOOLS}).to_numpy()
    primary = phase == "primary"
    dis = r["disadvantaged"].to_numpy()
    sen = r["sen"].to_numpy()
    m = (
        np.where(primary, 0.956, 0.943)
        + r["school_id"].map({s.school_id: s.attendance_effect for s in SCHOOLS}).to_numpy()
        - 0.022 * dis
        - 0.008 * (sen == "support")
        - 0.02 * (sen == "ehcp")
    )
    q = np.where(primary, 0.04, 0.08) + np.where(primary, 0.08, 0.12) * dis
    z = 0.8 * r["z_att"].to_numpy() + 0.6 * rng.normal(size=len(r))
    u = np.clip(special.ndtr(z), 1e-9, 1 - 1e-9)
    low = u < q
    u_main = np.clip((u - q) / (1.0 - q), 1e-9, 1 - 1e-9)
    u_low = np.clip(u / q, 1e-9, 1 - 1e-9)
    main = special.betaincinv(150.0 * m, 150.0 * (1.0 - m), u_main)
    poor = special.betaincinv(12.0 * 0.80, 12.0 * 0.20, u_low)
    return np.where(low, poor, main)


def _attendance_table(rng: np.random.Generator, rosters: list[pd.DataFrame]) -> pd.DataFrame:
    parts = []
    shift_from = _period_index(SHIFT_START)
    for y, (year, r) in enumerate(zip(ACADEMIC_YEARS, rosters, strict=True)):
        rate = _attendance_rates(rng, r, y)
        in_shift_school = (r["school_id"] == SHIFT_SCHOOL).to_numpy()
        for h in range(1, HALF_TERMS + 1):
            t = y * HALF_TERMS + h - 1
            possible = POSSIBLE_SESSIONS[year][h - 1]
            p = rate + SEASON[h - 1]
            if t >= shift_from:
                p = p + (SHIFT_SIZE / 100.0) * in_shift_school
            attended = rng.binomial(possible, np.clip(p, 0.0, 1.0))
            parts.append(
                pd.DataFrame(
                    {
                        "pupil_id": r["pupil_id"].to_numpy(),
                        "school_id": r["school_id"].to_numpy(),
                        "academic_year": year,
                        "period": PERIODS[t],
                        "possible_sessions": str(possible),
                        "attended_sessions": attended.astype(str),
                    }
                )
            )
    return pd.concat(parts, ignore_index=True)


BEHAVIOUR_RATES = {  # mean incidents per pupil per half-term, before pupil multipliers
    "primary": {"positive": 0.3, "low_level": 0.16, "serious": 0.015, "suspension": 0.002},
    "secondary": {"positive": 0.4, "low_level": 0.42, "serious": 0.05, "suspension": 0.012},
}


def _behaviour_table(rng: np.random.Generator, rosters: list[pd.DataFrame]) -> pd.DataFrame:
    phase_of = {s.school_id: s.phase for s in SCHOOLS}
    parts = []
    for y, r in enumerate(rosters):
        phase = r["school_id"].map(phase_of).to_numpy()
        dis = r["disadvantaged"].to_numpy()
        sen = r["sen"].to_numpy()
        neg_mult = (1.0 + 0.6 * dis) * np.where(
            sen == "ehcp", 2.0, np.where(sen == "support", 1.7, 1.0)
        )
        for h in range(1, HALF_TERMS + 1):
            t = y * HALF_TERMS + h - 1
            for kind in ("positive", "low_level", "serious", "suspension"):
                base = np.where(
                    phase == "primary",
                    BEHAVIOUR_RATES["primary"][kind],
                    BEHAVIOUR_RATES["secondary"][kind],
                )
                if kind == "positive":
                    lam = base * r["frail_pos"].to_numpy() * (1.0 - 0.1 * dis)
                else:
                    lam = base * r["frail_neg"].to_numpy() * neg_mult
                count = rng.poisson(lam)
                keep = count > 0
                parts.append(
                    pd.DataFrame(
                        {
                            "pupil_id": r["pupil_id"].to_numpy()[keep],
                            "school_id": r["school_id"].to_numpy()[keep],
                            "period": PERIODS[t],
                            "incident_type": kind,
                            "count": count[keep].astype(str),
                            "_t": t,
                            "_k": ("positive", "low_level", "serious", "suspension").index(kind),
                        }
                    )
                )
    df = pd.concat(parts, ignore_index=True)
    order = np.lexsort(
        (
            df["_k"].to_numpy(),
            df["pupil_id"].to_numpy(),
            df["school_id"].to_numpy(),
            df["_t"].to_numpy(),
        )
    )
    return df.iloc[order].drop(columns=["_t", "_k"]).reset_index(drop=True)


def _survey_items_table() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "item_id": [i[0] for i in SURVEY_ITEMS],
            "scale": [i[1] for i in SURVEY_ITEMS],
            "text": [i[2] for i in SURVEY_ITEMS],
            "reverse_coded": _bool([i[3] for i in SURVEY_ITEMS]),
            "min": "1",
            "max": "5",
        }
    )


def _item_responses(rng: np.random.Generator, eta: np.ndarray, scale: str) -> np.ndarray:
    """Responses (n × items) of one scale from the latent ``eta``, reverse items reversed."""
    items = [i for i in SURVEY_ITEMS if i[1] == scale]
    lam = SCALE_LOADINGS[scale]
    x = lam * eta[:, None] + np.sqrt(1.0 - lam**2) * rng.normal(size=(len(eta), len(items)))
    cat = np.digitize(x, ITEM_THRESHOLDS) + 1
    reverse = np.array([i[3] for i in items])
    return np.where(reverse, 6 - cat, cat)


#: School effect on the latent learning climate (NLT07's climate is weaker).
CLIMATE_EFFECT = {"NLT07": -0.3, "NLT05": 0.2}
WORKLOAD_EFFECT = {"NLT07": -0.4, "NLT03": 0.2}


def _staff(rng: np.random.Generator, rosters: list[pd.DataFrame]) -> list[pd.DataFrame]:
    """Staff on roll in each academic year (ids ``STF0001`` …; about 12% turnover a year)."""
    next_id = 1
    years = []
    current: dict[str, list[str]] = {}
    for y in range(len(ACADEMIC_YEARS)):
        rows = []
        for s in SCHOOLS:
            n_pupils = int((rosters[y]["school_id"] == s.school_id).sum())
            n_staff = n_pupils // 20 + 6 if s.phase == "primary" else n_pupils // 13 + 10
            ids = current.get(s.school_id, [])
            if ids:
                stay = rng.random(len(ids)) >= 0.12
                ids = [i for i, k in zip(ids, stay, strict=True) if k or i == "STF0001"]
            while len(ids) < n_staff:
                ids.append(f"STF{next_id:04d}")
                next_id += 1
            ids = ids[:n_staff] if "STF0001" not in ids[n_staff:] else ids
            current[s.school_id] = ids
            rows.extend((i, s.school_id) for i in ids)
        years.append(pd.DataFrame(rows, columns=["staff_id", "school_id"]))
    return years


def _survey_responses_table(
    rng: np.random.Generator, rosters: list[pd.DataFrame], staff: list[pd.DataFrame]
) -> pd.DataFrame:
    pupil_items = [i[0] for i in SURVEY_ITEMS if i[1] in ("belonging", "learning_climate")]
    staff_items = [i[0] for i in SURVEY_ITEMS if i[1] == "workload"]
    parts = []
    for y, r in enumerate(rosters):
        for h in range(1, HALF_TERMS + 1):
            t = y * HALF_TERMS + h - 1
            if h in PUPIL_SURVEY_PERIODS:
                elig = r.loc[r["year_group"].isin(SURVEY_YEAR_GROUPS)]
                dis = elig["disadvantaged"].to_numpy()
                p = np.where(dis, RESPONSE_RATE[True], RESPONSE_RATE[False])
                resp = elig.loc[rng.random(len(elig)) < p]
                n = len(resp)
                rdis = resp["disadvantaged"].to_numpy()
                eta_bel = 0.6 * resp["xi_bel"].to_numpy() + 0.8 * rng.normal(size=n) - 0.25 * rdis
                eta_lc = (
                    0.5 * resp["xi_lc"].to_numpy()
                    + np.sqrt(0.75) * rng.normal(size=n)
                    + resp["school_id"]
                    .map(lambda s: CLIMATE_EFFECT.get(s, 0.0))
                    .to_numpy(dtype=float)
                )
                answers = np.hstack(
                    [
                        _item_responses(rng, eta_bel, "belonging"),
                        _item_responses(rng, eta_lc, "learning_climate"),
                    ]
                )
                answered = rng.random(answers.shape) >= 0.01
                ids = np.repeat(resp["pupil_id"].to_numpy(), len(pupil_items))
                sch = np.repeat(resp["school_id"].to_numpy(), len(pupil_items))
                items = np.tile(np.array(pupil_items), n)
                keep = answered.ravel()
                parts.append(
                    pd.DataFrame(
                        {
                            "respondent_id": ids[keep],
                            "respondent_type": "pupil",
                            "school_id": sch[keep],
                            "period": PERIODS[t],
                            "item_id": items[keep],
                            "response": answers.ravel()[keep].astype(str),
                            "pupil_id": ids[keep],
                        }
                    )
                )
            if h == STAFF_SURVEY_PERIOD:
                st = staff[y]
                forced = (st["staff_id"] == "STF0001").to_numpy() & (y == 0)
                resp = st.loc[(rng.random(len(st)) < STAFF_RESPONSE_RATE) | forced]
                n = len(resp)
                eta = rng.normal(size=n) + resp["school_id"].map(
                    lambda s: WORKLOAD_EFFECT.get(s, 0.0)
                ).to_numpy(dtype=float)
                answers = _item_responses(rng, eta, "workload")
                k = len(staff_items)
                parts.append(
                    pd.DataFrame(
                        {
                            "respondent_id": np.repeat(resp["staff_id"].to_numpy(), k),
                            "respondent_type": "staff",
                            "school_id": np.repeat(resp["school_id"].to_numpy(), k),
                            "period": PERIODS[t],
                            "item_id": np.tile(np.array(staff_items), n),
                            "response": answers.ravel().astype(str),
                            "pupil_id": "",
                        }
                    )
                )
    return pd.concat(parts, ignore_index=True)


def _systems_table(rng: np.random.Generator, rosters: list[pd.DataFrame]) -> pd.DataFrame:
    rows = []
    start = _period_index(INTERVENTION_START)
    shift_from = _period_index(SHIFT_START)
    fidelity_base = {"NLT01": 88.0, "NLT02": 84.0, "NLT03": 78.0}
    for y, r in enumerate(rosters):
        on_roll = r["school_id"].value_counts()
        for h in range(1, HALF_TERMS + 1):
            t = y * HALF_TERMS + h - 1
            for s in SCHOOLS:
                primary = s.phase == "primary"
                strained = s.school_id == SHIFT_SCHOOL and t >= shift_from - 1
                absence = (
                    (3.4 if primary else 4.0)
                    + (1.0 if h == 3 else 0.0)
                    + (1.5 if strained else 0.0)
                    + rng.normal(0.0, 0.5)
                )
                cpd = (9.0 if h == 1 else 5.5) + rng.normal(0.0, 1.0)
                vac = rng.poisson((0.3 if primary else 1.2) + (1.5 if strained else 0.0))
                rows.append(
                    (
                        s.school_id,
                        PERIODS[t],
                        "staff_absence_rate",
                        f"{max(round(absence, 1), 0.0) + 0.0:.1f}",
                    )
                )
                rows.append(
                    (
                        s.school_id,
                        PERIODS[t],
                        "cpd_hours_per_teacher",
                        f"{max(round(cpd, 1), 0.0) + 0.0:.1f}",
                    )
                )
                rows.append((s.school_id, PERIODS[t], "teacher_vacancies", str(int(vac))))
                if s.school_id in INTERVENTION_SCHOOLS and t >= start:
                    k = t - start
                    fid = fidelity_base[s.school_id] - 12.0 * 0.7**k + rng.normal(0.0, 2.0)
                    rows.append(
                        (
                            s.school_id,
                            PERIODS[t],
                            "fidelity_reading_intervention",
                            f"{min(max(round(fid, 1), 0.0), 100.0) + 0.0:.1f}",
                        )
                    )
                rows.append(
                    (
                        s.school_id,
                        PERIODS[t],
                        "pupils_on_roll",
                        str(int(on_roll.get(s.school_id, 0))),
                    )
                )
    return pd.DataFrame(rows, columns=["school_id", "period", "measure", "value"])


def _roadmap_table() -> pd.DataFrame:
    return pd.DataFrame(
        list(ROADMAP),
        columns=[
            "phase",
            "what_have_we_done",
            "how_have_we_engaged_stakeholders",
            "what_do_we_still_need_to_do",
            "by_when",
            "who_is_responsible",
        ],
    )


# --------------------------------------------------------------------------- dirty rows


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


def _add_dirt(tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
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


# --------------------------------------------------------------------------- writing


def _write_csv(df: pd.DataFrame, path: Path) -> None:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(list(df.columns))
    columns = [np.asarray(df[c], dtype=object).astype(str).tolist() for c in df.columns]
    writer.writerows(zip(*columns, strict=True))
    path.write_bytes(buf.getvalue().encode("utf-8"))


def _trust_yml() -> str:
    return TRUST_YML.format(
        name=TRUST_NAME,
        trust_id=TRUST_ID,
        years=", ".join(f'"{y}"' for y in ACADEMIC_YEARS),
        periods_per_year=HALF_TERMS,
        schools=", ".join(s.school_id for s in SCHOOLS),
    )


def generate(output: str | Path, *, seed: int = DEFAULT_SEED) -> dict[str, Path]:
    """Write the synthetic sample trust to ``output`` and return the paths of its files.

    The same ``seed`` always gives byte-identical files; the committed ``data/sample/`` is
    ``generate("data/sample")`` with :data:`DEFAULT_SEED`.

    Parameters
    ----------
    output
        Folder to write to (created if missing; files of the same names are overwritten).
    seed
        Seed of the random number generator.

    Returns
    -------
    dict of str to pathlib.Path
        File name without extension (``"pupils"``, ``"plan"``, ``"trust"`` …) to its path.

    Examples
    --------
    ``generate("data/sample")`` rewrites the committed sample (about six seconds). The calendar
    it writes:

    >>> DEFAULT_SEED, PERIODS[0], PERIODS[-1], len(PERIODS)
    (2026, '2023/24 HT1', '2025/26 HT6', 18)
    """
    out = Path(output)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    rosters = _rosters(rng)
    staff = _staff(rng, rosters)
    tables = {
        "schools": _schools_table(rosters),
        "pupils": _pupils_table(rosters),
        "assessments": _assessments_table(rng, rosters),
        "attendance": _attendance_table(rng, rosters),
        "behaviour": _behaviour_table(rng, rosters),
        "survey_items": _survey_items_table(),
        "survey_responses": _survey_responses_table(rng, rosters, staff),
        "systems": _systems_table(rng, rosters),
        "roadmap": _roadmap_table(),
    }
    tables = _add_dirt(tables)
    paths: dict[str, Path] = {}
    for name in FILES:
        stem = name.rsplit(".", 1)[0]
        path = out / name
        if name == "plan.yml":
            if _SAMPLE_PLAN.exists():
                shutil.copyfile(_SAMPLE_PLAN, path)
            else:
                path.write_bytes(MINIMAL_PLAN_YML.encode("utf-8"))
        elif name == "trust.yml":
            path.write_bytes(_trust_yml().encode("utf-8"))
        else:
            _write_csv(tables[stem], path)
        paths[stem] = path
    return paths
