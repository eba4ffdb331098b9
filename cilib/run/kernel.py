"""Jupyter kernels for the batch: a quiet kernel manager and a warm kernel reused across notebooks.

ipykernel 7 warns at every kernel start that messages between the client and the kernel travel
unencrypted over TCP. Asking the manager to provision CurveZMQ keys (``transport_encryption =
"auto"``, when pyzmq supports Curve) removes the warning at its cause instead of filtering it.
Shutting a kernel down no longer interrupts it first (jupyter_client sends SIGINT before the
shutdown request, and the kernel logs ``KeyboardInterrupt caught in kernel.`` on the terminal).

Starting a kernel and importing pandas, matplotlib, seaborn and cilib costs more than most
reports' own work. :class:`WarmKernel` keeps one kernel with the stack imported and runs notebooks
in it one after another, returning the kernel to the state of a fresh one between notebooks, and
starting a new kernel after a failure or after ``max_notebooks`` notebooks.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import zmq
from jupyter_client.manager import AsyncKernelManager
from jupyter_core.utils import run_sync

#: Run once in a new warm kernel: import the stack, draw and close one figure (so the inline
#: backend is set up as a notebook's first chart sets it up), and note the state of a fresh kernel
#: on the shell object, which outlives the namespace resets.
WARM_UP = """\
import os, sys, warnings
import numpy, pandas, scipy.stats, pyarrow.parquet
import matplotlib, matplotlib.pyplot, seaborn
import cilib
matplotlib.pyplot.figure()
matplotlib.pyplot.close("all")
get_ipython()._cilib_fresh = {
    "rc": dict(matplotlib.rcParams),
    "filters": list(warnings.filters),
    "path": list(sys.path),
    "environ": dict(os.environ),
    "cwd": os.getcwd(),
}
"""

#: Run before each notebook in a warm kernel: close figures, restore matplotlib's settings,
#: warning filters (and forget warnings already shown), ``sys.path``, environment and working
#: folder, then clear the user namespace and history; the execution count starts again at 1.
RESET = """\
import os, sys, warnings
import matplotlib, matplotlib.pyplot
_fresh = get_ipython()._cilib_fresh
matplotlib.pyplot.close("all")
dict.update(matplotlib.rcParams, _fresh["rc"])
warnings.filters[:] = _fresh["filters"]
warnings._filters_mutated()
sys.path[:] = _fresh["path"]
os.environ.clear()
os.environ.update(_fresh["environ"])
os.chdir(_fresh["cwd"])
get_ipython().reset(new_session=True)
"""


class QuietKernelManager(AsyncKernelManager):
    """AsyncKernelManager with encrypted transport that shuts kernels down without an interrupt.

    Transport encryption (CurveZMQ) is provisioned when pyzmq supports it. jupyter_client
    interrupts a kernel (SIGINT) before asking it to shut down, which makes ipykernel log
    ``KeyboardInterrupt caught in kernel.``; here the shutdown request comes alone (a kernel that
    does not stop within the wait is still killed).
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        if zmq.has("curve"):
            self.transport_encryption = "auto"

    async def _async_interrupt_kernel(self) -> None:
        if self.shutting_down:
            return
        await super()._async_interrupt_kernel()


class KernelError(RuntimeError):
    """The warm kernel failed outside a notebook cell (start, warm-up or reset)."""


class WarmKernel:
    """One kernel kept running to execute notebooks one after another.

    Parameters
    ----------
    max_notebooks
        Notebooks run in one kernel before a new one is started.
    kernel_name
        Jupyter kernel name.

    Notes
    -----
    Use from one thread: the kernel's client belongs to that thread's event loop, so a call from
    another thread starts a new kernel, and so does a notebook from another folder (the kernel
    works in the notebook's folder, as papermill's ``cwd``). After any failure the kernel is shut
    down and the next notebook starts a new one.
    """

    def __init__(self, max_notebooks: int = 20, kernel_name: str = "python3"):
        if max_notebooks < 1:
            raise ValueError("max_notebooks must be at least 1")
        self.cwd = ""  # the kernel's working folder: the folder of the notebooks it runs
        self.max_notebooks = max_notebooks
        self.kernel_name = kernel_name
        self.km: QuietKernelManager | None = None
        self.kc = None
        self.used = 0  # notebooks run in the current kernel
        self.starts = 0  # kernels started so far
        self._thread: int | None = None

    @property
    def alive(self) -> bool:
        """True while a kernel is running."""
        return self.km is not None and self.km.has_kernel

    def start(self) -> None:
        """Start a kernel, connect to it and import the stack (:data:`WARM_UP`)."""
        self.shutdown()
        self._thread = threading.get_ident()
        self.km = QuietKernelManager(kernel_name=self.kernel_name)
        try:
            run_sync(self.km.start_kernel)(
                cwd=self.cwd, extra_arguments=["--HistoryManager.hist_file=:memory:"]
            )
            self.kc = self.km.client()
            self.kc.start_channels()
            run_sync(self.kc.wait_for_ready)(timeout=60)
            self.kc.allow_stdin = False
            self.starts += 1
            self.used = 0
            self._run_silently(WARM_UP)
        except BaseException:
            self.shutdown()
            raise

    def shutdown(self) -> None:
        """Stop the kernel (if any) and close its connections."""
        km, kc = self.km, self.kc
        self.km = self.kc = None
        if kc is not None:
            try:
                kc.stop_channels()
            except Exception:  # noqa: BLE001 - closing a broken client must not fail
                pass
        if km is not None:
            try:
                if km.has_kernel:
                    run_sync(km.shutdown_kernel)(now=False)
            except Exception:  # noqa: BLE001
                try:
                    run_sync(km.shutdown_kernel)(now=True)
                except Exception:  # noqa: BLE001
                    pass

    def kill(self) -> None:
        """Kill the kernel process at once (no event loop needed: for a worker that is closing)."""
        km, kc = self.km, self.kc
        self.km = self.kc = None
        process = getattr(getattr(km, "provisioner", None), "process", None)
        if process is not None:
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except OSError:
                process.kill()
        for obj, method in ((kc, "stop_channels"), (km, "cleanup_connection_file")):
            try:
                if obj is not None:
                    getattr(obj, method)()
            except Exception:  # noqa: BLE001 - best effort on the way out
                pass

    def _run_silently(self, code: str, timeout: float = 120) -> None:
        """Run ``code`` in the kernel without output or history; raise KernelError on error."""
        msg_id = self.kc.execute(code, silent=True, store_history=False, allow_stdin=False)
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise KernelError("the kernel did not answer in time")
            reply = run_sync(self.kc.get_shell_msg)(timeout=left)
            if reply["parent_header"].get("msg_id") == msg_id:
                break
        content = reply["content"]
        if content.get("status") != "ok":
            raise KernelError(f"{content.get('ename', 'error')}: {content.get('evalue', '')}")

    def ready(self) -> None:
        """Make the kernel ready for the next notebook: start one if needed, else reset it."""
        fresh = (
            not self.alive
            or self._thread != threading.get_ident()
            or self.used >= self.max_notebooks
        )
        if fresh:
            self.start()
        else:
            try:
                self._run_silently(RESET)
            except Exception:  # noqa: BLE001 - a kernel that cannot reset is replaced
                self.start()

    def execute(self, source: str | Path, output: str | Path, parameters: dict) -> None:
        """Run one notebook as ``papermill.execute_notebook`` would, in the warm kernel.

        The parameters cell is injected by papermill, the executed notebook (with any error
        marked as papermill marks it) is written to ``output``, and a failing cell raises
        papermill's ``PapermillExecutionError``. After any failure the kernel is shut down.
        """
        import papermill.engines as engines
        from papermill.clientwrap import PapermillNotebookClient
        from papermill.execute import (
            prepare_notebook_metadata,
            raise_for_execution_errors,
            remove_error_markers,
        )
        from papermill.iorw import load_notebook_node, write_ipynb
        from papermill.parameterize import parameterize_notebook

        source, output = str(source), str(output)
        if str(Path(source).resolve().parent) != self.cwd:
            self.shutdown()
            self.cwd = str(Path(source).resolve().parent)
        try:
            self.ready()
            self.used += 1
            nb = load_notebook_node(source)
            nb = parameterize_notebook(nb, parameters, kernel_name=self.kernel_name)
            nb = remove_error_markers(prepare_notebook_metadata(nb, source, output))
            manager = engines.NotebookExecutionManager(nb, output_path=output, progress_bar=False)
            manager.notebook_start()
            try:
                client = PapermillNotebookClient(
                    manager, km=self.km, kernel_name=self.kernel_name, log=engines.logger
                )
                client.kc = self.kc
                client.execute()
            finally:
                manager.cleanup_pbar()
                manager.notebook_complete()
            raise_for_execution_errors(manager.nb, output)
            write_ipynb(manager.nb, output)
        except BaseException:
            self.shutdown()
            raise
