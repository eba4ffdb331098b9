"""Trajectories that never ask a school to get worse, and the on-trajectory tolerance
(cilib.cycle.progress, the config's ``progress:`` section), with worked examples."""

from __future__ import annotations

import pandas as pd
import pytest

from cilib.core.errors import ConfigError
from cilib.cycle.model import Goal
from cilib.cycle.progress import (
    DEFAULT_SCALE_TOLERANCE,
    DEFAULT_TOLERANCE,
    on_trajectory,
    progress,
    tolerance_for,
    trajectory,
)
from cilib.data.config import check_progress

PA = {"table": "attendance", "measure": "persistent_absence"}


def _pa_goal(**kw) -> Goal:
    """NLT01's G3: fewer disadvantaged pupils persistently absent, trust target 35% (down)."""
    base = dict(id="G3", title="Fewer disadvantaged pupils persistently absent", target=35.0,
                target_period="2024/25 HT5", baseline_period="2024/25 HT1", direction="down",
                group="focus", metric=PA)
    base.update(kw)
    return Goal(**base)


def test_school_past_the_target_holds_its_baseline():
    """Worked example: baseline 30.9% against a trust target of 35%: the line stays at 30.9.

    Before, the line rose 30.9, 31.925, 32.95, 33.975, 35.0: it asked the school to let
    persistent absence rise. Now every expected value is 30.9 and the target anchor is marked
    as held.
    """
    tr = trajectory(_pa_goal(), 30.9)
    assert tr["expected"].tolist() == pytest.approx([30.9] * 5)
    assert tr.attrs["held"] == ["2024/25 HT5"]
    # a school behind the target still gets the straight line down to it: 40 → 35 in 4 steps
    behind = trajectory(_pa_goal(), 40.0)
    assert behind["expected"].tolist() == pytest.approx([40.0, 38.75, 37.5, 36.25, 35.0])
    assert behind.attrs["held"] == []


def test_milestones_are_held_too_and_the_line_is_never_worse_than_baseline():
    """Up goal, baseline 96 against milestone 94 and target 97: 96, 96, 96, 96.5, 97."""
    g = Goal(id="G", title="t", target=97.0, target_period="2024/25 HT5",
             baseline_period="2024/25 HT1", milestones={"2024/25 HT3": 94.0}, direction="up")
    tr = trajectory(g, 96.0)
    assert tr["expected"].tolist() == pytest.approx([96.0, 96.0, 96.0, 96.5, 97.0])
    assert tr.attrs["held"] == ["2024/25 HT3"]
    assert (tr["expected"] >= 96.0).all()


def test_tolerance_worked_example_gap_goal():
    """Gap goal (up): -7.19 against -7.00 expected is on trajectory within 0.5, not within 0."""
    g = Goal(id="G1", title="Reading gap", target=-7.0, target_period="2025/26 HT6",
             baseline_period="2023/24 HT6", group="gap", direction="up",
             metric={"table": "assessments", "measure": "mean_score"})
    obs, exp = pd.Series([-7.19, -7.51, -6.9, None]), pd.Series([-7.0] * 4)
    assert on_trajectory(obs, exp, g, 0.5).tolist()[:3] == [True, False, True]
    assert pd.isna(on_trajectory(obs, exp, g, 0.5).iloc[3])
    assert on_trajectory(obs, exp, g, 0.0).tolist()[:3] == [False, False, True]
    # a down goal: 35.4 against 35.0 is on within 0.5; 35.6 is not
    down = _pa_goal()
    assert on_trajectory(pd.Series([35.4, 35.6]), pd.Series([35.0, 35.0]), down, 0.5).tolist() == [
        True,
        False,
    ]


def test_tolerance_from_the_config_setting():
    """A number applies to every goal; a mapping by measure, with 'default'; scale scores 0.05."""
    g = _pa_goal()
    scale = Goal(id="G4", title="t", target=3.75, target_period="2024/25 HT5",
                 metric={"table": "survey_responses", "measure": "scale_mean", "scale": "b"})
    assert tolerance_for(g) == DEFAULT_TOLERANCE == 0.5
    assert tolerance_for(scale) == DEFAULT_SCALE_TOLERANCE == 0.05
    assert tolerance_for(g, 1.0) == 1.0
    setting = {"default": 0.3, "scale_mean": 0.02}
    assert tolerance_for(g, setting) == 0.3 and tolerance_for(scale, setting) == 0.02
    assert tolerance_for(g, {"persistent_absence": 2}) == 2.0


def test_config_progress_section_is_checked():
    """progress: allows only on_trajectory_tolerance, a number ≥ 0 or a mapping of them."""
    assert check_progress(None, "trust.yml") == {}
    ok = {"on_trajectory_tolerance": {"default": 0.5, "scale_mean": 0.05}}
    assert check_progress(ok, "trust.yml") == ok
    for bad in ({"tolerance": 1}, {"on_trajectory_tolerance": -1},
                {"on_trajectory_tolerance": "half"}, {"on_trajectory_tolerance": {"x": True}}):
        with pytest.raises(ConfigError, match="progress"):
            check_progress(bad, "trust.yml")


def test_progress_uses_the_held_line_and_the_tolerance():
    """From data: a school at 0% persistent absence (target 35%) expects 0%, and 0.4 behind a
    rising attendance line is on trajectory within 0.5."""
    pupils = pd.DataFrame({"pupil_id": ["a", "b"], "academic_year": ["2024/25"] * 2,
                           "disadvantaged": pd.array([True, False], dtype="boolean")})
    rows = []
    for k, p in enumerate(["2024/25 HT1", "2024/25 HT2", "2024/25 HT3"]):
        for pid, att in (("a", [95, 96, 96.6][k]), ("b", 100)):
            rows.append({"pupil_id": pid, "school_id": "S1", "academic_year": "2024/25",
                         "period": p, "possible_sessions": 100, "attended_sessions": att})
    tables = {"pupils": pupils, "attendance": pd.DataFrame(rows)}
    pa = _pa_goal(target_period="2024/25 HT3")
    pr = progress(pa, tables)
    assert pr["expected"].tolist() == pytest.approx([0.0, 0.0, 0.0])
    assert pr["on_trajectory"].tolist() == [True, True, True]
    att = Goal(id="G2", title="t", target=98.0, target_period="2024/25 HT3",
               baseline_period="2024/25 HT1", group="focus", direction="up",
               metric={"table": "attendance", "measure": "attendance_rate"})
    pr = progress(att, tables, tolerance=0.5)  # expects 95, 96.5, 98; sees 95, 96, 96.6
    assert pr["on_trajectory"].tolist() == [True, True, False]
    assert progress(att, tables)["on_trajectory"].tolist() == [True, False, False]
