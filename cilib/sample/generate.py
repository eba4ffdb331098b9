"""Deterministic generator of the synthetic sample trust in ``data/sample/``.

The sample is a fictional multi-academy trust, *Northfield Learning Trust (synthetic sample)*,
with five primary and three secondary schools followed over three academic years of six
half-terms each. Every table of the data contract (:mod:`cilib.core.schema`) is written, together
with ``plan.yml``, ``roadmap.csv`` and the trust config ``trust.yml``.

Known effects are planted so that tests and notebooks can check that the metrics find them (the
true values are in :mod:`cilib.sample.design` and documented in ``docs/sample-data.md``):

1. a reading intervention for disadvantaged pupils in NLT01, NLT02 and NLT03 from 2024/25 HT1,
   which narrows the disadvantaged gap in reading by ``INTERVENTION_EFFECT`` points (and in
   maths a little) by 2025/26 HT6, rising linearly over twelve half-terms;
2. a sustained fall in attendance of ``SHIFT_SIZE`` points at NLT07 from 2024/25 HT4;
3. survey scales generated from a one-factor model whose loadings give known reliability;
4. pupil-survey response rates lower for disadvantaged pupils (``RESPONSE_RATE``);

and a few dirty rows that validation must catch, listed in
:data:`cilib.sample.dirt.DIRTY_ROWS`. Schools and pupils are drawn by :mod:`cilib.sample.pupils`,
the outcome tables by :mod:`cilib.sample.outcomes`.

Everything is drawn from one :class:`numpy.random.Generator` seeded with ``seed``, in a fixed
order, and written with fixed formatting, so the same seed gives byte-identical files.
"""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from cilib.data.sample_identity import TRUST_ID, TRUST_NAME
from cilib.sample.design import (
    ACADEMIC_YEARS,
    DEFAULT_SEED,
    HALF_TERMS,
    SCHOOLS,
    SchoolSpec,
    district_schools,
)
from cilib.sample.dirt import add_dirt
from cilib.sample.outcomes import (
    assessments_table,
    attendance_table,
    behaviour_table,
    staff_by_year,
    survey_items_table,
    survey_responses_table,
    systems_table,
)
from cilib.sample.pupils import pupils_table, rosters_by_year, schools_table

__all__ = ["FILES", "generate"]

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


# --------------------------------------------------------------------------- writing


def _write_csv(df: pd.DataFrame, path: Path) -> None:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(list(df.columns))
    columns = [np.asarray(df[c], dtype=object).astype(str).tolist() for c in df.columns]
    writer.writerows(zip(*columns, strict=True))
    path.write_bytes(buf.getvalue().encode("utf-8"))


def _trust_yml(schools: tuple[SchoolSpec, ...]) -> str:
    return TRUST_YML.format(
        name=TRUST_NAME,
        trust_id=TRUST_ID,
        years=", ".join(f'"{y}"' for y in ACADEMIC_YEARS),
        periods_per_year=HALF_TERMS,
        schools=", ".join(s.school_id for s in schools),
    )


def district_plan(schools: tuple[SchoolSpec, ...]) -> str:
    """Return the sample plan with each goal's and strategy's schools extended to their copies.

    A goal for NLT01-NLT05 (the primaries) covers every copy of them too, so a district's plan
    asks the same questions of every school.
    """
    plan = yaml.safe_load(_SAMPLE_PLAN.read_text(encoding="utf-8"))
    copies: dict[str, list[str]] = {}
    for s in schools:
        copies.setdefault(s.template, []).append(s.school_id)

    def widen(node):
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "schools" and isinstance(value, list):
                    node[key] = [x for v in value for x in copies.get(str(v), [v])]
                else:
                    widen(value)
        elif isinstance(node, list):
            for item in node:
                widen(item)

    widen(plan)
    head = f"# Sample plan widened to a district of {len(schools)} schools (cilib sample).\n"
    return head + yaml.safe_dump(plan, sort_keys=False, allow_unicode=True, width=100)


def generate(
    output: str | Path, *, seed: int = DEFAULT_SEED, schools: int | None = None
) -> dict[str, Path]:
    """Write the synthetic sample trust to ``output`` and return the paths of its files.

    The same ``seed`` always gives byte-identical files; the committed ``data/sample/`` is
    ``generate("data/sample")`` with :data:`~cilib.sample.design.DEFAULT_SEED`.

    Parameters
    ----------
    output
        Folder to write to (created if missing; files of the same names are overwritten).
    seed
        Seed of the random number generator.
    schools
        Number of schools (at least 8): ``None`` or 8 writes the sample trust; more writes a
        district of the sample's eight schools and copies of them with the same planted effects
        (:func:`cilib.sample.design.district_schools`), for benchmarks and scale tests.

    Returns
    -------
    dict of str to pathlib.Path
        File name without extension (``"pupils"``, ``"plan"``, ``"trust"`` …) to its path.

    Examples
    --------
    ``generate("data/sample")`` rewrites the committed sample (about six seconds). The calendar
    it writes:

    >>> from cilib.sample.design import PERIODS
    >>> DEFAULT_SEED, PERIODS[0], PERIODS[-1], len(PERIODS)
    (2026, '2023/24 HT1', '2025/26 HT6', 18)
    """
    out = Path(output)
    out.mkdir(parents=True, exist_ok=True)
    specs = SCHOOLS if schools is None else district_schools(schools)
    rng = np.random.default_rng(seed)
    rosters = rosters_by_year(rng, specs)
    staff = staff_by_year(rng, rosters, specs)
    tables = {
        "schools": schools_table(rosters, specs),
        "pupils": pupils_table(rosters),
        "assessments": assessments_table(rng, rosters, specs),
        "attendance": attendance_table(rng, rosters, specs),
        "behaviour": behaviour_table(rng, rosters, specs),
        "survey_items": survey_items_table(),
        "survey_responses": survey_responses_table(rng, rosters, staff),
        "systems": systems_table(rng, rosters, specs),
        "roadmap": _roadmap_table(),
    }
    tables = add_dirt(tables)
    paths: dict[str, Path] = {}
    for name in FILES:
        stem = name.rsplit(".", 1)[0]
        path = out / name
        if name == "plan.yml":
            if specs is not SCHOOLS:
                path.write_bytes(district_plan(specs).encode("utf-8"))
            elif _SAMPLE_PLAN.exists():
                shutil.copyfile(_SAMPLE_PLAN, path)
            else:
                path.write_bytes(MINIMAL_PLAN_YML.encode("utf-8"))
        elif name == "trust.yml":
            path.write_bytes(_trust_yml(specs).encode("utf-8"))
        else:
            _write_csv(tables[stem], path)
        paths[stem] = path
    return paths
