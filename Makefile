# The four things anyone does with this repository. Each target creates the
# virtualenv it needs when it is missing, so a fresh clone needs no other step.

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
TF     := $(PY) -m runners.terraform.embedded

.PHONY: demo test lint bench venv clean lint-python lint-terraform

venv: $(STAMP)

$(STAMP): setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(PY) -m runners.demo

test: $(STAMP)
	$(PY) -m pytest -q

lint: lint-python lint-terraform

lint-python: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

lint-terraform: $(STAMP)
	$(TF) fmt -check -recursive -diff terraform
	$(TF) fmt -check -recursive -diff tests/fixtures

bench: $(STAMP)
	$(PY) benchmarks/run.py

clean:
	rm -rf $(VENV) .runners .pytest_cache .mypy_cache .ruff_cache benchmarks/.cache
