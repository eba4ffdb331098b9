"""The batch's local worker processes: one warm kernel each, stopped cleanly on Ctrl-C.

Each worker process keeps one :class:`~cilib.run.kernel.WarmKernel` (unless fresh kernels are
asked for) and runs the jobs it is given in it. A worker dies with the batch and leaves no kernel
behind: Ctrl-C cancels queued jobs and stops the workers, SIGTERM kills a worker's kernels, and a
worker whose parent died exits.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from multiprocessing.util import Finalize
from pathlib import Path

from cilib.run.kernel import WarmKernel


class BatchInterrupted(KeyboardInterrupt):
    """Ctrl-C during the batch: queued notebooks cancelled, running ones stopped."""

    def __init__(self, done: int, total: int) -> None:
        super().__init__(done, total)
        self.done, self.total = done, total

    def __str__(self) -> str:
        return (
            f"interrupted; {self.done} of {self.total} reports done, partial results discarded"
        )


def _children(pid: int) -> list[int]:
    """Return the ids of ``pid``'s child processes (Linux ``/proc``; empty elsewhere)."""
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == pid:
            out.append(int(stat.parent.name))
    return out


def _kill_kernels_and_exit(code: int = 143) -> None:
    """Kill this worker's child processes (its Jupyter kernels, with their groups) and exit.

    Kernels are started in their own session, so they would not get a signal sent to the
    worker; they are killed here, each with its process group.
    """
    for pid in _children(os.getpid()):
        for kill in (lambda p: os.killpg(p, signal.SIGKILL), lambda p: os.kill(p, signal.SIGKILL)):
            try:
                kill(pid)
            except (OSError, ProcessLookupError):
                pass
    os._exit(code)


#: This worker process's warm kernel, set by :func:`_worker_init` in each local worker (the batch's
#: own process runs no notebook). It holds a running kernel, not a memo of results.
_WORKER_KERNEL: list[WarmKernel] = []


def _worker_init(parent_pid: int, warm: bool = False, max_notebooks: int = 20) -> None:
    """Set up a worker so that it dies with the batch and leaves no kernel behind.

    Ctrl-C is for the parent (it cancels and stops the workers); SIGTERM kills the worker's
    kernels and ends it; on Linux the kernel sends SIGTERM when the parent dies
    (``PR_SET_PDEATHSIG``), and a watchdog thread polling the parent's id covers other systems
    and a parent that died before the setting took effect. With ``warm`` the worker keeps one
    :class:`~cilib.run.kernel.WarmKernel`, shut down when the worker exits.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, lambda *_: _kill_kernels_and_exit())
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass

    def watchdog() -> None:
        while True:
            if os.getppid() != parent_pid:
                _kill_kernels_and_exit()
            time.sleep(0.5)

    threading.Thread(target=watchdog, name="cilib-watchdog", daemon=True).start()
    if warm:
        _WORKER_KERNEL.append(WarmKernel(max_notebooks))
        Finalize(None, _WORKER_KERNEL[0].shutdown, exitpriority=10)


def _stop_pool(pool: ProcessPoolExecutor) -> None:
    """Cancel queued jobs, terminate the workers (and so their kernels) and wait briefly."""
    procs = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for p in procs:
        if p.is_alive():
            p.terminate()
    deadline = time.monotonic() + 5
    for p in procs:
        p.join(max(0.1, deadline - time.monotonic()))
        if p.is_alive():
            p.kill()
            p.join(1)
    # Let the pool's manager thread finish closing its wake-up pipe: in Python 3.11 the exit hook
    # can otherwise write to the pipe while it closes ("Bad file descriptor" at exit).
    manager = getattr(pool, "_executor_manager_thread", None)
    if manager is not None:
        manager.join(3)


def progress_line(j, n: int, total: int) -> str:
    """Return the progress line of the ``n``-th finished job of ``total``."""
    who = "trust" if j.school_id is None else j.school_id
    tail = "" if j.status == "ok" else f"  {j.error}"
    return f"[{n}/{total}] {j.notebook} · {who}: {j.status} in {j.seconds:.1f}s{tail}"


def _pool_execute(execute: Callable, job):
    """Run one job in a local worker process, in its warm kernel if it keeps one."""
    return execute(job, _WORKER_KERNEL[0] if _WORKER_KERNEL else None)


def run_local(
    job_list: list,
    execute: Callable,
    n_workers: int,
    say: Callable[[str], None],
    *,
    warm: bool = True,
    max_notebooks: int = 20,
) -> list:
    """Run the jobs in local worker processes and return them as they finish.

    Parameters
    ----------
    job_list
        The jobs (:class:`cilib.run.batch.Job`).
    execute
        ``execute(job, kernel)`` runs one job in a worker and returns it with its status
        (``kernel`` is the worker's :class:`~cilib.run.kernel.WarmKernel`, or None).
    n_workers
        Worker processes.
    say
        Called with a progress line per finished job (:func:`progress_line`).
    warm
        Each worker keeps a warm kernel; else every notebook gets a fresh kernel.
    max_notebooks
        Notebooks a warm kernel runs before it is replaced.

    Raises
    ------
    BatchInterrupted
        On Ctrl-C: queued jobs are cancelled and the workers (and their kernels) stopped.
    """
    done: list = []
    pool = ProcessPoolExecutor(
        max_workers=n_workers,
        initializer=_worker_init,
        initargs=(os.getpid(), warm, max_notebooks),
    )
    try:
        pending = {pool.submit(_pool_execute, execute, j) for j in job_list}
        while pending:
            finished, pending = wait(pending, timeout=0.5, return_when=FIRST_COMPLETED)
            for fut in finished:
                done.append(fut.result())
                say(progress_line(done[-1], len(done), len(job_list)))
    except KeyboardInterrupt:
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut this short
        try:
            _stop_pool(pool)
        finally:
            if threading.current_thread() is threading.main_thread():
                signal.signal(signal.SIGINT, signal.default_int_handler)
        raise BatchInterrupted(len(done), len(job_list)) from None
    except BaseException:
        _stop_pool(pool)
        raise
    pool.shutdown(wait=True)
    return done
