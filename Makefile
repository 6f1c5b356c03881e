# Two commands do everything on a fresh machine with Python 3.11+:
#   make reports   render every report on the bundled data into reports/
#   make test      lint, format check and the whole test suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: reports test lint format env bench clean

env: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

reports: $(STAMP)
	$(BIN)/crmlab report --all --out reports

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: lint
	$(BIN)/python -m pytest -n 2 --dist loadgroup

# speed against DuckDB, lifetimes and pymc-marketing (not part of the tests);
# BENCH_ARGS=--install-peers installs the peers into benchmarks/.peers/ first
bench: $(STAMP)
	$(BIN)/python benchmarks/run.py $(BENCH_ARGS)

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) reports/*/ reports/index.html
