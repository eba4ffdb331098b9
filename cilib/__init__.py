"""Continuous-improvement analytics for groups of schools.

The library is in layers; a module imports only from layers above it in this list (a test,
``tests/test_layers.py``, keeps it so):

- ``core``: the data contract (``schema``), errors, safe paths and YAML, the school calendar and
  pupil groups;
- ``stats``: DataFrame in, DataFrame out, no store, HTML or drawing: ``equity`` (group summaries
  and gaps), ``intervals``, ``funnel``, ``suppression``, ``trend`` (gap trends), ``impact``
  (:func:`cilib.estimate_impact`), ``survey``, ``spc`` (run and control charts, with
  ``chart_data``, ``control_limits`` and ``run_rules``);
- ``measures``: the measures a plan can name (``registry``) and how each is computed
  (``metrics``);
- ``cycle``: the improvement plan, its progress and the decision rule;
- ``data``: the trust config, readers and mapping for real exports, loaders, published tables,
  Great Expectations validation with quarantine, the prepared store;
- ``report``: HTML building blocks (``html``), the plot ``style``, ``charts`` (drawing), the
  explorer widgets,
  and ``sections``, one module per notebook (named like it) with the modules that compute its
  tables;
- ``run``: the half-term batch, kernels and the ``cilib`` command;
- ``sample``: the synthetic trust.

The report sections are also reachable as ``cilib.assess_needs``, ``cilib.strategic_plan``,
``cilib.implement_plan``, ``cilib.monitor_adjust``, ``cilib.analyse_impact``,
``cilib.trust_overview``, ``cilib.benchmarks`` and ``cilib.explore``, which is how the notebooks
use them.
"""

from cilib import cycle, report
from cilib.core.errors import CilibError, ConfigError, DataError, PlanError
from cilib.cycle import load_plan
from cilib.data import config, load, store
from cilib.data.aggregate import gap, group_summary
from cilib.data.config import load_config
from cilib.data.prepare import open_store, prepare
from cilib.measures import metrics, registry
from cilib.measures.metrics import compute_metric, metric_by_school
from cilib.report import explore, style
from cilib.report.sections import (
    analyse_impact,
    assess_needs,
    benchmarks,
    implement_plan,
    monitor_adjust,
    strategic_plan,
    trust_overview,
)
from cilib.stats import equity, impact, spc, survey, trend
from cilib.stats.funnel import funnel
from cilib.stats.impact import estimate_impact, months_progress
from cilib.stats.suppression import suppress
from cilib.stats.survey import response_rates, scale_reliability
from cilib.stats.trend import gap_trend

__version__ = "0.1.0"

__all__ = [
    "CilibError",
    "ConfigError",
    "DataError",
    "PlanError",
    "analyse_impact",
    "assess_needs",
    "benchmarks",
    "compute_metric",
    "config",
    "cycle",
    "equity",
    "estimate_impact",
    "explore",
    "funnel",
    "gap",
    "gap_trend",
    "group_summary",
    "implement_plan",
    "impact",
    "load",
    "load_config",
    "load_plan",
    "metric_by_school",
    "metrics",
    "monitor_adjust",
    "months_progress",
    "open_store",
    "prepare",
    "registry",
    "report",
    "response_rates",
    "scale_reliability",
    "spc",
    "store",
    "strategic_plan",
    "style",
    "suppress",
    "survey",
    "trend",
    "trust_overview",
]
