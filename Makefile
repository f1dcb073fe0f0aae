# One task runner for set-up, demo, tests, lint and benchmarks. `make help` lists them.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
DEMO   ?= demo-out

.DEFAULT_GOAL := help
.PHONY: help demo test lint bench bench-big clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

help: ## list the tasks
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

demo: $(STAMP) ## generate the sample county, reconcile four months, print where the report is
	$(BIN)/python scripts/demo.py --out $(DEMO)

test: $(STAMP) ## run the whole test suite (PostgreSQL tests fail rather than skip when CI is set)
	$(BIN)/python -m pytest

lint: $(STAMP) ## ruff and mypy, as CI would
	$(BIN)/ruff check src flows tests scripts
	$(BIN)/ruff format --check src flows tests scripts
	$(BIN)/mypy src

bench: $(STAMP) ## ingest benchmarks; dues beside a pandas script: county, 100k steady and cold (bench-data/)
	$(BIN)/python scripts/bench.py

bench-big: $(STAMP) ## the cold start at province scale, 1,000,000 units, beside the pandas script
	$(BIN)/python scripts/bench.py --units 1000000 --cases cold --only run --kinds library,pandas

clean: ## remove generated data, outputs and the virtual environment
	rm -rf $(VENV) $(DEMO) bench-data var out .pytest_cache .mypy_cache .ruff_cache
