"""The decision rule (cilib.cycle.decision): worked examples for issue 12, findings 1 and 6.

Each interval below is checked by hand against the threshold (the smallest worthwhile effect,
0.1 by default), and the equivalence interval against scipy's normal quantiles, never against
cilib's own output.
"""

from __future__ import annotations

import re

import pytest
from scipy.stats import norm

from cilib.core.errors import PlanError
from cilib.cycle import DECISIONS, DEFAULT_RULE, REVIEW, Strategy, comparison_problems, decide
from cilib.cycle.decision import rule_sentences

#: A strategy judged by its chart alone (no intervention schools), reviewed after 3 half-terms.
APP = Strategy(
    id="S3",
    title="Homework app",
    review_after_periods=3,
    cost={"staff_hours_per_half_term": 40, "money_per_year": 12000},
)
#: The same strategy run in named schools, so judged by its effect against a comparison group.
APP_IN_SCHOOLS = Strategy(
    id="S3",
    title="Homework app",
    review_after_periods=3,
    cost={"staff_hours_per_half_term": 40, "money_per_year": 12000},
    intervention={"schools": ["NLT06", "NLT07", "NLT08"], "group": "all"},
)


def _ev(ci=None, t=6, **kw):
    return {"periods_since_start": t, "effect_ci": ci, **kw}


# ------------------------------------------------------------------ finding 6: practical size


@pytest.mark.parametrize("ci", [(-0.01, 0.07), (0.01, 0.09)])
def test_intervals_that_both_rule_out_a_worthwhile_effect_get_the_same_decision(ci):
    """Finding 6: (−0.01, 0.07) and (0.01, 0.09) both lie wholly below 0.1, so both say the same.

    The old rule stopped the first (its interval includes 0) and continued the second (its
    interval excludes 0): a decision on statistical, not practical, significance. Both rule out
    an effect of 0.1 (each upper end, 0.07 and 0.09, is below 0.1), so after two reviews (t = 6
    with R = 3) both are stopped, and before that (t = 4) both are adjusted: neither continues.
    """
    assert max(ci) < DEFAULT_RULE["small_effect"]  # the worked example's premise, by hand
    got, why = decide(APP_IN_SCHOOLS, _ev(ci, t=6))
    assert got == "stop", why
    assert "smallest effect worth having" in why and f"({ci[0]:.2f} to {ci[1]:.2f})" in why
    got, why = decide(APP_IN_SCHOOLS, _ev(ci, t=4))
    assert got == "adjust", why
    assert "half-term 6" in why  # says when it would stop


def test_continue_needs_the_interval_above_zero_and_a_worthwhile_effect_possible():
    """(0.05, 0.40) excludes zero and reaches past 0.1: continue; (0.01, 0.09) does not."""
    got, why = decide(APP_IN_SCHOOLS, _ev((0.05, 0.40), t=4))
    assert got == "continue" and "beneficial" in why
    assert decide(APP_IN_SCHOOLS, _ev((0.01, 0.09), t=4))[0] != "continue"


def test_a_slightly_harmful_interval_does_not_stop_after_one_half_term():
    """Finding 6: (−0.30, −0.02) after one half-term is too early to judge, not "stop".

    At the first review (t = R = 3) the same harmful interval stops the strategy.
    """
    got, why = decide(APP_IN_SCHOOLS, _ev((-0.30, -0.02), t=1))
    assert got == REVIEW and "too early" in why and "1 of the 3" in why
    got, why = decide(APP_IN_SCHOOLS, _ev((-0.30, -0.02), t=3))
    assert got == "stop" and "harmful" in why
    # switched off, a harmful interval waits for the no-worthwhile-effect stop at 2 × R
    off = {"stop_if_harmful": False}
    assert decide(APP_IN_SCHOOLS, _ev((-0.30, -0.02), t=3), off)[0] == "adjust"
    assert decide(APP_IN_SCHOOLS, _ev((-0.30, -0.02), t=6), off)[0] == "stop"


def test_harmful_is_read_on_the_side_where_lower_is_better():
    """For a measure where lower is better, an interval wholly above zero is harmful."""
    got, why = decide(APP_IN_SCHOOLS, _ev((0.10, 0.30), t=3, direction="down"))
    assert got == "stop" and "harmful" in why
    got, _ = decide(APP_IN_SCHOOLS, _ev((-0.40, -0.12), t=3, direction="down"))
    assert got == "continue"


def test_an_on_trajectory_goal_the_comparison_may_share_is_not_evidence():
    """Finding 6: with an effect estimate, neither the trajectory nor the chart continues it.

    The old rule removed an improving signal but still continued on an on-trajectory goal; an
    interval (−0.20, 0.30) that includes both 0 and 0.1 is not yet evidence either way.
    """
    ev = _ev((-0.20, 0.30), t=4, on_trajectory=True, signal="improving")
    got, why = decide(APP_IN_SCHOOLS, ev)
    assert got == "adjust" and "comparison schools may share" in why
    assert decide(APP_IN_SCHOOLS, ev, {"effect_overrides_signal": False})[0] == "continue"


def test_equivalence_level_uses_the_normal_interval_from_the_95_percent_one():
    """At 90% the interval derived from (−0.075, 0.111) reaches 0.096 < 0.1: stop; at 95%, not."""
    lo, hi = -0.075, 0.111
    se = (hi - lo) / (2 * norm.ppf(0.975))
    upper90 = (lo + hi) / 2 + norm.ppf(0.95) * se
    assert upper90 == pytest.approx(0.0960, abs=5e-4) and upper90 < 0.1
    got, why = decide(APP_IN_SCHOOLS, _ev((lo, hi)), {"equivalence_level": 0.90})
    assert got == "stop" and f"reaching {upper90:.2f}" in why
    assert decide(APP_IN_SCHOOLS, _ev((lo, hi)))[0] == "adjust"


def test_rule_is_configurable():
    """A smaller worthwhile effect, or more reviews before stopping, keep a strategy going."""
    ev = _ev((-0.05, 0.06))
    assert decide(APP_IN_SCHOOLS, ev)[0] == "stop"
    assert decide(APP_IN_SCHOOLS, ev, {"small_effect": 0.05})[0] == "adjust"
    assert decide(APP_IN_SCHOOLS, ev, {"stop_after_reviews": 3})[0] == "adjust"


def test_stop_reason_states_time_and_cost_freed():
    """A stop reason says what stopping frees: hours per half-term, per year, and money."""
    _, why = decide(APP_IN_SCHOOLS, _ev((-0.05, 0.06)))
    assert "40 staff hours per half-term (240 a year)" in why
    assert "£12,000 a year" in why
    s = Strategy(id="S", title="t", intervention={"schools": ["A"]})
    assert "cost is not recorded" in decide(s, _ev((-1, -0.5), t=3))[1]


# ------------------------------------------------------------- finding 1: invalid comparisons


@pytest.mark.parametrize(
    ("evidence", "words"),
    [
        ({"comparison_same_phase": False}, "another phase"),
        ({"comparison_in_scope": False}, "outside the schools the goal measures"),
        ({"checks": {"attrition_overall": True}}, "attrition"),
        ({"checks": {"attrition_differential": True}}, "differential attrition"),
        ({"checks": {"baseline_imbalance": True}}, "not alike at the start"),
        ({"too_few_clusters": True}, "too few schools"),
        ({"checks": {"too_few_clusters": True}}, "too few schools"),
    ],
)
def test_an_invalid_comparison_is_never_a_stop(evidence, words):
    """Finding 1: the interval (−0.04, 0.05) after 11 half-terms stops only on a valid comparison.

    The old rule read none of these and said "stop" (S3 in the sample: a secondary app compared
    with primary schools, 23% attrition and a 30-point differential, all printed, none read).
    """
    ev = _ev((-0.04, 0.05), t=11)
    assert decide(APP_IN_SCHOOLS, ev)[0] == "stop"  # valid comparison: no worthwhile effect
    got, why = decide(APP_IN_SCHOOLS, {**ev, **evidence})
    assert got == REVIEW
    assert words in why and "Stop" not in why and "frees" not in why


def test_checks_that_do_not_invalidate_are_ignored():
    """Small n and regression to the mean are shown beside the result but do not block it."""
    ev = _ev((0.05, 0.40), t=4, checks={"small_n": True, "regression_to_mean": True})
    assert decide(APP_IN_SCHOOLS, ev)[0] == "continue"


def test_comparison_problems_lists_each_in_words():
    """Every problem becomes a plain sentence part; a clean comparison has none."""
    assert comparison_problems({}) == []
    got = comparison_problems(
        {
            "comparison_same_phase": False,
            "checks": {"attrition_overall": True, "baseline_imbalance": False},
            "too_few_clusters": True,
        }
    )
    assert len(got) == 3 and all("_" not in g for g in got)


def test_intervention_without_a_comparison_is_insufficient_evidence():
    """Every school of the phase took part: no effect estimate, so neither stop nor continue.

    An improving chart with no comparison (S3 in the sample: a maths rise every school shares)
    does not continue a strategy that names intervention schools.
    """
    ev = _ev(None, t=11, on_trajectory=False, signal="improving", comparison="every school")
    got, why = decide(APP_IN_SCHOOLS, ev)
    assert got == REVIEW and "cannot be estimated (every school)" in why


def test_chart_only_strategies_continue_or_adjust_but_never_stop():
    """Without intervention schools the chart decides, with its limit said; it never stops."""
    got, why = decide(APP, _ev(None, t=4, on_trajectory=True))
    assert got == "continue" and "cannot show that the strategy" in why
    assert decide(APP, _ev(None, t=4, signal="improving"))[0] == "continue"
    assert decide(APP, _ev(None, t=4, on_trajectory=False))[0] == "adjust"
    assert decide(APP, _ev(None, t=4, signal="concerning"))[0] == "adjust"
    got, why = decide(APP, _ev(None, t=30))
    assert got == "adjust" and "no sign of improvement" in why
    assert decide(APP, _ev(None, t=2, on_trajectory=True))[0] == REVIEW


def test_every_decision_is_one_of_four():
    """The four decisions, spelled as the report shows them."""
    assert DECISIONS == ("continue", "adjust", "stop", "review: evidence insufficient")


def test_bad_evidence():
    """An unknown signal or direction is a PlanError."""
    with pytest.raises(PlanError, match="signal"):
        decide(APP, {"signal": "great", "periods_since_start": 1})
    with pytest.raises(PlanError, match="direction"):
        decide(APP, {"direction": "sideways", "periods_since_start": 1})


def test_rule_sentences_are_plain_and_follow_the_config():
    """The rule in words: one sentence group per decision, no code words, the threshold shown."""
    text = rule_sentences()
    assert [s.split()[0] for s in text] == ["Stop", "Continue", "Adjust", "Review:"]
    joined = " ".join(text)
    assert not re.search(r"\w_\w", joined)  # no setting names such as small_effect
    assert "below 0.1" in joined and "2 review periods" in joined
    other = " ".join(rule_sentences({"small_effect": 0.2, "stop_after_reviews": 1}))
    assert "below 0.2" in other and "after the first review" in other
