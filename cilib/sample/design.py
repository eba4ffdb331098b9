"""Design of the synthetic sample trust: its schools, calendar and the effects planted in it.

The values here are the truth the tests and notebooks check the metrics against (see
``docs/sample-data.md``); :mod:`cilib.sample.generate` draws the sample from them.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from cilib.core.calendar import half_term_labels
from cilib.data.sample_identity import SCHOOL_NAMES, district_copy

#: Seed of the committed sample in ``data/sample/``.
DEFAULT_SEED = 2026

ACADEMIC_YEARS = ("2023/24", "2024/25", "2025/26")
HALF_TERMS = 6
#: All period labels in calendar order, ``"2023/24 HT1"`` … ``"2025/26 HT6"``.
PERIODS = tuple(half_term_labels(ACADEMIC_YEARS, HALF_TERMS))

#: Possible sessions (two a day) per half-term, by academic year.
POSSIBLE_SESSIONS = {
    "2023/24": (70, 72, 62, 62, 60, 68),
    "2024/25": (72, 70, 60, 64, 62, 66),
    "2025/26": (70, 72, 62, 64, 60, 68),
}
#: Seasonal change in each pupil's attendance rate by half-term (HT1 … HT6), as a proportion.
SEASON = (0.006, 0.0, -0.008, -0.003, 0.003, -0.005)


@dataclass(frozen=True)
class SchoolSpec:
    """One sample school: identity, size, intake mix and its effects on scores and attendance."""

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
    like: str = ""  # the sample school this one copies (a district's extra schools); "" if none

    @property
    def template(self) -> str:
        """The id of the sample school whose planted effects this school shares."""
        return self.like or self.school_id


SCHOOLS = (
    SchoolSpec("NLT01", SCHOOL_NAMES["NLT01"], "primary", "North", "990101", 52,
            0.36, 0.30, 0.70, 0.03, -1.0, -0.004),
    SchoolSpec("NLT02", SCHOOL_NAMES["NLT02"], "primary", "North", "990102", 36,
            0.25, 0.22, 0.75, 0.03, 0.0, 0.0),
    SchoolSpec("NLT03", SCHOOL_NAMES["NLT03"], "primary", "East", "990103", 30,
            0.18, 0.12, 0.85, 0.025, 1.5, 0.002),
    SchoolSpec("NLT04", SCHOOL_NAMES["NLT04"], "primary", "East", "990104", 32,
            0.30, 0.38, 0.60, 0.08, 0.5, -0.002),
    SchoolSpec("NLT05", SCHOOL_NAMES["NLT05"], "primary", "West", "990105", 40,
            0.155, 0.08, 0.90, 0.025, 2.0, 0.004),
    SchoolSpec("NLT06", SCHOOL_NAMES["NLT06"], "secondary", "North", "990106", 168,
            0.21, 0.22, 0.72, 0.03, 1.0, 0.002),
    SchoolSpec("NLT07", SCHOOL_NAMES["NLT07"], "secondary", "East", "990107", 164,
            0.33, 0.28, 0.70, 0.035, -1.5, -0.004),
    SchoolSpec("NLT08", SCHOOL_NAMES["NLT08"], "secondary", "West", "990108", 162,
            0.15, 0.10, 0.88, 0.03, 0.5, 0.003),
)  # fmt: skip
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
PROTECTED_PUPILS = tuple(f"P{i:05d}" for i in range(1, 11))


def period_index(label: str) -> int:
    """Return the position of a period label in :data:`PERIODS`."""
    return PERIODS.index(label)


#: Largest number of schools :func:`district_schools` makes (ids and URNs stay unique).
MAX_SCHOOLS = 20_000


def district_schools(n: int) -> tuple[SchoolSpec, ...]:
    """Return ``n`` schools: the sample's eight, then copies of them in turn.

    School ``k`` (counting from 0) beyond the eighth copies sample school ``k % 8``: same phase,
    size, intake and school effects, and the same planted effects (a copy of NLT01-NLT03 runs
    the reading intervention; only NLT07 has the fall in attendance). Ids continue ``NLT09``,
    ``NLT10`` ... and names add a number (``"Northfield Primary 2"``).

    Examples
    --------
    >>> [s.school_id for s in district_schools(10)][-3:]
    ['NLT08', 'NLT09', 'NLT10']
    >>> district_schools(9)[-1].template, district_schools(9)[-1].phase
    ('NLT01', 'primary')
    """
    if not len(SCHOOLS) <= n <= MAX_SCHOOLS:
        raise ValueError(
            f"a sample district has {len(SCHOOLS)} to {MAX_SCHOOLS:,} schools, not {n}"
        )
    by_id = {s.school_id: s for s in SCHOOLS}
    extra = []
    for k in range(len(SCHOOLS), n):
        school_id, name, copied = district_copy(k)
        urn = str(970000 + k + 1)
        extra.append(replace(by_id[copied], school_id=school_id, name=name, urn=urn, like=copied))
    return SCHOOLS + tuple(extra)


def intervention_ids(schools: tuple[SchoolSpec, ...]) -> tuple[str, ...]:
    """Ids of the schools running the reading intervention (the sample's three and their copies)."""
    return tuple(s.school_id for s in schools if s.template in INTERVENTION_SCHOOLS)
