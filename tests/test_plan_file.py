"""Tests for cilib.cycle: loading with line-numbered errors, checks, trajectories,
decisions."""

from __future__ import annotations

import datetime as dt
from importlib import resources

import pandas as pd
import pytest

from cilib.core.errors import PlanError
from cilib.cycle import (
    COMPONENTS,
    IMPROVEMENT_MODEL,
    Goal,
    Plan,
    Strategy,
    action_status,
    baseline,
    decide,
    load_plan,
    loads_plan,
    pdsa_log,
    plan_checks,
    progress,
    strategy_evidence,
    trajectory,
)

BASE = """\
vision: Every pupil reads well.
priorities:
  - id: P1
    title: Reading
goals:
  - id: G1
    title: Reading gap
    priority: P1
    metric: {table: attendance, measure: attendance_rate}
    baseline_period: "2023/24 HT6"
    target: 95
    target_period: "2025/26 HT6"
    direction: up
strategies:
  - id: S1
    title: Reading programme
    goals: [G1]
    component: evidence_informed_strategies
    review_after_periods: 3
actions:
  - id: A1
    strategy: S1
    title: Train staff
    owner: Head
    start: 2024-09-01
    due: 2024-10-01
    status: in_progress
pdsa:
  - id: C1
    strategy: S1
    change_idea: Morning sessions
    decision: adopt
"""


def edit(
    *,
    replace: dict[int, str] | None = None,
    insert: dict[int, str] | None = None,
    delete: tuple[int, ...] = (),
) -> str:
    """Return BASE with 1-based lines replaced, inserted after, or deleted."""
    lines = BASE.splitlines()
    out = []
    for i, text in enumerate(lines, start=1):
        if i not in delete:
            out.append((replace or {}).get(i, text))
        if insert and i in insert:
            out.extend(insert[i].splitlines())
    return "\n".join(out) + "\n"


def write(tmp_path, text: str):
    p = tmp_path / "plan.yml"
    p.write_text(text, encoding="utf-8")
    return p


SAMPLE = resources.files("cilib.resources").joinpath("sample_plan.yml")


@pytest.fixture(scope="module")
def sample():
    with resources.as_file(SAMPLE) as path:
        return load_plan(path)


# ------------------------------------------------------------------------------ loading


def test_base_plan_loads(tmp_path):
    """The minimal plan loads with its parts."""
    plan = load_plan(write(tmp_path, BASE))
    assert plan.goals[0].target == 95.0
    assert plan.strategies[0].components == ("evidence_informed_strategies",)
    assert plan.actions[0].due == dt.date(2024, 10, 1)
    assert plan.source == "plan.yml"


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"delete": (11,)}, r"plan\.yml line 6: goal 'G1' has no target"),
        ({"delete": (12,)}, r"line 6: goal 'G1' has no target_period"),
        ({"insert": {10: "    baseline: 94.2"}}, r"line 11: .*computed from data"),
        ({"replace": {10: '    baseline_period: "2023/24 T6"'}}, r"line 10: .*half-term label"),
        ({"replace": {12: '    target_period: "2022/23 HT6"'}}, r"line 12: .*must come after"),
        (
            {"replace": {9: "    metric: {table: attendance, measure: attendence_rate}"}},
            r"line 9: .*measure 'attendence_rate' is unknown",
        ),
        (
            {"replace": {9: "    metric: {table: exams, measure: mean_score}"}},
            r"line 9: .*table 'exams' is unknown",
        ),
        ({"replace": {8: "    priority: P9"}}, r"line 8: .*priority 'P9'"),
        ({"replace": {13: "    direction: sideways"}}, r"line 13: .*direction"),
        ({"replace": {13: "    directon: up"}}, r"line 13: .*unknown key 'directon'"),
        ({"insert": {13: '    milestones: {"2026/27 HT1": 96}'}}, r"line 14: .*milestone"),
        ({"insert": {11: "    target: 96"}}, r"line 12: key 'target' appears twice"),
        ({"replace": {17: "    goals: [G9]"}}, r"line 17: .*goal 'G9'"),
        ({"replace": {18: "    component: vibes"}}, r"line 18: .*component 'vibes'"),
        ({"replace": {19: "    review_after_periods: 0"}}, r"line 19: .*review_after_periods"),
        ({"insert": {19: "    cost: {hours: 3}"}}, r"line 20: .*unknown key 'hours'"),
        ({"insert": {19: "    outcome_measure: G7"}}, r"line 20: .*outcome_measure 'G7'"),
        ({"insert": {19: "  - id: S1\n    title: Again"}}, r"line 20: .*'S1' is used twice"),
        ({"replace": {26: "    due: 31/10/2024"}}, r"line 26: .*not a date"),
        ({"replace": {26: "    due: 2024-08-01"}}, r"line 26: .*before start"),
        ({"replace": {27: "    status: finished"}}, r"line 27: .*status 'finished'"),
        ({"replace": {22: "    strategy: S8"}}, r"line 22: .*strategy 'S8'"),
        ({"replace": {32: "    decision: keep"}}, r"line 32: .*decision 'keep'"),
        ({"replace": {4: "    title: Reading: the gap"}}, r"line 4: the YAML cannot be read"),
        ({"delete": (1,)}, r"line 1: the plan has no vision"),
        ({"replace": {6: "  - ident: G1"}}, r"line 6: goal number 1 has no id"),
        ({"insert": {32: "budget: 3"}}, r"line 33: unknown section 'budget'"),
        ({"insert": {13: "    focus_group: disadvantaged"}}, r"line 14: .*focus_group must"),
    ],
)
def test_validation_errors_name_the_line(tmp_path, kwargs, match):
    """Each malformed plan raises PlanError naming the line at fault."""
    with pytest.raises(PlanError, match=match):
        load_plan(write(tmp_path, edit(**kwargs)))


def test_missing_file(tmp_path):
    """A missing plan file is a PlanError that says where to start."""
    with pytest.raises(PlanError, match="not found"):
        load_plan(tmp_path / "nope.yml")


def test_period_outside_calendar(tmp_path):
    """With a calendar, a plan period outside it is an error on its line."""
    cal = [f"{y} HT{i}" for y in ("2024/25", "2025/26") for i in range(1, 7)]
    with pytest.raises(PlanError, match=r"line 10: .*outside the calendar"):
        load_plan(write(tmp_path, BASE), calendar=cal)


def test_more_than_five_priorities_warns_not_errors():
    """Six priorities load, with a warning."""
    extra = "".join(f"  - id: P{i}\n    title: T{i}\n" for i in range(2, 7))
    text = edit(insert={4: extra.rstrip("\n")})
    with pytest.warns(UserWarning, match="6 priorities"):
        plan = loads_plan(text)
    assert len(plan.priorities) == 6
    checks = plan_checks(plan)
    assert not checks.loc[checks["check"] == "at most five priorities", "passed"].item()


def test_sample_plan_loads(sample):
    """The sample plan loads: 4 priorities, 6 goals, 5 strategies, 10 actions, 3 PDSA cycles."""
    assert (len(sample.priorities), len(sample.goals), len(sample.strategies)) == (4, 6, 5)
    assert (len(sample.actions), len(sample.pdsa)) == (10, 3)
    s1 = sample.strategy("S1")
    assert s1.intervention == {
        "schools": ["NLT01", "NLT02", "NLT03"],
        "group": "focus",
        "start_period": "2024/25 HT1",
    }
    assert s1.process_measure["measure"] == "fidelity_reading_intervention"
    assert s1.expected == 85.0
    assert sample.warnings == ()


def test_improvement_model_has_twelve_components():
    """Three domains of four components each."""
    assert len(IMPROVEMENT_MODEL) == 3
    assert all(len(c) == 4 for c in IMPROVEMENT_MODEL.values())
    assert len(COMPONENTS) == 12


# ------------------------------------------------------------------------------ checks


def failed(checks: pd.DataFrame, check: str) -> list[str]:
    sel = checks.loc[(checks["check"] == check) & ~checks["passed"], "item"]
    return sorted(sel.tolist())


def test_checklist_catches_planted_issues_in_sample(sample):
    """The sample's planted gaps, and only those, fail the checklist."""
    checks = plan_checks(sample)
    assert list(checks.columns) == ["check", "item", "passed", "detail"]
    assert failed(checks, "strategy has a process measure") == ["S4"]
    assert failed(checks, "action has an owner") == ["A5", "A9"]
    assert failed(checks, "improvement-model component covered") == ["scaling_and_sustaining"]
    assert failed(checks, "strategy has a theory of action") == []
    assert failed(checks, "goal served by a strategy") == []
    assert (~checks["passed"]).sum() == 4


def test_checklist_on_incomplete_plan():
    """Goal without metric or baseline period, no theory of action, action without date."""
    text = edit(
        delete=(9, 10, 25, 26),
        insert={
            13: '  - id: G2\n    title: Orphan\n    target: 1\n    target_period: "2025/26 HT6"'
        },
    )
    checks = plan_checks(loads_plan(text))
    assert failed(checks, "goal has a metric") == ["G1", "G2"]
    assert failed(checks, "goal has a baseline period") == ["G1", "G2"]
    assert failed(checks, "goal served by a strategy") == ["G2"]
    assert failed(checks, "goal belongs to a priority") == ["G2"]
    assert failed(checks, "strategy has a theory of action") == ["S1"]
    assert failed(checks, "strategy has a process measure") == ["S1"]
    assert failed(checks, "action has a due date") == ["A1"]
    assert len(failed(checks, "improvement-model component covered")) == 11


# ------------------------------------------------------------------------------ actions, PDSA


def test_action_status_on_fixed_date(sample):
    """On 26 Nov 2026: A5, A7, A9 overdue; A3 (8 days) and A6 (14 days) due soon."""
    st = action_status(sample, dt.date(2026, 11, 26))
    flags = dict(zip(st["id"], st["flag"], strict=True))
    assert sorted(st.loc[st["overdue"], "id"]) == ["A5", "A7", "A9"]
    assert sorted(st.loc[st["due_soon"], "id"]) == ["A3", "A6"]
    assert flags["A1"] == "done" and flags["A10"] == "on track"
    assert st.set_index("id").loc["A5", "days_to_due"] == -26
    assert st["owner"].iloc[0] == "(no owner)"
    owners = st["owner"].tolist()
    assert owners == sorted(owners)


def test_action_status_at_period_end(sample):
    """Judged at the end of 2025/26 HT6 (31 Aug 2026) only A7 is overdue."""
    st = action_status(sample, "2025/26 HT6")
    assert st.loc[st["overdue"], "id"].tolist() == ["A7"]


def test_pdsa_log(sample):
    """Prediction against result: observed − predicted."""
    log = pdsa_log(sample).set_index("id")
    assert log.loc["C1", "difference"] == pytest.approx(86 - 90)
    assert log.loc["C2", "difference"] == pytest.approx(0.3)
    assert log.loc["C3", "decision"] == "abandon"
    assert log.loc["C2", "measure"] == "G2"
    assert log.loc["C1", "measure"].startswith("fidelity reading intervention")


# ------------------------------------------------------------------------------ trajectories


def test_straight_line_trajectory():
    """From 90 to 93 over three half-terms: 90, 91, 92, 93."""
    g = Goal(
        id="G", title="t", target=93.0, target_period="2024/25 HT4", baseline_period="2024/25 HT1"
    )
    tr = trajectory(g, 90.0)
    assert tr["period"].tolist() == [f"2024/25 HT{i}" for i in range(1, 5)]
    assert tr["expected"].tolist() == pytest.approx([90.0, 91.0, 92.0, 93.0])
    assert tr["kind"].tolist() == ["baseline", "interpolated", "interpolated", "target"]


def test_trajectory_through_milestone_across_years():
    """10 → milestone 16 two half-terms on → 20 four half-terms later."""
    g = Goal(
        id="G",
        title="t",
        target=20.0,
        target_period="2024/25 HT6",
        baseline_period="2023/24 HT6",
        milestones={"2024/25 HT2": 16.0},
        direction="up",
    )
    tr = trajectory(g, 10.0)
    assert tr["expected"].tolist() == pytest.approx([10, 13, 16, 17, 18, 19, 20])
    assert tr["kind"].iloc[2] == "milestone"


def test_trajectory_on_custom_calendar():
    """Any ordered calendar works: three terms from 50 down to 44."""
    cal = ["2024/25 T1", "2024/25 T2", "2024/25 T3"]
    g = Goal(
        id="G",
        title="t",
        target=44.0,
        target_period="2024/25 T3",
        baseline_period="2024/25 T1",
        direction="down",
    )
    assert trajectory(g, 50.0, cal)["expected"].tolist() == pytest.approx([50, 47, 44])


# ------------------------------------------------------------------------------ baseline


@pytest.fixture
def small_tables():
    pupils = pd.DataFrame(
        {
            "pupil_id": ["a", "b", "a", "b"],
            "school_id": ["S1"] * 4,
            "academic_year": ["2024/25", "2024/25", "2025/26", "2025/26"],
            "disadvantaged": pd.array([True, False, True, False], dtype="boolean"),
        }
    )
    att = pd.DataFrame(
        {
            "pupil_id": ["a", "b", "a", "b"],
            "school_id": ["S1"] * 4,
            "period": ["2024/25 HT6", "2024/25 HT6", "2025/26 HT1", "2025/26 HT1"],
            "possible_sessions": pd.array([50, 50, 60, 60], dtype="Int64"),
            "attended_sessions": pd.array([40, 48, 57, 57], dtype="Int64"),
        }
    )
    return {"pupils": pupils, "attendance": att}


def test_baseline_computed_from_data(small_tables):
    """Baseline = the goal's metric in its baseline period, for its group (or the gap)."""
    metric = {"table": "attendance", "measure": "attendance_rate"}
    g = Goal(
        id="G",
        title="t",
        target=95.0,
        target_period="2025/26 HT1",
        metric=metric,
        baseline_period="2024/25 HT6",
        group="focus",
    )
    assert baseline(g, small_tables) == pytest.approx(80.0)
    gap = Goal(
        id="G",
        title="t",
        target=0.0,
        target_period="2025/26 HT1",
        metric=metric,
        baseline_period="2024/25 HT6",
        group="gap",
    )
    assert baseline(gap, small_tables) == pytest.approx(80.0 - 96.0)
    pr = progress(g, small_tables)
    assert pr["observed"].tolist() == pytest.approx([80.0, 95.0])
    assert pr["on_trajectory"].tolist() == [True, True]


def test_baseline_errors(small_tables):
    """No data in the baseline period, or no metric, is a PlanError."""
    g = Goal(
        id="G",
        title="t",
        target=95.0,
        target_period="2025/26 HT2",
        metric={"table": "attendance", "measure": "attendance_rate"},
        baseline_period="2023/24 HT6",
    )
    with pytest.raises(PlanError, match="no data .* baseline period 2023/24 HT6"):
        baseline(g, small_tables)
    with pytest.raises(PlanError, match="has no metric"):
        baseline(Goal(id="G", title="t", target=1.0, target_period="2025/26 HT2"), small_tables)


# ------------------------------------------------------------------------------ decisions
# (the rule itself is tested in tests/test_decision.py)


def test_strategy_evidence(small_tables):
    """Evidence from the plan and data: on trajectory at as_of, half-terms since start."""
    text = edit(
        replace={
            10: '    baseline_period: "2024/25 HT6"',
            11: "    target: 97",
            12: '    target_period: "2025/26 HT2"',
        },
        insert={19: '    start_period: "2024/25 HT5"'},
    )
    plan = loads_plan(text)
    ev = strategy_evidence(plan, "S1", small_tables, as_of="2025/26 HT2")
    # all pupils: 88 at baseline, expected 92.5 in 2025/26 HT1, observed 95 -> on trajectory
    assert ev["on_trajectory"] is True
    assert ev["periods_since_start"] == 3
    assert ev["goal"] == "G1" and ev["signal"] is None
    assert decide(plan.strategy("S1"), ev)[0] == "continue"


def test_one_applies_rule_for_strategies():
    """A strategy applies to a school only if in its intervention and its goal covers the school."""
    primary_goal = Goal(
        id="G1",
        title="reading",
        target=1.0,
        target_period="2024/25 HT6",
        metric={"table": "assessments", "measure": "mean_score", "schools": ["P1", "P2"]},
    )
    trust_goal = Goal(
        id="G2",
        title="attendance",
        target=1.0,
        target_period="2024/25 HT6",
        metric={"table": "attendance", "measure": "attendance_rate"},
    )
    s_primary = Strategy(id="S1", title="phonics", goals=("G1",))
    s_some = Strategy(id="S2", title="mentors", goals=("G2",), intervention={"schools": ["P1"]})
    s_none = Strategy(id="S3", title="no goal")
    plan = Plan("v", (), (primary_goal, trust_goal), (s_primary, s_some, s_none))
    assert plan.strategy_applies_to(s_primary, "P1")
    assert not plan.strategy_applies_to(s_primary, "SEC1")  # its goal is primary-only
    assert plan.strategy_applies_to(s_some, "P1")
    assert not plan.strategy_applies_to(s_some, "P2")  # not in the intervention
    assert plan.strategy_applies_to(s_none, "SEC1")
    assert all(plan.strategy_applies_to(s, None) for s in plan.strategies)


# ------------------------------------------------------------------ issue 11: safe YAML


def test_plan_alias_bomb_fails_fast(tmp_path):
    """A "billion laughs" alias bomb in plan.yml is a PlanError at once, not a MemoryError."""
    import time

    lines = ['vision: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for p, c in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"x{c}: &{c} [{', '.join([f'*{p}'] * 9)}]")
    t0 = time.perf_counter()
    with pytest.raises(PlanError, match=r"plan.yml line 2: .*alias \*a is not allowed"):
        load_plan(write(tmp_path, "\n".join(lines) + "\n"))
    assert time.perf_counter() - t0 < 2


def test_plan_saved_as_cp1252_says_save_as_utf8(tmp_path):
    """A plan with non-UTF-8 bytes names the line and says to save it as UTF-8."""
    p = tmp_path / "plan.yml"
    p.write_bytes(BASE.replace("vision:", "# Thérèse's plan\nvision:", 1).encode("cp1252"))
    with pytest.raises(PlanError, match="plan.yml line 1 is not UTF-8.*Save the file as UTF-8"):
        load_plan(p)


def test_plan_folder_is_an_error(tmp_path):
    """data.plan naming a folder is a PlanError, not IsADirectoryError."""
    with pytest.raises(PlanError, match="is a folder"):
        load_plan(tmp_path)
