"""cilib.stats.equity on England's published school performance tables (Hampshire 850, Surrey 936).

Read with cilib.data.published.performance_tables; status codes (SUPP, NE, NP ...) are missing
values
with their reason in ``status``. The figures asserted here are reported in docs/statistics.md.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.proportion import confint_proportions_2indep

from cilib.data.published import performance_tables
from cilib.report.charts.funnel import plot_funnel
from cilib.stats import equity as eq
from cilib.stats import funnel, suppression
from tests.conftest import REAL as SHARED_REAL

REAL = SHARED_REAL / "dfe-performance-tables"
FILES = {
    "KS4": ["ks4/2017-2018_850_ks4final.csv", "ks4/2017-2018_936_ks4final.csv"],
    "KS2": ["ks2/2017-850-ks2.csv", "ks2/2017-936-ks2.csv"],
}
IDS = ["level", "rectype", "la", "urn", "school_name"]
#: The department suppresses figures for 5 pupils or fewer, i.e. fewer than 6.
DFE_THRESHOLD = 6


@pytest.fixture(scope="module")
def perf() -> pd.DataFrame:
    files = [REAL / f for fs in FILES.values() for f in fs]
    return pd.concat([performance_tables(f) for f in files], ignore_index=True)


@pytest.fixture(scope="module")
def school_type() -> pd.Series:
    """NFTYPE (school type) by URN, read straight from the KS4 files: IND = independent."""
    parts = [
        pd.read_csv(REAL / f, encoding="utf-8-sig", dtype=str, usecols=["URN", "NFTYPE"])
        for f in FILES["KS4"]
    ]
    t = pd.concat(parts).dropna(subset=["URN"])
    return t.set_index("URN")["NFTYPE"]


def pick(perf: pd.DataFrame, stage: str, items: dict[str, tuple[str, str]]) -> pd.DataFrame:
    """One row per record with the named (measure, group) values and their status codes."""
    p = perf[perf["key_stage"] == stage]
    out = None
    for name, (measure, group) in items.items():
        s = p[(p["measure"] == measure) & (p["group"] == group)].set_index(IDS)
        s = s[["value", "status"]].rename(columns={"value": name, "status": f"{name}_status"})
        out = s if out is None else out.join(s, how="outer")
    return out.reset_index()


KS4_ITEMS = {
    "n_focus": ("TFSM6CLA1A", "all"),
    "n_comparison": ("TNOTFSM6CLA1A", "all"),
    "n_all": ("TPUP", "all"),
    "mean_focus": ("ATT8SCR", "disadvantaged"),
    "mean_comparison": ("ATT8SCR", "other"),
    "mean_all": ("ATT8SCR", "all"),
    "p8": ("P8MEA", "all"),
    "p8_low": ("P8CILOW", "all"),
    "p8_high": ("P8CIUPP", "all"),
    "p8_n": ("P8PUP", "all"),
}
KS2_ITEMS = {
    "n_focus": ("TFSM6CLA1A", "all"),
    "n_comparison": ("TNOTFSM6CLA1A", "all"),
    "n_all": ("TELIG", "all"),
    "pct_focus": ("PTRWM_EXP", "disadvantaged"),
    "pct_comparison": ("PTRWM_EXP", "other"),
    "pct_all": ("PTRWM_EXP", "all"),
}


@pytest.fixture(scope="module")
def ks4(perf) -> pd.DataFrame:
    return pick(perf, "KS4", KS4_ITEMS)


@pytest.fixture(scope="module")
def ks2(perf) -> pd.DataFrame:
    t = pick(perf, "KS2", KS2_ITEMS)
    return t.assign(
        rate_focus=t["pct_focus"] / 100,
        rate_comparison=t["pct_comparison"] / 100,
        rate_all=t["pct_all"] / 100,
    )


def test_ks4_attainment8_gap_per_school(ks4):
    """Disadvantaged minus other Attainment 8 per school; codes give NaN with their reason."""
    schools = ks4[ks4["level"] == "school"]
    assert len(schools) == 244
    g = eq.gap_from_stats(schools, kind="mean", threshold=DFE_THRESHOLD)
    shown = g["gap"].notna()
    assert shown.sum() == 131
    assert np.allclose(
        g.loc[shown, "gap"], g.loc[shown, "mean_focus"] - g.loc[shown, "mean_comparison"]
    )
    # published means carry no SD: the gap is shown without an interval or effect size
    assert g.loc[shown, "gap_ci_low"].isna().all() and g.loc[shown, "effect_size"].isna().all()
    # every missing gap has a reason: a status code on one side, or too few pupils
    reason = (
        g["mean_focus_status"].ne("")
        | g["mean_comparison_status"].ne("")
        | g["suppressed"]
        | g["mean_focus"].isna()
        | g["mean_comparison"].isna()
    )
    assert reason[~shown].all()
    codes = schools.loc[~shown.to_numpy(), "mean_focus_status"].value_counts().to_dict()
    assert codes == {"NP": 86, "SUPP": 26, "": 1}
    assert g.loc[shown, "gap"].median() == pytest.approx(-12.5)
    assert (g.loc[shown, "gap"] < 0).sum() == 125  # disadvantaged pupils behind in 125 of 131
    # no school publishes a figure for fewer than 6 disadvantaged pupils
    assert schools.loc[schools["mean_focus"].notna(), "n_focus"].min() == 6


def test_ks4_progress8_published_intervals_have_the_funnel_form(ks4):
    """DfE's Progress 8 intervals are P8 ± 1.96·sigma/sqrt(n), the form of the funnel limits."""
    s = ks4[(ks4["level"] == "school") & ks4["p8_low"].notna() & ks4["p8_n"].gt(0)]
    sigma = (s["p8_high"] - s["p8_low"]) / 2 * np.sqrt(s["p8_n"]) / 1.96
    assert sigma.std() / sigma.mean() < 0.02  # one national pupil-level SD, about 1.26
    sig = float(sigma.median())
    f = funnel.funnel(s.assign(u=s["urn"]), "p8", "u", kind="mean", n="p8_n", target=0.0, sd=sig)
    half = (f["upper95"] - 0.0).to_numpy()
    # published limits are rounded to 2 dp, so each half-width agrees to within 0.01 + SD spread
    assert np.max(np.abs(half - (s["p8_high"] - s["p8"]).to_numpy())) < 0.015  # seen: 0.0096
    assert len(s) == 144


def test_ks2_reading_writing_maths_gap_with_newcombe_intervals(ks2):
    """Expected-standard gap: rates come with their n, so the interval needs nothing assumed."""
    schools = ks2[ks2["level"] == "school"]
    g = eq.gap_from_stats(schools, kind="rate", threshold=DFE_THRESHOLD)
    shown = g["gap"].notna()
    assert shown.sum() == 341
    assert (g.loc[shown, "gap_ci_low"] <= g.loc[shown, "gap"]).all()
    assert (g.loc[shown, "gap"] <= g.loc[shown, "gap_ci_high"]).all()
    # a clear gap (interval below zero) in 121 schools; most small-school gaps are noise
    assert (g.loc[shown, "gap_ci_high"] < 0).sum() == 121
    r = g[shown].iloc[0]
    ref = confint_proportions_2indep(
        r["rate_focus"] * r["n_focus"],
        r["n_focus"],
        r["rate_comparison"] * r["n_comparison"],
        r["n_comparison"],
        method="newcomb",
        compare="diff",
    )
    assert (r["gap_ci_low"], r["gap_ci_high"]) == pytest.approx(ref, abs=1e-10)
    assert g.loc[shown, "ratio"].median() == pytest.approx(0.714, abs=1e-3)


def test_ks2_suppression_reproduces_the_departments(ks2):
    """Primary + secondary suppression (fewer than 6) hides exactly the cells DfE marks SUPP."""
    s = ks2[ks2["level"] == "school"]
    long = pd.concat(
        [
            pd.DataFrame(
                {
                    "urn": s["urn"],
                    "group": grp,
                    "n": s[f"n_{side}"],
                    "value": s[f"pct_{side}"],
                    "dfe": s[f"pct_{side}_status"],
                }
            )
            for grp, side in (("all", "all"), ("disadvantaged", "focus"), ("other", "comparison"))
        ],
        ignore_index=True,
    ).dropna(subset=["n"])
    filled = long.assign(value=long["value"].fillna(0.0))  # pretend we had every figure
    out = suppression.suppress(
        filled,
        DFE_THRESHOLD,
        count_cols="n",
        value_cols="value",
        group_col="group",
        total_row="all",
        by="urn",
    )
    dfe = out["dfe"].eq("SUPP")
    assert int(dfe.sum()) == 381
    assert (out["suppressed"] == dfe).all()
    primary = suppression.suppress(filled, DFE_THRESHOLD, count_cols="n", value_cols="value")
    assert int(primary["suppressed"].sum()) < 381  # secondary suppression is needed to match


def test_funnel_of_primary_schools(ks2):
    """Funnel of KS2 expected-standard rates: target is the pooled rate; many outside limits."""
    s = ks2[ks2["level"] == "school"]
    f = funnel.funnel(s, "rate_all", "urn", kind="rate", n="n_all")
    assert len(f) == 538
    assert f["target"].iloc[0] == pytest.approx(0.6889, abs=1e-4)
    # exact binomial limits, checked school by school against scipy (Spiegelhalter 2005, A.1.1)
    from scipy.stats import binom

    def limit(p0, n, prob):
        r = binom.ppf(prob, n, p0)
        f_r, f_below = binom.cdf(r, n, p0), binom.cdf(r - 1, n, p0)
        return (r - (f_r - prob) / (f_r - f_below)) / n

    p0 = f["target"].iloc[0]
    n = np.rint(f["n"].to_numpy(float))
    x = np.rint(f["value"].to_numpy() * n)
    out998 = ((f["value"] < limit(p0, n, 0.001)) & (binom.cdf(x, n, p0) < 0.001)) | (
        (f["value"] > limit(p0, n, 0.999)) & (binom.sf(x - 1, n, p0) < 0.001)
    )
    assert (f["outside998"] == out998).all()
    assert int(f["outside998"].sum()) > 50  # far more than the 0.2% × 538 ≈ 1 expected by chance
    # 15% beyond 99.8% limits is far more than chance: schools differ for real (overdispersion)
    od = funnel.funnel(s, "rate_all", "urn", kind="rate", n="n_all", overdispersion=True)
    assert od["phi"].iloc[0] == pytest.approx(3.156, abs=1e-3)
    assert np.sqrt(od["tau2"].iloc[0]) == pytest.approx(0.0969, abs=1e-4)
    assert int(od["outside95"].sum()) == 62 and int(od["outside998"].sum()) == 24
    fig, ax = plot_funnel(f, title="KS2 reading, writing and maths, 2017/18")
    assert ax.get_title(loc="left") == "KS2 reading, writing and maths, 2017/18"


def _weighted(s: pd.DataFrame, value: str, n: str) -> tuple[float, float]:
    ok = s[value].notna() & s[n].notna()
    return float((s.loc[ok, value] * s.loc[ok, n]).sum() / s.loc[ok, n].sum()), float(
        s.loc[ok, n].sum()
    )


def test_ks4_la_aggregation_against_la_row(ks4, school_type):
    """Pupil-weighted school means vs the LA row (RECTYPE 4): close for state-funded schools."""
    la_rows = ks4[ks4["level"] == "la"].set_index("la")
    schools = ks4[ks4["level"] == "school"].assign(nftype=lambda d: d["urn"].map(school_type))
    state = schools[~schools["nftype"].isin(["IND", "INDSPEC", "NMSS"])]
    expected = {  # la: (LA Att8, weighted all schools, weighted state-funded)
        "850": (47.2, 46.76, 47.30),
        "936": (50.3, 45.28, 50.69),
    }
    for la, (la_value, all_w, state_w) in expected.items():
        assert la_rows.loc[la, "mean_all"] == la_value
        assert _weighted(schools[schools["la"] == la], "mean_all", "n_all")[0] == pytest.approx(
            all_w, abs=0.005
        )
        assert _weighted(state[state["la"] == la], "mean_all", "n_all")[0] == pytest.approx(
            state_w, abs=0.005
        )
    # disadvantaged pupils: suppressed schools drop out, and the pupils who drop out score lower
    for la, (la_value, weighted, covered, total) in {
        "850": (33.8, 34.38, 2246, 2293),
        "936": (35.6, 36.98, 1605, 1678),
    }.items():
        w, n = _weighted(state[state["la"] == la], "mean_focus", "n_focus")
        assert la_rows.loc[la, "mean_focus"] == la_value and la_rows.loc[la, "n_focus"] == total
        assert (round(w, 2), n) == (weighted, covered)
        implied = (la_value * total - w * n) / (total - n)
        assert implied < la_value - 10  # the dropped-out pupils average far below the LA


def test_ks2_la_aggregation_against_la_row(ks2):
    """KS2: weighted school rates are within 0.7 points of the LA row (RECTYPE 3)."""
    la_rows = ks2[ks2["level"] == "la"].set_index("la")
    schools = ks2[ks2["level"] == "school"]
    for la in ("850", "936"):
        s = schools[schools["la"] == la]
        for side in ("all", "focus", "comparison"):
            w, n = _weighted(s, f"pct_{side}", f"n_{side}")
            assert abs(w - la_rows.loc[la, f"pct_{side}"]) < 0.7, (la, side)
            assert n <= la_rows.loc[la, f"n_{side}"]
    w, n = _weighted(schools[schools["la"] == "850"], "pct_focus", "n_focus")
    assert (round(w, 2), n, la_rows.loc["850", "n_focus"]) == (49.28, 2806, 3110)
