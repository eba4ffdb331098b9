"""Tests for cilib.report.sections.needs_tables.lens_table: disclosure control across tables."""

from __future__ import annotations

import numpy as np
import pandas as pd

from cilib.report.sections import needs_tables as needs
from cilib.stats import suppression as sup


def _pupils(spec: dict[tuple[str, object], int], rate_of: dict[str, float]) -> pd.DataFrame:
    """Pupil rows: ``spec[(school, eal)] = count``; persistent absence 0/1 at a fixed share."""
    rows = []
    pid = 0
    for (school, eal), k in spec.items():
        for i in range(k):
            pid += 1
            pa = float(i < round(rate_of[school] * k))
            rows.append((f"P{pid}", school, eal, "female" if i % 2 else "male", pa))
    return pd.DataFrame(rows, columns=["pupil_id", "school_id", "eal", "gender", "pa"])


def test_school_rows_and_trust_row_are_suppressed_together():
    """School A's 3 EAL pupils: the trust row would give them away unless another school hides."""
    spec = {("A", True): 3, ("A", False): 40, ("B", True): 30, ("B", False): 35}
    spec |= {("C", True): 25, ("C", False): 28}
    df = _pupils(spec, {"A": 0.3, "B": 0.2, "C": 0.25})
    kw = dict(kind="rate", threshold=5)
    by_school = needs.lens_table(df, "pa", ["eal"], by=["school_id"], **kw)
    trust = needs.lens_table(df, "pa", ["eal"], **kw)
    eal = by_school.loc[by_school["group"] == "Yes"].set_index("school_id")["suppressed"]
    trust_eal = bool(trust.loc[trust["group"] == "Yes", "suppressed"].iloc[0])
    assert eal["A"]
    # independent check: trust n minus the shown schools' n leaves at least the threshold, spread
    # over at least two hidden cells (or the trust cell is hidden too)
    shown = by_school.loc[(by_school["group"] == "Yes") & ~by_school["suppressed"], "n"].sum()
    assert trust_eal or (eal.sum() >= 2 and 58 - shown >= 5)
    # each school's own table is the same slice of the joint suppression
    for s in "ABC":
        one = needs.lens_table(df, "pa", ["eal"], school=s, **kw)
        joint = by_school.loc[by_school["school_id"] == s].drop(columns="school_id")
        pd.testing.assert_frame_equal(one.reset_index(drop=True), joint.reset_index(drop=True))


def test_tiny_category_is_left_out_not_forcing_girls_hidden():
    """Trust-wide 2 'other' gender pupils are left out with a footnote; girls and boys shown."""
    spec = {("A", False): 300, ("B", False): 260}
    df = _pupils(spec, {"A": 0.2, "B": 0.1})
    df.loc[[5, 400], "gender"] = "other"
    t = needs.lens_table(df, "pa", ["gender"], kind="rate", threshold=5)
    g = t.set_index("group")
    assert "other" not in g.index
    assert not g.loc[["female", "male"], "suppressed"].any()
    kept = df.drop(index=[5, 400])
    girls = kept.loc[kept["gender"] == "female", "pa"]
    assert g.loc["female", "n"] == len(girls)
    assert np.isclose(g.loc["female", "value"], girls.mean())
    assert g.loc["All pupils", "n"] == len(kept)
    assert any("left out" in x for x in t.attrs["footnotes"])


def test_not_recorded_pupils_are_a_group_so_groups_add_up():
    """Pupils with no recorded value form 'Not recorded', so the groups add up to All pupils."""
    spec = {("A", True): 40, ("A", False): 50, ("A", None): 12}
    df = _pupils(spec, {"A": 0.25})
    t = needs.lens_table(df, "pa", ["eal"], kind="rate", threshold=5)
    g = t.set_index("group")
    assert g.loc[sup.NOT_RECORDED, "n"] == 12
    parts = t.loc[t["group"] != "All pupils", "n"].sum()
    assert parts == g.loc["All pupils", "n"] == len(df)
