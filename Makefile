# Two commands do all the set-up: `make run` and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PERIOD ?= 2025/26 HT6
CONFIG ?= data/sample/trust.yml

.PHONY: run test lint clean-venv sample

$(BIN)/cilib: pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "Python 3.11 is needed: install it, or run 'make PYTHON=/path/to/python3.11'"; exit 1; }
	@echo "Setting up the Python environment in $(VENV) (first run only; this takes a few minutes)..."
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	@echo "Environment ready."
	@touch $(BIN)/cilib

run: $(BIN)/cilib
	$(BIN)/cilib run --config $(CONFIG) --period "$(PERIOD)"

test: $(BIN)/cilib
	$(BIN)/python -m pytest

lint: $(BIN)/cilib
	$(BIN)/ruff check cilib tests benchmarks tools

sample: $(BIN)/cilib
	$(BIN)/cilib sample --output data/sample

clean-venv:
	rm -rf $(VENV)
