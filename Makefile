# Two commands do all the set-up on a fresh clone:
#   make demo   the main job end to end on the embedded default (local Kafka, embedded ClickHouse)
#   make test   lint, type checks and the whole test suite against real engines
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint typecheck unit integration clean stack-down bench bench-smoke

# pyproject.toml gives version ranges (for library users); constraints.txt pins the exact
# versions the project is tested with, so every `make` builds the same environment.
$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	bash scripts/demo.sh

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

test: lint typecheck
	$(BIN)/pytest -ra

unit: $(STAMP)
	$(BIN)/pytest -ra tests/unit

bench: $(STAMP)
	$(BIN)/python -m benchmarks

bench-smoke: $(STAMP)
	$(BIN)/python -m benchmarks --scale 0.05 --runs 1

stack-down: $(STAMP)
	$(BIN)/audit-trail stack down

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache .pytest_cache
