"""Pupil groups: the default focus group and the lenses (pupil characteristics) with their labels.

Examples
--------
>>> LENS_LABELS["sen"]
'Special educational needs'
>>> SHORT_LENS[LENS_LABELS["sen"]]
'SEN'
"""

from __future__ import annotations

from typing import Any

#: The default focus group: disadvantaged pupils against all others.
DEFAULT_FOCUS: dict[str, Any] = {"column": "disadvantaged", "value": True}
#: Lenses (pupil columns) and their plain-English labels, in output order.
LENS_LABELS = {
    "disadvantaged": "Disadvantaged",
    "fsm": "Free school meals",
    "sen": "Special educational needs",
    "eal": "English as an additional language",
    "gender": "Gender",
    "prior_attainment": "Prior attainment",
    "ethnicity": "Ethnicity",
}
#: Short lens names for heat-map columns, keyed by the label.
SHORT_LENS = {
    "Disadvantaged": "Disadvantaged",
    "Free school meals": "FSM",
    "Special educational needs": "SEN",
    "English as an additional language": "EAL",
    "Gender": "Gender",
    "Prior attainment": "Prior attainment",
    "Ethnicity": "Ethnicity",
}
