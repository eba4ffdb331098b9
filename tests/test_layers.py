"""The layout rules of cilib (docs/contributing.md, "Where things go"), checked on the source.

Layers, left to right: core, stats, measures, cycle, data, report, run. A module imports only
from its own layer or layers to its left; ``sample`` (the synthetic trust) may import from any
layer and only ``run`` imports it. Imports sit at the top of a module, except for heavy optional
dependencies. No module imports another module's private (``_name``) helpers, and no module is
much over 600 lines.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import cilib

ROOT = Path(cilib.__file__).resolve().parent
LAYERS = ["core", "stats", "measures", "cycle", "data", "report", "run"]
#: Imported inside functions on purpose: slow to import and needed only by some paths.
HEAVY = {"great_expectations", "papermill", "nbconvert", "nbformat", "nbclient", "IPython",
         "ipywidgets", "dask", "distributed", "playwright", "openpyxl", "duckdb", "jupyter_client"}
MAX_LINES = 650


def _modules():
    for path in sorted(ROOT.rglob("*.py")):
        parts = path.relative_to(ROOT.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        yield name, path


MODULES = dict(_modules())


def _layer(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in LAYERS + ["sample"] else None


def _imports(path: Path):
    """Yield (target module, imported names, inside a function?) for each import."""
    tree = ast.parse(path.read_text(encoding="utf-8"))

    def walk(node, in_function):
        for child in ast.iter_child_nodes(node):
            inside = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef))
            if isinstance(child, ast.Import):
                for alias in child.names:
                    yield alias.name, [], inside
            elif isinstance(child, ast.ImportFrom) and child.level == 0 and child.module:
                names = [a.name for a in child.names]
                if f"{child.module}.{names[0]}" in MODULES:  # from cilib.stats import equity
                    for n in names:
                        yield f"{child.module}.{n}", [], inside
                else:
                    yield child.module, names, inside
            yield from walk(child, inside)

    yield from walk(tree, False)


@pytest.mark.parametrize("module", sorted(m for m in MODULES if _layer(m)))
def test_imports_follow_the_layers(module):
    """Each module imports only from its own layer or those to its left."""
    own = _layer(module)
    bad = []
    for target, _, _ in _imports(MODULES[module]):
        if not target.startswith("cilib.") or target == "cilib":
            if target == "cilib":
                bad.append("cilib (import from the module that holds it)")
            continue
        other = _layer(target)
        if own == "sample":
            continue
        if other == "sample":
            if own != "run":
                bad.append(target)
        elif other is None or LAYERS.index(other) > LAYERS.index(own):
            bad.append(target)
    assert not bad, f"{module} imports from a layer to its right: {bad}"


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_imports_inside_functions(module):
    """Imports sit at the top of the module, except heavy optional dependencies."""
    inner = [t for t, _, inside in _imports(MODULES[module])
             if inside and t.split(".")[0] not in HEAVY]
    assert not inner, f"{module} imports inside a function: {inner}"


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_private_imports(module):
    """No module imports another module's private helpers."""
    private = [f"{t}.{n}" for t, names, _ in _imports(MODULES[module])
               if t.startswith("cilib") for n in names if n.startswith("_")]
    assert not private, f"{module} imports private names: {private}"


@pytest.mark.parametrize("module", sorted(MODULES))
def test_modules_stay_small(module):
    """No module is much over 600 lines: split it by job instead."""
    lines = len(MODULES[module].read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{module} has {lines} lines (at most {MAX_LINES})"


#: Where a module without a test file named after it (tests/test_<module>.py) is tested.
TESTED_IN = {
    "cilib.core.errors": "test_checks.py",
    "cilib.core.groups": "test_registry.py",
    "cilib.core.safe_yaml": "test_config.py",
    "cilib.core.schema": "test_validate.py",
    "cilib.cycle.decision": "test_plan_file.py",
    "cilib.cycle.model": "test_plan_file.py",
    "cilib.cycle.progress": "test_plan_file.py",
    "cilib.cycle.review": "test_plan_file.py",
    "cilib.data.mapping_spec": "test_config.py",
    "cilib.data.quarantine": "test_validate.py",
    "cilib.data.sample_identity": "test_config.py",
    "cilib.data.suites": "test_validate.py",
    "cilib.report.sections.impact_analysis": "test_analyse_impact.py",
    "cilib.report.sections.implement_plan": "test_planning.py",
    "cilib.report.sections.monitor_charts": "test_monitor_adjust.py",
    "cilib.report.sections.monitor_decisions": "test_monitor_adjust.py",
    "cilib.report.sections.needs_tables": "test_assess_needs.py",
    "cilib.report.sections.plan_goals": "test_planning.py",
    "cilib.report.sections.plan_tracking": "test_planning.py",
    "cilib.report.sections.strategic_plan": "test_planning.py",
    "cilib.report.style": "test_charts.py",
    "cilib.run.kernel": "test_batch.py",
    "cilib.sample.design": "test_sample.py",
    "cilib.sample.dirt": "test_sample.py",
    "cilib.sample.generate": "test_sample.py",
    "cilib.sample.outcomes": "test_sample.py",
    "cilib.sample.pupils": "test_sample.py",
}
TESTS = Path(__file__).resolve().parent


@pytest.mark.parametrize(
    "module", sorted(m for m, p in MODULES.items() if p.name not in ("__init__.py", "__main__.py"))
)
def test_every_module_has_its_tests(module):
    """Each module has tests/test_<module>.py, or TESTED_IN names the file that tests it."""
    leaf = module.rsplit(".", 1)[1]
    if (TESTS / f"test_{leaf}.py").exists():
        return
    assert module in TESTED_IN, f"{module}: add tests/test_{leaf}.py (or an entry in TESTED_IN)"
    text = (TESTS / TESTED_IN[module]).read_text(encoding="utf-8")
    package = module.rsplit(".", 1)[0]
    assert module in text or package in text, f"{TESTED_IN[module]} does not use {module}"


def test_the_layer_test_sees_every_layer():
    """The rules above really ran over each layer (a renamed folder cannot slip past)."""
    seen = {_layer(m) for m in MODULES}
    assert set(LAYERS) | {"sample"} <= seen
