"""The half-term batch: every notebook for every school and the trust, rendered to HTML.

Validation runs once (:func:`cilib.data.prepare.prepare`); then papermill executes each notebook in
parallel worker processes (or on a Dask cluster, :mod:`cilib.run.cluster`), each worker keeping a
warm kernel (:class:`cilib.run.kernel.WarmKernel`); nbconvert renders each to a code-free HTML
page through the offline template in ``templates/``, and an index page and ``manifest.json``
are written to ``<output>/<period>/``. A notebook that fails is kept with its error and marked
failed; it never stops the others.
"""

from __future__ import annotations

import json
import shutil
import time
import traceback
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

from cilib.core.errors import ConfigError, DataError
from cilib.core.paths import inside, make_temp_dir, period_slug, safe_name, swap_in
from cilib.data.config import TrustConfig
from cilib.data.prepare import prepare
from cilib.data.store import Store
from cilib.report.html import SAFE_MIMETYPES, add_csp
from cilib.report.index import write_index
from cilib.run.cluster import run_on_cluster
from cilib.run.kernel import QuietKernelManager, WarmKernel
from cilib.run.pool import progress_line, run_local

PROJECT_ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK_DIR = PROJECT_ROOT / "notebooks"
TEMPLATE_DIR = PROJECT_ROOT / "templates"
TEMPLATE_NAME = "cilib_report"
#: Packages whose versions go into the manifest.
VERSIONED = (
    "cilib",
    "pandas",
    "numpy",
    "scipy",
    "matplotlib",
    "seaborn",
    "pyarrow",
    "great-expectations",
    "papermill",
    "nbconvert",
    "nbclient",
    "ipykernel",
    "pyyaml",
)
#: Notebook names in the order of the improvement cycle, with the phase each belongs to.
PHASES = {
    "01_assess_needs": "Assess Needs",
    "02_strategic_plan": "Set the Vision and Create Strategic Plan",
    "03_implement_plan": "Implement Plan",
    "04_monitor_adjust": "Monitor and Adjust",
    "05_analyse_impact": "Analyse Impact",
    "10_trust_overview": "Trust overview",
}


@dataclass
class Job:
    """One notebook run for one school (or the trust when ``school_id`` is None)."""

    notebook: str
    school_id: str | None
    school_name: str
    source: str
    out_ipynb: str
    out_html: str
    store: str
    period: str
    status: str = "pending"
    seconds: float = 0.0
    error: str = ""


def notebook_scope(path: Path) -> str:
    """Return the notebook's scope, ``"trust"``, ``"school"`` or ``"both"`` (``cilib.scope``)."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    return nb.get("metadata", {}).get("cilib", {}).get("scope", "both")


def available_notebooks(notebook_dir: Path | None = None) -> list[str]:
    """Return the batch notebooks' names (``explore`` is interactive, never batched)."""
    return sorted(p.stem for p in (notebook_dir or NOTEBOOK_DIR).glob("[0-9][0-9]_*.ipynb"))


#: Keys of papermill's notebook and cell metadata that change from run to run (times, paths).
_RUN_SPECIFIC = ("start_time", "end_time", "duration", "input_path", "output_path")


def normalise_notebook(nb) -> None:
    """Remove everything run-specific from an executed notebook, in place.

    Papermill and the kernel stamp start and end times, durations, paths and random cell ids into
    the notebook; left in, they make the kept notebook and the HTML (which carries cell ids)
    differ on every run. Cell ids become ``cell-<n>``; outputs keep only
    :data:`cilib.report.html.SAFE_MIMETYPES` (no scripts, widget views or SVG reach a report).
    """
    meta = nb.metadata
    meta.pop("widgets", None)
    for key in _RUN_SPECIFIC:
        meta.get("papermill", {}).pop(key, None)
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{i}"
        cell.metadata.pop("execution", None)
        for key in _RUN_SPECIFIC:
            cell.metadata.get("papermill", {}).pop(key, None)
        for out in cell.get("outputs", []):
            if "data" in out:
                for mime in [m for m in out["data"] if m not in SAFE_MIMETYPES]:
                    del out["data"][mime]
                md = out.get("metadata", {})
                img = {k: v for k, v in md.get("image/png", {}).items() if k in ("alt", "width")}
                md.clear()
                md.update({"image/png": img} if img else {})  # a chart's alt text and width


def render_html(ipynb: Path, out_html: Path) -> None:
    """Render an executed notebook to HTML with no code, through the offline template.

    The notebook is first normalised (:func:`normalise_notebook`) and written back, so the kept
    notebook and the page are the same for the same data; the page gets its
    Content-Security-Policy (:func:`cilib.report.html.add_csp`).
    """
    import nbformat
    from nbconvert import HTMLExporter

    nb = nbformat.read(ipynb, as_version=4)
    normalise_notebook(nb)
    nbformat.write(nb, ipynb)
    exporter = HTMLExporter(
        template_name=TEMPLATE_NAME,
        extra_template_basedirs=[str(TEMPLATE_DIR)],
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        embed_images=True,
    )
    body, _ = exporter.from_notebook_node(nb)
    out_html.write_text(add_csp(body), encoding="utf-8")


def _short_error(exc: Exception) -> str:
    """Return the error type and the last line of its message (papermill: the failing cell)."""
    lines = [ln for ln in str(exc).strip().splitlines() if ln.strip()]
    last = lines[-1] if lines else ""
    return f"{type(exc).__name__}: {last}"[:500]


def _previous_reports(final_dir: Path, work_dir: Path, rerun: set[tuple]) -> list[Job]:
    """Carry the period's earlier reports that this run does not redo into ``work_dir``.

    Returns them as jobs, from the earlier ``manifest.json``; reports whose files are gone, or
    whose paths would leave the period folder, are dropped.
    """
    path = final_dir / "manifest.json"
    if not path.exists():
        return []
    try:
        entries = json.loads(path.read_text(encoding="utf-8")).get("notebooks", [])
    except (OSError, ValueError, AttributeError):
        return []
    kept = []
    for e in entries:
        try:
            key = (e["notebook"], e["school_id"])
            if key in rerun:
                continue
            job = Job(**{k: e.get(k, "") for k in Job.__dataclass_fields__})
            job.school_id = e["school_id"]
            job.seconds = float(e.get("seconds") or 0.0)
            for attr in ("out_html", "out_ipynb"):
                src = inside(final_dir, final_dir / e[attr], "an earlier report")
                dst = inside(work_dir, work_dir / e[attr], "an earlier report")
                if src.is_file():
                    dst.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(src, dst)
                setattr(job, attr, str(dst))
        except (KeyError, TypeError, DataError):
            continue
        if Path(job.out_html).exists() or Path(job.out_ipynb).exists():
            kept.append(job)
    return kept


def execute_job(job: Job, kernel: WarmKernel | None = None) -> Job:
    """Run one job: papermill, then HTML (also for a failed notebook); return it with its status.

    With a ``kernel`` the notebook runs in that warm kernel, else in a fresh kernel of its own.
    """
    import papermill as pm

    t0 = time.perf_counter()
    Path(job.out_ipynb).parent.mkdir(parents=True, exist_ok=True)
    parameters = {"store": job.store, "school_id": job.school_id, "period": job.period}
    try:
        if kernel is not None:
            kernel.execute(job.source, job.out_ipynb, parameters)
        else:
            pm.execute_notebook(
                job.source,
                job.out_ipynb,
                parameters=parameters,
                kernel_name="python3",
                progress_bar=False,
                cwd=str(Path(job.source).parent),
                kernel_manager_class=QuietKernelManager,
            )
        job.status = "ok"
    except Exception as exc:  # noqa: BLE001 - one failed notebook must not stop the others
        job.status = "failed"
        job.error = _short_error(exc)
    try:
        if Path(job.out_ipynb).exists():
            Path(job.out_html).parent.mkdir(parents=True, exist_ok=True)
            render_html(Path(job.out_ipynb), Path(job.out_html))
    except Exception:  # noqa: BLE001
        job.status = "failed"
        job.error = (job.error + " | rendering failed: " + traceback.format_exc(limit=1))[:800]
    job.seconds = round(time.perf_counter() - t0, 2)
    return job


def package_versions() -> dict[str, str]:
    """Versions of the packages that shape the results."""
    out = {}
    for name in VERSIONED:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def plan_jobs(
    store: Store,
    period: str,
    out_dir: Path,
    notebooks: list[str],
    schools: list[str],
    notebook_dir: Path | None = None,
) -> list[Job]:
    """List the jobs: each notebook for the trust and for each school, as its scope allows."""
    jobs = []
    for nb in notebooks:
        src = (notebook_dir or NOTEBOOK_DIR) / f"{nb}.ipynb"
        scope = notebook_scope(src)
        targets: list[str | None] = []
        if scope in ("both", "trust"):
            targets.append(None)
        if scope in ("both", "school"):
            targets.extend(schools)
        safe_name(nb, "notebook name")
        for sid in targets:
            folder = "trust" if sid is None else safe_name(sid, "school id")
            jobs.append(
                Job(
                    notebook=nb,
                    school_id=sid,
                    school_name=store.school_name(sid),
                    source=str(src),
                    out_ipynb=str(
                        inside(out_dir, out_dir / "notebooks" / folder / f"{nb}.ipynb", "a report")
                    ),
                    out_html=str(inside(out_dir, out_dir / folder / f"{nb}.html", "a report")),
                    store=str(store.folder),
                    period=period,
                )
            )
    return jobs


def _job_order(j: Job) -> tuple:
    """Sort key of jobs in the index and manifest: the trust first, then schools, by notebook."""
    return (j.school_id is not None, j.school_id or "", j.notebook)


def manifest_content(
    config: TrustConfig, period: str, store: Store, final_dir: Path, done: list[Job]
) -> dict:
    """Return the run's manifest: what went in and what came out, with no wall-clock time.

    The same inputs and config give the same manifest byte for byte: notebooks are listed in a
    fixed order (trust first, then schools, by notebook) and run times live in ``run-log.json``.
    """
    ordered = sorted(done, key=_job_order)
    failed = [j for j in ordered if j.status != "ok"]
    return {
        "trust": config.name,
        "period": period,
        "config": store.meta["config"],
        "inputs": store.meta["inputs"],
        "packages": package_versions(),
        "rows": store.data_quality.to_dict("records"),
        "counts": {"total": len(ordered), "ok": len(ordered) - len(failed), "failed": len(failed)},
        "notebooks": [
            {k: v for k, v in asdict(j).items() if k not in ("store", "source", "seconds")}
            | {
                "out_html": Path(j.out_html).relative_to(final_dir).as_posix(),
                "out_ipynb": Path(j.out_ipynb).relative_to(final_dir).as_posix(),
            }
            for j in ordered
        ],
    }


def write_json(path: Path, data: dict) -> None:
    """Write ``data`` as indented JSON with sorted keys, ending in a newline."""
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def run_batch(
    config: TrustConfig,
    period: str,
    *,
    schools: list[str] | None = None,
    notebooks: list[str] | None = None,
    jobs: int | None = None,
    output: Path | None = None,
    progress: Callable[[str], None] | None = None,
    notebook_dir: Path | None = None,
    cluster: str | None = None,
    fresh_kernels: bool = False,
    notebooks_per_kernel: int = 20,
) -> dict:
    """Run the half-term batch and return the manifest (also written to ``manifest.json``).

    Parameters
    ----------
    config
        The checked trust config.
    period
        Period label to report on, e.g. ``"2025/26 HT6"``.
    schools
        School ids (default: every school in the config or data).
    notebooks
        Notebook names (default: the config's ``reports.notebooks``, else every batch notebook).
    jobs
        Parallel worker processes (default: the config's ``reports.jobs``).
    output
        Reports folder (default: the config's ``reports.output``); the run writes to
        ``<output>/<period>/``, replacing that period's earlier reports only.
    progress
        Called with a line of progress text per step (e.g. ``print``).
    notebook_dir
        Folder of notebooks (default: the project's ``notebooks/``).
    cluster
        Address of a Dask distributed scheduler (e.g. ``tcp://host:8786``) to run the notebooks
        on; its workers must reach the store and notebook folders by the same paths.
    fresh_kernels
        Start a new kernel for every notebook instead of reusing a warm kernel per worker.
    notebooks_per_kernel
        Notebooks a warm kernel runs before it is replaced by a new one.
    """
    say = progress or (lambda _m: None)
    started = datetime.now(timezone.utc)
    t0 = time.perf_counter()
    config.period_index(period)
    known_nb = available_notebooks(notebook_dir)
    names = notebooks or config.notebooks or known_nb
    for nb in names:
        if nb not in known_nb:
            raise ConfigError(f"Unknown notebook {nb!r}. Notebooks: {', '.join(known_nb)}.")
    store = prepare(config, period, schools=schools, progress=say)
    selected = store.meta["selected_schools"]
    root = Path(output or config.report_output).resolve()
    root.mkdir(parents=True, exist_ok=True)
    final_dir = inside(root, root / period_slug(period), "the period's reports")
    if final_dir.exists() and not (
        (final_dir / "manifest.json").exists() or not any(final_dir.iterdir())
    ):
        raise DataError(
            f"Refusing to replace {final_dir}: it holds files but no manifest.json, so it is not "
            "a cilib reports folder. Choose another --output folder."
        )
    work_dir = make_temp_dir(root, f".{final_dir.name}.partial-")
    try:
        job_list = plan_jobs(store, period, work_dir, names, selected, notebook_dir)
        if cluster:
            done = run_on_cluster(job_list, cluster, execute_job, say, progress_line,
                                  fresh_kernels=fresh_kernels, max_notebooks=notebooks_per_kernel)
        else:
            n_workers = max(1, min(jobs or config.jobs, len(job_list)))
            say(f"Running {len(job_list)} notebooks with {n_workers} worker(s)")
            done = run_local(job_list, execute_job, n_workers, say, warm=not fresh_kernels,
                             max_notebooks=notebooks_per_kernel)
        order = {id(j): i for i, j in enumerate(job_list)}
        done.sort(key=lambda j: order.get(id(j), 0))
        # a partial re-run (some schools or notebooks) keeps the period's other reports
        done += _previous_reports(final_dir, work_dir, {(j.notebook, j.school_id) for j in done})
        manifest = _write_manifest_and_index(
            config, period, store, done, work_dir, started=started, t0=t0
        )
        swap_in(work_dir, final_dir)  # the index and manifest are in place before the swap
    except BaseException:
        shutil.rmtree(work_dir, ignore_errors=True)
        raise
    for j in done:
        for attr in ("out_ipynb", "out_html"):
            setattr(j, attr, str(final_dir / Path(getattr(j, attr)).relative_to(work_dir)))
    manifest["index"] = str(final_dir / "index.html")
    say(
        f"{manifest['counts']['ok']} of {len(done)} reports rendered in "
        f"{manifest['run_log']['seconds']}s"
    )
    return manifest


def _write_manifest_and_index(
    config: TrustConfig,
    period: str,
    store: Store,
    done: list[Job],
    folder: Path,
    *,
    started: datetime,
    t0: float,
) -> dict:
    """Write ``manifest.json``, ``run-log.json`` and ``index.html`` into ``folder``.

    Returns the manifest with the run log under ``run_log`` (the manifest file itself holds no
    wall-clock time, so the same inputs give the same bytes).
    """
    manifest = manifest_content(config, period, store, folder, done)
    write_json(folder / "manifest.json", manifest)
    run_log = {
        "note": "Times of this run; unlike manifest.json and the reports, not reproducible.",
        "started": started.isoformat(timespec="seconds"),
        "finished": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "seconds": round(time.perf_counter() - t0, 1),
        "prepared_at": store.meta.get("prepared_at"),
        "notebooks": [
            {"notebook": j.notebook, "school_id": j.school_id, "seconds": j.seconds}
            for j in sorted(done, key=_job_order)
        ],
    }
    write_json(folder / "run-log.json", run_log)
    write_index(folder, store, done, manifest)
    manifest["run_log"] = run_log
    return manifest
