"""The one label table: every code a report could show, in plain English.

Measures (from :data:`cilib.measures.registry.REGISTRY`), pupil-group lenses
(:data:`cilib.core.groups.LENS_LABELS`), statuses and decisions, data-quality rules, tables,
improvement-model components and the column names of the summary frames all have their label
here. :func:`label` turns one code into words; :func:`label_columns` relabels a frame's column
names and the values of its code-valued columns; :func:`cilib.report.html.html_table` applies
it, so every table in a report reads in plain English.

Examples
--------
>>> label("n_focus")
'Disadvantaged pupils'
>>> label("in_progress")
'In progress'
>>> label("mean_score")
'Mean score'
>>> label("some_new_code")
'Some new code'
>>> label("Already words")
'Already words'
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import pandas as pd

from cilib.core.groups import LENS_LABELS
from cilib.cycle.model import COMPONENTS
from cilib.measures.registry import REGISTRY

#: What "snake_case" means here: lower-case words joined by underscores (a code, not words).
CODE_PATTERN = re.compile(r"^[a-z0-9]+(?:_[a-z0-9]+)+$")

#: Measures, by their registry name: the registry's label with a capital.
MEASURE_LABELS: dict[str, str] = {
    name: m.label[0].upper() + m.label[1:] for name, m in REGISTRY.items()
}

#: Pupil-group lenses (``cilib.core.groups.LENS_LABELS``).
LENSES: dict[str, str] = dict(LENS_LABELS)

#: Action statuses, decisions, verdicts and other short codes a table may hold.
STATUSES: dict[str, str] = {
    "not_started": "Not started",
    "in_progress": "In progress",
    "done": "Done",
    "blocked": "Blocked",
    "overdue": "Overdue",
    "due_soon": "Due soon",
    "continue": "Continue",
    "adjust": "Adjust",
    "stop": "Stop",
    "adopt": "Adopt",
    "adapt": "Adapt",
    "abandon": "Abandon",
    "on_track": "On track",
    "off_track": "Off track",
    "no_data": "No data",
    "focus": "Focus group",
    "comparison": "Comparison group",
    "all": "All pupils",
    "up": "Higher is better",
    "down": "Lower is better",
    "baseline": "Baseline",
    "milestone": "Milestone",
    "target": "Target",
    "pupil": "Pupils",
    "staff": "Staff",
    "parent": "Parents",
}

#: Pupil-group values that are codes in the data.
GROUPS: dict[str, str] = {
    "ehcp": "EHC plan",
    "white_british": "White British",
    "white_other": "White other",
}

#: Short names of the data-quality rules (what a table's "rule" column shows).
RULES: dict[str, str] = {
    "type": "Wrong type",
    "not_null": "Missing value",
    "allowed_values": "Code not allowed",
    "range": "Out of range",
    "calendar_period": "Period not in calendar",
    "duplicate": "Duplicate row",
    "conflicting_key": "Rows that disagree",
    "attended_le_possible": "More sessions attended than possible",
    "response_in_item_range": "Survey answer off the scale",
    "reference": "Refers to something missing",
    "missing_value": "Blank value",
    "bad_date": "Unreadable date",
    "join_unmatched": "No matching row",
    "unknown_code": "Unknown code",
    "not_a_number": "Not a number",
    "out_of_range": "Out of range",
    "outside_calendar": "Date outside calendar",
    "unparseable_line": "Unreadable line",
    "mixed_encoding": "Unreadable characters",
    "ambiguous_number": "Ambiguous number",
    "invalid_id": "Missing or invalid id",
    "bad_parent_value": "Linked row set aside",
    "none": "None",
}

#: Plain-English reason for each data-quality rule, shown instead of any row's own value.
RULE_REASONS: dict[str, str] = {
    "type": "a value is not of the expected type (e.g. text where a number belongs)",
    "not_null": "a required value is missing",
    "allowed_values": "a value is not one of the codes allowed for that column",
    "range": "a number is outside the allowed range",
    "calendar_period": "a period is not in the trust's calendar",
    "duplicate": "the row repeats an earlier row",
    "conflicting_key": "two rows share a key but disagree",
    "attended_le_possible": "attended sessions are more than possible sessions",
    "response_in_item_range": "a survey response is outside its item's scale",
    "reference": "the row refers to a school, pupil or item that is not in the data",
    "missing_value": "a value the mapping needs is blank",
    "bad_date": "a date could not be read",
    "join_unmatched": "no matching row in the table the mapping joins to",
    "unknown_code": "a code the mapping does not know",
    "not_a_number": "a value the mapping reads as a number is not a number",
    "out_of_range": "a number is outside the range the mapping allows",
    "outside_calendar": "a date falls outside the trust's calendar",
    "unparseable_line": "a line of the file could not be split into the header's columns",
    "mixed_encoding": "a line's bytes are not valid in the file's encoding",
    "ambiguous_number": "a number whose meaning depends on the decimal separator",
    "invalid_id": "an id is blank or a null word such as NA",
    "bad_parent_value": "a row of a parent table has a bad value and was set aside",
}

#: The data tables, as leaders call them.
TABLES: dict[str, str] = {
    "schools": "Schools",
    "pupils": "Pupils",
    "assessments": "Assessments",
    "attendance": "Attendance",
    "behaviour": "Behaviour",
    "survey_items": "Survey questions",
    "survey_responses": "Survey responses",
    "systems": "School systems",
}

#: Column names of the summary frames the sections show.
COLUMNS: dict[str, str] = {
    "school_id": "School",
    "school": "School",
    "school_name": "School",
    "period": "Half-term",
    "n": "Number",
    "n_focus": "Disadvantaged pupils",
    "n_comparison": "Other pupils",
    "n_treated": "Pupils taking part",
    "n_periods": "Half-terms",
    "value": "Value",
    "ci_low": "95% CI low",
    "ci_high": "95% CI high",
    "gap": "Gap",
    "gap_se": "Gap standard error",
    "gap_ci_low": "Gap 95% CI low",
    "gap_ci_high": "Gap 95% CI high",
    "first_gap": "First gap",
    "last_gap": "Latest gap",
    "slope": "Change per half-term",
    "slope_ci_low": "Change 95% CI low",
    "slope_ci_high": "Change 95% CI high",
    "effect_size": "Effect size (g)",
    "effect_g": "Effect size (g)",
    "effect_ci_low": "Effect 95% CI low",
    "effect_ci_high": "Effect 95% CI high",
    "outside998": "Beyond 99.8% limits",
    "outside95": "Beyond 95% limits",
    "on_trajectory": "On trajectory",
    "observed": "Observed",
    "expected": "Expected",
    "difference": "Observed minus expected",
    "lens": "Pupil group type",
    "group": "Group",
    "subject": "Subject",
    "measure": "Measure",
    "rule": "Rule",
    "rows": "Rows",
    "meaning": "What it means",
    "table": "Table",
    "rows_in": "Rows in",
    "rows_clean": "Clean",
    "rows_quarantined": "Set aside",
    "top_rule": "Most common rule broken",
    "rows_after_period": "After this period",
    "respondent_type": "Respondents",
    "review_after_periods": "Review after (half-terms)",
    "periods_since_start": "Half-terms since start",
    "decision_rule": "Decision rule",
    "small_effect": "Smallest worthwhile effect",
    "stop_after_reviews": "Stop only after (reviews)",
    "stop_if_harmful": "Stop if harmful",
    "equivalence_level": "Confidence for 'no worthwhile effect'",
    "effect_overrides_signal": "Effect outweighs the chart signal",
    "periods_per_year": "Half-terms a year",
    "due": "Due",
    "start": "Start",
    "owner": "Owner",
    "status": "Status",
    "title": "Title",
    "decision": "Decision",
    "reason": "Reason",
    "signal": "Signal",
    "strategy": "Strategy",
    "in_progress": "In progress",
    "not_started": "Not started",
}

#: Every label, looked up in this order (the first table that knows a code wins).
ALL_LABELS: tuple[Mapping[str, str], ...] = (
    COLUMNS,
    MEASURE_LABELS,
    STATUSES,
    GROUPS,
    RULES,
    TABLES,
    LENSES,
    COMPONENTS,
)


def is_code(text: object) -> bool:
    """Return True when ``text`` looks like a code (lower-case words joined by underscores).

    Examples
    --------
    >>> is_code("gap_ci_low"), is_code("Gap"), is_code("NLT01")
    (True, False, False)
    """
    return isinstance(text, str) and bool(CODE_PATTERN.match(text))


def known(code: object) -> bool:
    """Return True when ``code`` has an entry in the label table."""
    return isinstance(code, str) and any(code in t for t in ALL_LABELS)


def label(code: object) -> str:
    """Return the plain-English label of a code.

    Known codes get their entry (columns, measures, statuses, rules, tables, lenses,
    improvement-model components, in that order); any other code of lower-case words joined by
    underscores gets its words with a capital; anything else is returned as text unchanged.

    Examples
    --------
    >>> label("outside998"), label("conflicting_key"), label("survey_responses")
    ('Beyond 99.8% limits', 'Rows that disagree', 'Survey responses')
    >>> label("sen")
    'Special educational needs'
    """
    text = "" if code is None else str(code)
    for table in ALL_LABELS:
        if text in table:
            return table[text]
    if is_code(text):
        words = text.replace("_", " ")
        return words[0].upper() + words[1:]
    return text


def rule_reason(rule: object) -> str:
    """Return the plain-English reason of a data-quality rule (``"a; b"`` for several rules).

    Examples
    --------
    >>> rule_reason("duplicate")
    'the row repeats an earlier row'
    >>> rule_reason("range; attended_le_possible")
    'a number is outside the allowed range; attended sessions are more than possible sessions'
    """
    parts = [r.strip() for r in str(rule).split(";") if r.strip()]
    return "; ".join(RULE_REASONS.get(r, "the row broke a data rule") for r in parts)


def label_value(value: object) -> object:
    """Return a cell's label when it is a code (or several codes joined by ``"; "``)."""
    if not isinstance(value, str):
        return value
    parts = value.split("; ")
    if all(is_code(p) or (known(p) and p.islower()) for p in parts):
        return "; ".join(label(p) for p in parts)
    return value


def _code_valued(col: pd.Series) -> bool:
    vals = [v for v in col.dropna().tolist() if isinstance(v, str) and v != ""]
    if not vals or len(vals) < col.notna().sum():
        return False
    return all(all(known(p) or is_code(p) for p in v.split("; ")) for v in vals)


def label_columns(df: pd.DataFrame, *, names: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Return a copy of ``df`` with plain-English column names and code values in words.

    Column names that are codes get :func:`label`; in a column whose every value is a known
    code (a status, a rule, a lens ...) each value gets its label, and any single cell that is a
    code gets its label too. ``names`` maps school ids to names, for the ``school_id`` column.

    Examples
    --------
    >>> df = pd.DataFrame({"status": ["in_progress", "done"], "n_focus": [12, 30]})
    >>> label_columns(df).to_dict("list")
    {'Status': ['In progress', 'Done'], 'Disadvantaged pupils': [12, 30]}
    """
    out = df.copy()
    for c in out.columns:
        if names and str(c) in ("school_id", "school"):
            out[c] = out[c].map(lambda v: names.get(v, v) if isinstance(v, str) else v)
        elif out[c].dtype == object or pd.api.types.is_string_dtype(out[c]):
            if _code_valued(out[c]):
                out[c] = out[c].map(lambda v: label(v) if isinstance(v, str) else v)
            else:
                out[c] = out[c].map(label_value)
    renamed = {c: label(c) for c in out.columns if isinstance(c, str) and (is_code(c) or known(c))}
    taken = [str(c) for c in out.columns if c not in renamed]
    for c, words in renamed.items():  # two codes with one label: keep both columns apart
        k, new = 2, words
        while new in taken:
            new, k = f"{words} ({k})", k + 1
        renamed[c] = new
        taken.append(new)
    return out.rename(columns=renamed)
