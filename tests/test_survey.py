"""Tests for cilib.stats.survey: alpha by hand and by an independent formula; response rates."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from cilib.core.errors import DataError
from cilib.stats.survey import cronbach_alpha, response_rates, scale_reliability


def long_form(wide: np.ndarray, items: list[str], period="2024/25 HT1", school="S1"):
    rows = []
    for i, row in enumerate(wide):
        for item, v in zip(items, row, strict=True):
            rows.append(
                {
                    "respondent_id": f"r{i}",
                    "period": period,
                    "school_id": school,
                    "item_id": item,
                    "response": float(v),
                }
            )
    return pd.DataFrame(rows)


def items_table(ids, scale="belonging", reverse=None, lo=1.0, hi=5.0):
    return pd.DataFrame(
        {
            "item_id": ids,
            "scale": scale,
            "text": ids,
            "reverse_coded": reverse or [False] * len(ids),
            "min": lo,
            "max": hi,
        }
    )


def alpha_by_covariance(x: np.ndarray) -> float:
    """Independent form: alpha = k·c̄ / (v̄ + (k - 1)·c̄) from the covariance matrix."""
    c = np.cov(x, rowvar=False)
    k = c.shape[0]
    vbar = np.mean(np.diag(c))
    cbar = (c.sum() - np.trace(c)) / (k * (k - 1))
    return k * cbar / (vbar + (k - 1) * cbar)


def test_alpha_hand_worked_example():
    """4 respondents x 3 items, worked by hand: item variances 5/3, 19/12, 11/12; total 34/3."""
    x = np.array([[1, 2, 2], [2, 3, 3], [3, 3, 4], [4, 5, 4]])
    hand = 3 / 2 * (1 - (5 / 3 + 19 / 12 + 11 / 12) / (34 / 3))
    assert hand == pytest.approx(0.9485294, abs=1e-7)
    assert cronbach_alpha(x) == pytest.approx(hand, abs=1e-12)


def test_alpha_matches_covariance_form_and_planted_reliability():
    """Random parallel items: alpha equals the covariance form and the planted value."""
    rng = np.random.default_rng(5)
    n, k, rho = 3000, 5, 0.4
    true = rng.normal(0, np.sqrt(rho), n)
    x = true[:, None] + rng.normal(0, np.sqrt(1 - rho), (n, k))
    a = cronbach_alpha(x)
    assert a == pytest.approx(alpha_by_covariance(x), abs=1e-12)
    assert a == pytest.approx(k * rho / (1 + (k - 1) * rho), abs=0.02)  # Spearman-Brown: 0.769


def test_scale_reliability_reverse_coding_and_complete_cases():
    """Reverse-coded items are flipped (min + max - x); incomplete respondents are left out."""
    rng = np.random.default_rng(9)
    true = rng.normal(3, 0.8, 60)
    x = np.clip(np.round(true[:, None] + rng.normal(0, 0.6, (60, 4))), 1, 5)
    raw = x.copy()
    raw[:, 3] = 6 - x[:, 3]  # item d is asked negatively
    resp = long_form(raw, ["a", "b", "c", "d"])
    resp = resp[~((resp["respondent_id"] == "r0") & (resp["item_id"] == "b"))]  # r0 skips b
    items = items_table(["a", "b", "c", "d"], reverse=[False, False, False, True])
    out = scale_reliability(resp, items).iloc[0]
    assert (out["n"], out["n_incomplete"], out["k"]) == (59, 1, 4)
    assert out["alpha"] == pytest.approx(cronbach_alpha(x[1:]), abs=1e-12)
    assert out["alpha"] == pytest.approx(alpha_by_covariance(x[1:]), abs=1e-12)
    ignored = scale_reliability(resp, items.assign(reverse_coded=False)).iloc[0]
    assert ignored["alpha"] < out["alpha"] - 0.5  # forgetting the flag wrecks the scale
    assert bool(out["reliable"]) and not bool(ignored["reliable"])


def test_scale_reliability_by_school_and_two_scales():
    """Scales and by-groups are computed separately; items use their own min/max."""
    rng = np.random.default_rng(2)
    t = rng.normal(0, 1, (80, 1))
    w1 = np.clip(np.round(3 + t + rng.normal(0, 0.7, (80, 3))), 1, 5)
    w2 = np.clip(np.round(5 + 2 * t + rng.normal(0, 1.5, (80, 2))), 0, 10)
    r1 = long_form(w1[:40], ["a", "b", "c"], school="S1")
    r2 = long_form(w1[40:], ["a", "b", "c"], school="S2").assign(
        respondent_id=lambda d: d["respondent_id"] + "x"
    )
    r3 = long_form(w2, ["e", "f"], school="S1")
    items = pd.concat(
        [items_table(["a", "b", "c"]), items_table(["e", "f"], scale="wellbeing", lo=0.0, hi=10.0)]
    )
    out = scale_reliability(pd.concat([r1, r2, r3]), items, by="school_id")
    got = out.set_index(["school_id", "scale"])["alpha"]
    assert got[("S1", "belonging")] == pytest.approx(cronbach_alpha(w1[:40]), abs=1e-12)
    assert got[("S2", "belonging")] == pytest.approx(cronbach_alpha(w1[40:]), abs=1e-12)
    assert got[("S1", "wellbeing")] == pytest.approx(cronbach_alpha(w2), abs=1e-12)
    assert out.set_index(["school_id", "scale"]).loc[("S1", "wellbeing"), "k"] == 2


def test_scale_reliability_errors():
    """Unknown items, responses out of range and duplicates raise DataError."""
    resp = long_form(np.array([[1, 2], [2, 3], [4, 4]]), ["a", "b"])
    items = items_table(["a", "b"])
    with pytest.raises(DataError, match="not in items"):
        scale_reliability(resp, items_table(["a"]))
    with pytest.raises(DataError, match="outside its range"):
        scale_reliability(resp.assign(response=9.0), items)
    with pytest.raises(DataError, match="more than one response"):
        scale_reliability(pd.concat([resp, resp]), items)
    with pytest.raises(DataError, match="lacks column"):
        scale_reliability(resp.drop(columns="response"), items)
    with pytest.raises(DataError, match="complete rows"):
        cronbach_alpha(np.array([[1.0, np.nan], [2.0, 3.0]]))


def test_response_rates_by_group_with_counts_and_chisquare():
    """Rates, shares, percentage-point flag and chi-square p against hand numbers and scipy."""
    resp = pd.DataFrame(
        {
            "respondent_id": [f"p{i}" for i in range(50) for _ in range(2)],
            "item_id": ["a", "b"] * 50,
            "dis": [i < 5 for i in range(50) for _ in range(2)],
        }
    )
    roll = pd.DataFrame({"dis": [True, False], "n_roll": [30, 70]})
    out = response_rates(resp, roll, "dis", count="n_roll").set_index("dis")
    assert out.loc[True, "n_respondents"] == 5 and out.loc[False, "n_respondents"] == 45
    assert out.loc[True, "response_rate"] == pytest.approx(5 / 30)
    assert out.loc[True, "difference_pp"] == pytest.approx(100 * (5 / 50 - 30 / 100))
    assert out["flag"].all()  # 20 points under- and over-represented
    p = stats.chisquare([45, 5], [0.7 * 50, 0.3 * 50]).pvalue
    assert out.loc[True, "chi2_p"] == pytest.approx(p)


def test_response_rates_pupil_level_roll_within_school():
    """A pupil-level roll is counted per group; shares are computed inside each school."""
    roll = pd.DataFrame(
        {
            "school_id": ["A"] * 10 + ["B"] * 10,
            "sen": ["none"] * 8 + ["support"] * 2 + ["none"] * 5 + ["support"] * 5,
        }
    )
    resp = pd.DataFrame(
        {
            "respondent_id": ["a1", "a2", "a3", "a4", "b1", "b2", "b3", "b4"],
            "school_id": ["A"] * 4 + ["B"] * 4,
            "sen": ["none", "none", "none", "support", "none", "none", "none", "none"],
        }
    )
    out = response_rates(resp, roll, "sen", within="school_id").set_index(["school_id", "sen"])
    assert out.loc[("A", "support"), "share_roll"] == pytest.approx(0.2)
    assert out.loc[("A", "support"), "difference_pp"] == pytest.approx(5.0)
    assert not out.loc[("A", "support"), "flag"]
    assert out.loc[("B", "support"), "n_respondents"] == 0
    assert out.loc[("B", "support"), "difference_pp"] == pytest.approx(-50.0)
    assert out.loc[("B", "support"), "flag"]
    with pytest.raises(DataError, match="nobody on roll"):
        response_rates(resp.assign(sen="ehcp"), roll, "sen", within="school_id")
