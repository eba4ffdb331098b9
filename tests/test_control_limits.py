"""Tests for cilib.stats.control_limits: bias-correction and moving-range constants, limits."""

from __future__ import annotations

import math

import numpy as np
import pytest

from cilib.stats import control_limits


def test_c4_exact_values():
    """c4(2) = sqrt(2/pi) and c4(3) = sqrt(pi)/2 exactly."""
    assert control_limits.c4(2) == pytest.approx(math.sqrt(2 / math.pi), abs=1e-12)
    assert control_limits.c4(3) == pytest.approx(math.sqrt(math.pi) / 2, abs=1e-12)
    assert control_limits.c4(5) == pytest.approx(0.9400, abs=5e-5)  # Montgomery appendix table


def test_xmr_constant_is_266():
    """3 / d2 with d2 = 1.128 is 2.66 to three significant figures."""
    assert round(3 / control_limits.D2, 2) == 2.66


def test_limits_per_series_and_phase_for_xmr():
    """limits() gives each series its own XmR centre and limits, restarting at a new phase."""
    y = np.array([[94.0, 95, 93, 96, 94, 95], [1.0, 2, 1, 2, 10, 11]])
    arrays = {"y": y, "present": np.ones(y.shape, dtype=bool)}
    out, info = control_limits.limits(
        "xmr",
        [1, 2, 3, 4, 5, 6],
        arrays,
        baseline=None,
        phases=[5],
        exclude=None,
        screen_outliers=False,
        multiplier=1.0,
    )
    assert [(p["phase"], p["start"], p["stop"]) for p in info] == [(1, 0, 4), (2, 4, 6)]
    assert out["centre"][0, 0] == pytest.approx(94.5)
    assert out["upper"][0, 0] == pytest.approx(94.5 + 3 * 2 / 1.128)  # MR = 1, 2, 3
    assert out["centre"][1, 4] == pytest.approx(10.5)
    assert out["phase"][0].tolist() == [1, 1, 1, 1, 2, 2]


def test_p_limits_are_clipped_and_multiplied():
    """p chart limits stay within [0, 1] before the multiplier is applied."""
    arrays = {
        "count": np.array([[0.0, 1, 0, 1]]),
        "n": np.array([[10.0, 10, 10, 10]]),
        "present": np.ones((1, 4), dtype=bool),
    }
    out, _ = control_limits.limits(
        "p",
        [1, 2, 3, 4],
        arrays,
        baseline=None,
        phases=None,
        exclude=None,
        screen_outliers=True,
        multiplier=100.0,
    )
    assert out["lower"][0].tolist() == [0.0] * 4
    assert out["centre"][0, 0] == pytest.approx(5.0)
