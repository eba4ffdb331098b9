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

import importlib

#: Public name -> (module, attribute or None for the module itself). Imported on first use, so
#: ``import cilib.data.load`` (a worker process, the command line) does not load every layer.
_PUBLIC = {
    "cycle": ("cilib.cycle", None),
    "report": ("cilib.report", None),
    "CilibError": ("cilib.core.errors", "CilibError"),
    "ConfigError": ("cilib.core.errors", "ConfigError"),
    "DataError": ("cilib.core.errors", "DataError"),
    "PlanError": ("cilib.core.errors", "PlanError"),
    "load_plan": ("cilib.cycle", "load_plan"),
    "config": ("cilib.data.config", None),
    "load": ("cilib.data.load", None),
    "store": ("cilib.data.store", None),
    "gap": ("cilib.data.aggregate", "gap"),
    "group_summary": ("cilib.data.aggregate", "group_summary"),
    "load_config": ("cilib.data.config", "load_config"),
    "open_store": ("cilib.data.prepare", "open_store"),
    "prepare": ("cilib.data.prepare", "prepare"),
    "metrics": ("cilib.measures.metrics", None),
    "registry": ("cilib.measures.registry", None),
    "compute_metric": ("cilib.measures.metrics", "compute_metric"),
    "metric_by_school": ("cilib.measures.metrics", "metric_by_school"),
    "explore": ("cilib.report.explore", None),
    "style": ("cilib.report.style", None),
    "analyse_impact": ("cilib.report.sections.analyse_impact", None),
    "assess_needs": ("cilib.report.sections.assess_needs", None),
    "benchmarks": ("cilib.report.sections.benchmarks", None),
    "implement_plan": ("cilib.report.sections.implement_plan", None),
    "monitor_adjust": ("cilib.report.sections.monitor_adjust", None),
    "strategic_plan": ("cilib.report.sections.strategic_plan", None),
    "trust_overview": ("cilib.report.sections.trust_overview", None),
    "equity": ("cilib.stats.equity", None),
    "impact": ("cilib.stats.impact", None),
    "spc": ("cilib.stats.spc", None),
    "survey": ("cilib.stats.survey", None),
    "trend": ("cilib.stats.trend", None),
    "funnel": ("cilib.stats.funnel", "funnel"),
    "estimate_impact": ("cilib.stats.impact", "estimate_impact"),
    "months_progress": ("cilib.stats.impact", "months_progress"),
    "suppress": ("cilib.stats.suppression", "suppress"),
    "response_rates": ("cilib.stats.survey", "response_rates"),
    "scale_reliability": ("cilib.stats.survey", "scale_reliability"),
    "gap_trend": ("cilib.stats.trend", "gap_trend"),
}


def __getattr__(name: str):
    """Import a public name on first use (PEP 562)."""
    if name not in _PUBLIC:
        raise AttributeError(f"module 'cilib' has no attribute {name!r}")
    module, attr = _PUBLIC[name]
    value = importlib.import_module(module)
    if attr is not None:
        value = getattr(value, attr)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_PUBLIC))


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
