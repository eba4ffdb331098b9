"""The batch's local worker pool: every job runs once, in a worker that keeps a warm kernel."""

from __future__ import annotations

import os
from dataclasses import dataclass

import pytest

from cilib.run.kernel import WarmKernel
from cilib.run.pool import progress_line, run_local


@dataclass
class FakeJob:
    notebook: str
    school_id: str | None
    status: str = "pending"
    seconds: float = 0.0
    error: str = ""
    worker: int = 0
    kernel: str = ""


def fake_execute(job: FakeJob, kernel) -> FakeJob:
    """Stand-in for execute_job: records the worker and the kernel it was given."""
    job.worker = os.getpid()
    job.kernel = "" if kernel is None else f"{type(kernel).__name__}/{kernel.max_notebooks}"
    job.status = "failed" if job.notebook == "bad" else "ok"
    job.error = "RuntimeError: boom" if job.status == "failed" else ""
    job.seconds = 0.25
    return job


@pytest.mark.parametrize("warm", [True, False])
def test_run_local_runs_every_job_once_in_workers(warm):
    jobs = [FakeJob("01_a", None), FakeJob("01_a", "S1"), FakeJob("bad", "S2")]
    lines: list[str] = []
    done = run_local(jobs, fake_execute, 2, lines.append, warm=warm, max_notebooks=7)
    assert sorted((j.notebook, j.school_id or "") for j in done) == sorted(
        (j.notebook, j.school_id or "") for j in jobs)
    assert all(j.worker not in (0, os.getpid()) for j in done)  # ran in worker processes
    assert {j.kernel for j in done} == ({"WarmKernel/7"} if warm else {""})
    assert len(lines) == 3 and lines[-1].startswith("[3/3] ")
    bad = [ln for ln in lines if " bad " in ln]
    assert bad and bad[0].endswith("failed in 0.2s  RuntimeError: boom")


def test_progress_line():
    job = FakeJob("04_monitor_adjust", "NLT01", status="ok", seconds=3.14159)
    assert progress_line(job, 2, 46) == "[2/46] 04_monitor_adjust · NLT01: ok in 3.1s"
    trust = FakeJob("10_trust_overview", None, status="failed", seconds=1, error="KeyError: x")
    line = progress_line(trust, 1, 2)
    assert line == "[1/2] 10_trust_overview · trust: failed in 1.0s  KeyError: x"


def test_warm_kernel_needs_at_least_one_notebook():
    with pytest.raises(ValueError, match="at least 1"):
        WarmKernel(0)
    kernel = WarmKernel(3)
    assert not kernel.alive and kernel.starts == 0
    kernel.shutdown()  # nothing started: nothing to stop, no error
