"""End to end: `cilib run` on the sample makes offline, code-free, aggregate-only reports."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

from cilib.batch import NOTEBOOK_DIR, available_notebooks, notebook_scope, run_batch
from cilib.cli import main
from cilib.config import load_config
from tests.conftest import SAMPLE_CONFIG
from tests.test_report_safety import check_page

pytestmark = pytest.mark.slow
PERIOD = "2025/26 HT6"
URL = re.compile(r"(https?:)?//[a-z0-9.-]+\.[a-z]{2,}", re.I)


@pytest.fixture(scope="module")
def sample_copy(tmp_path_factory) -> Path:
    """A copy of the sample trust, so the run's store lands in a temporary folder."""
    dst = tmp_path_factory.mktemp("trust") / "sample"
    shutil.copytree(SAMPLE_CONFIG.parent, dst, ignore=shutil.ignore_patterns("store"))
    return dst / "trust.yml"


@pytest.fixture(scope="module")
def run(sample_copy, tmp_path_factory):
    """Run the whole batch once through the command line; return (exit code, output folder)."""
    out = tmp_path_factory.mktemp("reports")
    code = main(
        [
            "run",
            "--config",
            str(sample_copy),
            "--period",
            PERIOD,
            "--output",
            str(out),
            "--jobs",
            "2",
        ]
    )
    return code, out / "2025-26_HT6"


def test_run_succeeds_and_writes_index(run):
    """Every notebook renders, exit status 0, and the index links every report."""
    code, folder = run
    manifest = json.loads((folder / "manifest.json").read_text())
    failed = [n for n in manifest["notebooks"] if n["status"] != "ok"]
    assert code == 0, failed
    index = (folder / "index.html").read_text()
    for nb in manifest["notebooks"]:
        assert nb["out_html"] in index
        assert (folder / nb["out_html"]).exists()
    cfg = load_config(SAMPLE_CONFIG)
    scopes = {nb: notebook_scope(NOTEBOOK_DIR / f"{nb}.ipynb") for nb in cfg.notebooks}
    expected = sum((scope != "school") + (scope != "trust") * len(cfg.schools)
                   for scope in scopes.values())
    assert manifest["counts"]["total"] == expected == manifest["counts"]["ok"]
    assert set(scopes) == set(available_notebooks())  # the sample runs every batch notebook


def test_manifest_records_inputs_versions_and_accounting(run):
    """The manifest has hashes, versions and row accounting that adds up, notebooks in a fixed
    order and no times; the run's times are in run-log.json."""
    _, folder = run
    m = json.loads((folder / "manifest.json").read_text())
    assert len(m["config"]["sha256"]) == 64
    assert all(len(v["sha256"]) == 64 for v in m["inputs"].values())
    assert m["packages"]["pandas"] == "3.1.1"
    keys = [(n["school_id"] is not None, n["school_id"] or "", n["notebook"])
            for n in m["notebooks"]]
    assert keys == sorted(keys)  # not the order the workers finished in
    assert not {"started", "finished", "seconds"} & set(m)
    assert all("seconds" not in n for n in m["notebooks"])
    log = json.loads((folder / "run-log.json").read_text())
    assert log["started"] <= log["finished"] and len(log["notebooks"]) == len(m["notebooks"])
    assert all(n["seconds"] > 0 for n in log["notebooks"])
    for row in m["rows"]:
        assert row["rows_in"] == row["rows_clean"] + row["rows_quarantined"]
    assert sum(r["rows_quarantined"] for r in m["rows"]) > 0  # the sample's dirty rows


def test_reports_are_offline_code_free_and_hold_no_pupil_ids(run):
    """No external URL, no code cell, no raw or pseudonymised pupil id in any HTML report."""
    _, folder = run
    raw_ids = set(pd.read_csv(SAMPLE_CONFIG.parent / "pupils.csv", dtype=str)["pupil_id"].dropna())
    pages = list(folder.rglob("*.html"))
    assert len(pages) >= 2
    for page in pages:
        text = page.read_text()
        check_page(text, page.name)  # CSP meta, no script, nothing loaded from outside
        assert not URL.search(text), f"{page.name} has an external URL: {URL.search(text).group(0)}"
        assert "<script src" not in text
        assert "hl-ipython3" not in text and "jp-CodeMirrorEditor" not in text, f"code in {page}"
        assert "import cilib" not in text and "open_store(" not in text, page
        assert not re.search(r"\bp_[0-9a-f]{16}\b", text), f"pseudonymised id in {page}"
        found = set(re.findall(r"\bP\d{5}\b", text)) & raw_ids
        assert not found, f"pupil ids {sorted(found)[:3]} in {page}"


def test_assess_needs_report_content(run):
    """The trust's Assess Needs report has its headings, headlines and data-quality figures."""
    _, folder = run
    text = (folder / "trust" / "01_assess_needs.html").read_text()
    for heading in (
        "Data quality",
        "Attendance by pupil group",
        "Is the gap",
        "Variation between schools",
        "Ranked needs",
        "Headlines",
    ):
        assert heading in text
    # markdown headings are visible: the stylesheet hides no cell input wholesale
    assert not re.search(r"\.jp-InputArea[^{]*\{[^}]*display:\s*none", text)
    assert re.search(r"<h2[^>]*>Data quality", text)
    assert "data:image/png;base64" in text  # charts are embedded, not linked


def test_rerun_replaces_only_that_period(run, sample_copy, tmp_path):
    """Re-running another period leaves the first period's reports alone."""
    _, folder = run
    before = (folder / "index.html").stat().st_mtime
    code = main(
        [
            "run",
            "--config",
            str(sample_copy),
            "--period",
            "2025/26 HT5",
            "--output",
            str(folder.parent),
            "--schools",
            "NLT01",
            "--notebooks",
            "01_assess_needs",
            "--quiet",
        ]
    )
    assert code == 0
    assert (folder.parent / "2025-26_HT5" / "index.html").exists()
    assert (folder / "index.html").stat().st_mtime == before


def test_failed_notebook_is_kept_and_does_not_stop_others(sample_copy, tmp_path):
    """A notebook that raises is marked failed with its error; the others still render."""
    nbdir = tmp_path / "notebooks"
    nbdir.mkdir()
    shutil.copy(NOTEBOOK_DIR / "01_assess_needs.ipynb", nbdir)
    nb = json.loads((NOTEBOOK_DIR / "01_assess_needs.ipynb").read_text())
    nb["cells"].append(
        {
            "cell_type": "code",
            "metadata": {},
            "outputs": [],
            "execution_count": None,
            "id": "boom",
            "source": "raise RuntimeError('deliberate failure')",
        }
    )
    (nbdir / "02_broken.ipynb").write_text(json.dumps(nb))
    m = run_batch(
        load_config(sample_copy),
        PERIOD,
        schools=["NLT01"],
        notebooks=["01_assess_needs", "02_broken"],
        jobs=2,
        output=tmp_path / "out",
        notebook_dir=nbdir,
    )
    status = {(n["notebook"], n["school_id"]): n["status"] for n in m["notebooks"]}
    assert (
        status[("01_assess_needs", None)] == "ok" and status[("01_assess_needs", "NLT01")] == "ok"
    )
    assert status[("02_broken", None)] == "failed" and status[("02_broken", "NLT01")] == "failed"
    assert m["counts"]["failed"] == 2
    broken = [n for n in m["notebooks"] if n["notebook"] == "02_broken"][0]
    assert "deliberate failure" in broken["error"]
    folder = tmp_path / "out" / "2025-26_HT6"
    assert (folder / broken["out_ipynb"]).exists()
    assert "failed" in (folder / "index.html").read_text()
