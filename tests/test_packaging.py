"""Packaging: environment.yml and pyproject.toml pin the same dependencies; the CLI is installed."""

import re
import shutil
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def _pyproject_pins():
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())
    reqs = list(data["project"]["dependencies"])
    for extra in data["project"]["optional-dependencies"].values():
        reqs.extend(extra)
    pins = {}
    for r in reqs:
        m = re.fullmatch(r"([A-Za-z0-9_.\-]+)==([^;\s]+)", r.strip())
        assert m, f"pyproject dependency {r!r} is not pinned with =="
        pins[m.group(1).lower()] = m.group(2)
    return pins


def _conda_pins():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pins = {}
    for dep in env["dependencies"]:
        if isinstance(dep, dict) or dep in ("pip",) or dep.startswith("python="):
            continue
        name, _, version = dep.partition("=")
        pins[name.lower()] = version.lstrip("=")
    return pins


def test_environment_and_pyproject_pin_the_same_versions():
    """Every dependency and version in pyproject.toml appears identically in environment.yml."""
    assert _pyproject_pins() == _conda_pins()


def test_python_version_agrees():
    """Both files ask for Python 3.11."""
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert "python=3.11" in env["dependencies"]
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "3.11" in data["project"]["requires-python"]


def test_cli_entry_point_installed():
    """The console command `cilib` is declared and installed in the environment."""
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert data["project"]["scripts"]["cilib"] == "cilib.run.cli:main"
    assert shutil.which("cilib") or (ROOT / ".venv" / "bin" / "cilib").exists()


def test_ci_calls_the_readme_test_command():
    """.ci/run calls `make test`, the README's test command."""
    assert "make test" in (ROOT / ".ci" / "run").read_text()
    assert "make test" in (ROOT / "README.md").read_text()
    assert "make run" in (ROOT / "README.md").read_text()
