"""cilib.run.nbstrip: outputs, execution counts and run metadata leave; sources stay."""

import json

from cilib.run.nbstrip import main, strip


def _notebook(path):
    nb = {
        "cells": [
            {"cell_type": "markdown", "metadata": {}, "source": ["# Title"]},
            {"cell_type": "code", "execution_count": 7, "metadata": {"execution": {"t": 1}},
             "outputs": [{"output_type": "stream", "name": "stdout", "text": ["pupil P001\n"]}],
             "source": ["print('x')"]},
        ],
        "metadata": {"papermill": {"duration": 1.0}, "kernelspec": {"name": "python3"}},
        "nbformat": 4, "nbformat_minor": 5,
    }
    path.write_text(json.dumps(nb), encoding="utf-8")


def test_strip_removes_outputs_and_keeps_sources(tmp_path):
    path = tmp_path / "n.ipynb"
    _notebook(path)
    assert strip(path) is True
    nb = json.loads(path.read_text(encoding="utf-8"))
    code = nb["cells"][1]
    assert code["outputs"] == [] and code["execution_count"] is None
    assert "execution" not in code["metadata"] and "papermill" not in nb["metadata"]
    assert code["source"] == ["print('x')"] and nb["cells"][0]["source"] == ["# Title"]
    assert nb["metadata"]["kernelspec"] == {"name": "python3"}
    assert "P001" not in path.read_text(encoding="utf-8")


def test_strip_twice_changes_nothing_the_second_time(tmp_path, capsys):
    path = tmp_path / "n.ipynb"
    _notebook(path)
    assert main([str(path)]) == 0 and "stripped" in capsys.readouterr().out
    before = path.read_bytes()
    assert main([str(path)]) == 0 and capsys.readouterr().out == ""
    assert path.read_bytes() == before
