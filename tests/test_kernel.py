"""Warm kernels: a notebook sees a fresh kernel's state, failures and the notebook limit restart it,
and kernels shut down without noise on the terminal."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import pytest

from cilib.run.kernel import QuietKernelManager, WarmKernel


def _notebook(folder: Path, name: str, *bodies: str) -> Path:
    """Write a notebook with a papermill parameters cell and one code cell per body."""
    def cell(i, source, tags=()):
        return {"cell_type": "code", "metadata": {"tags": list(tags)}, "outputs": [],
                "execution_count": None, "source": source, "id": f"c{i}"}

    nb = {
        "cells": [cell(0, "label = None", ["parameters"]),
                  *(cell(i + 1, b) for i, b in enumerate(bodies))],
        "metadata": {
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
            "language_info": {"name": "python"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.ipynb"
    path.write_text(json.dumps(nb))
    return path


def _stdout(path: Path) -> str:
    nb = json.loads(path.read_text())
    return "".join("".join(o.get("text", "")) for c in nb["cells"] if c["cell_type"] == "code"
                   for o in c["outputs"] if o.get("name") == "stdout")


def _stderr(path: Path) -> str:
    nb = json.loads(path.read_text())
    return "".join("".join(o.get("text", "")) for c in nb["cells"] if c["cell_type"] == "code"
                   for o in c["outputs"] if o.get("name") == "stderr")


DIRTY = """\
import os, sys, warnings
import matplotlib.pyplot as plt
import seaborn as sns
LEAK = label
plt.rcParams["figure.dpi"] = 33
sns.set_palette(["#000000"])
plt.figure()
os.environ["CILIB_LEAK"] = "1"
sys.path.append("/leak")
os.chdir("/")
warnings.simplefilter("ignore")
"""

CHECK = """\
import os, sys, warnings
import matplotlib.pyplot as plt
print("leak", "LEAK" in globals(), "dpi", plt.rcParams["figure.dpi"], "figs", plt.get_fignums())
print("cycle", plt.rcParams["axes.prop_cycle"].by_key()["color"][0])
print("env", "CILIB_LEAK" in os.environ, "path", "/leak" in sys.path, "cwd", os.getcwd())
print("count", get_ipython().execution_count, "label", label)
warnings.warn("shown in every notebook")
"""


@pytest.mark.slow
def test_warm_kernel_gives_each_notebook_a_fresh_state(tmp_path):
    """What one notebook changes (names, rcParams, figures, palette, warnings, environment, path,
    working folder, execution count) is gone in the next, as in a fresh kernel, in one kernel."""
    nbs = tmp_path / "nbs"
    dirty, check = _notebook(nbs, "dirty", DIRTY), _notebook(nbs, "check", CHECK)
    kernel = WarmKernel(max_notebooks=10)
    fresh = tmp_path / "fresh.ipynb"
    try:
        kernel.execute(check, fresh, {"label": "first"})
        kernel.execute(dirty, tmp_path / "dirty.ipynb", {"label": "dirty"})
        kernel.execute(check, tmp_path / "after.ipynb", {"label": "first"})
        assert kernel.starts == 1 and kernel.used == 3  # one kernel ran all three
    finally:
        kernel.shutdown()
    assert not kernel.alive
    before, after = _stdout(fresh), _stdout(tmp_path / "after.ipynb")
    assert before == after, (before, after)
    assert "leak False" in after and "figs []" in after and "env False path False" in after
    assert f"cwd {nbs.resolve()}" in after and "label first" in after
    assert "dpi 33" not in after and "#000000" not in after
    # the execution count starts again: the same as in the first notebook of a new kernel
    assert "count 4 " in after
    # a warning shown in one notebook is shown again in the next, as in a fresh kernel
    assert "shown in every notebook" in _stderr(tmp_path / "after.ipynb")


@pytest.mark.slow
def test_failure_and_notebook_limit_start_a_new_kernel(tmp_path):
    """A failing notebook raises papermill's error with its notebook written, and the next
    notebook runs in a new kernel; so does the notebook after ``max_notebooks``."""
    import papermill as pm

    nbs = tmp_path / "nbs"
    ok = _notebook(nbs, "ok", "import os\nprint(os.getpid())")
    bad = _notebook(nbs, "bad", "KEEP = 1", "raise ValueError('deliberate')")
    kernel = WarmKernel(max_notebooks=2)
    try:
        kernel.execute(ok, tmp_path / "1.ipynb", {"label": "a"})
        kernel.execute(ok, tmp_path / "2.ipynb", {"label": "b"})
        assert kernel.starts == 1
        kernel.execute(ok, tmp_path / "3.ipynb", {"label": "c"})  # the limit: a new kernel
        assert kernel.starts == 2
        with pytest.raises(pm.PapermillExecutionError, match="deliberate"):
            kernel.execute(bad, tmp_path / "bad.ipynb", {"label": "d"})
        assert not kernel.alive  # shut down after the failure
        assert "deliberate" in (tmp_path / "bad.ipynb").read_text()
        kernel.execute(ok, tmp_path / "4.ipynb", {"label": "e"})
        assert kernel.starts == 3 and kernel.used == 1
    finally:
        kernel.shutdown()
    pids = [_stdout(tmp_path / f"{i}.ipynb").strip() for i in (1, 2, 3, 4)]
    assert pids[0] == pids[1] and len({pids[1], pids[2], pids[3]}) == 3


QUIET_SCRIPT = """
import sys
from pathlib import Path
from cilib.run.kernel import WarmKernel
k = WarmKernel(5)
k.execute(Path(sys.argv[1]), Path(sys.argv[2]), {"label": "x"})
k.shutdown()
print("done")
"""


@pytest.mark.slow
def test_kernel_shutdown_is_quiet(tmp_path):
    """Starting, running and shutting down a warm kernel prints nothing on the terminal: no
    ``KeyboardInterrupt caught in kernel``, no transport warning."""
    nb = _notebook(tmp_path / "nbs", "hello", "import time\ntime.sleep(0.2)\nprint('hi')")
    script = tmp_path / "quiet.py"
    script.write_text(QUIET_SCRIPT)
    r = subprocess.run([sys.executable, str(script), str(nb), str(tmp_path / "out.ipynb")],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "done"
    assert r.stderr.strip() == "", r.stderr
    assert _stdout(tmp_path / "out.ipynb").strip() == "hi"


def test_quiet_manager_does_not_interrupt_a_kernel_it_is_shutting_down():
    """jupyter_client interrupts (SIGINT) before a shutdown; the quiet manager skips that, and
    still interrupts otherwise."""
    km = QuietKernelManager()
    sent = []

    async def fake_signal(signum):
        sent.append(signum)

    km._async_signal_kernel = fake_signal  # no kernel is started: record the signal instead
    type(km).has_kernel = property(lambda self: True)
    try:
        km.shutting_down = True
        asyncio.run(km._async_interrupt_kernel())
        assert sent == []
        km.shutting_down = False
        km._kernel_spec = type("Spec", (), {"interrupt_mode": "signal"})()
        asyncio.run(km._async_interrupt_kernel())
        assert len(sent) == 1
    finally:
        del type(km).has_kernel
