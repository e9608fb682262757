# Two commands set everything up on a fresh machine with Python 3.11+ and make:
#   make demo   creates .venv, installs extramile, runs the demo on an embedded SQLite store
#   make test   creates .venv with the test extras, runs ruff and the whole test suite
#   make bench  the benchmark at 10,000 and 5,000 schools (a few minutes)
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test test-heavy bench lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.installed

demo: $(VENV)/.installed
	$(BIN)/extramile demo

lint: $(VENV)/.installed-test
	$(BIN)/ruff check engine cli tests benchmarks

test: $(VENV)/.installed-test lint
	$(BIN)/python -m pytest

# The reliability tests again at full strength (more seeds, kills and examples): run by .ci/run.
test-heavy: $(VENV)/.installed-test
	EXTRAMILE_TEST_HEAVY=1 $(BIN)/python -m pytest tests/reliability

# The national-scale benchmark (README "Performance"); e.g. make bench BENCH_ARGS="--schools 2000"
bench: $(VENV)/.installed
	$(BIN)/python benchmarks/bench.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) demo-store outbox .pytest_cache
