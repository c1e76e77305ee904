# The two commands a new machine needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
PY_SOURCES := server clients tests migrations bench testkit

.PHONY: run test lint bench bench-pwa bench-console bench-vs-pouchdb clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

# ESLint and its configs, exactly as package-lock.json pins them; again only when the lock changes.
$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $(NODE_STAMP)

## run: set up the database (SQLite under ./data), load demo data, serve on $(HOST):$(PORT)
run: $(STAMP)
	$(BIN)/fengling db upgrade
	$(BIN)/fengling seed-demo
	$(BIN)/fengling serve --host $(HOST) --port $(PORT)

## test: the whole suite, on SQLite and PostgreSQL (needs PostgreSQL on 127.0.0.1:5432), then
## the date-sensitive tests again under faketime at calendar boundaries (scripts/faketime-suite)
test: $(STAMP)
	bash scripts/ensure-services
	$(MAKE) --no-print-directory lint
	node --test tests/webapp/unit/
	$(BIN)/python -m pytest
	PYTHON=$(BIN)/python bash scripts/faketime-suite

## lint: ruff's rules (unused noqa included) and its formatting, checked, never rewritten;
## mypy (strict on server/domain and server/sync, see setup.cfg); ESLint on the field app
lint: $(STAMP) $(NODE_STAMP)
	$(BIN)/ruff check $(PY_SOURCES)
	$(BIN)/ruff format --check $(PY_SOURCES)
	$(BIN)/mypy
	npx eslint webapp tests/webapp/unit

bench: $(STAMP)
	$(BIN)/python -m bench

## bench-pwa: 5,000 cases in the PWA's local store, in headless Chromium
bench-pwa: $(STAMP)
	bash scripts/ensure-services
	$(BIN)/python bench/pwa_bench.py

## bench-console: the console's queue and case page with 50,000 cases
bench-console: $(STAMP)
	$(BIN)/python -m bench.console_bench

## bench-vs-pouchdb: the same documents and client against PouchDB Server 4.2.0 (installed from
## npm into bench/results/ on first use; skipped with a message where npm is missing)
bench-vs-pouchdb: $(STAMP)
	$(BIN)/python -m bench.vs_pouchdb

clean:
	rm -rf $(VENV) data node_modules
