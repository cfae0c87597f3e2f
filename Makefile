# campusmon — the README's two commands: `make demo` and `make test`.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: all demo demo-central test lint typecheck bench setup system-deps clean

all: test

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

# Real servers and tools the tests talk to (Debian packages; needs root, skipped otherwise).
system-deps:
	bash .ci/install-system-deps.sh

lint: $(STAMP)
	$(BIN)/ruff check .

typecheck: $(STAMP)
	$(BIN)/mypy agent collectors probes exporters config inventory

test: system-deps $(STAMP) lint typecheck
	$(BIN)/pytest -q -p no:cacheprovider $(PYTEST_ARGS)

demo: $(STAMP)
	$(BIN)/python -m bench.demo $(DEMO_ARGS)

demo-central: system-deps $(STAMP)
	$(BIN)/python -m bench.demo --central $(DEMO_ARGS)

bench: system-deps $(STAMP)
	@for b in bench/*/run.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf data build *.egg-info .mypy_cache .ruff_cache
