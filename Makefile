# The README's two commands: `make demo` and `make test`. Both install what is missing first.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
SCALE ?= 0.05
SEED ?= 1
PYTEST_ARGS ?=

.PHONY: demo test install system-packages lint typecheck pytest db-up clean

## demo: install, start the embedded PostGIS, migrate, build the demo city, run the ETL, serve
demo: install
	$(BIN)/geoplatform db up
	$(BIN)/geoplatform db migrate
	@echo "database ready: $$($(BIN)/geoplatform db url --hide-password)"

## test: lint, types and the whole pytest suite against a throwaway PostGIS it starts
test: install lint typecheck pytest

install: system-packages $(STAMP)

system-packages:
	@scripts/install-system-packages.sh

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install -q --upgrade uv
	$(BIN)/uv pip install -q --python $(BIN)/python -e '.[dev]'
	@touch $(STAMP)

lint:
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck:
	$(BIN)/mypy

pytest:
	$(BIN)/pytest $(PYTEST_ARGS)

db-up: install
	$(BIN)/geoplatform db up

clean:
	-$(BIN)/geoplatform db down
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
