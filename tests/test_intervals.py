"""Tests for cilib.stats.intervals: each interval against statsmodels or a published example."""

from __future__ import annotations

import numpy as np
import pytest
from statsmodels.stats.proportion import confint_proportions_2indep, proportion_confint

from cilib.stats import intervals as iv


def test_wilson_matches_statsmodels():
    """Wilson interval equals statsmodels proportion_confint(method='wilson')."""
    x = np.array([0, 1, 5, 17, 50, 99, 100])
    n = np.array([10, 10, 30, 40, 100, 100, 100])
    lo, hi = iv.wilson_interval(x, n)
    slo, shi = proportion_confint(x, n, alpha=0.05, method="wilson")
    assert np.max(np.abs(lo - slo)) < 1e-12 and np.max(np.abs(hi - shi)) < 1e-12


def test_newcombe_published_example_and_statsmodels():
    """Newcombe method 10 reproduces the 1998 paper's example (a) and statsmodels 'newcomb'."""
    d, lo, hi = iv.newcombe_interval(56, 70, 48, 80)
    assert (lo[0], hi[0]) == pytest.approx((0.0524, 0.3339), abs=5e-5)
    for x1, n1, x2, n2 in [(9, 10, 3, 10), (5, 56, 0, 29), (30, 100, 45, 120)]:
        _, lo, hi = iv.newcombe_interval(x1, n1, x2, n2)
        ref = confint_proportions_2indep(x1, n1, x2, n2, method="newcomb", compare="diff")
        assert (lo[0], hi[0]) == pytest.approx(ref, abs=1e-10)


def _mover_ratio_reference(x1, n1, x2, n2):
    """MOVER ratio interval from statsmodels' Wilson limits (Donner and Zou 2012)."""
    p1, p2 = x1 / n1, x2 / n2
    l1, u1 = proportion_confint(x1, n1, method="wilson")
    l2, u2 = proportion_confint(x2, n2, method="wilson")
    r = p1 / p2
    lo = r / np.exp(np.hypot(np.log(p1 / l1), np.log(u2 / p2)))
    hi = r * np.exp(np.hypot(np.log(u1 / p1), np.log(p2 / l2)))
    return lo, hi


def test_ratio_interval_is_mover_wilson_and_valid_at_100_percent():
    """Rate ratio: MOVER-Wilson limits; at x = n the interval does not collapse (3/3, 500/1000)."""
    for x1, n1, x2, n2 in [(30, 100, 20, 100), (12, 40, 50, 300), (3, 3, 500, 1000)]:
        r, lo, hi = iv.rate_ratio_interval(x1, n1, x2, n2)
        assert r[0] == pytest.approx((x1 / n1) / (x2 / n2))
        assert (lo[0], hi[0]) == pytest.approx(_mover_ratio_reference(x1, n1, x2, n2), abs=1e-10)
    # the Katz log method gives 1.88 to 2.13 here: three pupils cannot rule out a ratio of 1
    r, lo, hi = iv.rate_ratio_interval(3, 3, 500, 1000)
    assert lo[0] < 1 < hi[0]
    r, lo, hi = iv.rate_ratio_interval(0, 20, 5, 20)
    assert np.isnan(r[0]) and np.isnan(lo[0])


def test_ratio_interval_coverage_near_the_edges():
    """Simulated coverage of the ratio interval stays near 95% when p1 is close to 1."""
    rng = np.random.default_rng(5)
    n1, n2, p1, p2 = 8, 200, 0.95, 0.5
    x1 = rng.binomial(n1, p1, 20000)
    x2 = rng.binomial(n2, p2, 20000)
    ok = x1 > 0
    _, lo, hi = iv.rate_ratio_interval(x1[ok], n1, x2[ok], n2)
    coverage = np.mean((lo <= p1 / p2) & (p1 / p2 <= hi))
    assert coverage > 0.93


def test_hedges_g_se_is_the_wwc_form_and_near_borenstein():
    """g's SE is the WWC handbook form; Borenstein's J-scaled form is within 1% at 40 a group."""
    n1, m1, s1, n2, m2, s2 = 40, 54.0, 9.0, 40, 50.0, 11.0
    g, se, lo, hi = iv.hedges_g(n1, m1, s1, n2, m2, s2)
    sp = np.sqrt(((n1 - 1) * s1**2 + (n2 - 1) * s2**2) / (n1 + n2 - 2))
    d = (m1 - m2) / sp
    j = 1 - 3 / (4 * (n1 + n2) - 9)
    wwc = np.sqrt((n1 + n2) / (n1 * n2) + (j * d) ** 2 / (2 * (n1 + n2)))
    borenstein = j * np.sqrt((n1 + n2) / (n1 * n2) + d**2 / (2 * (n1 + n2)))
    assert se[0] == pytest.approx(wwc, rel=1e-12)
    assert se[0] == pytest.approx(borenstein, rel=0.01)
    assert (lo[0], hi[0]) == pytest.approx((g[0] - 1.959964 * wwc, g[0] + 1.959964 * wwc))
