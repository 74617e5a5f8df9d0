# The README's two commands: `make demo` and `make test`. Both install what is missing first.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
VIEWER_STAMP := tiles/viewer/node_modules/.installed-stamp
# map labels: glyph PBFs built from Debian's fonts-noto-cjk (see `geoplatform fonts build`)
GLYPHS_STAMP := .geoplatform/glyphs/.built-stamp
SCALE ?= 0.05
SEED ?= 1
PRESET ?= wuhai
PYTEST_ARGS ?=

.PHONY: demo test install system-packages lint typecheck pytest db-up clean

DEMO_DIR ?= .geoplatform/demo
# the committed pipeline of the preset; its root is GEOPLATFORM_DEMO_DIR (default: DEMO_DIR)
DEMO_PIPELINE = etl/pipelines/demo-$(PRESET).yaml
DEMO_STAMP = $(DEMO_DIR)/.generated-$(PRESET)-scale$(SCALE)-seed$(SEED)
# The demo's own key for the keyed HMAC of ID numbers (yours if GEOPLATFORM_HMAC_KEY_FILE is
# set); a real deployment keeps its key outside the repository and the database.
DEMO_HMAC_KEY_FILE ?= $(or $(GEOPLATFORM_HMAC_KEY_FILE),.geoplatform/hmac.key)

## demo: install, start the embedded PostGIS, migrate, build the demo city, run the ETL, serve
demo: install $(DEMO_STAMP) $(DEMO_HMAC_KEY_FILE)
	$(BIN)/geoplatform db up
	$(BIN)/geoplatform db migrate
	GEOPLATFORM_HMAC_KEY_FILE=$(DEMO_HMAC_KEY_FILE) GEOPLATFORM_DEMO_DIR=$(abspath $(DEMO_DIR)) \
		$(BIN)/geoplatform etl run $(DEMO_PIPELINE)
	@# the demo city's data end in the past: scan its last day so the warnings layer has some
	$(BIN)/geoplatform warnings scan --last-data-day
	@echo "serving the one-map viewer at http://127.0.0.1:8000 (Ctrl-C stops it)"
	$(BIN)/geoplatform serve --host 127.0.0.1 --port 8000

$(DEMO_STAMP): | $(STAMP)
	rm -rf $(DEMO_DIR)
	$(BIN)/geoplatform demo generate --preset $(PRESET) --scale $(SCALE) --seed $(SEED) \
		--out $(DEMO_DIR)
	@# a new city replaces the previous one's rows and watermarks (embedded database only)
	@if [ -z "$${GEOPLATFORM_DATABASE_URL:-}" ]; then $(BIN)/geoplatform db reset --yes; fi
	@touch $(DEMO_STAMP)

$(DEMO_HMAC_KEY_FILE):
	@mkdir -p $(dir $@)
	@(umask 077 && head -c 32 /dev/urandom | base64 > $@)
	@echo "wrote a demo HMAC key to $@ (keep a real one outside the database and the repo)"

## test: lint, types and the whole pytest suite against a throwaway PostGIS it starts
test: install lint typecheck pytest

install: system-packages $(STAMP) $(VIEWER_STAMP) $(GLYPHS_STAMP)

system-packages:
	@scripts/install-system-packages.sh

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install -q --upgrade uv
	$(BIN)/uv pip install -q --python $(BIN)/python -e '.[dev]'
	@touch $(STAMP)

$(VIEWER_STAMP): tiles/viewer/package.json tiles/viewer/package-lock.json
	npm ci --prefix tiles/viewer --no-audit --no-fund --loglevel=error
	@touch $(VIEWER_STAMP)

$(GLYPHS_STAMP): geoplatform/tiles/glyphs.py | $(STAMP)
	$(BIN)/geoplatform fonts build --out .geoplatform/glyphs
	@touch $(GLYPHS_STAMP)

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
