"""The one label table: codes in plain English, column headers and code values in tables."""

import pandas as pd

from cilib.core.groups import LENS_LABELS
from cilib.measures.registry import REGISTRY
from cilib.report import labels


def test_named_codes_from_the_brief():
    """The column names leaders met as code read as words."""
    assert labels.label("n_focus") == "Disadvantaged pupils"
    assert labels.label("outside998") == "Beyond 99.8% limits"
    assert labels.label("in_progress") == "In progress"
    assert labels.label("conflicting_key") == "Rows that disagree"


def test_measures_and_lenses_come_from_their_registries():
    """Every measure's label is the registry's, every lens's is groups.LENS_LABELS's."""
    for name, m in REGISTRY.items():
        assert labels.label(name).lower() == m.label.lower()
    for code, words in LENS_LABELS.items():
        if code not in labels.COLUMNS and code not in labels.STATUSES:
            assert labels.label(code) == words


def test_unknown_codes_become_words_and_words_stay():
    """An unknown snake_case code loses its underscores; text that is not a code is unchanged."""
    assert labels.label("periods_since_last_review") == "Periods since last review"
    assert labels.label("Northfield Primary") == "Northfield Primary"
    assert labels.label("NLT01") == "NLT01"
    assert labels.label(None) == ""


def test_every_rule_has_a_reason_and_a_short_label():
    """Each data-quality rule has a plain reason and a short label without underscores."""
    for rule, reason in labels.RULE_REASONS.items():
        assert rule in labels.RULES and "_" not in labels.RULES[rule] and "_" not in reason
    assert labels.rule_reason("duplicate; nonsense") == (
        "the row repeats an earlier row; the row broke a data rule"
    )


def test_label_columns_relabels_headers_and_code_valued_columns_only():
    """Headers and code columns become words; free text and school ids mapped to names."""
    df = pd.DataFrame({
        "status": ["in_progress", "not_started"],
        "note": ["left as it is", "done_by_hand"],
        "school_id": ["S1", "S2"],
        "gap_ci_low": [1.0, 2.0],
    })
    out = labels.label_columns(df, names={"S1": "Ash School"})
    assert list(out.columns) == ["Status", "note", "School", "Gap 95% CI low"]
    assert out["Status"].tolist() == ["In progress", "Not started"]
    assert out["note"].tolist() == ["left as it is", "Done by hand"]
    assert out["School"].tolist() == ["Ash School", "S2"]
    assert df.columns.tolist()[0] == "status"  # the input is not changed


def test_no_label_is_a_code():
    """No label in the table is itself a snake_case code."""
    for table in labels.ALL_LABELS:
        for words in table.values():
            assert not labels.is_code(words), words
