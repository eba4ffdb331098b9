"""The batch on a Dask distributed cluster (``cilib run --cluster ADDRESS``).

Each report is one task. A task runs its notebook on a worker, in that worker's warm kernel (held
by a worker plugin, one kernel per worker thread), renders the HTML in a temporary folder of the
worker and sends the executed notebook and the page back; the batch writes them where a local run
would. Workers therefore need to reach only the prepared store and the notebooks, by the same
paths as the machine that runs ``cilib run`` (a shared or copied folder). A task that fails, or a
worker that dies, fails only its report.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from cilib.run.kernel import WarmKernel
from cilib.run.pool import BatchInterrupted

#: Name of the worker plugin that holds a worker's warm kernels.
PLUGIN_NAME = "cilib-warm-kernels"


class WarmKernels:
    """The warm kernels of one Dask worker process, one per worker thread.

    Parameters
    ----------
    max_notebooks
        Notebooks a kernel runs before it is replaced by a new one.
    """

    def __init__(self, max_notebooks: int = 20) -> None:
        self.max_notebooks = max_notebooks
        self.kernels: dict[int, WarmKernel] = {}
        self.lock = threading.Lock()

    def get(self) -> WarmKernel:
        """Return the calling thread's warm kernel (made on first use, started when needed)."""
        with self.lock:
            return self.kernels.setdefault(
                threading.get_ident(), WarmKernel(self.max_notebooks)
            )

    def close(self) -> None:
        """Stop every kernel at once (called when the worker closes)."""
        with self.lock:
            kernels, self.kernels = list(self.kernels.values()), {}
        for kernel in kernels:
            kernel.kill()


def warm_kernel_plugin(max_notebooks: int = 20):
    """Return a Dask worker plugin that gives each worker :class:`WarmKernels`.

    The plugin is idempotent: registering it again on a cluster that has it keeps the workers'
    running kernels.
    """
    from distributed.diagnostics.plugin import WorkerPlugin

    class WarmKernelPlugin(WorkerPlugin):
        """Holds the worker's warm kernels and stops them when the worker closes."""

        name = PLUGIN_NAME
        idempotent = True

        def __init__(self, max_notebooks: int) -> None:
            self.max_notebooks = max_notebooks
            self.kernels: WarmKernels | None = None

        def setup(self, worker) -> None:
            self.kernels = WarmKernels(self.max_notebooks)

        def teardown(self, worker) -> None:
            if self.kernels is not None:
                self.kernels.close()

    return WarmKernelPlugin(max_notebooks)


def run_task(execute: Callable, job, fresh_kernel: bool) -> tuple:
    """Run one job on a Dask worker; return ``(status, error, seconds, ipynb, html)``.

    The notebook runs in the worker's warm kernel (unless ``fresh_kernel``) with its outputs in a
    temporary folder; ``ipynb`` and ``html`` are their bytes (None when not written).
    """
    from distributed import get_worker

    kernel = None
    if not fresh_kernel:
        plugin = get_worker().plugins.get(PLUGIN_NAME)
        kernel = plugin.kernels.get() if plugin is not None else None
    tmp = Path(tempfile.mkdtemp(prefix="cilib-task-"))
    try:
        local = dataclasses.replace(
            job, out_ipynb=str(tmp / "report.ipynb"), out_html=str(tmp / "report.html")
        )
        local = execute(local, kernel)
        files = [Path(local.out_ipynb), Path(local.out_html)]
        ipynb, html = (p.read_bytes() if p.exists() else None for p in files)
        return local.status, local.error, local.seconds, ipynb, html
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _finish(job, outcome) -> None:
    """Write a task's notebook and page to the job's paths and copy its status to the job."""
    job.status, job.error, job.seconds, ipynb, html = outcome
    for path, data in ((job.out_ipynb, ipynb), (job.out_html, html)):
        if data is not None:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            Path(path).write_bytes(data)


def run_on_cluster(
    job_list: list,
    address: str,
    execute: Callable,
    say: Callable[[str], None],
    line: Callable,
    *,
    fresh_kernels: bool = False,
    max_notebooks: int = 20,
    timeout: float = 30,
) -> list:
    """Run the jobs as tasks on the Dask scheduler at ``address``; return them as they finish.

    Parameters
    ----------
    job_list
        The jobs (:class:`cilib.run.batch.Job`); their output paths are on this machine.
    address
        The scheduler's address, e.g. ``tcp://127.0.0.1:8786``.
    execute
        ``execute(job, kernel)`` runs one job (:func:`cilib.run.batch.execute_job`).
    say
        Called with a line of progress text per finished job.
    line
        ``line(job, n, total)`` makes that line (:func:`cilib.run.pool.progress_line`).
    fresh_kernels
        Start a new kernel for every notebook instead of the workers' warm kernels.
    max_notebooks
        Notebooks a warm kernel runs before it is replaced.
    timeout
        Seconds to wait for the scheduler to answer.

    Raises
    ------
    BatchInterrupted
        On Ctrl-C: the batch's tasks are cancelled on the cluster.
    """
    from distributed import Client, as_completed

    done: list = []
    with Client(address, timeout=timeout, set_as_default=False) as client:
        if not fresh_kernels:
            client.register_plugin(warm_kernel_plugin(max_notebooks))
        workers = len(client.scheduler_info(n_workers=-1).get("workers", {}))
        say(f"Running {len(job_list)} notebooks on the cluster at {address} "
            f"with {workers} worker(s)")
        futures = {
            client.submit(run_task, execute, j, fresh_kernels, pure=False): j for j in job_list
        }
        try:
            for fut in as_completed(list(futures), loop=client.loop):
                job = futures[fut]
                try:
                    _finish(job, fut.result())
                except Exception as exc:  # noqa: BLE001 - a lost task fails only its report
                    job.status = "failed"
                    job.error = f"{type(exc).__name__}: {exc}"[:500]
                done.append(job)
                say(line(job, len(done), len(job_list)))
        except KeyboardInterrupt:
            client.cancel(list(futures))
            raise BatchInterrupted(len(done), len(job_list)) from None
    return done


def _stop(procs: list[subprocess.Popen]) -> None:
    """Stop processes started in their own sessions: SIGTERM to each group, then SIGKILL."""
    for proc in reversed(procs):
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except OSError:
                pass
    deadline = time.monotonic() + 15
    for proc in reversed(procs):
        try:
            proc.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except OSError:
                pass
            proc.wait(5)


@contextmanager
def local_dask_cluster(n_workers: int, folder: Path, timeout: float = 120) -> Iterator[str]:
    """Start ``dask scheduler`` and ``n_workers`` ``dask worker`` processes; yield the address.

    For trying ``--cluster`` on one machine, tests and benchmarks. The scheduler takes a free
    port and writes its address to ``folder/scheduler.json``; each worker has one thread, no
    nanny and its own folder in ``folder``. Everything is stopped on leaving, also after an
    error; the processes' output goes to ``folder/*.log``.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    dask = [sys.executable, "-m", "dask"]  # the ``dask`` command of this environment
    sched_file = folder / "scheduler.json"
    procs: list[subprocess.Popen] = []

    def start(name: str, args: list[str]) -> None:
        log = open(folder / f"{name}.log", "wb")  # noqa: SIM115 - closed with the process
        procs.append(subprocess.Popen([*dask, *args], stdout=log, stderr=subprocess.STDOUT,
                                      cwd=folder, start_new_session=True))
        log.close()

    try:
        start("scheduler", ["scheduler", "--host", "127.0.0.1", "--port", "0",
                            "--no-dashboard", "--scheduler-file", str(sched_file)])
        deadline = time.monotonic() + timeout
        while not sched_file.exists():
            if procs[0].poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"dask scheduler did not start; see {folder}/scheduler.log")
            time.sleep(0.2)
        for i in range(n_workers):
            start(f"worker-{i + 1}", [
                "worker", "--scheduler-file", str(sched_file), "--nthreads", "1", "--no-nanny",
                "--no-dashboard", "--name", f"worker-{i + 1}",
                "--local-directory", str(folder / f"worker-{i + 1}")])
        address = json.loads(sched_file.read_text())["address"]
        from distributed import Client

        with Client(address, timeout=timeout, set_as_default=False) as client:
            client.wait_for_workers(n_workers, timeout=timeout)
        yield address
    finally:
        _stop(procs)
