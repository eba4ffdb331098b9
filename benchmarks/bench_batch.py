"""Benchmark: the sample batch against its floor, with fresh and warm kernels, locally and on Dask.

Usage: .venv/bin/python benchmarks/bench_batch.py [--jobs 2] [--schools ID ...] [--no-cluster]

In one run it measures:

- the floor: one minimal report (papermill runs a notebook that imports pandas and seaborn, reads
  a parquet file and draws one chart; nbconvert renders it through the report template), the
  median of three, in seconds per report;
- the sample batch's notebook phase (after validation) with a fresh kernel per notebook and with
  warm kernels, each against ``reports x floor / workers`` as a ratio (goal: warm <= 1.0);
- the same warm batch on a local Dask cluster (``dask scheduler`` and ``dask worker``
  subprocesses) with 1 and 2 workers.

Every batch uses the same prepared store and writes to a temporary folder; the figures depend on
the machine and on what else runs on it.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from cilib.data.config import load_config
from cilib.run.batch import render_html, run_batch
from cilib.run.cluster import local_dask_cluster
from cilib.run.kernel import QuietKernelManager

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "data" / "sample"
PERIOD = "2025/26 HT6"

FLOOR_CELLS = [
    ("store = ''", ["parameters"]),
    ("import pandas as pd\nimport seaborn as sns\nimport matplotlib.pyplot as plt", []),
    ("df = pd.read_parquet(store)\n"
     "means = df.groupby('school_id', as_index=False)['attended_sessions'].mean()\n"
     "sns.barplot(data=means, x='school_id', y='attended_sessions')\nplt.show()", []),
]


def floor_notebook(folder: Path) -> Path:
    """Write the minimal report notebook."""
    cells = [{"cell_type": "code", "id": f"c{i}", "metadata": {"tags": tags}, "outputs": [],
              "execution_count": None, "source": src} for i, (src, tags) in enumerate(FLOOR_CELLS)]
    nb = {"cells": cells, "nbformat": 4, "nbformat_minor": 5,
          "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                      "language": "python"}}}
    path = folder / "floor.ipynb"
    path.write_text(json.dumps(nb))
    return path


def floor_seconds(folder: Path, parquet: Path, runs: int = 3) -> float:
    """Median seconds of one minimal papermill + nbconvert report in a fresh kernel."""
    import papermill as pm

    src = floor_notebook(folder)
    times = []
    for i in range(runs):
        t0 = time.perf_counter()
        out = folder / f"floor-{i}.ipynb"
        pm.execute_notebook(str(src), str(out), parameters={"store": str(parquet)},
                            progress_bar=False, kernel_manager_class=QuietKernelManager)
        render_html(out, folder / f"floor-{i}.html")
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def batch_seconds(config, out: Path, schools, jobs: int, **kw) -> tuple[int, float, dict]:
    """Run the batch; return (reports, seconds of its notebook phase, mean s per notebook).

    The mean seconds per notebook (papermill and nbconvert in a worker, from the run log) show
    where the time of a report goes.
    """
    marks: dict[str, float] = {}

    def say(msg: str) -> None:
        if msg.startswith("Running "):
            marks["start"] = time.perf_counter()

    m = run_batch(config, PERIOD, schools=schools, jobs=jobs, output=out, progress=say, **kw)
    seconds = time.perf_counter() - marks["start"]
    if m["counts"]["failed"]:
        raise SystemExit(f"{m['counts']['failed']} reports failed in {out}")
    per: dict[str, list[float]] = {}
    for j in m["run_log"]["notebooks"]:
        per.setdefault(j["notebook"], []).append(j["seconds"])
    return m["counts"]["total"], seconds, {k: statistics.mean(v) for k, v in per.items()}


def main() -> None:
    """Print the floor and each batch's time and ratio to the floor."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--jobs", type=int, default=2, help="local workers (default 2)")
    p.add_argument("--schools", nargs="+", metavar="ID", help="only these schools")
    p.add_argument("--no-cluster", action="store_true", help="skip the Dask runs")
    args = p.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="cilib-bench-batch-"))
    try:
        shutil.copytree(SAMPLE, tmp / "sample", ignore=shutil.ignore_patterns("store"))
        config = load_config(tmp / "sample" / "trust.yml")
        from cilib.data.prepare import prepare

        store = prepare(config, PERIOD, schools=args.schools)
        parquet = next(Path(store.folder).rglob("attendance*.parquet"))
        floor = floor_seconds(tmp, parquet)
        print(f"floor: {floor:.2f} s per minimal report (papermill + nbconvert, fresh kernel)")
        rows = []
        runs = [("fresh kernels", args.jobs, {"fresh_kernels": True}),
                ("warm kernels", args.jobs, {})]
        for label, workers, kw in runs:
            n, secs, per = batch_seconds(config, tmp / label.replace(" ", "-"), args.schools,
                                         workers, **kw)
            rows.append((label, workers, n, secs))
            print(f"{label}: mean seconds per report, by notebook: "
                  + ", ".join(f"{k} {v:.1f}" for k, v in sorted(per.items())))
        if not args.no_cluster:
            for workers in (1, 2):
                with local_dask_cluster(workers, tmp / f"dask-{workers}") as address:
                    n, secs, _ = batch_seconds(config, tmp / f"dask{workers}", args.schools,
                                               1, cluster=address)
                rows.append(("Dask, warm kernels", workers, n, secs))
        print(f"{'batch':<20} {'workers':>7} {'reports':>7} {'seconds':>8} {'s/report':>8} "
              f"{'floor':>7} {'ratio':>6}")
        for label, workers, n, secs in rows:
            target = n * floor / workers
            print(f"{label:<20} {workers:>7} {n:>7} {secs:>8.1f} {secs / n * workers:>8.2f} "
                  f"{target:>7.1f} {secs / target:>6.2f}")
        print("ratio = batch seconds / (reports x floor / workers); goal for warm kernels <= 1.0")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
