"""The measure registry (cilib.measures.registry) is the one place a measure is defined."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import cilib
from cilib.core.groups import LENS_LABELS, SHORT_LENS
from cilib.measures import registry
from cilib.measures.metrics import compute_metric, validate_metric

REPORT = Path(cilib.__file__).resolve().parent / "report"
#: What a metric needs beyond its table and measure to be computed on the sample trust.
EXTRA = {"pct_at_or_above": {"threshold": 100}, "scale_mean": {"scale": "belonging"}}
#: Names of the measure lists the sections used to keep for themselves.
OLD_LISTS = {"MEASURES", "PUPIL_MEASURES", "P_CHART_MEASURES", "RATE_MEASURES", "_RATE_MEASURES",
             "_MEAN_MEASURES", "_MEASURE_NAMES", "LOWER_IS_BETTER", "LOWER_IS_BETTER_WORDS",
             "LENS_LABELS", "SHORT_LENS"}


@pytest.mark.parametrize("name", list(registry.REGISTRY))
def test_every_measure_is_computable_on_the_sample(sample_store, name):
    """compute_metric gives numbers for every registry measure on the sample trust."""
    m = registry.REGISTRY[name]
    metric = validate_metric({"table": m.table, "measure": name, **EXTRA.get(name, {})})
    res = compute_metric(sample_store.tables_dict(), metric)
    assert len(res) and res["value"].notna().any(), name


def test_entries_are_consistent_and_labels_unique():
    """Each entry names itself, labels are unique and kinds, charts and units are known ones."""
    ms = list(registry.REGISTRY.values())
    assert all(registry.REGISTRY[m.name] is m for m in ms)
    for field in ("label", "name_in_tables"):
        values = [getattr(m, field) for m in ms]
        assert len(set(values)) == len(values), field
    titles = [m.title for m in ms if m.title]
    assert len(set(titles)) == len(titles)
    assert {m.kind for m in ms} <= {"rate", "share", "mean", "count"}
    assert {m.chart for m in ms} <= {"p", "xmr", "u"}
    assert all(m.chart == "p" for m in ms if m.kind == "share")
    assert {m.unit for m in ms} <= {"percentage points", "points"}
    assert set(registry.tables()) >= {m.table for m in ms}


def test_lens_labels_have_one_short_name_each():
    """Every lens label has a short name for the heat map."""
    assert set(SHORT_LENS) == set(LENS_LABELS.values())


def _report_modules():
    return sorted(REPORT.rglob("*.py"))


@pytest.mark.parametrize("path", _report_modules(), ids=lambda p: p.stem)
def test_sections_keep_no_measure_lists_of_their_own(path):
    """No report module defines a list of measures or lens labels; every measure it names is known.

    A module-level constant naming two or more measures is a measure list that belongs in the
    registry; a measure a report module writes in a metric or compares a metric's measure with
    must be a registry measure.
    """
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set(registry.REGISTRY)
    for node in tree.body:
        if isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            assert not {t.id for t in targets if isinstance(t, ast.Name)} & OLD_LISTS
            strings = {c.value for c in ast.walk(node) if isinstance(c, ast.Constant)}
            assert len(strings & names) < 2, ast.unparse(node)[:80]
    for d in ast.walk(tree):
        keys = {k.value for k in getattr(d, "keys", []) if isinstance(k, ast.Constant)}
        pairs = zip(d.keys, d.values, strict=True) if isinstance(d, ast.Dict) else []
        table = [
            v.value
            for k, v in pairs
            if isinstance(k, ast.Constant) and k.value == "table" and isinstance(v, ast.Constant)
        ]
        # a metric definition names a data table ({"table": "attendance", ...}); a label
        # table's {"table": "Table", "measure": "Measure"} is not one
        if isinstance(d, ast.Dict) and "table" in keys and set(table) <= set(registry.tables()):
            for k, v in zip(d.keys, d.values, strict=True):
                if isinstance(k, ast.Constant) and k.value == "measure" and isinstance(
                    v, ast.Constant
                ):
                    assert v.value in names, v.value
        left = ast.unparse(d.left) if isinstance(d, ast.Compare) else ""
        if left.endswith(('["measure"]', "get('measure')", 'get("measure")')):
            for c in d.comparators:
                if isinstance(c, ast.Constant) and isinstance(c.value, str):
                    assert c.value in names, c.value
