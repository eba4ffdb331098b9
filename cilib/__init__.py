"""Continuous-improvement analytics for groups of schools.

The public API, in one readable list. Modules: ``config`` (trust config and calendar), ``load``
(tidy loaders), ``validate`` (Great Expectations with quarantine; imported only by the batch),
``store`` (prepared parquet store), ``equity`` (summaries, gaps, trends, funnels, suppression),
``impact`` (effect of an intervention with validity checks; the module is callable, so
``cilib.impact(df, ...)`` is :func:`cilib.impact.impact`), ``survey`` (scale reliability,
response bias), ``spc`` (run and control charts), ``plan`` and ``metrics`` (the improvement plan),
``needs`` (the Assess Needs report), ``plots`` (style), ``report`` (HTML building blocks),
``batch`` (the half-term run), ``sample`` (the synthetic trust).
"""

from cilib import (
    config,
    equity,
    impact,
    load,
    metrics,
    needs,
    plan,
    plots,
    report,
    spc,
    store,
    survey,
)
from cilib.config import load_config
from cilib.equity import funnel, gap, gap_trend, group_summary, suppress
from cilib.errors import CilibError, ConfigError, DataError, PlanError
from cilib.impact import months_progress
from cilib.metrics import compute_metric, metric_by_school
from cilib.pipeline import open_store, prepare
from cilib.plan import load_plan
from cilib.survey import response_rates, scale_reliability

__version__ = "0.1.0"

__all__ = [
    "CilibError",
    "benchmark",
    "widgets",
    "ConfigError",
    "DataError",
    "PlanError",
    "config",
    "equity",
    "funnel",
    "gap",
    "gap_trend",
    "compute_metric",
    "group_summary",
    "impact",
    "load_plan",
    "metric_by_school",
    "metrics",
    "months_progress",
    "plan",
    "response_rates",
    "scale_reliability",
    "survey",
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
