"""Continuous-improvement analytics for groups of schools.

The public API, in one readable list. Modules, one job each:

- ``config`` (trust config and calendar), ``load`` (tidy loaders), ``readers`` and ``mapping``
  (real exports onto the data contract), ``published`` (DfE and NYC published data),
  ``validate`` (Great Expectations with quarantine; imported only by the batch), ``store``
  (prepared parquet store), ``pipeline`` (load, validate and store once per run);
- ``equity`` (summaries, gaps, trends, funnels, suppression), ``impact`` (effect of an
  intervention with validity checks: :func:`cilib.estimate_impact`), ``survey`` (scale
  reliability, response bias), ``spc`` (run and control charts), ``plan`` and ``metrics`` (the
  improvement plan and its measures);
- ``needs``, ``planning``, ``monitor``, ``evaluate``, ``overview`` (the report of each phase:
  Assess Needs, Strategic Plan and Implement Plan, Monitor and Adjust, Analyse Impact, Trust
  overview), ``benchmark`` (published benchmarks in reports), ``widgets`` (the explorer);
- ``plots`` (style), ``report`` (HTML building blocks), ``batch`` (the half-term run), ``cli``,
  ``sample`` (the synthetic trust).
"""

from cilib import (
    benchmark,
    config,
    equity,
    evaluate,
    impact,
    load,
    metrics,
    monitor,
    needs,
    overview,
    plan,
    planning,
    plots,
    report,
    spc,
    store,
    survey,
    trend,
    widgets,
)
from cilib.config import load_config
from cilib.equity import funnel, gap, group_summary, suppress
from cilib.errors import CilibError, ConfigError, DataError, PlanError
from cilib.impact import estimate_impact, months_progress
from cilib.metrics import compute_metric, metric_by_school
from cilib.pipeline import open_store, prepare
from cilib.plan import load_plan
from cilib.survey import response_rates, scale_reliability
from cilib.trend import gap_trend

__version__ = "0.1.0"

__all__ = [
    "CilibError",
    "ConfigError",
    "DataError",
    "PlanError",
    "benchmark",
    "compute_metric",
    "config",
    "equity",
    "estimate_impact",
    "evaluate",
    "funnel",
    "gap",
    "gap_trend",
    "group_summary",
    "impact",
    "load",
    "load_config",
    "load_plan",
    "metric_by_school",
    "metrics",
    "monitor",
    "months_progress",
    "needs",
    "open_store",
    "overview",
    "plan",
    "planning",
    "plots",
    "prepare",
    "report",
    "response_rates",
    "scale_reliability",
    "spc",
    "store",
    "suppress",
    "survey",
    "trend",
    "widgets",
]
