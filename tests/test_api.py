"""The public API: every name in cilib.__all__ exists, and importing cilib never loads GX."""

import subprocess
import sys

import cilib


def test_all_names_exist():
    """Each exported name is an attribute of the package."""
    missing = [n for n in cilib.__all__ if not hasattr(cilib, n)]
    assert not missing


def test_contract_functions_are_callable():
    """The statistics contract names are top-level callables; estimate_impact is a function."""
    names = ("group_summary", "gap", "gap_trend", "funnel", "estimate_impact", "suppress",
             "scale_reliability")
    for name in names:
        assert callable(getattr(cilib, name)), name
    assert callable(cilib.stats.spc.chart) and callable(cilib.report.charts.spc.plot)
    assert callable(cilib.data.published.performance_tables)
    assert not callable(cilib.stats.impact)  # the module is a module


def test_import_does_not_load_great_expectations():
    """Notebooks import cilib; Great Expectations must stay out of their process."""
    code = "import sys, cilib; print('great_expectations' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
