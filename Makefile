# costloop — the two commands a newcomer needs: `make demo` and `make test`.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test browser lint typecheck layers unit conformance bench bench-allocate bench-anomalies bench-forecast bench-web lock clean

$(STAMP): pyproject.toml requirements/lock.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c requirements/lock.txt -e '.[dev]'
	@touch $(STAMP)

## Build the demo estate in ./demo-workspace and run the whole FinOps loop on it.
demo: $(STAMP)
	$(BIN)/costloop demo --workspace demo-workspace

## Everything CI runs: lint, types, layering contracts, tests.
test: $(STAMP) lint typecheck layers unit conformance

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

typecheck: $(STAMP)
	$(BIN)/mypy

layers: $(STAMP)
	$(BIN)/lint-imports

## Debian's Chromium for the web app's browser tests (Playwright drives /usr/bin/chromium).
browser:
	sh scripts/setup-browser.sh

unit: $(STAMP) browser
	$(BIN)/pytest -n 2 --dist loadfile -q -m 'not conformance'

## FOCUS 1.2 conformance of `costloop export focus`, checked by focus-validator 2.2.1
## (installed once into .venv-fv with Python 3.12; see docs/conformance.md).
conformance: $(STAMP)
	$(BIN)/pytest -q -m conformance tests/conformance

## Benchmarks (not part of `make test`): see benchmarks/README.md.
bench: $(STAMP)
	$(BIN)/python benchmarks/ingest.py

## Allocation + monthly showback at 10 M rows (see benchmarks/README.md for 100 M).
bench-allocate: $(STAMP)
	$(BIN)/python benchmarks/allocate.py

## Anomaly detection: accuracy on the demo's labelled anomalies, and 10,000 x 400 scoring speed.
bench-anomalies: $(STAMP)
	$(BIN)/python benchmarks/anomaly_quality.py
	$(BIN)/python benchmarks/anomaly_speed.py

## Forecast backtests on the demo, per team and overall.
bench-forecast: $(STAMP)
	$(BIN)/python benchmarks/forecast_quality.py

## The web app under 20 concurrent clients on a 10 M-row workspace (builds it: ~10 min).
bench-web: $(STAMP)
	$(BIN)/python benchmarks/web_load.py

## Re-resolve the lock file from pyproject.toml (needs network access to PyPI).
lock:
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv
	.lock-venv/bin/pip install --quiet -e '.[dev]'
	.lock-venv/bin/pip freeze --exclude-editable > requirements/lock.txt
	rm -rf .lock-venv

clean:
	rm -rf $(VENV) .venv-fv .venv-fc demo-workspace .pytest_cache .mypy_cache .ruff_cache
