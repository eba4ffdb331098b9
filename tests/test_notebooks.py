"""Committed notebooks: no outputs, one parameters cell first, thin cells; each runs."""

from __future__ import annotations

import json
import shutil

import pytest

from cilib.run.batch import NOTEBOOK_DIR
from tests.conftest import PERIOD, SAMPLE_CONFIG, run_notebook

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
    """One cell is tagged parameters; it is the first code cell and holds literals only."""
    nb = json.loads(path.read_text())
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    tagged = [c for c in code if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(tagged) == 1 and tagged[0] is code[0]
    for line in "".join(tagged[0]["source"]).splitlines():
        assert ":" in line and "=" in line and "(" not in line.split("#")[0], line
    # a one-line markdown title first (not a heading: the report's one h1, from
    # cilib.report.summary, names the school and the period)
    assert nb["cells"][0]["cell_type"] == "markdown" and nb["cells"][0]["source"][0].strip()


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
def test_assess_needs_prepares_its_own_store_from_the_config(tmp_path):
    """Run on its own (no store given), 01_assess_needs prepares the store from the config."""
    trust = tmp_path / "sample"
    shutil.copytree(SAMPLE_CONFIG.parent, trust, ignore=shutil.ignore_patterns("store"))
    nb = run_notebook("01_assess_needs", tmp_path, config=str(trust / "trust.yml"),
                      school_id=None, period=PERIOD)
    assert (trust / "store" / "2025-26_HT6" / "meta.json").exists()
    assert "Headlines" in json.dumps(nb)


@pytest.mark.slow
@pytest.mark.parametrize("school", [None, "NLT01"])
def test_assess_needs_runs_with_papermill(school, tmp_path, sample_store_dir):
    """01_assess_needs runs on the sample for the trust and one school, with its sections."""
    nb = run_notebook("01_assess_needs", tmp_path, store=str(sample_store_dir),
                      school_id=school, period=PERIOD)
    text = json.dumps(nb)
    for heading in ("Data quality", "Attendance by pupil group", "Is the gap", "Ranked needs",
                    "Variation between schools", "Published benchmarks"):
        assert heading in text
    assert "Headlines" in text and "image/png" in text
