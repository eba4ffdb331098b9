"""Outcome tables of the synthetic sample: assessments, attendance, behaviour, surveys, systems.

The planted effects of :mod:`cilib.sample.design` (the reading intervention, the attendance
shift, the survey loadings and response rates) enter here. Part of
:func:`cilib.sample.generate.generate`; every draw comes from its one random generator, in a fixed
order.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import special

from cilib.sample.design import (
    ACADEMIC_YEARS,
    ASSESSMENTS,
    DIRECT_GAP,
    HALF_TERMS,
    INTERVENTION_EFFECT,
    INTERVENTION_SCHOOLS,
    INTERVENTION_START,
    ITEM_THRESHOLDS,
    PERIODS,
    POSSIBLE_SESSIONS,
    PROTECTED_PUPILS,
    PUPIL_SURVEY_PERIODS,
    RESPONSE_RATE,
    SCALE_LOADINGS,
    SCHOOLS,
    SEASON,
    SHIFT_SCHOOL,
    SHIFT_SIZE,
    SHIFT_START,
    STAFF_RESPONSE_RATE,
    STAFF_SURVEY_PERIOD,
    SUBJECT_EFFECT,
    SUBJECTS,
    SURVEY_ITEMS,
    SURVEY_YEAR_GROUPS,
    SchoolSpec,
    intervention_ids,
    period_index,
)
from cilib.sample.pupils import bool_text, fmt1


def intervention_effect(
    school_ids: np.ndarray,
    dis: np.ndarray,
    t: int,
    subject: str,
    intervention: tuple[str, ...] = INTERVENTION_SCHOOLS,
) -> np.ndarray:
    """Points the reading intervention adds to each pupil's ``subject`` score in period ``t``."""
    k = t - period_index(INTERVENTION_START) + 1
    if k <= 0:
        return np.zeros(len(dis))
    ramp = min(k, 12) / 12.0
    in_school = np.isin(school_ids, intervention)
    return INTERVENTION_EFFECT.get(subject, 0.0) * ramp * (in_school & dis)


def grade_of(score: np.ndarray) -> np.ndarray:
    """Primary teacher-assessment grade of each score."""
    return np.where(
        score < 45, "Working towards", np.where(score < 75, "Expected", "Greater depth")
    )


def assessments_table(
    rng: np.random.Generator, rosters: list[pd.DataFrame], schools: tuple[SchoolSpec, ...] = SCHOOLS
) -> pd.DataFrame:
    """Return the assessments table: checkpoint scores per pupil, subject and assessment period."""
    score_effect = {s.school_id: s.score_effect for s in schools}
    treated = intervention_ids(schools)
    parts = []
    for y, (year, r) in enumerate(zip(ACADEMIC_YEARS, rosters, strict=True)):
        for phase in ("primary", "secondary"):
            ids = [s.school_id for s in schools if s.phase == phase]
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
            protected = sub["pupil_id"].isin(PROTECTED_PUPILS).to_numpy()
            for h, assessment in ASSESSMENTS.items():
                t = y * HALF_TERMS + h - 1
                for j, subject in enumerate(SUBJECTS[phase]):
                    score = (
                        base
                        + sub[f"dev{j}"].to_numpy()
                        + SUBJECT_EFFECT[subject]
                        + intervention_effect(school_ids, dis, t, subject, treated)
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
                                "score": fmt1(score[keep]),
                                "grade": grade_of(score[keep]) if phase == "primary" else "",
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


def attendance_rates(
    rng: np.random.Generator, r: pd.DataFrame, y: int, schools: tuple[SchoolSpec, ...] = SCHOOLS
) -> np.ndarray:
    """Each pupil's underlying attendance rate in one academic year.

    A two-component beta mixture per pupil: most pupils attend well (beta with mean ``m``,
    concentration 150); a minority, larger among disadvantaged pupils, attend poorly (beta with
    mean 0.80, concentration 12). A persistent pupil trait (correlation 0.8 between years)
    decides both the component and the position within it.
    """
    phase = r["school_id"].map({s.school_id: s.phase for s in schools}).to_numpy()
    primary = phase == "primary"
    dis = r["disadvantaged"].to_numpy()
    sen = r["sen"].to_numpy()
    m = (
        np.where(primary, 0.956, 0.943)
        + r["school_id"].map({s.school_id: s.attendance_effect for s in schools}).to_numpy()
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


def attendance_table(
    rng: np.random.Generator, rosters: list[pd.DataFrame], schools: tuple[SchoolSpec, ...] = SCHOOLS
) -> pd.DataFrame:
    """Return the attendance table: possible and attended sessions per pupil and half-term."""
    parts = []
    shift_from = period_index(SHIFT_START)
    for y, (year, r) in enumerate(zip(ACADEMIC_YEARS, rosters, strict=True)):
        rate = attendance_rates(rng, r, y, schools)
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


def behaviour_table(
    rng: np.random.Generator, rosters: list[pd.DataFrame], schools: tuple[SchoolSpec, ...] = SCHOOLS
) -> pd.DataFrame:
    """Return the behaviour table: incident counts per pupil, half-term and incident type."""
    phase_of = {s.school_id: s.phase for s in schools}
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


def survey_items_table() -> pd.DataFrame:
    """Return the survey items table: every item of the pupil and staff scales."""
    return pd.DataFrame(
        {
            "item_id": [i[0] for i in SURVEY_ITEMS],
            "scale": [i[1] for i in SURVEY_ITEMS],
            "text": [i[2] for i in SURVEY_ITEMS],
            "reverse_coded": bool_text([i[3] for i in SURVEY_ITEMS]),
            "min": "1",
            "max": "5",
        }
    )


def item_responses(rng: np.random.Generator, eta: np.ndarray, scale: str) -> np.ndarray:
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


def staff_by_year(
    rng: np.random.Generator, rosters: list[pd.DataFrame], schools: tuple[SchoolSpec, ...] = SCHOOLS
) -> list[pd.DataFrame]:
    """Staff on roll in each academic year (ids ``STF0001`` …; about 12% turnover a year)."""
    next_id = 1
    years = []
    current: dict[str, list[str]] = {}
    for y in range(len(ACADEMIC_YEARS)):
        rows = []
        on_roll = rosters[y]["school_id"].value_counts()
        for s in schools:
            n_pupils = int(on_roll.get(s.school_id, 0))
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


def survey_responses_table(
    rng: np.random.Generator, rosters: list[pd.DataFrame], staff: list[pd.DataFrame]
) -> pd.DataFrame:
    """Return the survey responses table: pupil and staff answers, one row per item answered."""
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
                        item_responses(rng, eta_bel, "belonging"),
                        item_responses(rng, eta_lc, "learning_climate"),
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
                answers = item_responses(rng, eta, "workload")
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


def systems_table(
    rng: np.random.Generator, rosters: list[pd.DataFrame], schools: tuple[SchoolSpec, ...] = SCHOOLS
) -> pd.DataFrame:
    """Return the systems table: school-level measures per half-term."""
    rows = []
    start = period_index(INTERVENTION_START)
    shift_from = period_index(SHIFT_START)
    fidelity_base = {"NLT01": 88.0, "NLT02": 84.0, "NLT03": 78.0}
    for y, r in enumerate(rosters):
        on_roll = r["school_id"].value_counts()
        for h in range(1, HALF_TERMS + 1):
            t = y * HALF_TERMS + h - 1
            for s in schools:
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
                if s.template in INTERVENTION_SCHOOLS and t >= start:
                    k = t - start
                    fid = fidelity_base[s.template] - 12.0 * 0.7**k + rng.normal(0.0, 2.0)
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
