"""Everything a reader sees: HTML building blocks, plot style, charts, explorer and sections.

The notebooks' common calls (``header``, ``headlines``, ``data_quality``, ``show_all``,
``table``, ``note``) are re-exported here from :mod:`cilib.report.html`.
"""

from cilib.report.html import data_quality, header, headlines, note, show_all, table

__all__ = ["data_quality", "header", "headlines", "note", "show_all", "table"]
