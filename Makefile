# costloop — the two commands a newcomer needs: `make demo` and `make test`.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint typecheck layers unit bench lock clean

$(STAMP): pyproject.toml requirements/lock.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c requirements/lock.txt -e '.[dev]'
	@touch $(STAMP)

## Build the demo estate in ./demo-workspace and run the whole FinOps loop on it.
demo: $(STAMP)
	$(BIN)/costloop demo --workspace demo-workspace

## Everything CI runs: lint, types, layering contracts, tests.
test: $(STAMP) lint typecheck layers unit

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

typecheck: $(STAMP)
	$(BIN)/mypy

layers: $(STAMP)
	$(BIN)/lint-imports

unit: $(STAMP)
	$(BIN)/pytest -n 2 -q

## Benchmarks (not part of `make test`): see benchmarks/README.md.
bench: $(STAMP)
	$(BIN)/python benchmarks/ingest.py

## Re-resolve the lock file from pyproject.toml (needs network access to PyPI).
lock:
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv
	.lock-venv/bin/pip install --quiet -e '.[dev]'
	.lock-venv/bin/pip freeze --exclude-editable > requirements/lock.txt
	rm -rf .lock-venv

clean:
	rm -rf $(VENV) demo-workspace .pytest_cache .mypy_cache .ruff_cache
