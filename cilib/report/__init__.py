"""Everything a reader sees: HTML building blocks, plot style, charts, explorer and sections.

The notebooks' common calls (``header``, ``headlines``, ``data_quality``, ``show_all``,
``table``, ``note``) are re-exported here from :mod:`cilib.report.html`; ``summary``, the first
screen of every report, from :mod:`cilib.report.summary`; ``label`` from
:mod:`cilib.report.labels`, the one label table.
"""

from cilib.report.html import data_quality, header, headlines, note, show_all, table
from cilib.report.labels import label, label_columns
from cilib.report.summary import summary

__all__ = [
    "data_quality",
    "header",
    "headlines",
    "label",
    "label_columns",
    "note",
    "show_all",
    "summary",
    "table",
]
