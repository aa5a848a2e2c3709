# The four things anyone does with this repository. Each target creates the
# virtualenv it needs when it is missing, so a fresh clone needs no other step.

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
TF     := $(PY) -m runners.terraform.embedded
# npm-groovy-lint (pinned in .tools/package-lock.json) lints the Jenkinsfiles;
# it runs CodeNarc on the machine's Java 17 and needs Node 20.
TOOLS        := .tools
GROOVY_LINT  := $(TOOLS)/node_modules/.bin/npm-groovy-lint
JENKINSFILES := Jenkinsfile $(wildcard pipelines/*.Jenkinsfile)

.PHONY: demo test lint bench venv clean lint-python lint-terraform lint-groovy

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

lint: lint-python lint-terraform lint-groovy

lint-python: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

lint-terraform: $(STAMP)
	$(TF) fmt -check -recursive -diff terraform
	$(TF) fmt -check -recursive -diff tests/fixtures

$(GROOVY_LINT): $(TOOLS)/package.json $(TOOLS)/package-lock.json
	cd $(TOOLS) && npm ci --no-audit --no-fund --loglevel=error
	touch $(GROOVY_LINT)

# recommended-jenkinsfile rules (.groovylintrc.json); any error fails the target.
lint-groovy: $(GROOVY_LINT)
	$(GROOVY_LINT) --noserver --failon error --config .groovylintrc.json $(JENKINSFILES)

bench: $(STAMP)
	$(PY) benchmarks/run.py

clean:
	rm -rf $(VENV) $(TOOLS)/node_modules .runners .pytest_cache .mypy_cache .ruff_cache benchmarks/.cache
