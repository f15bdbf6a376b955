# Meshforge: `make run` starts everything on a fresh machine; `make test` runs the whole suite.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
PORT ?= 8000
CHROMIUM ?= /usr/bin/chromium
PIP := $(BIN)/python -m pip --disable-pip-version-check -q

.PHONY: help run test stop lint format chromium interop clean

help:
	@echo "make run    install, start the embedded database, migrate, seed the demo, run web + worker + beat"
	@echo "make test   lint, migration and API-schema checks, then the whole test suite (browser tests included)"
	@echo "make stop   stop the embedded PostgreSQL server (it outlives Ctrl-C of make run)"
	@echo "make format apply ruff's formatting and safe fixes"

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' || \
		{ echo "Meshforge needs Python 3.11 (found $$($(PYTHON) --version 2>&1)); set PYTHON=/path/to/python3.11"; exit 1; }
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed-runtime: requirements.txt | $(BIN)/python
	$(PIP) install -r requirements.txt
	@touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt $(VENV)/.installed-runtime
	$(PIP) install -r requirements-dev.txt
	@touch $@

run: $(VENV)/.installed-runtime
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0
	@echo "Starting web, worker and beat (one that dies is restarted; Ctrl-C stops them; the database keeps running: 'make stop')"
	PATH="$(BIN):$$PATH" PYTHONUNBUFFERED=1 exec $(BIN)/python manage.py supervise --procfile Procfile --port $(PORT)

stop: $(VENV)/.installed-runtime
	$(BIN)/python manage.py embedded_db stop

chromium:
	@if [ -x "$(CHROMIUM)" ]; then \
		:; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "Installing Chromium for the browser tests (apt-get)"; \
		apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null; \
	elif [ "$$CI" = true ]; then \
		echo "Chromium is missing at $(CHROMIUM) and cannot be installed here: browser tests must run in CI."; exit 1; \
	else \
		echo "Chromium is missing at $(CHROMIUM): browser tests will be skipped."; \
		echo "Install it with 'sudo apt-get install chromium' (or set CHROMIUM=/path/to/chromium)."; \
	fi

# Backstage's own packages judge Meshforge (tests/interop): installed from the lockfile, again only when it changes.
INTEROP := tests/interop
interop:
	@if command -v node >/dev/null && command -v npm >/dev/null; then \
		$(MAKE) --no-print-directory $(INTEROP)/node_modules/.installed; \
	elif [ "$$CI" = true ]; then \
		echo "Node.js and npm are missing: the Backstage conformance tests must run in CI (apt-get install nodejs npm)."; exit 1; \
	else \
		echo "Node.js and npm are missing: the Backstage conformance tests will be skipped (apt-get install nodejs npm)."; \
	fi

$(INTEROP)/node_modules/.installed: $(INTEROP)/package.json $(INTEROP)/package-lock.json
	cd $(INTEROP) && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.installed-dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# The checks and the suite share one throwaway data dir (database server, broker folder, Git root),
# removed afterwards, so a running `make run` is never touched.
test: $(VENV)/.installed-dev chromium interop lint
	@set -euo pipefail; \
	export DJANGO_SETTINGS_MODULE=config.settings.test MESHFORGE_CHROMIUM="$(CHROMIUM)"; \
	export MESHFORGE_DATA_DIR="$$(mktemp -d -t meshforge-test-XXXXXX)"; \
	trap '$(BIN)/python manage.py embedded_db stop >/dev/null 2>&1 || true; rm -rf "$$MESHFORGE_DATA_DIR"' EXIT; \
	echo "makemigrations --check"; $(BIN)/python manage.py makemigrations --check --dry-run; \
	echo "spectacular --validate --fail-on-warn"; \
	$(BIN)/python manage.py spectacular --validate --fail-on-warn --file "$$MESHFORGE_DATA_DIR/openapi.yaml"; \
	$(BIN)/python -m pytest $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache $(INTEROP)/node_modules
