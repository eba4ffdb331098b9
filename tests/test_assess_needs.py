"""Tests for cilib.report.sections.assess_needs (Assess Needs): figures checked against plain
pandas on the store."""

from __future__ import annotations

from cilib.report.sections import needs_tables as needs


def test_persistent_absence_uses_the_dfe_definition(sample_store):
    """Pupil-half-terms at exactly 90% attendance count as persistently absent (missed >= 10%)."""
    s = sample_store
    att = s.table("attendance")
    att = att.loc[att["possible_sessions"] > 0]
    missed = att["possible_sessions"] - att["attended_sessions"]
    expected = (missed * 10 >= att["possible_sessions"]).to_numpy()
    # the boundary matters in the sample: many pupil-half-terms sit at exactly 90%
    assert (missed * 10 == att["possible_sessions"]).sum() > 1000
    got = needs.attendance_pupils(s)
    key = ["pupil_id", "period"]
    merged = att.assign(expected=expected)[key + ["expected"]].merge(got, on=key)
    assert len(merged) == len(att)
    assert (merged["persistent_absence"].astype(bool) == merged["expected"]).all()
