"""Committed notebooks: no outputs, one parameters cell first, thin cells; each runs on the sample."""

from __future__ import annotations

import json
import shutil

import pytest

from cilib.batch import NOTEBOOK_DIR
from tests.conftest import SAMPLE_CONFIG

NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_committed_without_outputs(path):
    """Code cells carry no outputs or execution counts."""
    nb = json.loads(path.read_text())
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            assert not cell["outputs"] and cell["execution_count"] is None


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_parameters_cell_is_first_and_only(path):
    """Exactly one cell is tagged parameters, it is the first code cell, and it holds literals only."""
    nb = json.loads(path.read_text())
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    tagged = [c for c in code if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(tagged) == 1 and tagged[0] is code[0]
    for line in "".join(tagged[0]["source"]).splitlines():
        assert ":" in line and "=" in line and "(" not in line.split("#")[0], line
    assert nb["cells"][0]["cell_type"] == "markdown" and nb["cells"][0]["source"][0].startswith(
        "# "
    )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_no_logic_in_notebooks(path):
    """No def or class in a notebook, and code cells stay short (logic belongs in cilib)."""
    nb = json.loads(path.read_text())
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            src = "".join(cell["source"])
            assert "def " not in src and "class " not in src
            assert len(src.splitlines()) <= 8
            assert "great_expectations" not in src and "filterwarnings" not in src


@pytest.mark.slow
@pytest.mark.parametrize("school", [None, "NLT01"])
def test_assess_needs_runs_with_papermill(school, tmp_path):
    """01_assess_needs runs on the sample for the trust and one school; parameters are recorded."""
    import papermill as pm

    from cilib.kernel import QuietKernelManager

    trust = tmp_path / "sample"
    shutil.copytree(SAMPLE_CONFIG.parent, trust, ignore=shutil.ignore_patterns("store"))
    out = tmp_path / "out.ipynb"
    pm.execute_notebook(
        str(NOTEBOOK_DIR / "01_assess_needs.ipynb"),
        str(out),
        parameters={
            "config": str(trust / "trust.yml"),
            "school_id": school,
            "period": "2025/26 HT6",
        },
        cwd=str(NOTEBOOK_DIR),
        progress_bar=False,
        kernel_manager_class=QuietKernelManager,
    )
    nb = json.loads(out.read_text())
    assert nb["metadata"]["papermill"]["parameters"]["school_id"] == school
    text = json.dumps(nb)
    assert "Attendance" in text and "Headlines" in text
    errors = [
        o
        for c in nb["cells"]
        if c["cell_type"] == "code"
        for o in c["outputs"]
        if o.get("output_type") == "error"
    ]
    assert not errors
    stderr = [
        o
        for c in nb["cells"]
        if c["cell_type"] == "code"
        for o in c["outputs"]
        if o.get("name") == "stderr"
    ]
    assert not stderr, stderr
