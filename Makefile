# The two commands of the README: `make run` and `make test`. Each builds .venv as needed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint format check bench-orders clean lock lock-upgrade lock-check

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Install from the lock files (every direct and indirect dependency pinned with its
# hashes); reinstall only when a lock file changes. `make lock` writes them.
$(VENV)/.runtime: requirements.lock | $(BIN)/python
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements.lock
	touch $@

$(VENV)/.dev: requirements.lock requirements-dev.lock | $(BIN)/python
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements-dev.lock
	touch $@ $(VENV)/.runtime

run: $(VENV)/.runtime
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo
	HOST=$(HOST) PORT=$(PORT) scripts/run.sh

# axe-core for the browser tests' accessibility checks (package.json, into node_modules/).
AXE := node_modules/axe-core/axe.min.js
$(AXE): package.json package-lock.json
	@if command -v npm >/dev/null 2>&1; then npm ci --no-audit --no-fund --silent && touch $@; \
	else echo "npm not found: the browser tests will skip their accessibility checks"; fi

# Parallel test workers: one per core and one more (the tests wait on PostgreSQL, Redis,
# Chromium and subprocesses much of the time), at most 8.
TEST_WORKERS ?= $(shell $(PYTHON) -c 'import os; print(min(8, (os.cpu_count() or 1) + 1))')

test: $(VENV)/.dev $(AXE)
	$(BIN)/python -m pytest -n $(TEST_WORKERS) $(PYTEST_ARGS)

lint: $(VENV)/.dev
	$(BIN)/python -m ruff check .
	$(BIN)/python -m ruff format --check .

format: $(VENV)/.dev
	$(BIN)/python -m ruff check --fix .
	$(BIN)/python -m ruff format .

check: $(VENV)/.dev
	$(BIN)/python manage.py makemigrations --check --dry-run

clean:
	rm -rf $(VENV) var staticfiles .pytest_cache .ruff_cache .hypothesis node_modules

# --- locked dependencies -------------------------------------------------------------------
# requirements.txt / requirements-dev.txt: the direct dependencies (== pins, edited by hand).
# requirements.lock / requirements-dev.lock: everything, with hashes, generated from them.
#   make lock                      after editing requirements*.txt (keeps the other pins)
#   make lock-upgrade              every indirect dependency to its newest allowed version
#   make lock-upgrade PACKAGE=x    only package x
#   make lock-check                do the lock files agree with requirements*.txt? (CI)
# The lock is computed from the public index only (no local wheel folders or pip config),
# so its hashes are those any machine downloads.
PIP_TOOLS_VERSION := 7.6.2
PIP_COMPILE = env -u PIP_FIND_LINKS PIP_CONFIG_FILE=/dev/null $(BIN)/pip-compile --quiet \
	--generate-hashes --allow-unsafe --strip-extras \
	--no-emit-find-links --no-emit-index-url --no-emit-trusted-host

$(BIN)/pip-compile: | $(BIN)/python
	$(BIN)/python -m pip install --quiet pip-tools==$(PIP_TOOLS_VERSION)

lock: $(BIN)/pip-compile
	$(PIP_COMPILE) $(LOCK_FLAGS) --output-file requirements.lock requirements.txt
	$(PIP_COMPILE) $(LOCK_FLAGS) --output-file requirements-dev.lock requirements-dev.txt
	$(PYTHON) scripts/check_lock.py

lock-upgrade:
	$(MAKE) lock LOCK_FLAGS="$(if $(PACKAGE),--upgrade-package $(PACKAGE),--upgrade)"

lock-check:
	$(PYTHON) scripts/check_lock.py
