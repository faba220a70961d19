# Rexian: `make run` starts the engine on embedded defaults; `make test` runs everything.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test lint typecheck unit diagram bench clean

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(STAMP)

run: install
	$(BIN)/rexian serve

lint: install
	$(BIN)/ruff check domain projections adapters tools tests
	$(BIN)/mypy domain projections adapters tools

unit: install
	$(BIN)/pytest

test: lint unit

diagram: install
	$(BIN)/python -m tools.diagram > docs/lifecycle.md

clean:
	rm -rf $(VENV) node_modules var/rexian.db
