"""Continuous-improvement analytics for groups of schools.

The public API, in one readable list. Modules: ``config`` (trust config and calendar), ``load``
(tidy loaders), ``validate`` (Great Expectations with quarantine; imported only by the batch),
``store`` (prepared parquet store), ``equity`` (summaries, gaps, trends, funnels, suppression),
``impact`` (effect of an intervention with validity checks), ``survey`` (scale reliability,
response bias), ``spc`` (run and control charts), ``plan`` and ``metrics`` (the improvement plan),
``needs`` (the Assess Needs report), ``plots`` (style), ``report`` (HTML building blocks),
``batch`` (the half-term run), ``sample`` (the synthetic trust).
"""

from cilib import config, equity, load, needs, plots, report, spc, store
from cilib.config import load_config
from cilib.equity import funnel, gap, gap_trend, group_summary, suppress
from cilib.errors import CilibError, ConfigError, DataError, PlanError
from cilib.pipeline import open_store, prepare

__version__ = "0.1.0"

__all__ = [
    "CilibError",
    "ConfigError",
    "DataError",
    "PlanError",
    "config",
    "equity",
    "funnel",
    "gap",
    "gap_trend",
    "group_summary",
    "load",
    "load_config",
    "needs",
    "open_store",
    "plots",
    "prepare",
    "report",
    "spc",
    "store",
    "suppress",
]
