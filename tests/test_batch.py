"""End to end: `cilib run` on the sample makes offline, code-free, aggregate-only reports."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from cilib.core.errors import DataError
from cilib.data.config import load_config
from cilib.run.batch import NOTEBOOK_DIR, available_notebooks, notebook_scope, run_batch
from cilib.run.cli import main
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


# --- tiny notebooks on the tiny trust: partial re-runs and interrupts -------------------------

TINY_PERIOD = "2024/25 HT1"


def _tiny_notebook(folder: Path, name: str, body: str) -> Path:
    """Write a batch notebook (scope both) whose one cell after the parameters runs ``body``."""
    def cell(source, tags=()):
        return {"cell_type": "code", "metadata": {"tags": list(tags)}, "outputs": [],
                "execution_count": None, "source": source}

    nb = {
        "cells": [
            cell("store = None\nschool_id = None\nperiod = None", ["parameters"]),
            cell(body),
        ],
        "metadata": {
            "cilib": {"scope": "both"},
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
            "language_info": {"name": "python"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    folder.mkdir(exist_ok=True)
    path = folder / f"{name}.ipynb"
    path.write_text(json.dumps(nb))
    return path


SAY = "from cilib.data.store import Store\nprint(Store(store).school_name(school_id), RUN)"


def test_partial_rerun_keeps_the_periods_other_reports(tiny_trust, tmp_path):
    """Re-running one school replaces only its reports; the others stay, in index and manifest."""
    nbdir = tmp_path / "nbs"
    _tiny_notebook(nbdir, "01_hello", "RUN = 'first'\n" + SAY)
    cfg = load_config(tiny_trust)
    out = tmp_path / "out"
    m1 = run_batch(cfg, TINY_PERIOD, jobs=2, output=out, notebook_dir=nbdir)
    assert m1["counts"] == {"total": 3, "ok": 3, "failed": 0}
    folder = out / "2024-25_HT1"
    s2 = (folder / "S2" / "01_hello.html").read_bytes()
    trust = (folder / "trust" / "01_hello.html").read_bytes()
    assert b"first" in s2
    _tiny_notebook(nbdir, "01_hello", "RUN = 'second'\n" + SAY)
    m2 = run_batch(cfg, TINY_PERIOD, schools=["S1"], jobs=2, output=out, notebook_dir=nbdir)
    assert (folder / "S2" / "01_hello.html").read_bytes() == s2  # not re-run: kept as it was
    assert (folder / "trust" / "01_hello.html").read_bytes() != trust  # re-run (scope both)
    assert b"second" in (folder / "S1" / "01_hello.html").read_bytes()
    assert (folder / "notebooks" / "S2" / "01_hello.ipynb").exists()
    listed = {(n["notebook"], n["school_id"]) for n in m2["notebooks"]}
    assert listed == {("01_hello", None), ("01_hello", "S1"), ("01_hello", "S2")}
    assert m2["counts"]["total"] == 3
    on_disk = json.loads((folder / "manifest.json").read_text())
    assert {n["out_html"] for n in on_disk["notebooks"]} == {
        "trust/01_hello.html", "S1/01_hello.html", "S2/01_hello.html"}
    index = (folder / "index.html").read_text()
    assert "S2/01_hello.html" in index and "S1/01_hello.html" in index
    assert [p.name for p in out.iterdir()] == ["2024-25_HT1"]  # no partial folder left
    mask = os.umask(0)
    os.umask(mask)
    assert folder.stat().st_mode & 0o777 == 0o777 & ~mask  # readable as any folder made here


def test_run_refuses_to_replace_a_period_folder_that_is_not_reports(tiny_trust, tmp_path, capsys):
    """A folder of other files where the period's reports would go is refused, not deleted."""
    nbdir = tmp_path / "nbs"
    _tiny_notebook(nbdir, "01_hello", "RUN = 1\n" + SAY)
    (tmp_path / "out" / "2024-25_HT1").mkdir(parents=True)
    (tmp_path / "out" / "2024-25_HT1" / "precious.txt").write_text("keep")
    with pytest.raises(DataError, match="not a cilib reports folder"):
        run_batch(load_config(tiny_trust), TINY_PERIOD, output=tmp_path / "out",
                  notebook_dir=nbdir)
    assert (tmp_path / "out" / "2024-25_HT1" / "precious.txt").read_text() == "keep"


RUNNER = """
import sys
from pathlib import Path
import cilib.run.batch
from cilib.run.cli import main
cilib.run.batch.NOTEBOOK_DIR = Path(sys.argv[1])
sys.exit(main(sys.argv[2:]))
"""


def _tree(pid: int) -> dict[int, str]:
    """Descendants of ``pid`` (Linux /proc) with their command lines."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        parents[int(stat.parent.name)] = int(fields[1])
    out, frontier = {}, [pid]
    while frontier:
        p = frontier.pop()
        for child, parent in parents.items():
            if parent == p and child not in out:
                try:
                    out[child] = (Path(f"/proc/{child}/cmdline").read_bytes()
                                  .replace(b"\0", b" ").decode())
                except OSError:
                    out[child] = ""
                frontier.append(child)
    return out


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def _start_sleeping_batch(tiny_trust: Path, tmp_path: Path):
    """Start `cilib run` on three 30-second notebooks with two workers; wait for both kernels."""
    nbdir = tmp_path / "nbs"
    _tiny_notebook(nbdir, "01_sleep", "import time\ntime.sleep(30)")
    runner = tmp_path / "runner.py"
    runner.write_text(RUNNER)
    proc = subprocess.Popen(
        [sys.executable, str(runner), str(nbdir), "run", "--config", str(tiny_trust),
         "--period", TINY_PERIOD, "--output", str(tmp_path / "out"), "--jobs", "2"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        cwd=Path(__file__).resolve().parent.parent, start_new_session=True,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        tree = _tree(proc.pid)
        if sum("ipykernel" in cmd for cmd in tree.values()) >= 2:
            time.sleep(1)  # let the kernels start running the cell
            return proc, _tree(proc.pid)
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.3)
    proc.kill()
    raise AssertionError(f"kernels did not start: {proc.communicate()}")


@pytest.fixture
def reap():
    """Pids to SIGKILL after the test if still alive, so a failing test leaves no orphans."""
    pids: list[int] = []
    yield pids
    for p in pids:
        if _alive(p):
            try:
                os.kill(p, signal.SIGKILL)
            except OSError:
                pass


def _wait_gone(pids, seconds: float) -> list[int]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        left = [p for p in pids if _alive(p)]
        if not left:
            return []
        time.sleep(0.2)
    return [p for p in pids if _alive(p)]


@pytest.mark.parametrize("to_group", [False, True], ids=["parent", "terminal"])
def test_ctrl_c_stops_the_batch_quickly_with_one_line(tiny_trust, tmp_path, to_group, reap):
    """SIGINT: exit 130 within seconds, one line on stderr, no worker or kernel left behind.

    ``terminal`` sends it to the whole process group, as Ctrl-C in a terminal does.
    """
    proc, tree = _start_sleeping_batch(tiny_trust, tmp_path)
    reap.extend([*tree, proc.pid])
    assert len(tree) >= 4  # two workers, two kernels
    t0 = time.monotonic()
    if to_group:
        os.killpg(proc.pid, signal.SIGINT)
    else:
        proc.send_signal(signal.SIGINT)
    try:
        _, err = proc.communicate(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise
    elapsed = time.monotonic() - t0
    assert proc.returncode == 130
    assert elapsed < 10, elapsed
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and "Traceback" not in err, err
    assert re.fullmatch(r"cilib: interrupted; 0 of 3 reports done, partial results discarded",
                        lines[0]), lines
    assert _wait_gone(list(tree), 5) == [], {p: tree[p] for p in tree if _alive(p)}
    assert not list((tmp_path / "out").glob(".*partial*"))  # partial results discarded


def test_workers_and_kernels_die_with_a_killed_parent(tiny_trust, tmp_path, reap):
    """kill -9 of `cilib run`: its workers and their kernels exit within a few seconds."""
    proc, tree = _start_sleeping_batch(tiny_trust, tmp_path)
    reap.extend(tree)
    assert sum("ipykernel" in cmd for cmd in tree.values()) >= 2
    proc.kill()
    proc.wait(timeout=10)
    left = _wait_gone(list(tree), 8)
    assert left == [], {p: tree[p] for p in left}


# --- warm kernels give the same reports as fresh ones -----------------------------------------

def report_lines(path: Path) -> list[str]:
    """A report's visible words and table cells in reading order (tools/compare_reports.py)."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")
    for tag in soup(["script", "style", "img", "svg", "head"]):
        tag.decompose()
    lines = []
    for row in soup.find_all(["tr", "h1", "h2", "h3", "h4", "p", "li", "caption", "summary"]):
        if row.name != "tr" and row.find_parent("tr"):
            continue
        cells = row.find_all(["th", "td"]) if row.name == "tr" else [row]
        text = " | ".join(" ".join(c.get_text(" ").split()) for c in cells)
        if text:
            lines.append(text)
    return lines


def report_differences(before: Path, after: Path) -> dict[str, str]:
    """Reports (relative paths) missing on one side or whose words and tables differ."""
    names = sorted({p.relative_to(before) for p in before.rglob("*.html")}
                   | {p.relative_to(after) for p in after.rglob("*.html")})
    out = {}
    for name in names:
        a, b = before / name, after / name
        if not (a.exists() and b.exists()):
            out[str(name)] = "missing"
        elif report_lines(a) != report_lines(b):
            out[str(name)] = "differs"
    return out


SUBSET = ["--schools", "NLT01", "--notebooks", "01_assess_needs", "04_monitor_adjust",
          "10_trust_overview", "--jobs", "2", "--quiet"]


def test_warm_kernels_give_the_same_reports_as_fresh_kernels(sample_copy, tmp_path):
    """The same notebooks run in warm kernels (the default; two notebooks per kernel, so kernels
    are also replaced) and in a fresh kernel each give the same words and tables in every report;
    in fact the same bytes in every page (charts included), notebook and manifest."""
    runs = {}
    for mode, extra in (("warm", ["--notebooks-per-kernel", "2"]), ("fresh", ["--fresh-kernels"])):
        out = tmp_path / mode
        code = main(["run", "--config", str(sample_copy), "--period", PERIOD, "--output", str(out),
                     *SUBSET, *extra])
        assert code == 0
        runs[mode] = out / "2025-26_HT6"
    pages = sorted(p.relative_to(runs["warm"]) for p in runs["warm"].rglob("*.html"))
    assert len(pages) == 8  # five reports, the index, the glossary and the data-quality page
    assert report_differences(runs["fresh"], runs["warm"]) == {}
    for page in pages:
        if page.name != "glossary.html":  # the glossary is definitions, not tables
            assert len(report_lines(runs["warm"] / page)) > 3
    files = sorted(p.relative_to(runs["warm"]) for p in runs["warm"].rglob("*")
                   if p.is_file() and p.name != "run-log.json")
    assert len(files) == 14  # five reports, five notebooks, three pages and the manifest
    assert files == sorted(p.relative_to(runs["fresh"]) for p in runs["fresh"].rglob("*")
                           if p.is_file() and p.name != "run-log.json")
    warm, fresh = runs["warm"], runs["fresh"]
    assert [f for f in files if (warm / f).read_bytes() != (fresh / f).read_bytes()] == []
