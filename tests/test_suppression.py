"""Tests for cilib.stats.suppression: primary and secondary suppression and display."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cilib.stats import suppression as sup


def test_secondary_suppression_two_subgroups():
    """Total 40 = 36 + 4: the 4 is suppressed and so is the 36 (else 4's mean = back-sum)."""
    t = pd.DataFrame({"group": ["all", "a", "b"], "n": [40, 36, 4], "mean": [50.0, 51.0, 41.0]})
    out = sup.suppress(t, 5, group_col="group", total_row="all")
    assert out["suppressed"].tolist() == [False, True, True]
    assert out["mean"].isna().tolist() == [False, True, True]
    # proof of the leak being closed: without secondary suppression the 4's mean is recoverable
    assert (40 * 50.0 - 36 * 51.0) / 4 == pytest.approx(41.0)


def test_secondary_suppression_three_subgroups_picks_next_smallest():
    """Total 40 = 20 + 17 + 3: the 3 and the next smallest (17) are suppressed, 20 stays."""
    t = pd.DataFrame(
        {
            "school": ["S"] * 4,
            "group": ["all", "x", "y", "z"],
            "n": [40, 20, 17, 3],
            "rate": [0.5, 0.6, 0.4, 0.33],
        }
    )
    out = sup.suppress(t, 5, group_col="group", total_row="all", by="school")
    assert out.set_index("group")["suppressed"].to_dict() == {
        "all": False,
        "x": False,
        "y": True,
        "z": True,
    }
    assert t["rate"].notna().all()  # input untouched


def test_secondary_suppression_per_block_and_zero_cells():
    """Blocks are handled separately; an empty subgroup cannot serve as the complement."""
    t = pd.DataFrame(
        {
            "school": ["S", "S", "S", "S", "T", "T", "T"],
            "group": ["all", "x", "y", "z", "all", "x", "y"],
            "n": [30, 27, 3, 0, 50, 25, 25],
            "mean": [1.0, 1.0, 1.0, np.nan, 2.0, 2.0, 2.0],
        }
    )
    out = sup.suppress(t, 5, group_col="group", total_row="all", by="school")
    assert out["suppressed"].tolist() == [False, True, True, False, False, False, False]
    hidden = sup.suppress(t, 5, group_col="group", total_row="all", by="school", hide_counts=True)
    assert hidden["n"].isna().tolist() == [False, True, True, False, False, False, False]


def test_format_suppressed_and_constants():
    """Suppressed figures display as 'x' and the footnote names the threshold."""
    t = sup.suppress(pd.DataFrame({"n": [3, 10], "mean": [1.0, 2.0]}), 5)
    shown = sup.format_suppressed(t)
    assert shown["mean"].tolist() == ["x", "2.0"]
    assert sup.SUPPRESSED_SYMBOL == "x"
    assert "5" in sup.SUPPRESSION_FOOTNOTE.format(threshold=5)


# --- the issue's worked examples (issue 12, finding 8) ----------------------------------------


def _issue_table() -> pd.DataFrame:
    """Total 40 = 35 + 2 + 3 with rates 0.7, 0.8, 0 and 0."""
    return pd.DataFrame(
        {"group": ["all", "a", "b", "c"], "n": [40, 35, 2, 3], "rate": [0.7, 0.8, 0.0, 0.0]}
    )


def _attack_1d(shown: pd.DataFrame, total: str = "all"):
    """Every (n, numerator) of the hidden rows consistent with what the table shows.

    The attacker knows the total's n and rate, every shown row's n and rate, and which rows are
    hidden (they are listed with x). Hidden rows have at least one pupil. Numerators are worked
    back as rate × n. Returns, per hidden row, the sets of feasible n and feasible rates.
    """
    from fractions import Fraction
    from itertools import product

    tot = shown.loc[shown["group"] == total].iloc[0]
    parts = shown.loc[shown["group"] != total]
    vis, hid = parts.loc[~parts["suppressed"]], parts.loc[parts["suppressed"]]
    n_left = int(tot["n"]) - int(vis["n"].sum())
    k_left = round(tot["n"] * tot["rate"]) - int(round((vis["n"] * vis["rate"]).sum()))
    m = len(hid)
    feas_n = [set() for _ in range(m)]
    feas_r = [set() for _ in range(m)]
    for ns in product(range(1, n_left + 1), repeat=m):
        if sum(ns) != n_left:
            continue
        for ks in product(*[range(0, n + 1) for n in ns]):
            if sum(ks) != k_left:
                continue
            for i in range(m):
                feas_n[i].add(ns[i])
                feas_r[i].add(Fraction(ks[i], ns[i]))
    return feas_n, feas_r


def test_issue_example_two_hidden_cells_at_zero_are_protected():
    """40 = 35 + 2 + 3 at 0.7, 0.8, 0, 0: the 35 is hidden too, and no hidden rate is pinned."""
    t = _issue_table()
    naive = sup.suppress(t, 5, group_col="group", total_row="all", hide_counts=True)
    # the rule before: two hidden cells were thought safe, and the attacker pins both rates at 0
    assert naive["suppressed"].tolist() == [False, False, True, True]
    _, rates = _attack_1d(t.assign(suppressed=naive["suppressed"]))
    assert rates == [{0}, {0}]
    out = sup.suppress(
        t, 5, group_col="group", total_row="all", hide_counts=True, value_col="rate", bounds=(0, 1)
    )
    assert out["suppressed"].tolist() == [False, True, True, True]
    ns, rates = _attack_1d(t.assign(suppressed=out["suppressed"]))
    assert all(len(s) > 1 for s in ns) and all(len(r) > 1 for r in rates)


def test_two_hidden_cells_that_together_are_small_get_a_third():
    """40 = 36 + 1 + 3: the hidden pair (4 pupils) would be worked out as a group, so 36 goes."""
    t = pd.DataFrame({"group": ["all", "a", "b", "c"], "n": [40, 36, 1, 3], "mean": [5.0] * 4})
    out = sup.suppress(t, 5, group_col="group", total_row="all")
    assert out["suppressed"].tolist() == [False, True, True, True]


def test_brute_force_attacker_on_random_tables():
    """Random small tables: every hidden cell has more than one feasible n and rate."""
    rng = np.random.default_rng(12)
    checked = 0
    for _ in range(300):
        m = int(rng.integers(2, 5))
        n = rng.integers(1, 9, size=m)
        edge = rng.random()
        k = np.array(
            [0 if edge < 0.3 else (v if edge < 0.5 else rng.integers(0, v + 1)) for v in n]
        )
        t = pd.DataFrame(
            {
                "group": ["all"] + [f"g{i}" for i in range(m)],
                "n": [int(n.sum())] + n.tolist(),
                "rate": [k.sum() / n.sum()] + (k / n).tolist(),
            }
        )
        out = sup.suppress(
            t,
            5,
            group_col="group",
            total_row="all",
            hide_counts=True,
            value_col="rate",
            bounds=(0, 1),
        )
        if not out["suppressed"].any() or k.sum() in (0, n.sum()):
            # a total at 0% or 100% itself says every pupil's outcome (a published figure of
            # enough pupils, not a subtraction): a stated limit of the method
            continue
        # small cells are always hidden
        assert out.loc[(t["n"] < 5) & (t["group"] != "all"), "suppressed"].all()
        ns, rates = _attack_1d(t.assign(suppressed=out["suppressed"]))
        for s, r in zip(ns, rates, strict=True):
            assert len(s) > 1 and len(r) > 1, t
        checked += 1
    assert checked > 100


def _attack_2d(t: pd.DataFrame, hidden: np.ndarray, cell: int, sense: int) -> float:
    """Smallest (sense=1) or largest (sense=-1) value of variable ``cell`` the table allows.

    Variables ``0..m-1`` are the cells' n, ``m..2m-1`` their numerators k.

    Integer programme (scipy.optimize.milp): one variable per cell's n (and numerator k, with
    0 <= k <= n); shown cells fixed; every school's groups add up to its "all" cell and every
    group's schools to the trust cell, for n and k alike. Hidden cells have at least one pupil.
    """
    from scipy.optimize import Bounds, LinearConstraint, milp

    c_n, c_k = t["n"].to_numpy(float), t["k"].to_numpy(float)
    m = len(t)
    lo = np.r_[np.where(hidden, 1, c_n), np.where(hidden, 0, c_k)]
    hi = np.r_[np.where(hidden, 1000, c_n), np.where(hidden, 1000, c_k)]
    rows = []
    for keys, tot_col, tot_val in (("school", "group", "all"), ("group", "school", "trust")):
        for _, idx in t.groupby(keys).indices.items():
            tot = [i for i in idx if t[tot_col].iloc[i] == tot_val]
            parts = [i for i in idx if t[tot_col].iloc[i] != tot_val]
            for off in (0, m):
                a = np.zeros(2 * m)
                a[[p + off for p in parts]] = 1
                a[tot[0] + off] = -1
                rows.append(a)
    for i in range(m):  # k <= n
        a = np.zeros(2 * m)
        a[i + m], a[i] = 1, -1
        rows.append(a)
    a_eq = np.array(rows[:-m])
    a_le = np.array(rows[-m:])
    obj = np.zeros(2 * m)
    obj[cell] = sense
    res = milp(
        obj,
        constraints=[LinearConstraint(a_eq, 0, 0), LinearConstraint(a_le, -np.inf, 0)],
        integrality=np.ones(2 * m),
        bounds=Bounds(lo, hi),
    )
    assert res.success
    return float(res.x[cell])


def _school_table(counts: np.ndarray, succ: np.ndarray) -> pd.DataFrame:
    rows = []
    schools = [f"S{i}" for i in range(counts.shape[0])] + ["trust"]
    full_n = np.vstack([counts, counts.sum(axis=0)])
    full_k = np.vstack([succ, succ.sum(axis=0)])
    for i, s in enumerate(schools):
        for j in range(counts.shape[1]):
            rows.append((s, f"g{j}", full_n[i, j], full_k[i, j]))
        rows.append((s, "all", full_n[i].sum(), full_k[i].sum()))
    t = pd.DataFrame(rows, columns=["school", "group", "n", "k"])
    return t.assign(rate=t["k"] / t["n"])


def test_school_rows_and_trust_row_cannot_be_subtracted():
    """School 1's 3 girls are hidden; without the trust dimension the trust row gives them away."""
    counts = np.array([[3, 40], [30, 35], [25, 28]])
    succ = np.array([[1, 20], [15, 17], [12, 14]])
    t = _school_table(counts, succ)
    rows_only = sup.suppress(
        t,
        5,
        group_col="group",
        total_row="all",
        by="school",
        hide_counts=True,
        count_cols="n",
        value_cols="rate",
    )
    hidden = rows_only["suppressed"].to_numpy()
    cell = int(np.flatnonzero((t["school"] == "S0") & (t["group"] == "g0"))[0])
    # with school rows alone the 3 is recoverable from the trust row
    assert _attack_2d(t, hidden, cell, 1) == _attack_2d(t, hidden, cell, -1) == 3
    both = sup.suppress(
        t,
        5,
        group_col="group",
        total_row="all",
        by=None,
        hide_counts=True,
        count_cols="n",
        value_cols="rate",
        across="school",
        across_total="trust",
        value_col="rate",
        bounds=(0, 1),
    )
    hidden = both["suppressed"].to_numpy()
    assert hidden[cell]
    for i in np.flatnonzero(hidden):
        for var in (i, i + len(t)):  # its n, and its numerator
            assert _attack_2d(t, hidden, var, 1) < _attack_2d(t, hidden, var, -1)


def test_milp_attacker_on_random_school_by_group_tables():
    """Random school x group tables with a trust row: no hidden n is pinned to one value."""
    rng = np.random.default_rng(7)
    for _ in range(15):
        s, g = int(rng.integers(2, 4)), int(rng.integers(2, 4))
        counts = np.where(
            rng.random((s, g)) < 0.25, rng.integers(1, 5, (s, g)), rng.integers(5, 30, (s, g))
        )
        succ = rng.binomial(counts, 0.4)
        t = _school_table(counts, succ)
        out = sup.suppress(
            t,
            5,
            group_col="group",
            total_row="all",
            hide_counts=True,
            value_cols="rate",
            across="school",
            across_total="trust",
            value_col="rate",
            bounds=(0, 1),
        )
        hidden = out["suppressed"].to_numpy()
        assert hidden[(t["n"] < 5).to_numpy()].all()
        for i in np.flatnonzero(hidden):
            for var in (i, i + len(t)):  # its n, and its numerator
                assert _attack_2d(t, hidden, var, 1) < _attack_2d(t, hidden, var, -1), (t, var)


def test_fold_small_groups_keeps_girls_visible():
    """1,857 girls, 2,003 boys, 2 'other': the 2 are left out (footnote), girls stay visible."""
    rows = pd.DataFrame(
        {
            "gender": ["female"] * 1857 + ["male"] * 2003 + ["other"] * 2,
            "sen": ["none"] * 3000 + ["support"] * 800 + ["ehcp"] * 58 + [None] * 4,
        }
    )
    f = sup.fold_small_groups(rows, ["gender", "sen"], 5, labels={"gender": "Gender"})
    assert f.left_out == 4  # sen not recorded (4, too few), the 2 "other" among them
    assert "other" not in set(f.rows["gender"])
    assert (f.rows["gender"] == "female").sum() == 1857
    assert len(f.notes) == 2 and "left out" in f.notes[0] and "2" not in f.notes[0]
    table = f.rows.groupby("gender").size().rename("n").reset_index()
    table = pd.concat([table, pd.DataFrame({"gender": ["all"], "n": [len(f.rows)]})])
    out = sup.suppress(table, 5, group_col="gender", total_row="all")
    assert not out["suppressed"].any()


def test_fold_small_groups_combines_other_with_not_recorded():
    """Three small categories plus pupils not recorded make one shown 'Other or not recorded'."""
    rows = pd.DataFrame(
        {"eth": ["a"] * 50 + ["b"] * 40 + ["c"] * 2 + ["d"] * 3 + [None] * 2 + ["e"] * 1}
    )
    f = sup.fold_small_groups(rows, "eth", 5)
    assert f.left_out == 0
    assert f.rows["eth"].value_counts().to_dict() == {"a": 50, "b": 40, sup.FOLD_LABEL: 8}
    assert "'c'" in f.notes[0] and sup.FOLD_LABEL in f.notes[0]
    # a two-level lens is not folded: only not-recorded pupils become a group of their own
    rows = pd.DataFrame({"eal": [True] * 3 + [False] * 60 + [None] * 6})
    f = sup.fold_small_groups(rows, "eal", 5)
    assert f.rows["eal"].value_counts(dropna=False).to_dict() == {
        False: 60,
        sup.NOT_RECORDED: 6,
        True: 3,
    }
