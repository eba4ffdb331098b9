"""Tests for cilib.stats.run_rules: Anhøj thresholds and the runs analysis of a series."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import special, stats

from cilib.stats import run_rules


@pytest.mark.parametrize("n", [5, 10, 11, 20, 24, 25, 28, 40, 44, 64, 100])
def test_thresholds_match_formulae(n):
    """Longest-run and crossings thresholds follow round(log2 n)+3 and the binomial 5% quantile."""
    assert run_rules.longest_run_max(n) == round(math.log2(n)) + 3
    # smallest k with P(X <= k) >= 0.05, X ~ Bin(n-1, 1/2), by direct summation
    cdf, k = 0.0, -1
    while cdf < 0.05:
        k += 1
        cdf += math.comb(n - 1, k) / 2 ** (n - 1)
    assert run_rules.crossings_min(n) == k


def test_threshold_table_values():
    """Published Anhøj table values: n=10 -> (6, 2), n=24 -> (8, 8), n=40 -> (8, 14)."""
    assert [int(run_rules.longest_run_max(n)) for n in (10, 24, 40)] == [6, 8, 8]
    assert [int(run_rules.crossings_min(n)) for n in (10, 24, 40)] == [2, 8, 14]


def test_runs_analysis_function():
    """runs_analysis on a literal series: 1,2,3 | 7,8,9 | 4,5 | 6,10 around 5.5."""
    r = run_rules.runs_analysis([1, 2, 3, 7, 8, 9, 4, 5, 6, 10], 5.5)
    assert (r["longest_run"], r["crossings"], r["n_useful"]) == (3, 3, 10)


def test_scipy_binomial_matches_exact_sum():
    """binom.ppf gives the same 5% quantile as summing the binomial pmf by hand."""
    for n in range(2, 60):
        k = int(stats.binom.ppf(0.05, n - 1, 0.5))
        assert sum(special.comb(n - 1, j) for j in range(k + 1)) / 2 ** (n - 1) >= 0.05
        assert sum(special.comb(n - 1, j) for j in range(k)) / 2 ** (n - 1) < 0.05


def test_rules_text_names_every_rule_fired():
    """Each point lists the rules it triggers, in a fixed order, joined by ", "."""
    flags = {
        "outside": np.array([[False, True, False]]),
        "shift": np.array([[False, True, True]]),
        "trend": np.array([[False, False, False]]),
        "two3": np.array([[False, False, True]]),
    }
    signal, text = run_rules.rules_text(flags)
    assert signal.tolist() == [[False, True, True]]
    assert text.tolist() == [["", "outside limits, shift", "shift, 2 of 3 beyond 2 sigma"]]


def test_plain_number():
    """Whole numbers come back as int, others (and NaN) as float."""
    assert run_rules.plain_number(4.0) == 4 and isinstance(run_rules.plain_number(4.0), int)
    assert math.isnan(run_rules.plain_number(float("nan")))
