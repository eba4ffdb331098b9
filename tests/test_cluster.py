"""The batch on a real Dask cluster: a scheduler and two workers started as subprocesses."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from cilib.data.config import load_config
from cilib.run.batch import run_batch
from cilib.run.cli import main
from cilib.run.cluster import WarmKernels, local_dask_cluster
from tests.conftest import SAMPLE_CONFIG
from tests.test_batch import (
    PERIOD,
    SAY,
    SUBSET,
    TINY_PERIOD,
    _tiny_notebook,
    report_differences,
    report_lines,
)

TWO_SCHOOLS = [*SUBSET[:2], "NLT02", *SUBSET[2:]]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """A local scheduler and two single-thread workers, stopped after the module's tests."""
    with local_dask_cluster(2, tmp_path_factory.mktemp("dask")) as address:
        yield address


@pytest.fixture(scope="module")
def sample_copy(tmp_path_factory) -> Path:
    dst = tmp_path_factory.mktemp("trust") / "sample"
    shutil.copytree(SAMPLE_CONFIG.parent, dst, ignore=shutil.ignore_patterns("store"))
    return dst / "trust.yml"


@pytest.mark.slow
def test_cluster_reports_equal_a_local_run(cluster, sample_copy, tmp_path):
    """Two schools, three notebooks: the reports made on the cluster's workers have the same words
    and tables as a local run's, and the index and manifest list the same reports."""
    folders = {}
    for mode, extra in (("local", []), ("cluster", ["--cluster", cluster])):
        out = tmp_path / mode
        code = main(["run", "--config", str(sample_copy), "--period", PERIOD, "--output", str(out),
                     *TWO_SCHOOLS, *extra])
        assert code == 0
        folders[mode] = out / "2025-26_HT6"
    manifests = {m: json.loads((f / "manifest.json").read_text()) for m, f in folders.items()}
    assert manifests["cluster"]["counts"] == manifests["local"]["counts"] == {
        "total": 7, "ok": 7, "failed": 0}
    assert manifests["cluster"]["notebooks"] == manifests["local"]["notebooks"]
    assert report_differences(folders["local"], folders["cluster"]) == {}
    page = folders["cluster"] / "NLT02" / "04_monitor_adjust.html"
    assert len(report_lines(page)) > 3 and "data:image/png;base64" in page.read_text()


@pytest.mark.slow
def test_a_failing_task_fails_only_its_report(cluster, tiny_trust, tmp_path, capsys):
    """A notebook that raises on a worker fails its reports only; the others render, and the
    progress shows each report as it finishes."""
    nbdir = tmp_path / "nbs"
    _tiny_notebook(nbdir, "01_hello", "RUN = 'cluster'\n" + SAY)
    _tiny_notebook(nbdir, "02_broken", "raise RuntimeError('deliberate failure on a worker')")
    _tiny_notebook(nbdir, "03_after", "RUN = 'after'\n" + SAY)
    lines: list[str] = []
    m = run_batch(load_config(tiny_trust), TINY_PERIOD, output=tmp_path / "out",
                  notebook_dir=nbdir, cluster=cluster, progress=lines.append)
    status = {(n["notebook"], n["school_id"]): n["status"] for n in m["notebooks"]}
    assert m["counts"] == {"total": 9, "ok": 6, "failed": 3}
    assert {k for k, v in status.items() if v == "failed"} == {
        ("02_broken", None), ("02_broken", "S1"), ("02_broken", "S2")}
    broken = [n for n in m["notebooks"] if n["notebook"] == "02_broken"]
    assert all("deliberate failure on a worker" in n["error"] for n in broken)
    folder = tmp_path / "out" / "2024-25_HT1"
    assert "Beta Academy after" in (folder / "S2" / "03_after.html").read_text()
    assert (folder / broken[0]["out_ipynb"]).exists()  # the failed notebook is kept
    running = [ln for ln in lines if ln.startswith("Running ")]
    assert running == [f"Running 9 notebooks on the cluster at {cluster} with 2 worker(s)"]
    assert sum(ln.startswith("[") for ln in lines) == 9 and any("/9] 02_broken" in ln
                                                               for ln in lines)


def test_warm_kernels_holds_one_kernel_per_thread():
    """A worker's kernels: the same one for the same thread, another for another thread."""
    import threading

    kernels = WarmKernels(max_notebooks=4)
    mine = kernels.get()
    assert kernels.get() is mine and mine.max_notebooks == 4
    other = []
    t = threading.Thread(target=lambda: other.append(kernels.get()))
    t.start()
    t.join()
    assert other[0] is not mine and len(kernels.kernels) == 2
    kernels.close()
    assert kernels.kernels == {}
