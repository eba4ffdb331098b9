"""Schools and pupils of the synthetic sample: rosters by year, and the schools and pupils tables.

Part of :func:`cilib.sample.generate.generate`; every draw comes from its one random generator,
in a fixed order.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cilib.data.sample_identity import TRUST_ID
from cilib.sample.design import (
    ACADEMIC_YEARS,
    PROTECTED_PUPILS,
    SCHOOLS,
    YEAR_GROUPS,
    SchoolSpec,
)


def new_pupils(
    rng: np.random.Generator,
    school: SchoolSpec,
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


def cohort_size(rng: np.random.Generator, school: SchoolSpec) -> int:
    """Draw the number of pupils entering one of ``school``'s year groups."""
    return max(10, int(round(school.cohort * (1.0 + 0.06 * rng.normal()))))


def rosters_by_year(
    rng: np.random.Generator, schools: tuple[SchoolSpec, ...] = SCHOOLS
) -> list[pd.DataFrame]:
    """Pupils on roll in each academic year, with their latent traits."""
    next_id = 1
    first = []
    for school in schools:
        groups = YEAR_GROUPS[school.phase]
        sizes = [cohort_size(rng, school) for _ in groups]
        ygs = np.repeat(np.array(groups), sizes)
        first.append(new_pupils(rng, school, ygs, next_id, joiners=False))
        next_id += len(ygs)
    rosters = [pd.concat(first, ignore_index=True)]
    phase_of = {s.school_id: s.phase for s in schools}
    for _ in ACADEMIC_YEARS[1:]:
        prev = rosters[-1].copy()
        prev["year_group"] = prev["year_group"] + 1
        phase = prev["school_id"].map(phase_of)
        leaver = ((phase == "primary") & (prev["year_group"] > 6)) | (prev["year_group"] > 11)
        prev = prev.loc[~leaver].reset_index(drop=True)
        phase = prev["school_id"].map(phase_of).to_numpy()
        protected = prev["pupil_id"].isin(PROTECTED_PUPILS).to_numpy()
        u = rng.random(len(prev))
        p_leave = np.where(phase == "primary", 0.05, 0.04)
        leave = (u < p_leave) & ~protected
        move = (u >= p_leave) & (u < p_leave + 0.012) & ~protected
        pick = rng.random(len(prev))
        school_of = prev["school_id"].to_numpy().copy()
        for i in np.flatnonzero(move):
            others = [
                s.school_id for s in schools if s.phase == phase[i] and s.school_id != school_of[i]
            ]
            school_of[i] = others[int(pick[i] * len(others))]
        prev["school_id"] = school_of
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
        for school in schools:
            groups = YEAR_GROUPS[school.phase]
            entry = cohort_size(rng, school)
            joiners = rng.poisson(school.cohort * 0.045, size=len(groups) - 1)
            ygs = np.concatenate(
                [np.full(entry, groups[0])]
                + [np.full(k, g) for k, g in zip(joiners, groups[1:], strict=True)]
            )
            is_joiner = ygs != groups[0]
            new = new_pupils(rng, school, ygs, next_id, joiners=False)
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


def prior_attainment_band(roster: pd.DataFrame) -> np.ndarray:
    """Prior-attainment band (low, middle, high) of each pupil; blank below year 3."""
    band = np.where(
        roster["pa_latent"] < -0.9, "low", np.where(roster["pa_latent"] > 0.55, "high", "middle")
    )
    return np.where(roster["year_group"] >= 3, band, "")


def fmt1(x: np.ndarray) -> np.ndarray:
    """Format floats with one decimal place (``-0.0`` written as ``0.0``)."""
    x = np.round(np.asarray(x, dtype=float), 1) + 0.0
    return np.char.mod("%.1f", x)


def bool_text(x) -> np.ndarray:
    """Write booleans as ``true`` / ``false``."""
    return np.where(np.asarray(x, dtype=bool), "true", "false")


def schools_table(
    rosters: list[pd.DataFrame], schools: tuple[SchoolSpec, ...] = SCHOOLS
) -> pd.DataFrame:
    """Return the schools table, with pupils on roll in the last year."""
    last = rosters[-1]["school_id"].value_counts()
    return pd.DataFrame(
        {
            "school_id": [s.school_id for s in schools],
            "school_name": [s.name for s in schools],
            "phase": [s.phase for s in schools],
            "trust_id": TRUST_ID,
            "region": [s.region for s in schools],
            "pupils_on_roll": [str(int(last[s.school_id])) for s in schools],
            "urn": [s.urn for s in schools],
        }
    )


def pupils_table(rosters: list[pd.DataFrame]) -> pd.DataFrame:
    """Return the pupils table: one row per pupil and academic year on roll."""
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
                    "disadvantaged": bool_text(r["disadvantaged"]),
                    "fsm": bool_text(r["fsm"]),
                    "sen": r["sen"].to_numpy(),
                    "eal": bool_text(r["eal"]),
                    "ethnicity": r["ethnicity"].to_numpy(),
                    "prior_attainment": prior_attainment_band(r),
                }
            )
        )
    return pd.concat(parts, ignore_index=True)
