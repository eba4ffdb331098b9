"""Tests for cilib.stats.funnel: exact binomial and normal limits, overdispersion."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from scipy.stats import binom

from cilib.stats import funnel as fn
from tests.test_equity import pupils


def _exact_limit(p0, n, prob):
    """Spiegelhalter (2005) appendix A.1.1, written out with scipy for one n."""
    r = 0
    while binom.cdf(r, n, p0) < prob:
        r += 1
    f_r, f_below = binom.cdf(r, n, p0), binom.cdf(r - 1, n, p0)
    return (r - (f_r - prob) / (f_r - f_below)) / n


def test_funnel_rate_limits_are_exact_binomial():
    """Rate limits are Spiegelhalter's interpolated exact binomial limits at each n."""
    t = pd.DataFrame({"s": list("ABCD"), "n": [20, 80, 300, 1000], "r": [0.4, 0.7, 0.6, 0.42]})
    out = fn.funnel(t, "r", "s", kind="rate", n="n")
    p0 = np.sum(t["n"] * t["r"]) / t["n"].sum()
    assert out["target"].iloc[0] == pytest.approx(p0)
    for lo_p, tag in ((0.025, "95"), (0.001, "998")):
        for n, lo, hi in zip(t["n"], out[f"lower{tag}"], out[f"upper{tag}"], strict=True):
            assert lo == pytest.approx(_exact_limit(p0, n, lo_p), abs=1e-12)
            assert hi == pytest.approx(_exact_limit(p0, n, 1 - lo_p), abs=1e-12)
    assert out.set_index("unit")["outside998"].to_dict() == {
        "A": False,
        "B": True,
        "C": True,
        "D": True,
    }
    assert (out["limits"] == "exact binomial").all()


def test_funnel_exact_limits_hold_their_error_rate_for_small_schools():
    """An in-control school of 10 pupils at p0 = 0.05 is flagged at most 0.2% at 99.8%."""
    for n, p0 in ((10, 0.05), (25, 0.9), (8, 0.5), (60, 0.02)):
        k = np.arange(n + 1)  # every count this school could have
        t = pd.DataFrame({"s": k, "n": n, "r": k / n})
        f = fn.funnel(t, "r", "s", kind="rate", n="n", target=p0)
        assert binom.pmf(k[f["outside998"].to_numpy()], n, p0).sum() <= 0.002 + 1e-12, (n, p0)
        assert binom.pmf(k[f["outside95"].to_numpy()], n, p0).sum() <= 0.05 + 1e-12, (n, p0)
    # the normal approximation flagged the first case 1.15% of the time
    normal_upper = 0.05 + 3.090232 * np.sqrt(0.05 * 0.95 / 10)
    assert binom.sf(np.floor(10 * normal_upper), 10, 0.05) == pytest.approx(0.0115, abs=5e-4)


def test_funnel_mean_pupil_level_matches_scipy_norm():
    """Mean limits equal scipy norm.interval(mu, sigma/sqrt(n)) with sigma the pupil SD."""
    df = pupils()
    out = fn.funnel(df, "score", "school", kind="mean")
    sigma = df["score"].std(ddof=1)
    mu = df["score"].mean()
    for _, r in out.iterrows():
        lo, hi = stats.norm.interval(0.998, loc=mu, scale=sigma / np.sqrt(r["n"]))
        assert (r["lower998"], r["upper998"]) == pytest.approx((lo, hi), rel=1e-12)
    fixed = fn.funnel(df, "score", "school", kind="mean", target=50.0, sd=10.0)
    assert fixed["upper95"].iloc[0] == pytest.approx(
        50 + 1.959964 * 10 / np.sqrt(fixed["n"].iloc[0])
    )


def test_funnel_overdispersion_hand_computation():
    """Spiegelhalter's additive overdispersion: winsorised phi and tau² worked by hand."""
    n = np.array([40, 60, 80, 100, 120, 150, 200, 250, 300, 400])
    r = np.array([0.30, 0.75, 0.45, 0.70, 0.50, 0.62, 0.48, 0.66, 0.55, 0.58])
    t = pd.DataFrame({"u": range(10), "n": n, "r": r})
    out = fn.funnel(t, "r", "u", kind="rate", n="n", overdispersion=True)
    p0 = np.sum(n * r) / n.sum()
    s = np.sqrt(p0 * (1 - p0) / n)
    z = np.sort((r - p0) / s)
    z[0], z[-1] = z[1], z[-2]  # 10% of 10 units: one value pulled in at each end
    phi = np.mean(z**2)
    w = 1 / s**2
    tau2 = (10 * phi - 9) / (w.sum() - np.sum(w**2) / w.sum())
    assert phi > 1 and out["phi"].iloc[0] == pytest.approx(phi, rel=1e-12)
    assert out["tau2"].iloc[0] == pytest.approx(tau2, rel=1e-12)
    assert np.allclose(out["upper95"], p0 + 1.959964 * np.sqrt(s**2 + tau2), atol=1e-6)
    plain = fn.funnel(t, "r", "u", kind="rate", n="n")
    assert out["outside998"].sum() < plain["outside998"].sum()
    assert plain["tau2"].iloc[0] == 0 and np.isnan(plain["phi"].iloc[0])
