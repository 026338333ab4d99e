# Ukraine-NATO stance: every command a user or CI runs. `make help` lists them.
.DEFAULT_GOAL := help
SHELL := /bin/bash

VENV := .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
MODEL_DIR ?= model/artifacts
DATA ?= training/data/quotes.csv
PORT ?= 8000
HOST ?= 127.0.0.1
WORKERS ?= 2
RUN_DIR ?= run
PIDFILE ?= $(RUN_DIR)/gunicorn-$(PORT).pid
IN ?=
OUT ?=

.PHONY: help install train serve reload test test-fast lint format clean score bench soak

help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  \033[36m%-10s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(STAMP): pyproject.toml constraints.txt
	@test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e '.[dev,parquet,dask]'
	@touch $(STAMP)

install: $(STAMP) ## create .venv and install the project with its dev, parquet and dask extras (fast when done)

train: $(STAMP) ## train on DATA (default: the bundled corpus) and make the new model current
	$(BIN)/stance train --data $(DATA) --out $(MODEL_DIR)

$(MODEL_DIR)/current: | $(STAMP)
	$(BIN)/stance train --out $(MODEL_DIR)

serve: $(STAMP) | $(MODEL_DIR)/current ## serve the API with gunicorn on HOST:PORT (trains first if no model)
	STANCE_MODEL_DIR=$(MODEL_DIR) STANCE_PIDFILE=$(PIDFILE) $(BIN)/gunicorn -c service/gunicorn.conf.py \
		--bind $(HOST):$(PORT) --workers $(WORKERS) 'service:create_app()'

reload: ## load the new current model into the `make serve` on PORT (HUP to its gunicorn master)
	@pid=$$(cat $(PIDFILE) 2>/dev/null) && kill -HUP $$pid \
		&& echo "sent HUP to gunicorn master $$pid" \
		|| { echo "no running server found (pid file $(PIDFILE))"; exit 1; }

score: $(STAMP) | $(MODEL_DIR)/current ## score a CSV or JSONL file: make score IN=quotes.csv OUT=scored.csv
	@test -n "$(IN)" || { echo "usage: make score IN=input.csv [OUT=output.csv]"; exit 2; }
	STANCE_MODEL_DIR=$(MODEL_DIR) $(BIN)/stance score $(IN) $(if $(OUT),-o $(OUT))

test: $(STAMP) ## run the test suite
	$(BIN)/pytest -q -n 2

test-fast: $(STAMP) ## the test suite without the slow tests (real servers, full-corpus training)
	$(BIN)/pytest -q -n 2 -m "not slow"

lint: $(STAMP) ## ruff check and format check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP) ## format and fix what ruff can
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(STAMP) | $(MODEL_DIR)/current ## accuracy and speed benchmarks; writes bench/results/*.json
	STANCE_MODEL_DIR=$(MODEL_DIR) $(PY) -m bench

soak: $(STAMP) | $(MODEL_DIR)/current ## 60 s of steady load (wrk, 4 connections): 0 errors, worker RSS growth < 10 %, p99
	STANCE_MODEL_DIR=$(MODEL_DIR) $(PY) -m bench.soak

clean: ## remove the virtualenv, caches, model artifacts, benchmark results and run files
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis build dist *.egg-info model/artifacts bench/results $(RUN_DIR)
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
