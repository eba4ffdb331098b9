"""Tests for cilib.stats.multiple: Benjamini–Hochberg against statsmodels' multipletests."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats.multitest import multipletests

from cilib.core.errors import DataError
from cilib.stats import multiple


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_q_values_and_flags_match_statsmodels_fdr_bh(seed):
    """q-values and flags equal statsmodels' multipletests(method="fdr_bh") on random p-values."""
    rng = np.random.default_rng(seed)
    p = np.concatenate([rng.uniform(0, 1, 40), rng.uniform(0, 0.004, 8)])
    rng.shuffle(p)
    reject, q_sm, _, _ = multipletests(p, alpha=0.05, method="fdr_bh")
    assert multiple.bh_adjust(p) == pytest.approx(q_sm, abs=1e-12)
    assert multiple.bh_flags(p, 0.05).tolist() == reject.tolist()
    reject10, _, _, _ = multipletests(p, alpha=0.10, method="fdr_bh")
    assert multiple.bh_flags(p, 0.10).tolist() == reject10.tolist()


def test_published_worked_example():
    """Benjamini & Hochberg (1995), section 4: of 15 p-values, 4 are rejected at q = 0.05."""
    p = [0.0201, 0.0278, 0.0298, 0.0344, 0.0001, 0.0004, 0.0019, 0.0095,
         0.0459, 0.3240, 0.4262, 0.5719, 0.6528, 0.7590, 1.0000]
    flags = multiple.bh_flags(p, 0.05)
    assert flags.sum() == 4
    assert set(np.flatnonzero(flags)) == {4, 5, 6, 7}


def test_ties_order_and_missing_values():
    """Ties get equal q-values; NaN is left out of m and never flagged; input order is kept."""
    p = np.array([0.03, np.nan, 0.01, 0.03, 0.5])
    q = multiple.bh_adjust(p)
    _, q_sm, _, _ = multipletests(p[np.isfinite(p)], method="fdr_bh")
    assert q[np.isfinite(p)] == pytest.approx(q_sm, abs=1e-12)
    assert np.isnan(q[1]) and q[0] == q[3]
    assert not multiple.bh_flags(p)[1]
    assert multiple.bh_adjust([]).size == 0
    assert np.isnan(multiple.bh_adjust([np.nan, np.nan])).all()


def test_single_p_value_is_unchanged_and_bad_input_raises():
    """With one check BH is the plain test; p outside [0, 1] or a bad fdr raises."""
    assert multiple.bh_adjust([0.04]).tolist() == [0.04]
    with pytest.raises(DataError):
        multiple.bh_adjust([0.2, 1.5])
    with pytest.raises(DataError):
        multiple.bh_flags([0.2], fdr=0)


def test_sentence_names_the_count():
    """The plain sentence names how many checks were made at once."""
    s = multiple.fdr_sentence(48, "school gap trends")
    assert s.startswith("We allow for checking 48 school gap trends at once") and "1 in 20" in s


def test_funnel_p_values_match_scipy():
    """Rate p-values equal twice the smaller exact binomial tail (scipy); means the z test."""
    f = pd.DataFrame({"n": [40, 200, 15], "value": [0.30, 0.42, 0.6], "target": [0.5] * 3,
                      "upper998": [0.75, 0.61, 0.9]})
    p = multiple.funnel_p_values(f, kind="rate")
    for i, (n, v) in enumerate(zip(f["n"], f["value"], strict=True)):
        x = round(v * n)
        want = min(1.0, 2 * min(stats.binom.cdf(x, n, 0.5), stats.binom.sf(x - 1, n, 0.5)))
        assert p[i] == pytest.approx(want, rel=1e-12)
    # symmetric p0 = 0.5: the equal-tailed and the "minlike" binomial tests agree
    assert p[0] == pytest.approx(stats.binomtest(12, 40, 0.5).pvalue, rel=1e-12)
    se = 2.0
    m = pd.DataFrame({"n": [50], "value": [94.0], "target": [90.0],
                      "upper998": [90.0 + stats.norm.ppf(0.999) * se]})
    assert multiple.funnel_p_values(m, kind="mean")[0] == pytest.approx(
        2 * stats.norm.sf(2.0), rel=1e-12
    )
