"""Shared fixtures: a tiny trust written to a temporary folder, and the sample trust's paths."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_CONFIG = ROOT / "data" / "sample" / "trust.yml"
REAL = ROOT.parent / "shared" / "data" / "real"

TINY_FILES = {
    "schools.csv": """\
        school_id,school_name,phase,trust_id,region,pupils_on_roll
        S1,Alpha Primary,primary,T,North,120
        S2,Beta Academy,secondary,T,North,900
        """,
    "pupils.csv": """\
        pupil_id,school_id,academic_year,year_group,gender,disadvantaged,fsm,sen,eal,ethnicity,prior_attainment
        A1,S1,2024/25,3,female,true,true,none,false,white_british,low
        A2,S1,2024/25,3,male,false,false,support,false,asian,middle
        A3,S2,2024/25,8,female,false,false,none,true,black,high
        A4,S2,2024/25,8,male,true,false,ehcp,false,mixed,
        """,
    "attendance.csv": """\
        pupil_id,school_id,academic_year,period,possible_sessions,attended_sessions
        A1,S1,2024/25,2024/25 HT1,70,60
        A2,S1,2024/25,2024/25 HT1,70,69
        A3,S2,2024/25,2024/25 HT1,70,70
        A4,S2,2024/25,2024/25 HT1,70,50
        """,
}

TINY_CONFIG = textwrap.dedent("""\
    name: Tiny Trust
    trust_id: T
    data:
      directory: .
      schools: schools.csv
      pupils: pupils.csv
      attendance: attendance.csv
    calendar:
      academic_years: ["2024/25"]
    lenses: [disadvantaged, sen]
    suppression_threshold: 5
    pseudonymisation:
      key_env: CILIB_TEST_KEY
    """)

# The tiny trust is not the synthetic sample, so it cannot use the public sample key; its tests
# read a throwaway key from this variable (subprocesses inherit it).
os.environ.setdefault("CILIB_TEST_KEY", "tiny-trust-test-key-not-secret")


@pytest.fixture
def tiny_trust(tmp_path: Path) -> Path:
    """Write a four-pupil, two-school trust and return its config path."""
    for name, text in TINY_FILES.items():
        (tmp_path / name).write_text(textwrap.dedent(text), encoding="utf-8")
    cfg = tmp_path / "trust.yml"
    cfg.write_text(textwrap.dedent(TINY_CONFIG), encoding="utf-8")
    return cfg


def write_config(folder: Path, text: str) -> Path:
    """Write a config file with dedented text and return its path."""
    path = folder / "trust.yml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


PERIOD = "2025/26 HT6"


@pytest.fixture(scope="session")
def sample_store_dir(tmp_path_factory) -> Path:
    """The sample trust prepared once per test session (load, validate, store) in a temp folder."""
    from cilib.data.config import load_config
    from cilib.data.prepare import prepare

    folder = tmp_path_factory.mktemp("sample_store")
    prepare(load_config(SAMPLE_CONFIG), PERIOD, store_dir=folder)
    return folder


def run_notebook(name: str, out_dir: Path, **parameters) -> dict:
    """Execute notebooks/<name>.ipynb with papermill and return it; fail on any error or stderr."""
    import json

    import papermill as pm

    from cilib.run.batch import NOTEBOOK_DIR
    from cilib.run.kernel import QuietKernelManager

    out = Path(out_dir) / f"{name}.ipynb"
    pm.execute_notebook(
        str(NOTEBOOK_DIR / f"{name}.ipynb"),
        str(out),
        parameters=parameters,
        cwd=str(NOTEBOOK_DIR),
        progress_bar=False,
        kernel_manager_class=QuietKernelManager,
    )
    nb = json.loads(out.read_text())
    outputs = [o for c in nb["cells"] if c["cell_type"] == "code" for o in c["outputs"]]
    errors = [o for o in outputs if o.get("output_type") == "error"]
    stderr = [o for o in outputs if o.get("name") == "stderr"]
    assert not errors, errors
    assert not stderr, stderr
    recorded = nb["metadata"]["papermill"]["parameters"]
    assert all(recorded[k] == v for k, v in parameters.items())
    return nb


@pytest.fixture(scope="session")
def sample_store(sample_store_dir):
    """The session's prepared sample store, opened (read it; copy it before changing it)."""
    from cilib.data.store import Store

    return Store(sample_store_dir)
